//! torch.optim's SGD, Adam and AdamW as tensor ops, with their state kept here (momentum
//! buffers, moments, step counts) so that a checkpoint can save it and a resume restore it.
//! Each rule follows torch.optim's single-tensor implementation (the one PyTorch runs for CPU
//! tensors) operation by operation, so plain SGD is bit-identical to `torch.optim.SGD`.
use crate::error::{invalid, Result};
use crate::layer::Parameter;
pub use crate::optimizer_spec::{check_lr, OptimizerSpec};
use crate::shim::{add_scaled_, addcdiv_, addcmul_, clear_grad};
use tch::{Device, Kind, Tensor};

/// The state torch.optim keeps for one parameter (`optimizer.state[p]`).
#[derive(Debug, Default)]
pub struct ParameterState {
    pub momentum_buffer: Option<Tensor>,
    pub exp_avg: Option<Tensor>,
    pub exp_avg_sq: Option<Tensor>,
    /// Steps taken (Adam's bias correction).
    pub step: i64,
}

/// The names of a parameter's state tensors, as in torch.optim's state_dict.
pub const STATE_SLOTS: [&str; 4] = ["momentum_buffer", "exp_avg", "exp_avg_sq", "step"];

#[derive(Debug)]
pub struct Optimizer {
    pub(crate) spec: OptimizerSpec,
    /// The running learning rate (schedules change it; the spec keeps the base rate).
    pub(crate) lr: f64,
    pub(crate) states: Vec<ParameterState>,
    /// The rate and step counts as device tensors, for steps captured in a CUDA graph
    /// (optimizer_device.rs); None until a captured run asks for them.
    pub(crate) device_scalars: Option<crate::optimizer_device::DeviceScalars>,
    /// Unique per optimizer and per restored state (see `state_addresses`).
    pub(crate) generation: u64,
}

/// The source of `Optimizer::generation`.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Optimizer {
    pub fn new(spec: OptimizerSpec, parameter_count: usize) -> Result<Optimizer> {
        spec.validate()?;
        let lr = spec.lr();
        Ok(Optimizer {
            spec,
            lr,
            states: (0..parameter_count).map(|_| ParameterState::default()).collect(),
            device_scalars: None,
            generation: next_generation(),
        })
    }

    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }

    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        self.lr = lr;
        Ok(())
    }

    pub fn states(&self) -> &[ParameterState] {
        &self.states
    }

    /// Replaces every parameter's state at once (the caller has checked them).
    pub fn set_states(&mut self, states: Vec<ParameterState>) -> Result<()> {
        if states.len() != self.states.len() {
            return Err(invalid(
                "optimizer",
                "state",
                format!("{} parameters", states.len()),
                &format!("{}", self.states.len()),
            ));
        }
        self.states = states;
        // Device step counts mirror the host ones; they are refilled from these when next used.
        self.device_scalars = None;
        self.generation = next_generation();
        Ok(())
    }

    /// `zero_grad(set_to_none=True)`: the next backward writes fresh gradients.
    pub fn zero_grad(&self, parameters: &[Parameter]) -> Result<()> {
        for parameter in parameters {
            clear_grad(&parameter.tensor)?;
        }
        Ok(())
    }

    /// One update of every parameter that has a gradient.
    pub fn step(&mut self, parameters: &[Parameter]) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (parameter, state) in parameters.iter().zip(self.states.iter_mut()) {
            let grad = parameter.tensor.f_grad()?;
            if !grad.defined() {
                continue;
            }
            let param = &parameter.tensor;
            match self.spec {
                OptimizerSpec::Sgd { momentum, dampening, weight_decay, nesterov, .. } => {
                    sgd(param, grad, state, self.lr, momentum, dampening, weight_decay, nesterov)?
                }
                OptimizerSpec::Adam { beta1, beta2, eps, weight_decay, .. } => adam(
                    param,
                    grad,
                    state,
                    AdamRule { lr: self.lr, beta1, beta2, eps, weight_decay, decoupled: false },
                )?,
                OptimizerSpec::AdamW { beta1, beta2, eps, weight_decay, .. } => adam(
                    param,
                    grad,
                    state,
                    AdamRule { lr: self.lr, beta1, beta2, eps, weight_decay, decoupled: true },
                )?,
            }
        }
        Ok(())
    }
}

/// `grad.add(param, alpha=weight_decay)`: a new tensor, the gradient itself is kept (L2 decay).
pub(crate) fn with_weight_decay(grad: Tensor, param: &Tensor, weight_decay: f64) -> Result<Tensor> {
    if weight_decay == 0.0 {
        return Ok(grad);
    }
    let decayed = grad.f_detach_copy()?;
    add_scaled_(&decayed, param, weight_decay)?;
    Ok(decayed)
}

/// SGD's momentum on an existing buffer, updated in place (`buf.mul_(momentum).add_(grad,
/// alpha=1 - dampening)`); returns the direction to step in (Nesterov: `grad + momentum * buf`).
pub(crate) fn momentum_direction(
    buffer: &Tensor,
    grad: &Tensor,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
) -> Result<Tensor> {
    let _ = buffer.shallow_clone().f_mul_scalar_(momentum)?;
    add_scaled_(buffer, grad, 1.0 - dampening)?;
    if nesterov {
        let ahead = grad.f_detach_copy()?;
        add_scaled_(&ahead, buffer, momentum)?;
        Ok(ahead)
    } else {
        Ok(buffer.shallow_clone())
    }
}

/// Adam's moment updates in place: `exp_avg.lerp_(grad, 1 - beta1)`,
/// `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`.
pub(crate) fn update_moments(
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    grad: &Tensor,
    beta1: f64,
    beta2: f64,
) -> Result<()> {
    let _ = exp_avg.shallow_clone().f_lerp_(grad, 1.0 - beta1)?;
    let _ = exp_avg_sq.shallow_clone().f_mul_scalar_(beta2)?;
    addcmul_(exp_avg_sq, grad, grad, 1.0 - beta2)
}

/// torch.optim.SGD's `_single_tensor_sgd`.
#[allow(clippy::too_many_arguments)]
fn sgd(
    param: &Tensor,
    grad: Tensor,
    state: &mut ParameterState,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
) -> Result<()> {
    let mut grad = with_weight_decay(grad, param, weight_decay)?;
    if momentum != 0.0 {
        match &state.momentum_buffer {
            // The first step's buffer is the gradient itself (a copy), as torch.optim's.
            None => {
                let buffer = grad.f_detach_copy()?;
                grad = if nesterov {
                    let ahead = grad.f_detach_copy()?;
                    add_scaled_(&ahead, &buffer, momentum)?;
                    ahead
                } else {
                    buffer.shallow_clone()
                };
                state.momentum_buffer = Some(buffer);
            }
            Some(buffer) => grad = momentum_direction(buffer, &grad, momentum, dampening, nesterov)?,
        }
    }
    add_scaled_(param, &grad, -lr)
}

struct AdamRule {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// AdamW: decay the weights directly instead of adding to the gradient.
    decoupled: bool,
}

/// torch.optim.Adam's `_single_tensor_adam` (AdamW is Adam with decoupled weight decay).
fn adam(param: &Tensor, grad: Tensor, state: &mut ParameterState, rule: AdamRule) -> Result<()> {
    let AdamRule { lr, beta1, beta2, eps, weight_decay, decoupled } = rule;
    let exp_avg = match state.exp_avg.take() {
        Some(t) => t,
        None => param.f_zeros_like()?,
    };
    let exp_avg_sq = match state.exp_avg_sq.take() {
        Some(t) => t,
        None => param.f_zeros_like()?,
    };
    state.step += 1;
    let grad = if decoupled {
        if weight_decay != 0.0 {
            let _ = param.shallow_clone().f_mul_scalar_(1.0 - lr * weight_decay)?;
        }
        grad
    } else {
        with_weight_decay(grad, param, weight_decay)?
    };
    update_moments(&exp_avg, &exp_avg_sq, &grad, beta1, beta2)?;
    // Python floats: torch computes these scalars in double precision.
    let step = state.step as f64;
    let bias_correction1 = 1.0 - beta1.powf(step);
    let bias_correction2 = 1.0 - beta2.powf(step);
    let step_size = lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.powf(0.5);
    let mut denom = exp_avg_sq.f_sqrt()?.f_div_scalar(bias_correction2_sqrt)?;
    let _ = denom.f_add_scalar_(eps)?;
    addcdiv_(param, &exp_avg, &denom, -step_size)?;
    state.exp_avg = Some(exp_avg);
    state.exp_avg_sq = Some(exp_avg_sq);
    Ok(())
}

impl ParameterState {
    /// The state as named tensors on the CPU (`{parameter}.{slot}`), for a checkpoint.
    pub fn named_tensors(&self, parameter: &str) -> Result<Vec<(String, Tensor)>> {
        let mut named = Vec::new();
        for (slot, tensor) in
            [("momentum_buffer", &self.momentum_buffer), ("exp_avg", &self.exp_avg), ("exp_avg_sq", &self.exp_avg_sq)]
        {
            if let Some(tensor) = tensor {
                named.push((
                    format!("{parameter}.{slot}"),
                    tensor.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?,
                ));
            }
        }
        if self.step > 0 {
            // A float32 scalar, as torch.optim stores `state['step']`.
            named.push((
                format!("{parameter}.step"),
                Tensor::f_from_slice(&[self.step as f32])?.f_to_kind(Kind::Float)?,
            ));
        }
        Ok(named)
    }
}
