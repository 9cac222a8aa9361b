//! A model: a network built from a spec, its optimizer, and access to its parameters by name.
use crate::augment::Augmentation;
use crate::device::device_name;
use crate::distributed::ProcessGroup;
use crate::error::{invalid, Result};
use crate::init::{initialise, Init};
use crate::layer::Network;
use crate::optimizer::{Optimizer, OptimizerSpec};
use crate::rng::Generators;
use crate::shim::PrivateGenerator;
use crate::spec::ModelSpec;
use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub seed: i64,
    pub device: Device,
    pub init: Init,
    pub optimizer: OptimizerSpec,
    /// Equivalent, faster formulations (`Network::forward`); false runs the spec literally.
    pub fast_paths: bool,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            seed: 1,
            device: Device::Cpu,
            init: Init::Seed,
            optimizer: OptimizerSpec::sgd(0.05),
            fast_paths: true,
        }
    }
}

#[derive(Debug)]
pub struct Model {
    pub(crate) network: Network,
    pub(crate) optimizer: Optimizer,
    /// Dropout's generator states, this model's own (see `rng`).
    pub(crate) generators: Generators,
    /// Applied to every training batch (a training option: not part of the model's file).
    pub(crate) augmentation: Option<Augmentation>,
    /// Skip the optimizer step of a batch whose loss is not finite (onNonFinite: 'skip-batch').
    pub(crate) skip_non_finite: bool,
    /// Set for a data-parallel run: gradients are averaged over its ranks before each step.
    pub(crate) group: Option<ProcessGroup>,
    /// Capture training steps in a CUDA graph where possible (captured_step.rs).
    pub(crate) use_cuda_graph: bool,
    pub(crate) captured: Option<crate::captured_step::CapturedStep>,
    /// Why capturing failed, once it has (then steps run eagerly).
    pub(crate) capture_failure: Option<String>,
    pub(crate) spec: ModelSpec,
    pub(crate) device: Device,
}

/// A tensor's values copied to the host, with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<i64>,
    pub values: Vec<f32>,
}

pub fn to_host(tensor: &Tensor) -> Result<HostTensor> {
    let shape = tensor.size();
    let flat = tensor.f_detach()?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?.f_contiguous()?;
    Ok(HostTensor { shape, values: host_values(&flat)? })
}

/// Copies a tensor's elements (of kind `T`) to a host vector.
pub fn host_values<T: tch::kind::Element + Default + Clone>(tensor: &Tensor) -> Result<Vec<T>> {
    let flat = tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
    let numel = flat.numel();
    let mut values = vec![T::default(); numel];
    flat.f_copy_data(&mut values, numel)?;
    Ok(values)
}

impl Model {
    /// Initialises on the CPU from a generator seeded as `torch.manual_seed(seed)` seeds the
    /// default one (so CPU and CUDA models start from the same numbers, as `model.to(device)`
    /// does in PyTorch), then moves to the device. The default generators are not touched, so a
    /// model can be created while another trains with its own states installed in them.
    pub fn new(spec: ModelSpec, options: ModelOptions) -> Result<Model> {
        let mut cpu_generator = PrivateGenerator::seeded(Device::Cpu, options.seed)?;
        let on_cpu = Network::build(&spec, Device::Cpu)?;
        initialise(&on_cpu, options.init, &mut cpu_generator)?;
        let mut network = if options.device == Device::Cpu {
            on_cpu
        } else {
            let moved = Network::build(&spec, options.device)?;
            let _guard = tch::no_grad_guard();
            for (target, source) in moved.parameters.iter().zip(&on_cpu.parameters) {
                target.tensor.shallow_clone().f_copy_(&source.tensor)?;
            }
            moved
        };
        network.fast_paths = options.fast_paths;
        let optimizer = Optimizer::new(options.optimizer, network.parameters.len())?;
        // Training draws continue from where initialisation left the seeded generators.
        let generators = Generators::after_seeding(options.device, options.seed, &cpu_generator)?;
        Ok(Model {
            network,
            optimizer,
            generators,
            augmentation: None,
            skip_non_finite: false,
            group: None,
            use_cuda_graph: false,
            captured: None,
            capture_failure: None,
            spec,
            device: options.device,
        })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn device_name(&self) -> String {
        device_name(self.device)
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn parameter_names(&self) -> Vec<String> {
        self.network.parameters.iter().map(|p| p.name.clone()).collect()
    }

    fn named(&self, name: &str) -> Result<&Tensor> {
        self.network.parameter(name).ok_or_else(|| {
            invalid("parameter", "name", format!("'{name}'"), &format!("one of {}", self.parameter_names().join(", ")))
        })
    }

    pub fn parameter(&self, name: &str) -> Result<HostTensor> {
        to_host(self.named(name)?)
    }

    /// The gradient left by the last training step, if any.
    pub fn gradient(&self, name: &str) -> Result<Option<HostTensor>> {
        let grad = self.named(name)?.f_grad()?;
        if !grad.defined() {
            return Ok(None);
        }
        to_host(&grad).map(Some)
    }

    pub fn set_parameter(&mut self, name: &str, values: &[f32]) -> Result<()> {
        let target = self.named(name)?;
        let shape = target.size();
        let numel: i64 = shape.iter().product();
        if values.len() as i64 != numel {
            return Err(invalid(
                "setParameter",
                name,
                format!("{} values", values.len()),
                &format!("{numel} values for shape {shape:?}"),
            ));
        }
        let source = Tensor::f_from_slice(values)?.f_view(shape.as_slice())?;
        let _guard = tch::no_grad_guard();
        target.shallow_clone().f_copy_(&source)?;
        Ok(())
    }

    /// Replaces the optimizer (its state starts afresh).
    pub fn set_optimizer(&mut self, spec: OptimizerSpec) -> Result<()> {
        self.optimizer = Optimizer::new(spec, self.network.parameters.len())?;
        // A captured step updates with the old optimizer's rule and tensors.
        self.captured = None;
        Ok(())
    }

    pub fn optimizer_spec(&self) -> &OptimizerSpec {
        self.optimizer.spec()
    }

    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// Augments every training batch from now on (None: no augmentation).
    pub fn set_skip_non_finite(&mut self, skip: bool) {
        self.skip_non_finite = skip;
    }

    pub fn set_augmentation(&mut self, augmentation: Option<Augmentation>) {
        self.augmentation = augmentation.filter(|a| *a != Augmentation::default());
    }

    pub fn generators(&self) -> &Generators {
        &self.generators
    }

    pub fn generators_mut(&mut self) -> &mut Generators {
        &mut self.generators
    }

    /// Sets the learning rate of the running optimizer, keeping its state (for schedules).
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.optimizer.set_learning_rate(lr)
    }
}
