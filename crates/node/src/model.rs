use crate::dataset::NativeDataset;
use crate::error::{guarded, guarded_quick, spawn};
use crate::evaluate_task::{EvaluateTask, Evaluation};
use crate::slot::Slot;
use crate::train_task::TrainBatchesTask;
use convtorch_core::augment::Augmentation;
use convtorch_core::device::parse_device;
use convtorch_core::init::Init;
use convtorch_core::model::{HostTensor, Model, ModelOptions};
use convtorch_core::optimizer::OptimizerSpec;
use convtorch_core::ModelSpec;
use napi::bindgen_prelude::{Float32Array, Int32Array, Object, Uint32Array, Uint8Array};
use napi::Env;
use napi_derive::napi;
use std::path::Path;

#[napi(object)]
pub struct CreateOptions {
    pub seed: i64,
    pub device: String,
    pub init: String,
    /// JSON of an optimizer spec: {"kind":"sgd","lr":0.05,...}
    pub optimizer: String,
    /// Equivalent, faster formulations (default true).
    pub fast_paths: Option<bool>,
}

/// One convolution or pooling layer's output for a batch: [count, channels, height, width].
#[napi(object)]
pub struct FeatureMapsData {
    pub layer: u32,
    pub kind: String,
    pub shape: Vec<i64>,
    pub values: Float32Array,
}

/// A model's generator states (libtorch's bytes): the CPU's, and its CUDA device's if any.
#[napi(object)]
pub struct RngState {
    pub cpu: Uint8Array,
    pub device: Option<Uint8Array>,
}

#[napi(object)]
pub struct TensorData {
    pub shape: Vec<i64>,
    pub values: Float32Array,
}

fn tensor_data(host: HostTensor) -> TensorData {
    TensorData { shape: host.shape, values: Float32Array::new(host.values) }
}

fn parse_optimizer(json: &str) -> convtorch_core::Result<OptimizerSpec> {
    serde_json::from_str(json).map_err(|e| {
        convtorch_core::error::invalid("model", "optimizer", json, &format!("a valid optimizer spec ({e})"))
    })
}

/// A network with its optimizer, on one device.
#[napi]
pub struct NativeModel {
    inner: Slot<Model>,
    device: String,
}

impl NativeModel {
    pub(crate) fn slot(&self) -> &Slot<Model> {
        &self.inner
    }

    /// A quick call on this model: refused at once while an asynchronous call holds it, and not
    /// queued behind another model's training chunk.
    fn quick<R: Send>(&self, body: impl FnOnce(&mut Model) -> convtorch_core::Result<R> + Send) -> napi::Result<R> {
        self.inner.check_free().map_err(crate::error::js_error)?;
        guarded_quick(|| self.inner.with(body))
    }

    /// A call that draws from the shared generators: it runs after any queued chunk.
    fn drawing<R: Send>(&self, body: impl FnOnce(&mut Model) -> convtorch_core::Result<R> + Send) -> napi::Result<R> {
        self.inner.check_free().map_err(crate::error::js_error)?;
        guarded(|| self.inner.with(body))
    }

    /// The one task behind `trainBatches` and `trainBatchesSync`.
    fn train_task(
        &self,
        dataset: &NativeDataset,
        order: &[u32],
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> TrainBatchesTask {
        TrainBatchesTask::new(self.inner.clone(), dataset.inner.clone(), order.to_vec(), batch_size, learning_rates)
    }
}

#[napi]
impl NativeModel {
    /// Draws its initial weights from generators of its own: it does not wait for another
    /// model's training chunk.
    #[napi(factory)]
    pub fn create(spec_json: String, options: CreateOptions) -> napi::Result<NativeModel> {
        guarded_quick(|| {
            let spec = ModelSpec::from_json(&spec_json)?;
            let device = parse_device(&options.device)?;
            let init = Init::parse(&options.init)?;
            let optimizer = parse_optimizer(&options.optimizer)?;
            let model = Model::new(
                spec,
                ModelOptions {
                    seed: options.seed,
                    device,
                    init,
                    optimizer,
                    fast_paths: options.fast_paths.unwrap_or(true),
                },
            )?;
            let device = model.device_name();
            Ok(NativeModel { inner: Slot::new("model", model), device })
        })
    }

    #[napi(getter)]
    pub fn device(&self) -> String {
        self.device.clone()
    }

    #[napi]
    pub fn spec_json(&self) -> napi::Result<String> {
        self.quick(|m| Ok(m.spec().to_json()))
    }

    #[napi]
    pub fn parameter_names(&self) -> napi::Result<Vec<String>> {
        self.quick(|m| Ok(m.parameter_names()))
    }

    #[napi]
    pub fn parameter(&self, name: String) -> napi::Result<TensorData> {
        self.quick(|m| m.parameter(&name).map(tensor_data))
    }

    #[napi]
    pub fn gradient(&self, name: String) -> napi::Result<Option<TensorData>> {
        self.quick(|m| Ok(m.gradient(&name)?.map(tensor_data)))
    }

    #[napi]
    pub fn set_parameter(&self, name: String, values: Float32Array) -> napi::Result<()> {
        self.quick(|m| m.set_parameter(&name, &values))
    }

    #[napi]
    pub fn set_optimizer(&self, optimizer_json: String) -> napi::Result<()> {
        self.quick(|m| m.set_optimizer(parse_optimizer(&optimizer_json)?))
    }

    /// JSON of { crop, flip, rotate, scale, translate } applied to every training batch; none: off.
    #[napi]
    pub fn set_augmentation(&self, augmentation_json: Option<String>) -> napi::Result<()> {
        let augmentation =
            augmentation_json.as_deref().map(Augmentation::from_json).transpose().map_err(crate::error::js_error)?;
        self.quick(|m| {
            m.set_augmentation(augmentation);
            Ok(())
        })
    }

    /// Captures CUDA training steps in a CUDA graph from now on (where possible); returns why
    /// they will not be captured (not on CUDA, dropout, ...), or null.
    #[napi]
    pub fn set_cuda_graph(&self, enabled: bool) -> napi::Result<Option<String>> {
        self.quick(|m| Ok(m.set_cuda_graph(enabled)))
    }

    /// Why training steps are not captured now (null: they are, or cudaGraph is off).
    #[napi]
    pub fn cuda_graph_obstacle(&self) -> napi::Result<Option<String>> {
        self.quick(|m| Ok(m.captures_cuda_graph_obstacle()))
    }

    /// A batch whose loss is NaN or infinite takes no optimizer step (costs a sync per batch).
    #[napi]
    pub fn set_skip_non_finite(&self, skip: bool) -> napi::Result<()> {
        self.quick(|m| {
            m.set_skip_non_finite(skip);
            Ok(())
        })
    }

    #[napi]
    pub fn set_learning_rate(&self, lr: f64) -> napi::Result<()> {
        self.quick(|m| m.set_learning_rate(lr))
    }

    /// One training step on a batch of host pixels [count, c, h, w]; returns the loss.
    #[napi]
    pub fn train_step(&self, pixels: Float32Array, labels: Int32Array, count: i64) -> napi::Result<f64> {
        self.drawing(|m| Ok(f64::from(m.train_step(&pixels, &labels, count)?)))
    }

    /// Trains on `order` (dataset indices) in batches on the compute thread; resolves with
    /// every batch's loss. `learningRates`: one per batch, for per-step schedules. The model is
    /// reserved until the chunk ends: its quick calls are refused as busy meanwhile.
    #[napi(ts_return_type = "Promise<Float32Array>")]
    pub fn train_batches<'env>(
        &self,
        env: &'env Env,
        dataset: &NativeDataset,
        order: Uint32Array,
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> napi::Result<Object<'env>> {
        let reservation = self.inner.reserve().map_err(crate::error::js_error)?;
        let task = self.train_task(dataset, &order, batch_size, learning_rates);
        spawn(env, move || task.run(Some(reservation)), Float32Array::new)
    }

    /// The same work as `trainBatches`, on the calling thread.
    #[napi]
    pub fn train_batches_sync(
        &self,
        dataset: &NativeDataset,
        order: Uint32Array,
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> napi::Result<Float32Array> {
        let task = self.train_task(dataset, &order, batch_size, learning_rates);
        self.inner.check_free().map_err(crate::error::js_error)?;
        guarded(|| task.run(None)).map(Float32Array::new)
    }

    /// With `acrossRanks`, the ranks of the model's group share the work (every rank must call
    /// it); each gets the whole dataset's evaluation.
    #[napi(ts_return_type = "Promise<Evaluation>")]
    pub fn evaluate<'env>(
        &self,
        env: &'env Env,
        dataset: &NativeDataset,
        batch_size: i64,
        across_ranks: Option<bool>,
    ) -> napi::Result<Object<'env>> {
        let reservation = self.inner.reserve().map_err(crate::error::js_error)?;
        let task =
            EvaluateTask::new(self.inner.clone(), dataset.inner.clone(), batch_size, across_ranks.unwrap_or(false));
        spawn(env, move || task.run(Some(reservation)), Evaluation::from)
    }

    #[napi]
    pub fn evaluate_sync(&self, dataset: &NativeDataset, batch_size: i64) -> napi::Result<Evaluation> {
        self.inner.check_free().map_err(crate::error::js_error)?;
        guarded(|| EvaluateTask::new(self.inner.clone(), dataset.inner.clone(), batch_size, false).run(None))
            .map(Evaluation::from)
    }

    /// Raw class scores, `count` rows of `classes` values.
    #[napi]
    pub fn logits(&self, pixels: Float32Array, count: i64) -> napi::Result<Float32Array> {
        self.quick(|m| m.logits(&pixels, count)).map(Float32Array::new)
    }

    /// Class probabilities, `count` rows of `classes` values.
    #[napi]
    pub fn predict(&self, pixels: Float32Array, count: i64) -> napi::Result<Float32Array> {
        self.quick(|m| m.predict(&pixels, count)).map(Float32Array::new)
    }

    /// The output of every convolution and pooling layer for `count` host images.
    #[napi]
    pub fn feature_maps(&self, pixels: Float32Array, count: i64) -> napi::Result<Vec<FeatureMapsData>> {
        let maps = self.quick(|m| m.feature_maps(&pixels, count))?;
        Ok(maps
            .into_iter()
            .map(|f| FeatureMapsData {
                layer: f.layer as u32,
                kind: f.kind.to_owned(),
                shape: f.maps.shape,
                values: Float32Array::new(f.maps.values),
            })
            .collect())
    }

    /// Grad-CAM on the last convolution for each image and its class: [count, height, width].
    #[napi]
    pub fn grad_cam(&self, pixels: Float32Array, count: i64, classes: Vec<i64>) -> napi::Result<TensorData> {
        self.quick(|m| m.grad_cam(&pixels, count, &classes)).map(tensor_data)
    }

    #[napi]
    pub fn save_weights(&self, path: String) -> napi::Result<()> {
        self.quick(|m| m.save_weights(Path::new(&path)))
    }

    #[napi]
    pub fn load_weights(&self, path: String) -> napi::Result<()> {
        self.quick(|m| m.load_weights(Path::new(&path)))
    }

    /// The optimizer's state (momentum buffers, moments, steps) as safetensors.
    #[napi]
    pub fn save_optimizer_state(&self, path: String) -> napi::Result<()> {
        self.quick(|m| m.save_optimizer_state(Path::new(&path)))
    }

    /// Weights and optionally optimizer state, all checked before anything changes.
    #[napi]
    pub fn load_checkpoint(&self, weights_path: String, optimizer_path: Option<String>) -> napi::Result<()> {
        self.quick(|m| m.load_checkpoint(Path::new(&weights_path), optimizer_path.as_deref().map(Path::new)))
    }

    /// The generator states this model's dropout draws from (saved by checkpoints).
    #[napi]
    pub fn rng_state(&self) -> napi::Result<RngState> {
        let (cpu, device) = self.quick(|m| m.generators().to_bytes())?;
        Ok(RngState { cpu: Uint8Array::new(cpu), device: device.map(Uint8Array::new) })
    }

    #[napi]
    pub fn set_rng_state(&self, cpu: Uint8Array, device: Option<Uint8Array>) -> napi::Result<()> {
        self.quick(|m| m.generators_mut().set_bytes(&cpu, device.as_deref()))
    }

    /// Frees the parameters and optimizer state now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) -> napi::Result<()> {
        guarded_quick(|| self.inner.dispose())
    }
}
