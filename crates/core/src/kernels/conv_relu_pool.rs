//! A stride-1 convolution, its ReLU and a 2x2 max-pool as one autograd node with a forward and
//! a backward of our own (`conv_relu_pool_loops`), for small layers on the CPU.
//!
//! Why: op by op, the seed net's conv -> relu -> pool blocks run ~20 libtorch ops a step each
//! (oneDNN's convolution, its weight, bias and input gradients, the pool and its scatter into a
//! zeroed tensor, the ReLU's mask), most of them far below a millisecond, where dispatch,
//! allocation and the zero fill cost as much as the arithmetic. As one node, the forward
//! writes only the pooled outputs and a byte per output saying which input won, and the
//! backward touches only the quarter of the convolution outputs that max-pooling lets a
//! gradient through (see `conv_relu_pool_loops`).
//!
//! The node itself is C++ (shim/conv_relu_pool.cpp: a `torch::autograd::Function`, since tch
//! cannot define one); it calls the two `extern "C"` entry points below through function
//! pointers. The values equal libtorch's conv2d -> relu -> max_pool2d to float rounding (sums
//! in another order), and the gradients too; the pool picks the same element, ties and NaNs
//! included. Where an input is infinite the plain backward multiplies it by the zero gradient
//! of the positions the pool did not pick (NaN); this one never visits those positions.
use super::conv_relu_pool_loops::{BackwardImage, ForwardImage, LANES};
use crate::error::Result;
use crate::openmp;
use crate::shape::Window;
use crate::shim;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// At most this many multiply-adds per output position (filters x input channels x kernel
/// area). Measured on one thread, batch 64 (a shard), forward + backward, against libtorch's
/// channels-last oneDNN conv -> max-pool -> relu: 1->32 5x5 on 28x28 3.0 vs 9.3 ms; 8->16 3x3
/// on 14x14 0.94 vs 1.50; 8->32 1.61 vs 2.22; 16->16 1.70 vs 1.79; 16->32 3.04 vs 2.94 (even);
/// 32->32 on 32x32 35.7 vs 27.5; 64->64 on 16x16 34.6 vs 20.9. oneDNN's blocked kernels win
/// once a layer has enough channels to fill them.
const MAX_WORK_PER_POSITION: usize = 3 * 1024;

/// The numbers that the entry points get as `dims`, in this order.
const DIMS: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub filters: usize,
    pub kernel: [usize; 2],
    pub padding: [usize; 2],
}

impl Geometry {
    /// From `[batch, channels, height, width, filters, kernel h, kernel w, padding h, padding w]`;
    /// `None` unless every size is positive and the convolution's output is at least 2x2.
    pub fn from_dims(dims: &[i64]) -> Option<Geometry> {
        if dims.len() != DIMS || dims.iter().any(|d| *d < 0) || dims[..7].contains(&0) {
            return None;
        }
        let d = |i: usize| dims[i] as usize;
        let g = Geometry {
            batch: d(0),
            channels: d(1),
            height: d(2),
            width: d(3),
            filters: d(4),
            kernel: [d(5), d(6)],
            padding: [d(7), d(8)],
        };
        let fits = g.conv_height() >= 2 && g.conv_width() >= 2;
        fits.then_some(g)
    }

    pub fn dims(&self) -> [i64; DIMS] {
        let [kh, kw] = self.kernel;
        let [ph, pw] = self.padding;
        [self.batch, self.channels, self.height, self.width, self.filters, kh, kw, ph, pw].map(|d| d as i64)
    }

    pub fn padded_height(&self) -> usize {
        self.height + 2 * self.padding[0]
    }

    pub fn padded_width(&self) -> usize {
        self.width + 2 * self.padding[1]
    }

    /// The convolution's output rows and columns (0 where the kernel does not fit).
    fn conv_height(&self) -> usize {
        (self.padded_height() + 1).saturating_sub(self.kernel[0])
    }

    fn conv_width(&self) -> usize {
        (self.padded_width() + 1).saturating_sub(self.kernel[1])
    }

    /// max_pool2d's floor: an odd last convolution row or column is not pooled.
    pub fn pooled_height(&self) -> usize {
        self.conv_height() / 2
    }

    pub fn pooled_width(&self) -> usize {
        self.conv_width() / 2
    }

    /// Multiply-adds per output channel and position: input channels x kernel area.
    pub fn taps(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// Filters in vector blocks of `LANES`.
    pub fn blocks(&self) -> usize {
        self.filters.div_ceil(LANES)
    }

    fn image_in(&self) -> usize {
        self.channels * self.height * self.width
    }

    fn image_out(&self) -> usize {
        self.filters * self.pooled_height() * self.pooled_width()
    }
}

fn has_vector_units() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether conv(`weight`, `window`) -> relu -> max-pool(`pool`) on `input` runs here: float
/// CPU tensors, a stride-1 convolution, a 2x2 pool of stride 2 without padding, a CPU with
/// AVX2 and FMA, and a layer small enough (`MAX_WORK_PER_POSITION`).
pub fn applies(input: &Tensor, weight: &Tensor, window: &Window, pool: &Window) -> bool {
    let (x, w) = (input.size(), weight.size());
    if input.device() != Device::Cpu || input.kind() != Kind::Float || weight.kind() != Kind::Float {
        return false;
    }
    if x.len() != 4 || w.len() != 4 || w[1] != x[1] || window.stride != [1, 1] || !has_vector_units() {
        return false;
    }
    if *pool != (Window { kernel: [2, 2], stride: [2, 2], padding: [0, 0] }) {
        return false;
    }
    let dims = [x[0], x[1], x[2], x[3], w[0], w[2], w[3], window.padding[0], window.padding[1]];
    Geometry::from_dims(&dims).is_some_and(|g| g.taps() * g.filters <= MAX_WORK_PER_POSITION)
}

/// relu(conv2d(input, weight, bias, stride 1, `window.padding`)), max-pooled 2x2: an
/// [N, filters, pooled h, pooled w] tensor whose backward is ours. Call where `applies`.
pub fn conv_relu_pool(input: &Tensor, weight: &Tensor, bias: &Tensor, window: &Window) -> Result<Tensor> {
    shim::conv_relu_pool(input, weight, bias, window.padding, forward_entry, backward_entry)
}

/// A message the shim frees with `free`, as it frees its own.
fn message(text: &str) -> *mut c_char {
    let text = CString::new(text).unwrap_or_default();
    // SAFETY: strdup copies a NUL-terminated string into malloc'd memory.
    unsafe { libc::strdup(text.as_ptr()) }
}

/// Runs `body` on `count` items split over the OpenMP team: `body(member, items)`.
fn in_parallel(count: usize, members: usize, body: &(dyn Fn(usize, std::ops::Range<usize>) + Sync)) -> bool {
    openmp::parallel(members, &|member, team| body(member, openmp::share(count, member, team)))
}

/// The forward pass over a batch (see the shim's `ForwardKernel`): all contiguous, NCHW.
///
/// # Safety
/// The pointers hold the sizes that `dims` gives: input [N, C, H, W], weight [F, C, kh, kw],
/// bias [F], output and codes [N, F, pooled h, pooled w].
unsafe extern "C" fn forward_entry(
    dims: *const i64,
    input: *const f32,
    weight: *const f32,
    bias: *const f32,
    output: *mut f32,
    codes: *mut u8,
) -> *mut c_char {
    let Some(g) = Geometry::from_dims(std::slice::from_raw_parts(dims, DIMS)) else {
        return message("the layer's sizes do not fit the kernel");
    };
    let (weights, biases) = forward_filters(
        &g,
        std::slice::from_raw_parts(weight, g.filters * g.taps()),
        std::slice::from_raw_parts(bias, g.filters),
    );
    let (input, output, codes) = (input as usize, output as usize, codes as usize);
    let ok = catch_unwind(AssertUnwindSafe(|| {
        in_parallel(g.batch, openmp::available_threads(), &|_, images| {
            let mut padded = vec![0f32; g.channels * g.padded_height() * g.padded_width()];
            for n in images {
                // SAFETY: each member reads its own images and writes their outputs only.
                let image = std::slice::from_raw_parts((input as *const f32).add(n * g.image_in()), g.image_in());
                pad_planes(&g, image, &mut padded);
                let mut pass = ForwardImage {
                    padded: &padded,
                    weights: &weights,
                    bias: &biases,
                    output: std::slice::from_raw_parts_mut((output as *mut f32).add(n * g.image_out()), g.image_out()),
                    codes: std::slice::from_raw_parts_mut((codes as *mut u8).add(n * g.image_out()), g.image_out()),
                };
                run_forward(&g, &mut pass);
            }
        })
    }));
    if ok.unwrap_or(false) {
        std::ptr::null_mut()
    } else {
        message("the forward kernel failed on a worker thread")
    }
}

fn run_forward(g: &Geometry, pass: &mut ForwardImage) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `applies` admitted this layer only on a CPU with AVX2 and FMA.
    unsafe {
        super::conv_relu_pool_loops::forward_image(g, pass)
    }
}

fn run_backward(g: &Geometry, pass: &mut BackwardImage) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `run_forward`.
    unsafe {
        super::conv_relu_pool_loops::backward_image(g, pass)
    }
}

/// The filters as `[block][tap][LANES]` and the bias as `[block][LANES]`, zero past the last.
fn forward_filters(g: &Geometry, weight: &[f32], bias: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let taps = g.taps();
    let mut weights = vec![0f32; g.blocks() * taps * LANES];
    let mut biases = vec![0f32; g.blocks() * LANES];
    for oc in 0..g.filters {
        let (block, lane) = (oc / LANES, oc % LANES);
        for tap in 0..taps {
            weights[(block * taps + tap) * LANES + lane] = weight[oc * taps + tap];
        }
        biases[oc] = bias[oc];
    }
    (weights, biases)
}

/// Copies a [C, H, W] image into the interior of `padded` [C, padded h, padded w], whose
/// border stays as it was (zero).
fn pad_planes(g: &Geometry, image: &[f32], padded: &mut [f32]) {
    let (wp, plane) = (g.padded_width(), g.padded_height() * g.padded_width());
    for (c, source) in image.chunks_exact(g.height * g.width).enumerate() {
        for (h, row) in source.chunks_exact(g.width).enumerate() {
            let at = c * plane + (h + g.padding[0]) * wp + g.padding[1];
            padded[at..at + g.width].copy_from_slice(row);
        }
    }
}

/// The index of (channel, row, column) of the image in a padded channels-last layout.
fn channels_last_at(g: &Geometry, c: usize, h: usize, w: usize) -> usize {
    ((h + g.padding[0]) * g.padded_width() + w + g.padding[1]) * g.channels + c
}

/// One member's weight and bias gradient sums, channels-last.
struct Partial {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// The backward pass over a batch (see the shim's `BackwardKernel`); `grad_input` may be null
/// (no input gradient wanted). Writes (does not add to) the three gradients.
///
/// # Safety
/// As `forward_entry`; grad_output and codes are [N, F, pooled h, pooled w], grad_input is
/// null or as input, grad_weight as weight, grad_bias as bias.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn backward_entry(
    dims: *const i64,
    input: *const f32,
    weight: *const f32,
    grad_output: *const f32,
    codes: *const u8,
    grad_input: *mut f32,
    grad_weight: *mut f32,
    grad_bias: *mut f32,
) -> *mut c_char {
    let Some(g) = Geometry::from_dims(std::slice::from_raw_parts(dims, DIMS)) else {
        return message("the layer's sizes do not fit the kernel");
    };
    let weight = std::slice::from_raw_parts(weight, g.filters * g.taps());
    let weights = channels_last_filters(&g, weight);
    let members = openmp::available_threads().min(g.batch);
    let partials: Vec<Mutex<Partial>> = (0..members)
        .map(|_| Mutex::new(Partial { weight: vec![0f32; weights.len()], bias: vec![0f32; g.filters] }))
        .collect();
    let addresses = (input as usize, grad_output as usize, codes as usize, grad_input as usize);
    let ok = catch_unwind(AssertUnwindSafe(|| {
        in_parallel(g.batch, members, &|member, images| {
            let (input, grad_output, codes, grad_input) = addresses;
            let mut partial = partials[member].lock().unwrap_or_else(|p| p.into_inner());
            let Partial { weight: partial_weight, bias: partial_bias } = &mut *partial;
            let padded_len = g.padded_height() * g.padded_width() * g.channels;
            let (mut padded, mut padded_grad) = (vec![0f32; padded_len], vec![0f32; padded_len]);
            for n in images {
                // SAFETY: each member reads its own images and writes their input gradients only.
                let image = std::slice::from_raw_parts((input as *const f32).add(n * g.image_in()), g.image_in());
                to_padded_channels_last(&g, image, &mut padded);
                let wants_input = grad_input != 0;
                if wants_input {
                    padded_grad.fill(0.0);
                }
                let mut pass = BackwardImage {
                    input: &padded,
                    weights: &weights,
                    grad_output: std::slice::from_raw_parts(
                        (grad_output as *const f32).add(n * g.image_out()),
                        g.image_out(),
                    ),
                    codes: std::slice::from_raw_parts((codes as *const u8).add(n * g.image_out()), g.image_out()),
                    grad_input: wants_input.then_some(&mut padded_grad[..]),
                    grad_weight: partial_weight,
                    grad_bias: partial_bias,
                };
                run_backward(&g, &mut pass);
                if wants_input {
                    let target =
                        std::slice::from_raw_parts_mut((grad_input as *mut f32).add(n * g.image_in()), g.image_in());
                    from_padded_channels_last(&g, &padded_grad, target);
                }
            }
        })
    }));
    if !ok.unwrap_or(false) {
        return message("the backward kernel failed on a worker thread");
    }
    // The members' sums added in member order: the same result whichever finished first.
    let partials: Vec<Partial> =
        partials.into_iter().map(|p| p.into_inner().unwrap_or_else(|p| p.into_inner())).collect();
    let grad_weight = std::slice::from_raw_parts_mut(grad_weight, weight.len());
    let grad_bias = std::slice::from_raw_parts_mut(grad_bias, g.filters);
    let [kh_n, kw_n] = g.kernel;
    for oc in 0..g.filters {
        grad_bias[oc] = partials.iter().map(|p| p.bias[oc]).sum();
        for c in 0..g.channels {
            for kh in 0..kh_n {
                for kw in 0..kw_n {
                    let at = ((oc * kh_n + kh) * kw_n + kw) * g.channels + c;
                    grad_weight[((oc * g.channels + c) * kh_n + kh) * kw_n + kw] =
                        partials.iter().map(|p| p.weight[at]).sum();
                }
            }
        }
    }
    std::ptr::null_mut()
}

/// [F, C, kh, kw] -> [F, kh, kw, C].
fn channels_last_filters(g: &Geometry, weight: &[f32]) -> Vec<f32> {
    let [kh_n, kw_n] = g.kernel;
    let mut out = vec![0f32; weight.len()];
    for oc in 0..g.filters {
        for c in 0..g.channels {
            for kh in 0..kh_n {
                for kw in 0..kw_n {
                    out[((oc * kh_n + kh) * kw_n + kw) * g.channels + c] =
                        weight[((oc * g.channels + c) * kh_n + kh) * kw_n + kw];
                }
            }
        }
    }
    out
}

/// A [C, H, W] image into the interior of a padded channels-last buffer (border left zero).
fn to_padded_channels_last(g: &Geometry, image: &[f32], padded: &mut [f32]) {
    for c in 0..g.channels {
        for h in 0..g.height {
            for w in 0..g.width {
                padded[channels_last_at(g, c, h, w)] = image[(c * g.height + h) * g.width + w];
            }
        }
    }
}

/// The interior of a padded channels-last buffer back into a [C, H, W] image.
fn from_padded_channels_last(g: &Geometry, padded: &[f32], image: &mut [f32]) {
    for c in 0..g.channels {
        for h in 0..g.height {
            for w in 0..g.width {
                image[(c * g.height + h) * g.width + w] = padded[channels_last_at(g, c, h, w)];
            }
        }
    }
}

#[cfg(test)]
#[path = "conv_relu_pool_tests.rs"]
mod tests;
