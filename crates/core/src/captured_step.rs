//! The CUDA training step captured in a CUDA graph and replayed: one launch per batch instead
//! of the ~200 kernel launches (forward, backward, optimizer) that eager mode queues one by
//! one from the host. As PyTorch's whole-network capture does it: a few eager warm-up steps on
//! a side stream (they create the optimizer's state and let cuDNN pick its algorithms), static
//! input and label buffers that every batch is gathered into on the device, and forward, loss,
//! backward and the optimizer update captured together. The learning rate and Adam's step
//! counts are device tensors (optimizer_device.rs), so schedules and bias corrections move on
//! under replay. A last partial batch runs eagerly with the same device rules.
//!
//! A capture bakes in the addresses of every tensor it touches. The step keeps a fingerprint
//! of them (parameters, optimizer state, device scalars, the optimizer's generation) and is
//! captured again when anything was replaced (a new optimizer, a restored checkpoint, another
//! batch size). A capture that fails is not retried: the model trains eagerly from then on,
//! and `cuda_graph_obstacle` says why.
use crate::cuda_graph::{CudaGraph, SideStream};
use crate::dataset::DeviceDataset;
use crate::error::Result;
use crate::layer::Layer;
use crate::model::Model;
use tch::{Device, Kind, Tensor};

/// Eager steps before a capture (PyTorch's examples use 3; the first creates the state).
const WARMUP_STEPS: i64 = 3;

#[derive(Debug)]
pub struct CapturedStep {
    graph: CudaGraph,
    batch_size: i64,
    images: Tensor,
    labels: Tensor,
    /// The captured step's mean loss, rewritten by each replay.
    loss: Tensor,
    /// The gradients the capture allocated (in the graph's pool), rewritten by each replay; put
    /// back as the parameters' `grad` after replays, since an eager step in between replaces them.
    grads: Vec<Tensor>,
    fingerprint: Vec<usize>,
}

impl Model {
    /// Why this model's training steps are not captured (None: they are, when enabled).
    pub fn cuda_graph_obstacle(&self) -> Option<String> {
        if !matches!(self.device, Device::Cuda(_)) {
            return Some("the model is not on a CUDA device".into());
        }
        if self.network.layers.iter().any(|l| matches!(l, Layer::Dropout(_))) {
            return Some("dropout draws its masks from the host-side generator".into());
        }
        if self.skip_non_finite {
            return Some("onNonFinite 'skip-batch' reads every loss on the host".into());
        }
        if self.group.is_some() {
            return Some("distributed steps allreduce between backward and update".into());
        }
        if let Some(failure) = &self.capture_failure {
            return Some(format!("capturing the step failed: {failure}"));
        }
        crate::cuda_library::functions().err().map(str::to_owned)
    }

    /// Trains with captured steps from now on, where `cuda_graph_obstacle` allows; also turns
    /// on cuDNN's autotuner (a captured step's shapes never change). Returns the obstacle.
    pub fn set_cuda_graph(&mut self, enabled: bool) -> Option<String> {
        self.use_cuda_graph = enabled;
        self.captured = None;
        self.capture_failure = None;
        let obstacle = self.cuda_graph_obstacle();
        if matches!(self.device, Device::Cuda(_)) {
            // Process-wide, as torch.backends.cudnn.benchmark is.
            tch::Cuda::cudnn_set_benchmark(enabled && obstacle.is_none());
        }
        obstacle
    }

    /// With cudaGraph on, why steps are not captured (None: they are; also None when off).
    pub fn captures_cuda_graph_obstacle(&self) -> Option<String> {
        if self.use_cuda_graph {
            self.cuda_graph_obstacle()
        } else {
            None
        }
    }

    pub(crate) fn captures_steps(&self) -> bool {
        self.use_cuda_graph && self.cuda_graph_obstacle().is_none()
    }

    /// The addresses a captured step reads and writes.
    fn step_fingerprint(&self) -> Vec<usize> {
        let mut addresses: Vec<usize> = self.network.parameters.iter().map(|p| p.tensor.data_ptr() as usize).collect();
        addresses.extend(self.optimizer.state_addresses());
        addresses
    }

    /// `train_in_order` with captured steps (see the module's comment).
    pub(crate) fn train_in_order_captured(
        &mut self,
        data: &DeviceDataset,
        indices: &Tensor,
        batch_size: i64,
        learning_rates: Option<&[f64]>,
        losses: &Tensor,
    ) -> Result<()> {
        let Device::Cuda(device) = self.device else { unreachable!("captures_steps checked the device") };
        let device = device as i64;
        self.optimizer.load_device_scalars(self.device)?;
        let total = indices.size()[0];
        let full = total / batch_size;
        let stale = match &self.captured {
            Some(step) => step.batch_size != batch_size || step.fingerprint != self.step_fingerprint(),
            None => true,
        };
        if stale {
            self.captured = None;
        }
        let mut batch = 0;
        if self.captured.is_none() && full > 0 {
            let side = SideStream::enter(device)?;
            let mut warmed = 0;
            while batch < full && (warmed < WARMUP_STEPS || !self.optimizer.state_ready()) {
                self.eager_device_step(data, indices, batch, batch_size, learning_rates, losses)?;
                batch += 1;
                warmed += 1;
            }
            side.exit()?;
            if batch < full {
                match self.capture_step(batch_size) {
                    Ok(step) => self.captured = Some(step),
                    Err(error) => self.capture_failure = Some(error.to_string()),
                }
            }
        }
        if self.captured.is_none() {
            // The capture failed: the rest of this call runs eagerly, with the same rules.
            while batch * batch_size < total {
                self.eager_device_step(data, indices, batch, batch_size, learning_rates, losses)?;
                batch += 1;
            }
            return Ok(());
        }
        while batch < full {
            self.set_batch_rate(batch, learning_rates)?;
            let step = self.captured.as_ref().expect("captured above");
            let positions = indices.f_narrow(0, batch * batch_size, batch_size)?;
            match &self.augmentation {
                Some(augmentation) => {
                    let images = augmentation.apply(&data.images.f_index_select(0, &positions)?, &data.black)?;
                    step.images.shallow_clone().f_copy_(&images)?;
                }
                None => {
                    let _ = data.images.f_index_select_out(&step.images, 0, &positions)?;
                }
            }
            let _ = data.labels.f_index_select_out(&step.labels, 0, &positions)?;
            step.graph.replay()?;
            losses.f_narrow(0, batch, 1)?.f_copy_(&step.loss.f_view([1])?)?;
            self.optimizer.count_device_step();
            batch += 1;
        }
        if let Some(step) = &self.captured {
            for (parameter, grad) in self.network.parameters.iter().zip(&step.grads) {
                crate::shim::set_grad(&parameter.tensor, grad)?;
            }
        }
        if full * batch_size < total {
            self.eager_device_step(data, indices, full, batch_size, learning_rates, losses)?;
        }
        Ok(())
    }

    fn set_batch_rate(&mut self, batch: i64, learning_rates: Option<&[f64]>) -> Result<()> {
        match learning_rates {
            Some(rates) => self.optimizer.set_device_learning_rate(rates[batch as usize]),
            None => Ok(()),
        }
    }

    /// Forward, loss, backward and the device-scalar update of `images`/`labels`; returns the
    /// loss (detached). What a capture records, and what an eager device step runs.
    fn device_step(&mut self, images: &Tensor, labels: &Tensor) -> Result<Tensor> {
        self.optimizer.zero_grad(&self.network.parameters)?;
        let logits = self.network.forward(images, true)?;
        let loss = logits.f_cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0)?;
        loss.f_backward()?;
        self.optimizer.step_on_device(&self.network.parameters)?;
        Ok(loss.f_detach()?)
    }

    /// Batch `batch` (possibly partial) run eagerly with the device rules.
    fn eager_device_step(
        &mut self,
        data: &DeviceDataset,
        indices: &Tensor,
        batch: i64,
        batch_size: i64,
        learning_rates: Option<&[f64]>,
        losses: &Tensor,
    ) -> Result<()> {
        self.set_batch_rate(batch, learning_rates)?;
        let start = batch * batch_size;
        let positions = indices.f_narrow(0, start, batch_size.min(indices.size()[0] - start))?;
        let (images, labels) = self.gather_batch(data, &positions)?;
        let loss = if self.optimizer.state_ready() {
            let loss = self.device_step(&images, &labels)?;
            self.optimizer.count_device_step();
            loss
        } else {
            // A first step creates the optimizer's state (momentum buffers, moments), which
            // the device rules only update: it takes the host rule, which also counts it, and
            // the device scalars are refilled from the host's.
            let loss = self.train_batch(&images, &labels)?;
            self.optimizer.load_device_scalars(self.device)?;
            loss
        };
        losses.f_narrow(0, batch, 1)?.f_copy_(&loss.f_view([1])?)?;
        Ok(())
    }

    /// Captures one step on fresh static buffers (the optimizer's state exists by now).
    fn capture_step(&mut self, batch_size: i64) -> Result<CapturedStep> {
        let Device::Cuda(device) = self.device else { unreachable!("captures_steps checked the device") };
        let [c, h, w] = self.spec.input;
        let images = Tensor::f_zeros([batch_size, c, h, w], (Kind::Float, self.device))?;
        let labels = Tensor::f_zeros([batch_size], (Kind::Int64, self.device))?;
        let mut graph = CudaGraph::new(device as i64)?;
        let side = SideStream::enter(device as i64)?;
        let loss = graph.capture(|| self.device_step(&images, &labels))?;
        side.exit()?;
        let grads = self.network.parameters.iter().map(|p| p.tensor.f_grad()).collect::<std::result::Result<_, _>>()?;
        Ok(CapturedStep { graph, batch_size, images, labels, loss, grads, fingerprint: self.step_fingerprint() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelOptions;
    use crate::optimizer::OptimizerSpec;
    use crate::spec::ModelSpec;

    /// What a captured run executes eagerly (its warm-up, a partial last batch, the rest of a
    /// call whose capture failed) runs anywhere, so the CPU checks it: from a fresh optimizer
    /// (whose first step must create the state), over calls with a schedule and a partial
    /// batch, it trains exactly as the host steps do and counts the same steps.
    #[test]
    fn eager_device_steps_train_like_host_steps_from_a_fresh_optimizer() {
        let count: usize = 200;
        let data = crate::dataset::grey_test_dataset(count, 13, 7);
        let specs = [
            OptimizerSpec::Adam { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 },
            OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: true },
        ];
        for spec in specs {
            // The literal path: the host steps are then not sharded, as the device steps are not.
            let options = ModelOptions { optimizer: spec.clone(), fast_paths: false, ..ModelOptions::default() };
            let mut host = Model::new(ModelSpec::seed(), options.clone()).unwrap();
            let mut device = Model::new(ModelSpec::seed(), options).unwrap();
            for call in 0..2 {
                let order: Vec<u32> = (0..count as u32).map(|i| (i * 37 + call * 11) % count as u32).collect();
                // 32-example batches: 6 full ones and a partial one of 8.
                let rates: Vec<f64> = (0..7).map(|b| spec.lr() * (1.0 - 0.05 * f64::from(b + call * 7))).collect();
                let host_losses = host.train_batches(&data, &order, 32, Some(&rates)).unwrap();
                let indices = Tensor::from_slice(&order.iter().map(|i| i64::from(*i)).collect::<Vec<_>>());
                let losses = Tensor::zeros([7], (Kind::Float, Device::Cpu));
                device.optimizer.load_device_scalars(Device::Cpu).unwrap();
                for batch in 0..7 {
                    device.eager_device_step(&data, &indices, batch, 32, Some(&rates), &losses).unwrap();
                }
                let device_losses = Vec::<f32>::try_from(&losses).unwrap();
                assert_eq!(host_losses, device_losses, "{spec:?}: losses of call {call}");
            }
            for (a, b) in host.network.parameters.iter().zip(&device.network.parameters) {
                assert!(a.tensor.equal(&b.tensor), "{spec:?}: {} differs", a.name);
            }
            let steps = |m: &Model| m.optimizer.states().iter().map(|s| s.step).collect::<Vec<_>>();
            assert_eq!(steps(&host), steps(&device), "{spec:?}: step counts");
            assert_eq!(host.optimizer.learning_rate(), device.optimizer.learning_rate());
        }
    }
}
