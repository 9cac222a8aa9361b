//! Max-pooling on the CPU that picks exactly the element libtorch's kernel picks.
//!
//! libtorch's CPU `max_pool2d_with_indices` on NCHW float tensors was the largest cost of a
//! training step of the seed net: on two cores at batch 128 it took 2.8 + 1.5 ms for the two
//! pools, this kernel with the `gather` 0.23 + 0.19 ms (whole step 9.0 -> 6.6 ms).
//! This kernel finds the same argmax (first maximum in scan order; a NaN wins, the last NaN
//! winning) per window; the values are then taken with `gather`, whose autograd backward
//! scatters the gradient to those positions, which is what max-pooling's backward does. So
//! forward values are bit-identical, and gradients too wherever windows do not overlap.
use super::geometry::PlaneGeometry;
use crate::error::{CoreError, Result};
use crate::openmp;
use crate::shape::Window;
use tch::{Device, Kind, Tensor};

/// Output elements below which forking threads costs more than it saves.
const PARALLEL_THRESHOLD: usize = 32 * 1024;

type Geometry = PlaneGeometry;

impl PlaneGeometry {
    fn is_plain_2x2(&self) -> bool {
        self.kernel == [2, 2] && self.stride == [2, 2] && self.padding == [0, 0]
    }
}

/// Whether `input` is something this kernel handles: a 4-D float tensor on the CPU, its planes
/// dense. A channels-last tensor goes to libtorch's kernel, which pools it in that layout
/// (vectorised over channels) where this one would first copy it to NCHW.
pub fn supports(input: &Tensor) -> bool {
    input.device() == Device::Cpu
        && input.kind() == Kind::Float
        && input.dim() == 4
        && !crate::channels_last::is_channels_last(input)
}

/// What a pooling pass writes: the chosen positions (for training, where `gather` takes the
/// values and autograd the gradient) or only the values (evaluation).
enum Output<'a> {
    /// Positions within the plane, as libtorch's `max_pool2d_with_indices` gives them.
    Indices(&'a mut [i64]),
    Values(&'a mut [f32]),
}

/// libtorch's update rule: a larger value, or any NaN, takes the window. Written without
/// branches (`|`, selects): with data-dependent branches the loop mispredicts constantly.
#[inline(always)]
fn consider(best: &mut f32, at: &mut i64, value: f32, index: i64) {
    let take = (value > *best) | value.is_nan();
    *best = if take { value } else { *best };
    *at = if take { index } else { *at };
}

/// The index libtorch picks among a 2x2 window whose top-left element is at `top_left`.
#[inline(always)]
fn argmax_2x2(values: [f32; 4], top_left: i64, width: i64) -> i64 {
    // Starting from -infinity, the first element always "wins" (an -infinity keeps both the
    // value and the first position), so start from it.
    let (mut best, mut at) = (values[0], top_left);
    consider(&mut best, &mut at, values[1], top_left + 1);
    consider(&mut best, &mut at, values[2], top_left + width);
    consider(&mut best, &mut at, values[3], top_left + width + 1);
    at
}

/// The value at that index.
#[inline(always)]
fn max_2x2(values: [f32; 4]) -> f32 {
    let mut best = values[0];
    for value in &values[1..] {
        best = if (*value > best) | value.is_nan() { *value } else { best };
    }
    best
}

/// Each output kind in a loop of its own: one output per loop, plain indexing, no branches is
/// what LLVM vectorises (iterator chains here fell back to scalar code: 1.5 vs 0.2 ms for the
/// indices of a [128, 8, 28, 28] input).
#[inline(always)]
fn pool_plane_2x2_body(input: &[f32], output: Output, g: &Geometry) {
    let (w, n) = (g.width, g.out_width);
    match output {
        Output::Indices(indices) => {
            for (oh, out) in indices.chunks_exact_mut(n).enumerate() {
                let top = 2 * oh * w;
                let (upper, lower) = (&input[top..top + 2 * n], &input[top + w..top + w + 2 * n]);
                for (ow, slot) in out.iter_mut().enumerate() {
                    let window = [upper[2 * ow], upper[2 * ow + 1], lower[2 * ow], lower[2 * ow + 1]];
                    *slot = argmax_2x2(window, (top + 2 * ow) as i64, w as i64);
                }
            }
        }
        Output::Values(values) => {
            for (oh, out) in values.chunks_exact_mut(n).enumerate() {
                let top = 2 * oh * w;
                let (upper, lower) = (&input[top..top + 2 * n], &input[top + w..top + w + 2 * n]);
                for (ow, slot) in out.iter_mut().enumerate() {
                    *slot = max_2x2([upper[2 * ow], upper[2 * ow + 1], lower[2 * ow], lower[2 * ow + 1]]);
                }
            }
        }
    }
}

/// The same loops compiled for AVX2, which every CPU libtorch's fast kernels need has.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pool_plane_2x2_avx2(input: &[f32], output: Output, g: &Geometry) {
    pool_plane_2x2_body(input, output, g)
}

fn pool_plane_2x2(input: &[f32], output: Output, g: &Geometry) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { pool_plane_2x2_avx2(input, output, g) };
    }
    pool_plane_2x2_body(input, output, g)
}

/// Any window: clipped at the borders (padding is never chosen), possibly overlapping.
fn pool_plane(input: &[f32], mut output: Output, g: &Geometry) {
    for oh in 0..g.out_height {
        let h0 = (oh * g.stride[0]) as isize - g.padding[0] as isize;
        let h_end = ((h0 + g.kernel[0] as isize).min(g.height as isize)) as usize;
        let h_start = h0.max(0) as usize;
        for ow in 0..g.out_width {
            let w0 = (ow * g.stride[1]) as isize - g.padding[1] as isize;
            let w_end = ((w0 + g.kernel[1] as isize).min(g.width as isize)) as usize;
            let w_start = w0.max(0) as usize;
            let mut best = f32::NEG_INFINITY;
            let mut at = (h_start * g.width + w_start) as i64;
            for h in h_start..h_end {
                for w in w_start..w_end {
                    let index = h * g.width + w;
                    consider(&mut best, &mut at, input[index], index as i64);
                }
            }
            let o = oh * g.out_width + ow;
            match &mut output {
                Output::Indices(indices) => indices[o] = at,
                Output::Values(values) => values[o] = best,
            }
        }
    }
}

/// How the planes of a [N, C, H, W] tensor lie in memory. Rows and columns must be dense;
/// N and C are taken in memory order (outer, inner): NCHW, or channels outermost as in the
/// output of `conv_gemm`. The kernel visits and writes planes in that order, so its output and
/// the `gather` over the input keep the input's layout, and autograd hands the gradient back
/// in it too (an NCHW gradient for the channels-outer output of `conv_gemm` cost a 3 MB copy
/// per step to lay out again for its matrix product).
#[derive(Debug, Clone, Copy)]
struct PlaneLayout {
    /// The dimension (0 = N, 1 = C) that is outer in memory.
    outer: usize,
    sizes: [usize; 2],
    strides: [usize; 2],
}

impl PlaneLayout {
    /// `None` unless the tensor covers its memory densely in (outer, inner, H, W) order.
    fn of(input: &Tensor) -> Option<PlaneLayout> {
        let (size, stride) = (input.size(), input.stride());
        let outer = if stride[1] > stride[0] { 1 } else { 0 };
        let order = [outer as i64, 1 - outer as i64, 2, 3];
        let dense = input.f_permute(order).ok()?.is_contiguous();
        let (o, i) = (outer, 1 - outer);
        dense.then_some(PlaneLayout {
            outer,
            sizes: [size[o] as usize, size[i] as usize],
            strides: [stride[o] as usize, stride[i] as usize],
        })
    }

    /// The permutation from [N, C, H, W] to memory order (its own inverse).
    fn order(&self) -> [i64; 4] {
        [self.outer as i64, 1 - self.outer as i64, 2, 3]
    }

    /// Where plane `q` (counted in memory order) starts, in elements.
    fn offset(&self, q: usize) -> usize {
        (q / self.sizes[1]) * self.strides[0] + (q % self.sizes[1]) * self.strides[1]
    }
}

/// Pools every plane of `input` (laid out as `layout` says) into `output`: contiguous, its
/// planes in the same order, Int64 positions within the plane or Float values (`indices`).
fn pool_planes(input: &Tensor, output: &Tensor, indices: bool, layout: PlaneLayout, g: Geometry) -> Result<()> {
    let planes = layout.sizes[0] * layout.sizes[1];
    // Addresses as integers so the closure may be shared between threads; each member writes
    // only its own planes.
    let (input_at, output_at) = (input.data_ptr() as usize, output.data_ptr() as usize);
    let plain = g.is_plain_2x2();
    let threads = if planes * g.plane_out() < PARALLEL_THRESHOLD { 1 } else { planes };
    let ok = openmp::parallel(threads, &|member, members| {
        for plane in openmp::share(planes, member, members) {
            let out = plane * g.plane_out();
            // SAFETY: the tensors are alive for this call, each plane lies inside its tensor
            // (`layout` comes from its strides), and members pool disjoint planes.
            let (source, target) = unsafe {
                let source =
                    std::slice::from_raw_parts((input_at as *const f32).add(layout.offset(plane)), g.plane_in());
                let target = if indices {
                    Output::Indices(std::slice::from_raw_parts_mut((output_at as *mut i64).add(out), g.plane_out()))
                } else {
                    Output::Values(std::slice::from_raw_parts_mut((output_at as *mut f32).add(out), g.plane_out()))
                };
                (source, target)
            };
            if plain {
                pool_plane_2x2(source, target, &g);
            } else {
                pool_plane(source, target, &g);
            }
        }
    });
    if ok {
        Ok(())
    } else {
        Err(CoreError::Torch(tch::TchError::Torch("the max-pooling kernel failed on a worker thread".into())))
    }
}

/// Max-pools a [N, C, H, W] float CPU tensor. Returns the pooled tensor, in the input's plane
/// order: through `gather` (so autograd differentiates it) when `input` requires grad, else
/// the kernel's own values.
pub fn max_pool2d(input: &Tensor, window: &Window) -> Result<Tensor> {
    let [_, _, h, w] = input.size()[..] else { unreachable!("supports() admits 4-D tensors only") };
    let Some(g) = Geometry::new(h, w, window) else {
        // Let libtorch phrase the error for an input smaller than the window.
        return Ok(input.f_max_pool2d(window.kernel, window.stride, window.padding, [1, 1], false)?);
    };
    let (input, layout) = match PlaneLayout::of(input) {
        Some(layout) => (input.shallow_clone(), layout),
        None => {
            let dense = input.f_contiguous()?;
            let layout = PlaneLayout::of(&dense).expect("a contiguous tensor is dense");
            (dense, layout)
        }
    };
    let [outer, inner] = layout.sizes.map(|s| s as i64);
    let shape = [outer, inner, g.out_height as i64, g.out_width as i64];
    let pooled = if input.requires_grad() {
        let indices = Tensor::f_empty(shape, (Kind::Int64, Device::Cpu))?;
        pool_planes(&input, &indices, true, layout, g)?;
        let planes = input.f_permute(layout.order())?.f_view([outer, inner, h * w])?;
        planes.f_gather(2, &indices.f_view([outer, inner, -1])?, false)?.f_view(shape)?
    } else {
        let values = Tensor::f_empty(shape, (Kind::Float, Device::Cpu))?;
        pool_planes(&input, &values, false, layout, g)?;
        values
    };
    Ok(pooled.f_permute(layout.order())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(kernel: i64, stride: i64, padding: i64) -> Window {
        Window { kernel: [kernel; 2], stride: [stride; 2], padding: [padding; 2] }
    }

    /// Equal element by element, a NaN matching a NaN.
    fn same_values(a: &Tensor, b: &Tensor) -> bool {
        a.isnan().logical_and(&b.isnan()).logical_or(&a.eq_tensor(b)).all().int64_value(&[]) == 1
    }

    /// Values with many ties (few distinct levels), NaNs and infinities.
    fn awkward_input(shape: [i64; 4]) -> Tensor {
        tch::manual_seed(7);
        let x = Tensor::randint(5, shape, (Kind::Float, Device::Cpu)) - 2.0;
        let nan = Tensor::rand(shape, (Kind::Float, Device::Cpu)).lt(0.02);
        let inf = Tensor::rand(shape, (Kind::Float, Device::Cpu)).lt(0.02);
        x.masked_fill(&inf, f64::NEG_INFINITY).masked_fill(&nan, f64::NAN)
    }

    #[test]
    fn indices_and_values_equal_libtorch_for_every_window_shape() {
        for (shape, win) in [
            ([3, 4, 28, 28], window(2, 2, 0)),
            ([2, 3, 9, 7], window(2, 2, 0)),
            ([2, 3, 9, 7], window(3, 2, 1)),
            ([2, 2, 8, 8], window(3, 1, 1)),
            ([1, 2, 5, 6], window(2, 1, 0)),
            ([2, 64, 40, 40], window(2, 2, 0)),
        ] {
            let x = awkward_input(shape);
            let (expected, expected_indices) =
                x.max_pool2d_with_indices(win.kernel, win.stride, win.padding, [1, 1], false);
            let g = Geometry::new(shape[2], shape[3], &win).unwrap();
            let indices = Tensor::empty(expected.size(), (Kind::Int64, Device::Cpu));
            pool_planes(&x, &indices, true, PlaneLayout::of(&x).unwrap(), g).unwrap();
            assert!(indices.equal(&expected_indices), "indices differ for {shape:?} {win:?}");
            let values = max_pool2d(&x, &win).unwrap();
            assert!(same_values(&values, &expected), "values differ for {shape:?} {win:?}");
            // The layout `conv_gemm` produces: channels outermost in memory.
            let channels_outer = x.permute([1, 0, 2, 3]).contiguous().permute([1, 0, 2, 3]);
            assert!(same_values(&max_pool2d(&channels_outer, &win).unwrap(), &expected), "CNHW input differs");
        }
    }

    /// How the input tensor sits in memory: its layouts lead to different code paths.
    #[derive(Debug, Clone, Copy)]
    enum Layout {
        Nchw,
        /// Channels outermost, as `conv_gemm` returns its output.
        Cnhw,
        /// A column slice of a wider tensor: rows are not dense, so the kernel copies first.
        Sliced,
    }

    #[test]
    fn gradients_through_gather_equal_max_pooling_backward_in_every_layout() {
        for layout in [Layout::Nchw, Layout::Cnhw, Layout::Sliced] {
            for (shape, win) in [([4, 3, 12, 12], window(2, 2, 0)), ([2, 3, 9, 7], window(3, 2, 1))] {
                let data = Tensor::randn(shape, (Kind::Float, Device::Cpu));
                let upstream = Tensor::randn(
                    data.max_pool2d(win.kernel, win.stride, win.padding, [1, 1], false).size(),
                    (Kind::Float, Device::Cpu),
                );
                let grads = |fast: bool| {
                    // `leaf` holds the gradient; `x` is the [N, C, H, W] view of it we pool.
                    let (leaf, x) = match layout {
                        Layout::Nchw => {
                            let leaf = data.copy().set_requires_grad(true);
                            (leaf.shallow_clone(), leaf)
                        }
                        Layout::Cnhw => {
                            let leaf = data.permute([1, 0, 2, 3]).contiguous().set_requires_grad(true);
                            (leaf.shallow_clone(), leaf.permute([1, 0, 2, 3]))
                        }
                        Layout::Sliced => {
                            let wide = Tensor::cat(&[&data, &data], 3).set_requires_grad(true);
                            (wide.shallow_clone(), wide.narrow(3, 0, shape[3]))
                        }
                    };
                    let y = if fast {
                        max_pool2d(&x, &win).unwrap()
                    } else {
                        x.max_pool2d(win.kernel, win.stride, win.padding, [1, 1], false)
                    };
                    (y * &upstream).sum(Kind::Float).backward();
                    leaf.grad()
                };
                let (fast, plain) = (grads(true), grads(false));
                let error = (&fast - &plain).abs().max().double_value(&[]);
                assert!(error < 1e-6, "gradients differ by {error} for {layout:?} {shape:?} {win:?}");
            }
        }
    }
}
