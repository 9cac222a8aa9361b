//! Safe wrappers over the C++ shim (shim/shim.cpp): ATen calls that tch's API does not reach.
use crate::error::{CoreError, Result};
use std::ffi::{c_char, c_int, c_void, CStr};
use tch::{Device, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn convtorch_free_message(message: *mut c_char);
    fn convtorch_add_scaled_(target: *mut C_tensor, other: *const C_tensor, alpha: f64) -> *mut c_char;
    fn convtorch_addcmul_(target: *mut C_tensor, a: *const C_tensor, b: *const C_tensor, value: f64) -> *mut c_char;
    fn convtorch_addcdiv_(target: *mut C_tensor, a: *const C_tensor, b: *const C_tensor, value: f64) -> *mut c_char;
    fn convtorch_clear_grad(target: *mut C_tensor) -> *mut c_char;
    fn convtorch_cudnn_flags(benchmark: c_int, deterministic: c_int, allow_tf32: c_int, previous: *mut c_int);
    fn convtorch_set_grad(target: *mut C_tensor, grad: *const C_tensor) -> *mut c_char;
    fn convtorch_rng_state(cuda_index: c_int, out: *mut *mut C_tensor) -> *mut c_char;
    fn convtorch_set_rng_state(cuda_index: c_int, state: *const C_tensor) -> *mut c_char;
    fn convtorch_generator_seeded(cuda_index: c_int, seed: i64, out: *mut *mut c_void) -> *mut c_char;
    fn convtorch_generator_free(generator: *mut c_void);
    fn convtorch_generator_state(generator: *mut c_void, out: *mut *mut C_tensor) -> *mut c_char;
    fn convtorch_uniform_(target: *mut C_tensor, from: f64, to: f64, generator: *mut c_void) -> *mut c_char;
    fn convtorch_normal_(target: *mut C_tensor, mean: f64, std: f64, generator: *mut c_void) -> *mut c_char;
    fn convtorch_random_(target: *mut C_tensor, generator: *mut c_void) -> *mut c_char;
    fn convtorch_randperm(n: i64, generator: *mut c_void, out: *mut *mut C_tensor) -> *mut c_char;
    fn convtorch_conv_relu_pool(
        input: *const C_tensor,
        weight: *const C_tensor,
        bias: *const C_tensor,
        pad_h: i64,
        pad_w: i64,
        forward: ConvReluPoolForward,
        backward: ConvReluPoolBackward,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// The kernels of the conv -> relu -> pool node (shim/conv_relu_pool.cpp gives the contract).
pub type ConvReluPoolForward =
    unsafe extern "C" fn(*const i64, *const f32, *const f32, *const f32, *mut f32, *mut u8) -> *mut c_char;
pub type ConvReluPoolBackward = unsafe extern "C" fn(
    *const i64,
    *const f32,
    *const f32,
    *const f32,
    *const u8,
    *mut f32,
    *mut f32,
    *mut f32,
) -> *mut c_char;

/// One autograd node for relu(conv2d(input)) max-pooled 2x2, computed by `forward` and
/// differentiated by `backward` (see `kernels::conv_relu_pool`).
pub fn conv_relu_pool(
    input: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    padding: [i64; 2],
    forward: ConvReluPoolForward,
    backward: ConvReluPoolBackward,
) -> Result<Tensor> {
    new_tensor(|out| unsafe {
        convtorch_conv_relu_pool(
            input.as_ptr(),
            weight.as_ptr(),
            bias.as_ptr(),
            padding[0],
            padding[1],
            forward,
            backward,
            out,
        )
    })
}

/// Turns the shim's returned message (NULL on success) into a result.
fn checked(message: *mut c_char) -> Result<()> {
    if message.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null message is a NUL-terminated string malloc'd by the shim.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    unsafe { convtorch_free_message(message) };
    Err(CoreError::Torch(tch::TchError::Torch(text)))
}

// In-place ATen methods are const on the handle (they change the storage), so a shared
// reference to the tch tensor is enough.
fn target(tensor: &Tensor) -> *mut C_tensor {
    tensor.as_ptr() as *mut C_tensor
}

/// `target += alpha * other`, rounded as torch's `add_(other, alpha=alpha)`.
pub fn add_scaled_(tensor: &Tensor, other: &Tensor, alpha: f64) -> Result<()> {
    checked(unsafe { convtorch_add_scaled_(target(tensor), other.as_ptr(), alpha) })
}

/// `target += value * a * b`, as torch's `addcmul_`.
pub fn addcmul_(tensor: &Tensor, a: &Tensor, b: &Tensor, value: f64) -> Result<()> {
    checked(unsafe { convtorch_addcmul_(target(tensor), a.as_ptr(), b.as_ptr(), value) })
}

/// `target += value * a / b`, as torch's `addcdiv_`.
pub fn addcdiv_(tensor: &Tensor, a: &Tensor, b: &Tensor, value: f64) -> Result<()> {
    checked(unsafe { convtorch_addcdiv_(target(tensor), a.as_ptr(), b.as_ptr(), value) })
}

/// cuDNN's process-wide flags, as torch.backends.cudnn has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CudnnFlags {
    pub benchmark: bool,
    pub deterministic: bool,
    pub allow_tf32: bool,
}

/// Sets the flags given (None: unchanged); returns them as they were.
pub fn set_cudnn_flags(benchmark: Option<bool>, deterministic: Option<bool>, allow_tf32: Option<bool>) -> CudnnFlags {
    let code = |flag: Option<bool>| flag.map_or(-1, c_int::from);
    let mut previous = [0 as c_int; 3];
    unsafe { convtorch_cudnn_flags(code(benchmark), code(deterministic), code(allow_tf32), previous.as_mut_ptr()) };
    CudnnFlags { benchmark: previous[0] != 0, deterministic: previous[1] != 0, allow_tf32: previous[2] != 0 }
}

/// Drops a tensor's gradient (`param.grad = None`).
pub fn clear_grad(tensor: &Tensor) -> Result<()> {
    checked(unsafe { convtorch_clear_grad(target(tensor)) })
}

/// param.grad = grad (the tensor itself, not a copy).
pub fn set_grad(tensor: &Tensor, grad: &Tensor) -> Result<()> {
    checked(unsafe { convtorch_set_grad(target(tensor), grad.as_ptr()) })
}

fn generator_index(device: Device) -> c_int {
    match device {
        Device::Cuda(index) => index as c_int,
        _ => -1,
    }
}

/// The state of the default generator of `device` (CPU, or one CUDA device), as bytes.
pub fn rng_state(device: Device) -> Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    checked(unsafe { convtorch_rng_state(generator_index(device), &mut out) })?;
    // SAFETY: on success the shim stored a new heap tensor that we now own.
    Ok(unsafe { Tensor::from_ptr(out) })
}

pub fn set_rng_state(device: Device, state: &Tensor) -> Result<()> {
    checked(unsafe { convtorch_set_rng_state(generator_index(device), state.as_ptr()) })
}

/// A generator of its own, seeded as `manual_seed(seed)` seeds the default one of its device,
/// and sharing nothing with the defaults: draws from it are the draws the seeded default would
/// give, without disturbing whatever state the defaults hold (a training chunk's).
pub struct PrivateGenerator {
    handle: *mut c_void,
}

// SAFETY: the at::Generator is owned by this value alone; libtorch generators may be used from
// any thread, one at a time (&mut self / owned use here, never shared).
unsafe impl Send for PrivateGenerator {}

impl Drop for PrivateGenerator {
    fn drop(&mut self) {
        unsafe { convtorch_generator_free(self.handle) };
    }
}

fn new_tensor(body: impl FnOnce(*mut *mut C_tensor) -> *mut c_char) -> Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    checked(body(&mut out))?;
    // SAFETY: on success the shim stored a new heap tensor that we now own.
    Ok(unsafe { Tensor::from_ptr(out) })
}

impl PrivateGenerator {
    pub fn seeded(device: Device, seed: i64) -> Result<PrivateGenerator> {
        let mut handle: *mut c_void = std::ptr::null_mut();
        checked(unsafe { convtorch_generator_seeded(generator_index(device), seed, &mut handle) })?;
        Ok(PrivateGenerator { handle })
    }

    /// libtorch's bytes of its state (as `rng_state` gives a default generator's).
    pub fn state(&self) -> Result<Tensor> {
        new_tensor(|out| unsafe { convtorch_generator_state(self.handle, out) })
    }

    pub fn uniform_(&mut self, tensor: &Tensor, from: f64, to: f64) -> Result<()> {
        checked(unsafe { convtorch_uniform_(target(tensor), from, to, self.handle) })
    }

    pub fn normal_(&mut self, tensor: &Tensor, mean: f64, std: f64) -> Result<()> {
        checked(unsafe { convtorch_normal_(target(tensor), mean, std, self.handle) })
    }

    pub fn random_(&mut self, tensor: &Tensor) -> Result<()> {
        checked(unsafe { convtorch_random_(target(tensor), self.handle) })
    }

    pub fn randperm(&mut self, n: i64) -> Result<Tensor> {
        new_tensor(|out| unsafe { convtorch_randperm(n, self.handle, out) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn add_scaled_rounds_as_one_fused_operation_like_torch_add_with_alpha() {
        tch::manual_seed(3);
        let p = Tensor::randn([4096], (Kind::Float, Device::Cpu));
        let g = Tensor::randn([4096], (Kind::Float, Device::Cpu));
        let fused = p.copy();
        add_scaled_(&fused, &g, -0.05).unwrap();
        // Within float rounding of the two-step formula, and not a no-op.
        let two_step = &p + &g * -0.05;
        let diff = (&fused - &two_step).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        assert!((&fused - &p).abs().max().double_value(&[]) > 0.01);
    }

    #[test]
    fn a_private_generator_draws_what_the_seeded_default_draws_and_leaves_the_default_alone() {
        tch::manual_seed(11);
        let expected = Tensor::f_empty([6], (Kind::Float, Device::Cpu)).unwrap().f_uniform_(-1.0, 1.0).unwrap();
        let expected_perm = Tensor::f_randperm(9, (Kind::Int64, Device::Cpu)).unwrap();
        tch::manual_seed(5);
        let default_before = rng_state(Device::Cpu).unwrap();
        let mut private = PrivateGenerator::seeded(Device::Cpu, 11).unwrap();
        let drawn = Tensor::f_empty([6], (Kind::Float, Device::Cpu)).unwrap();
        private.uniform_(&drawn, -1.0, 1.0).unwrap();
        assert!(drawn.equal(&expected));
        assert!(private.randperm(9).unwrap().equal(&expected_perm));
        assert!(rng_state(Device::Cpu).unwrap().equal(&default_before), "the default generator was not touched");
    }

    #[test]
    fn clear_grad_leaves_no_gradient() {
        let x = Tensor::ones([3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        (&x * 2.0).sum(Kind::Float).backward();
        assert!(x.grad().defined());
        clear_grad(&x).unwrap();
        assert!(!x.grad().defined());
    }

    #[test]
    fn a_restored_generator_state_draws_the_same_numbers() {
        tch::manual_seed(11);
        let state = rng_state(Device::Cpu).unwrap();
        let first = Tensor::rand([8], (Kind::Float, Device::Cpu));
        set_rng_state(Device::Cpu, &state).unwrap();
        let again = Tensor::rand([8], (Kind::Float, Device::Cpu));
        assert_eq!(Vec::<f32>::try_from(&first).unwrap(), Vec::<f32>::try_from(&again).unwrap());
    }
}

#[cfg(test)]
mod cudnn_tests {
    use super::*;

    #[test]
    fn cudnn_flags_are_set_and_reported_like_torch_backends_cudnn() {
        // PyTorch's defaults: benchmark off, deterministic off, TF32 convolutions allowed.
        let before = set_cudnn_flags(Some(true), Some(true), Some(false));
        let set = set_cudnn_flags(None, None, None);
        assert_eq!(set, CudnnFlags { benchmark: true, deterministic: true, allow_tf32: false });
        set_cudnn_flags(Some(before.benchmark), Some(before.deterministic), Some(before.allow_tf32));
        assert_eq!(set_cudnn_flags(None, None, None), before);
    }
}
