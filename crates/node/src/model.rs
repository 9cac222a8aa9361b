use crate::dataset::NativeDataset;
use crate::error::guarded;
use crate::evaluate_task::{EvaluateTask, Evaluation};
use crate::slot::Slot;
use crate::train_task::TrainBatchesTask;
use convtorch_core::augment::Augmentation;
use convtorch_core::device::parse_device;
use convtorch_core::init::Init;
use convtorch_core::model::{HostTensor, Model, ModelOptions};
use convtorch_core::optimizer::OptimizerSpec;
use convtorch_core::ModelSpec;
use napi::bindgen_prelude::{AsyncTask, Float32Array, Int32Array, Uint32Array, Uint8Array};
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
    #[napi(factory)]
    pub fn create(spec_json: String, options: CreateOptions) -> napi::Result<NativeModel> {
        guarded(|| {
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
        guarded(|| self.inner.with(|m| Ok(m.spec().to_json())))
    }

    #[napi]
    pub fn parameter_names(&self) -> napi::Result<Vec<String>> {
        guarded(|| self.inner.with(|m| Ok(m.parameter_names())))
    }

    #[napi]
    pub fn parameter(&self, name: String) -> napi::Result<TensorData> {
        guarded(|| self.inner.with(|m| m.parameter(&name).map(tensor_data)))
    }

    #[napi]
    pub fn gradient(&self, name: String) -> napi::Result<Option<TensorData>> {
        guarded(|| self.inner.with(|m| Ok(m.gradient(&name)?.map(tensor_data))))
    }

    #[napi]
    pub fn set_parameter(&self, name: String, values: Float32Array) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.set_parameter(&name, &values)))
    }

    #[napi]
    pub fn set_optimizer(&self, optimizer_json: String) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.set_optimizer(parse_optimizer(&optimizer_json)?)))
    }

    /// JSON of { crop, flip, rotate, scale, translate } applied to every training batch; none: off.
    #[napi]
    pub fn set_augmentation(&self, augmentation_json: Option<String>) -> napi::Result<()> {
        guarded(|| {
            let augmentation = augmentation_json.as_deref().map(Augmentation::from_json).transpose()?;
            self.inner.with(|m| {
                m.set_augmentation(augmentation);
                Ok(())
            })
        })
    }

    #[napi]
    pub fn set_learning_rate(&self, lr: f64) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.set_learning_rate(lr)))
    }

    /// One training step on a batch of host pixels [count, c, h, w]; returns the loss.
    #[napi]
    pub fn train_step(&self, pixels: Float32Array, labels: Int32Array, count: i64) -> napi::Result<f64> {
        guarded(|| self.inner.with(|m| Ok(f64::from(m.train_step(&pixels, &labels, count)?))))
    }

    /// Trains on `order` (dataset indices) in batches, off the main thread; resolves with
    /// every batch's loss. `learningRates`: one per batch, for per-step schedules.
    #[napi(ts_return_type = "Promise<Float32Array>")]
    pub fn train_batches(
        &self,
        dataset: &NativeDataset,
        order: Uint32Array,
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> AsyncTask<TrainBatchesTask> {
        AsyncTask::new(self.train_task(dataset, &order, batch_size, learning_rates))
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
        guarded(|| task.run()).map(Float32Array::new)
    }

    #[napi(ts_return_type = "Promise<Evaluation>")]
    pub fn evaluate(&self, dataset: &NativeDataset, batch_size: i64) -> AsyncTask<EvaluateTask> {
        AsyncTask::new(EvaluateTask::new(self.inner.clone(), dataset.inner.clone(), batch_size))
    }

    #[napi]
    pub fn evaluate_sync(&self, dataset: &NativeDataset, batch_size: i64) -> napi::Result<Evaluation> {
        guarded(|| EvaluateTask::new(self.inner.clone(), dataset.inner.clone(), batch_size).run()).map(Evaluation::from)
    }

    /// Raw class scores, `count` rows of `classes` values.
    #[napi]
    pub fn logits(&self, pixels: Float32Array, count: i64) -> napi::Result<Float32Array> {
        guarded(|| self.inner.with(|m| m.logits(&pixels, count))).map(Float32Array::new)
    }

    /// Class probabilities, `count` rows of `classes` values.
    #[napi]
    pub fn predict(&self, pixels: Float32Array, count: i64) -> napi::Result<Float32Array> {
        guarded(|| self.inner.with(|m| m.predict(&pixels, count))).map(Float32Array::new)
    }

    /// The output of every convolution and pooling layer for `count` host images.
    #[napi]
    pub fn feature_maps(&self, pixels: Float32Array, count: i64) -> napi::Result<Vec<FeatureMapsData>> {
        let maps = guarded(|| self.inner.with(|m| m.feature_maps(&pixels, count)))?;
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
        guarded(|| self.inner.with(|m| m.grad_cam(&pixels, count, &classes))).map(tensor_data)
    }

    #[napi]
    pub fn save_weights(&self, path: String) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.save_weights(Path::new(&path))))
    }

    #[napi]
    pub fn load_weights(&self, path: String) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.load_weights(Path::new(&path))))
    }

    /// The optimizer's state (momentum buffers, moments, steps) as safetensors.
    #[napi]
    pub fn save_optimizer_state(&self, path: String) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.save_optimizer_state(Path::new(&path))))
    }

    /// Weights and optionally optimizer state, all checked before anything changes.
    #[napi]
    pub fn load_checkpoint(&self, weights_path: String, optimizer_path: Option<String>) -> napi::Result<()> {
        guarded(|| {
            self.inner.with(|m| m.load_checkpoint(Path::new(&weights_path), optimizer_path.as_deref().map(Path::new)))
        })
    }

    /// The generator states this model's dropout draws from (saved by checkpoints).
    #[napi]
    pub fn rng_state(&self) -> napi::Result<RngState> {
        let (cpu, device) = guarded(|| self.inner.with(|m| m.generators().to_bytes()))?;
        Ok(RngState { cpu: Uint8Array::new(cpu), device: device.map(Uint8Array::new) })
    }

    #[napi]
    pub fn set_rng_state(&self, cpu: Uint8Array, device: Option<Uint8Array>) -> napi::Result<()> {
        guarded(|| self.inner.with(|m| m.generators_mut().set_bytes(&cpu, device.as_deref())))
    }

    /// Frees the parameters and optimizer state now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) -> napi::Result<()> {
        guarded(|| self.inner.dispose())
    }
}
