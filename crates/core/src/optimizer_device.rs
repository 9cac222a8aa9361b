//! The optimizer rules with the learning rate and the step counts held in device tensors, so
//! that a training step captured in a CUDA graph reads them when it is replayed: a host scalar
//! would be baked into the captured kernels. As torch.optim's `capturable=True` branches, the
//! bias corrections are computed on the device; unlike them, the scalars are float64, not
//! torch's float32 step (float32's `1 - 0.999 ** step` is off by ~1e-5, and Adam's weights
//! drift that far from the host rules), and the update is rounded as the host rule (optimizer.rs)
//! rounds it. So the two agree to float rounding, which the tests below check on the CPU.
//!
//! Protocol: `load_device_scalars` before a run of device steps (it refills the tensors in
//! place, so a captured graph keeps seeing them), `set_device_learning_rate` before each step
//! of a schedule, `step_on_device` for the update (inside or outside a capture), and
//! `count_device_step` after each executed step so that the host step counts (checkpoints)
//! stay true.
use crate::error::{invalid, Result};
use crate::layer::Parameter;
use crate::optimizer::{
    check_lr, momentum_direction, update_moments, with_weight_decay, Optimizer, OptimizerSpec, ParameterState,
};
use tch::{Device, Kind, Tensor};

#[derive(Debug)]
pub struct DeviceScalars {
    /// The running learning rate, float64 0-dim.
    lr: Tensor,
    /// One float64 0-dim step count per parameter (Adam's bias correction).
    steps: Vec<Tensor>,
}

fn scalar(value: f64, device: Device) -> Result<Tensor> {
    Ok(Tensor::f_full([], value, (Kind::Double, device))?)
}

impl Optimizer {
    /// Creates the device scalars, or refills them in place from the host values.
    pub fn load_device_scalars(&mut self, device: Device) -> Result<()> {
        match &mut self.device_scalars {
            Some(scalars) if scalars.lr.device() == device => {
                let _ = scalars.lr.f_fill_(self.lr)?;
                for (tensor, state) in scalars.steps.iter_mut().zip(&self.states) {
                    let _ = tensor.f_fill_(state.step as f64)?;
                }
            }
            _ => {
                let steps = self.states.iter().map(|s| scalar(s.step as f64, device)).collect::<Result<_>>()?;
                self.device_scalars = Some(DeviceScalars { lr: scalar(self.lr, device)?, steps });
            }
        }
        Ok(())
    }

    /// Sets the running rate on the host and, without a sync, in the device tensor.
    pub fn set_device_learning_rate(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        self.lr = lr;
        if let Some(scalars) = &mut self.device_scalars {
            let _ = scalars.lr.f_fill_(lr)?;
        }
        Ok(())
    }

    /// True when every parameter's state exists (a first step creates momentum buffers and
    /// moments; a captured step must not, or each replay would create them afresh).
    pub fn state_ready(&self) -> bool {
        self.states.iter().all(|state| match self.spec {
            OptimizerSpec::Sgd { momentum, .. } => momentum == 0.0 || state.momentum_buffer.is_some(),
            OptimizerSpec::Adam { .. } | OptimizerSpec::AdamW { .. } => {
                state.exp_avg.is_some() && state.exp_avg_sq.is_some()
            }
        })
    }

    /// One update of every parameter, reading the rate and step counts from the device.
    /// Every parameter must have a gradient (as a captured step has).
    pub fn step_on_device(&mut self, parameters: &[Parameter]) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let Some(scalars) = &mut self.device_scalars else {
            return Err(invalid(
                "optimizer",
                "device scalars",
                "absent",
                "loaded (load_device_scalars) before a device step",
            ));
        };
        let neg_lr = scalars.lr.f_neg()?;
        for ((parameter, state), step) in parameters.iter().zip(self.states.iter()).zip(scalars.steps.iter_mut()) {
            let grad = parameter.tensor.f_grad()?;
            if !grad.defined() {
                return Err(invalid(
                    "optimizer",
                    &parameter.name,
                    "a parameter without a gradient",
                    "a gradient in a device step",
                ));
            }
            let param = &parameter.tensor;
            match self.spec {
                OptimizerSpec::Sgd { momentum, dampening, weight_decay, nesterov, .. } => {
                    sgd(param, grad, state, &neg_lr, momentum, dampening, weight_decay, nesterov)?
                }
                OptimizerSpec::Adam { beta1, beta2, eps, weight_decay, .. } => {
                    adam(param, grad, state, step, &scalars.lr, [beta1, beta2, eps, weight_decay], false)?
                }
                OptimizerSpec::AdamW { beta1, beta2, eps, weight_decay, .. } => {
                    adam(param, grad, state, step, &scalars.lr, [beta1, beta2, eps, weight_decay], true)?
                }
            }
        }
        Ok(())
    }

    /// What a captured step depends on: this optimizer's generation (a new optimizer or a
    /// restored state, whose tensors may reuse freed addresses) and the addresses of the device
    /// scalars and the state tensors.
    pub fn state_addresses(&self) -> Vec<usize> {
        let mut addresses = vec![self.generation as usize];
        if let Some(scalars) = &self.device_scalars {
            addresses.push(scalars.lr.data_ptr() as usize);
            addresses.extend(scalars.steps.iter().map(|t| t.data_ptr() as usize));
        }
        for state in &self.states {
            for tensor in [&state.momentum_buffer, &state.exp_avg, &state.exp_avg_sq].into_iter().flatten() {
                addresses.push(tensor.data_ptr() as usize);
            }
        }
        addresses
    }

    /// Records on the host one executed device step (the device counts advanced themselves).
    pub fn count_device_step(&mut self) {
        if matches!(self.spec, OptimizerSpec::Adam { .. } | OptimizerSpec::AdamW { .. }) {
            for state in &mut self.states {
                state.step += 1;
            }
        }
    }
}

/// torch.optim.SGD's `_single_tensor_sgd` with the rate a tensor: `param.addcmul_(grad, -lr)`.
#[allow(clippy::too_many_arguments)]
fn sgd(
    param: &Tensor,
    grad: Tensor,
    state: &ParameterState,
    neg_lr: &Tensor,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
) -> Result<()> {
    let mut grad = with_weight_decay(grad, param, weight_decay)?;
    if momentum != 0.0 {
        // Borrowed, not taken: an error half-way must leave the state in place.
        let Some(buffer) = &state.momentum_buffer else {
            return Err(invalid("optimizer", "momentum_buffer", "absent", "created by a host step first"));
        };
        grad = momentum_direction(buffer, &grad, momentum, dampening, nesterov)?;
    }
    let _ = param.shallow_clone().f_addcmul_(&grad, neg_lr)?;
    Ok(())
}

/// torch.optim.Adam's `_single_tensor_adam` (AdamW: decoupled decay) with the rate and step
/// on the device, rounded as the host rule rounds (not as torch's capturable branch, whose
/// algebra differs: it folds the step size into the denominator).
fn adam(
    param: &Tensor,
    grad: Tensor,
    state: &ParameterState,
    step: &mut Tensor,
    lr: &Tensor,
    [beta1, beta2, eps, weight_decay]: [f64; 4],
    decoupled: bool,
) -> Result<()> {
    // Borrowed, not taken: an error half-way must leave the state in place.
    let (Some(exp_avg), Some(exp_avg_sq)) = (&state.exp_avg, &state.exp_avg_sq) else {
        return Err(invalid("optimizer", "exp_avg", "absent", "created by a host step first"));
    };
    let (exp_avg, exp_avg_sq) = (exp_avg.shallow_clone(), exp_avg_sq.shallow_clone());
    let _ = step.f_add_scalar_(1.0)?;
    let grad = if decoupled {
        if weight_decay != 0.0 {
            // param.mul_(1 - lr * weight_decay), the factor a device tensor.
            let factor = lr.f_mul_scalar(-weight_decay)?.f_add_scalar(1.0)?;
            let _ = param.shallow_clone().f_mul_(&factor)?;
        }
        grad
    } else {
        with_weight_decay(grad, param, weight_decay)?
    };
    update_moments(&exp_avg, &exp_avg_sq, &grad, beta1, beta2)?;
    // 1 - beta ** step, on the device, in double precision as Python computes them.
    let bias_correction1 = Tensor::f_pow_scalar(beta1, step)?.f_neg()?.f_add_scalar(1.0)?;
    let bias_correction2 = Tensor::f_pow_scalar(beta2, step)?.f_neg()?.f_add_scalar(1.0)?;
    let step_size_neg = lr.f_div(&bias_correction1)?.f_neg()?;
    let bias_correction2_sqrt = bias_correction2.f_sqrt()?;
    let mut denom = exp_avg_sq.f_sqrt()?.f_div(&bias_correction2_sqrt)?;
    let _ = denom.f_add_scalar_(eps)?;
    // The host rule's addcdiv_(exp_avg, denom, value=-step_size) computes value * exp_avg first
    // (in float32), then divides; the same two roundings with the value a tensor:
    let scaled = exp_avg.f_mul(&step_size_neg)?;
    let _ = param.shallow_clone().f_addcdiv_(&scaled, &denom)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, ModelOptions};
    use crate::spec::ModelSpec;

    fn model(optimizer: OptimizerSpec) -> Model {
        let options = ModelOptions { optimizer, ..ModelOptions::default() };
        Model::new(ModelSpec::seed(), options).expect("a seed model")
    }

    fn batch(seed: i64) -> (Tensor, Tensor) {
        tch::manual_seed(seed);
        let images = Tensor::rand([32, 1, 28, 28], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(10, [32], (Kind::Int64, Device::Cpu));
        (images, labels)
    }

    fn backward(model: &Model, images: &Tensor, labels: &Tensor) {
        model.optimizer.zero_grad(&model.network.parameters).unwrap();
        let logits = model.network.forward(images, true).unwrap();
        let loss = logits.cross_entropy_for_logits(labels);
        loss.backward();
    }

    fn largest_relative_difference(a: &Model, b: &Model) -> f64 {
        a.network
            .parameters
            .iter()
            .zip(&b.network.parameters)
            .map(|(x, y)| {
                let scale = x.tensor.abs().max().double_value(&[]).max(1e-12);
                (&x.tensor - &y.tensor).abs().max().double_value(&[]) / scale
            })
            .fold(0.0, f64::max)
    }

    /// 30 steps with a changing rate: the first eagerly on both (it creates the state), the
    /// rest host-scalar on one model and device-scalar on the other.
    fn agree(spec: OptimizerSpec) -> f64 {
        let (mut host, mut device) = (model(spec.clone()), model(spec));
        for step in 0..30 {
            let (images, labels) = batch(100 + step);
            let lr = 0.01 * (1.0 + (step as f64) / 10.0);
            for m in [&mut host, &mut device] {
                backward(m, &images, &labels);
            }
            host.optimizer.set_learning_rate(lr).unwrap();
            host.optimizer.step(&host.network.parameters).unwrap();
            if step == 0 {
                device.optimizer.set_learning_rate(lr).unwrap();
                device.optimizer.step(&device.network.parameters).unwrap();
                device.optimizer.load_device_scalars(Device::Cpu).unwrap();
            } else {
                device.optimizer.set_device_learning_rate(lr).unwrap();
                device.optimizer.step_on_device(&device.network.parameters).unwrap();
                device.optimizer.count_device_step();
            }
        }
        let host_steps: Vec<i64> = host.optimizer.states().iter().map(|s| s.step).collect();
        let device_steps: Vec<i64> = device.optimizer.states().iter().map(|s| s.step).collect();
        assert_eq!(host_steps, device_steps, "host step counts");
        let difference = largest_relative_difference(&host, &device);
        eprintln!("{:?}: largest relative difference {difference:e}", host.optimizer.spec());
        difference
    }

    #[test]
    fn device_sgd_agrees_with_host_sgd() {
        let plain = agree(OptimizerSpec::sgd(0.05));
        let momentum =
            agree(OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 1e-4, nesterov: false });
        let nesterov =
            agree(OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: true });
        for (what, difference) in [("plain", plain), ("momentum", momentum), ("nesterov", nesterov)] {
            assert_eq!(difference, 0.0, "SGD {what}: the same roundings in the same order");
        }
    }

    #[test]
    fn device_adam_and_adamw_agree_with_host_rules() {
        let adam = agree(OptimizerSpec::Adam { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 });
        let adamw = agree(OptimizerSpec::AdamW { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 });
        assert_eq!(adam, 0.0, "Adam: the same roundings in the same order");
        assert_eq!(adamw, 0.0, "AdamW: the same roundings in the same order");
    }

    #[test]
    fn a_device_step_needs_its_scalars_and_the_state() {
        let mut m =
            model(OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: false });
        let (images, labels) = batch(1);
        backward(&m, &images, &labels);
        assert!(m.optimizer.step_on_device(&m.network.parameters).is_err(), "no scalars loaded");
        m.optimizer.load_device_scalars(Device::Cpu).unwrap();
        assert!(!m.optimizer.state_ready());
        assert!(m.optimizer.step_on_device(&m.network.parameters).is_err(), "no momentum buffers yet");
    }
}
