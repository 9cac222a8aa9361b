//! The inner loops of `conv_relu_pool`, one image at a time, compiled for AVX2 with FMA.
//!
//! Forward: the filters in blocks of 8 (one AVX2 register of output channels), each pooled
//! position's four convolution outputs accumulated side by side from broadcast input values,
//! then max-pooled (libtorch's argmax rule), rectified, and stored with a one-byte code per
//! pooled output: which of the window's four positions won (0-3), plus 4 when the ReLU zeroed
//! it.
//!
//! Backward: max-pooling sends each pooled output's gradient to one convolution output, and
//! the ReLU stops it where it zeroed the output, so at most a quarter of the convolution's
//! output gradient is non-zero. Each surviving gradient adds a scaled input patch to the weight
//! gradient and a scaled filter to the input gradient; with both laid out channels-last
//! (`[height][width][channels]`), a patch row is `kernel width x channels` contiguous floats.
//! A dense convolution backward does four times the work, most of it on zeros.
use super::conv_relu_pool::Geometry;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Output channels per vector register.
pub const LANES: usize = 8;

/// What one image's forward pass reads and writes.
pub struct ForwardImage<'a> {
    /// The image zero-padded, channel planes of `padded_height x padded_width`.
    pub padded: &'a [f32],
    /// The filters as `[block][tap][LANES]` (tap: input channel, row, column), zero past the
    /// last filter.
    pub weights: &'a [f32],
    /// `[block][LANES]`, zero past the last filter.
    pub bias: &'a [f32],
    /// `[filters][pooled_height][pooled_width]`.
    pub output: &'a mut [f32],
    pub codes: &'a mut [u8],
}

/// The code bit that marks an output the ReLU zeroed (no gradient flows back through it).
pub const DEAD: u8 = 4;

/// # Safety
/// The CPU has AVX2 and FMA, and the slices have the sizes `Geometry` gives them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn forward_image(g: &Geometry, image: &mut ForwardImage) {
    let blocks = g.blocks();
    let mut block = 0;
    // Two blocks at once where there are two: each broadcast input value then feeds eight
    // FMAs instead of four, which keeps the loads from being the bottleneck.
    while block + 2 <= blocks {
        forward_blocks::<2>(g, image, block);
        block += 2;
    }
    if block < blocks {
        forward_blocks::<1>(g, image, block);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
// `b` indexes the weights, the bias and the accumulators alike.
#[allow(clippy::needless_range_loop)]
unsafe fn forward_blocks<const B: usize>(g: &Geometry, image: &mut ForwardImage, first: usize) {
    let (wp, plane) = (g.padded_width(), g.padded_height() * g.padded_width());
    let [kh_n, kw_n] = g.kernel;
    let taps = g.taps();
    let padded = image.padded.as_ptr();
    let mut bias = [_mm256_setzero_ps(); B];
    for (b, lane) in bias.iter_mut().enumerate() {
        *lane = _mm256_loadu_ps(image.bias.as_ptr().add((first + b) * LANES));
    }
    let pooled_plane = g.pooled_height() * g.pooled_width();
    for ph in 0..g.pooled_height() {
        for pw in 0..g.pooled_width() {
            // acc[q][b]: window position q (0: top left, 1: top right, 2, 3: the row below).
            let mut acc = [bias; 4];
            let top_left = padded.add(2 * ph * wp + 2 * pw);
            let mut tap = 0;
            for ic in 0..g.channels {
                for kh in 0..kh_n {
                    let row = top_left.add(ic * plane + kh * wp);
                    for kw in 0..kw_n {
                        let x = [
                            _mm256_broadcast_ss(&*row.add(kw)),
                            _mm256_broadcast_ss(&*row.add(kw + 1)),
                            _mm256_broadcast_ss(&*row.add(wp + kw)),
                            _mm256_broadcast_ss(&*row.add(wp + kw + 1)),
                        ];
                        for b in 0..B {
                            let w = _mm256_loadu_ps(image.weights.as_ptr().add(((first + b) * taps + tap) * LANES));
                            for q in 0..4 {
                                acc[q][b] = _mm256_fmadd_ps(x[q], w, acc[q][b]);
                            }
                        }
                        tap += 1;
                    }
                }
            }
            for b in 0..B {
                let (value, code) = pool_and_rectify([acc[0][b], acc[1][b], acc[2][b], acc[3][b]]);
                let (mut values, mut codes) = ([0f32; LANES], [0f32; LANES]);
                _mm256_storeu_ps(values.as_mut_ptr(), value);
                _mm256_storeu_ps(codes.as_mut_ptr(), code);
                let filters = LANES.min(g.filters - (first + b) * LANES);
                for lane in 0..filters {
                    let at = ((first + b) * LANES + lane) * pooled_plane + ph * g.pooled_width() + pw;
                    image.output[at] = values[lane];
                    image.codes[at] = codes[lane] as u8;
                }
            }
        }
    }
}

/// The window's maximum with libtorch's rule (a larger value, or any NaN, takes the window;
/// the first maximum in scan order wins ties), rectified, and its code as floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn pool_and_rectify(window: [__m256; 4]) -> (__m256, __m256) {
    let (mut best, mut at) = (window[0], _mm256_setzero_ps());
    for (q, value) in window.iter().enumerate().skip(1) {
        let take =
            _mm256_or_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(*value, best), _mm256_cmp_ps::<_CMP_UNORD_Q>(*value, *value));
        best = _mm256_blendv_ps(best, *value, take);
        at = _mm256_blendv_ps(at, _mm256_set1_ps(q as f32), take);
    }
    let zero = _mm256_setzero_ps();
    // relu keeps a NaN; its backward (threshold_backward) stops the gradient where the
    // output is <= 0, which a NaN is not.
    let keep = _mm256_or_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(best, zero), _mm256_cmp_ps::<_CMP_UNORD_Q>(best, best));
    let value = _mm256_and_ps(keep, best);
    let dead = _mm256_and_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(best, zero), _mm256_set1_ps(f32::from(DEAD)));
    (value, _mm256_add_ps(at, dead))
}

/// What one image's backward pass reads and adds to.
pub struct BackwardImage<'a> {
    /// The image zero-padded and channels-last: `[padded_height][padded_width][channels]`.
    pub input: &'a [f32],
    /// The filters channels-last: `[filters][kernel_height][kernel_width][channels]`.
    pub weights: &'a [f32],
    /// `[filters][pooled_height][pooled_width]`, and the forward pass's codes.
    pub grad_output: &'a [f32],
    pub codes: &'a [u8],
    /// Added to, laid out as `input` (None: the input needs no gradient).
    pub grad_input: Option<&'a mut [f32]>,
    /// Added to, laid out as `weights`.
    pub grad_weight: &'a mut [f32],
    pub grad_bias: &'a mut [f32],
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn backward_image(g: &Geometry, image: &mut BackwardImage) {
    backward_image_body(g, image)
}

/// Plain indexing over fixed-size rows, which LLVM unrolls and vectorises itself. Common
/// filter shapes get their row sizes as constants (a 3x3 filter over 1, 3, 8, 16 or 32
/// channels; a 5x5 over 1); others run the same loops with sizes known only at run time.
#[inline(always)]
fn backward_image_body(g: &Geometry, image: &mut BackwardImage) {
    match (g.kernel, g.channels, image.grad_input.is_some()) {
        ([3, 3], 1, false) => backward_filters::<3, 3, false>(g, image),
        ([3, 3], 1, true) => backward_filters::<3, 3, true>(g, image),
        ([3, 3], 3, true) => backward_filters::<3, 9, true>(g, image),
        ([3, 3], 8, true) => backward_filters::<3, 24, true>(g, image),
        ([3, 3], 16, true) => backward_filters::<3, 48, true>(g, image),
        ([3, 3], 32, true) => backward_filters::<3, 96, true>(g, image),
        ([5, 5], 1, false) => backward_filters::<5, 5, false>(g, image),
        _ => backward_filters_any(g, image),
    }
}

/// The gradients that pass one filter's pool and ReLU, listed without branching on the
/// codes (about half the outputs are zeroed, at random, so a branch per output would be
/// mispredicted half the time): each one's gradient and the offset of the input patch whose
/// convolution output the pool picked (in the padded channels-last input).
fn surviving(g: &Geometry, image: &BackwardImage, oc: usize, offsets: &mut [usize], grads: &mut [f32]) -> usize {
    let (pooled_height, pooled_width) = (g.pooled_height(), g.pooled_width());
    let row_stride = g.padded_width() * g.channels;
    let plane_at = oc * pooled_height * pooled_width;
    let mut count = 0;
    for ph in 0..pooled_height {
        for pw in 0..pooled_width {
            let at = plane_at + ph * pooled_width + pw;
            let code = image.codes[at];
            let (y, x) = (2 * ph + usize::from(code >> 1 & 1), 2 * pw + usize::from(code & 1));
            offsets[count] = y * row_stride + x * g.channels;
            grads[count] = image.grad_output[at];
            count += usize::from(code & DEAD == 0);
        }
    }
    count
}

/// `KH` rows of `ROW` (kernel width x channels) floats per filter; `INPUT`: whether the input
/// gradient is wanted. A filter's weight gradient is summed in registers over its outputs.
#[inline(always)]
fn backward_filters<const KH: usize, const ROW: usize, const INPUT: bool>(g: &Geometry, image: &mut BackwardImage) {
    let row_stride = g.padded_width() * g.channels;
    let plane = g.pooled_height() * g.pooled_width();
    let (mut offsets, mut grads) = (vec![0usize; plane], vec![0f32; plane]);
    for oc in 0..g.filters {
        let count = surviving(g, image, oc, &mut offsets, &mut grads);
        let filter_at = oc * KH * ROW;
        let mut filter = [[0f32; ROW]; KH];
        for (kh, row) in filter.iter_mut().enumerate() {
            row.copy_from_slice(&image.weights[filter_at + kh * ROW..filter_at + (kh + 1) * ROW]);
        }
        let (mut weight_sum, mut bias_sum) = ([[0f32; ROW]; KH], 0f32);
        for (&offset, &grad) in offsets[..count].iter().zip(&grads[..count]) {
            bias_sum += grad;
            for kh in 0..KH {
                let at = offset + kh * row_stride;
                fma_row::<ROW>(&mut weight_sum[kh], &image.input[at..at + ROW], grad);
                if INPUT {
                    if let Some(grad_input) = image.grad_input.as_deref_mut() {
                        fma_row::<ROW>(&mut grad_input[at..at + ROW], &filter[kh], grad);
                    }
                }
            }
        }
        image.grad_bias[oc] += bias_sum;
        for (kh, row) in weight_sum.iter().enumerate() {
            axpy(&mut image.grad_weight[filter_at + kh * ROW..filter_at + (kh + 1) * ROW], 1.0, row);
        }
    }
}

/// `target += scale * source` over `ROW` floats: whole vectors of 8, then single floats
/// (LLVM's own vectoriser left these rows scalar).
#[inline(always)]
fn fma_row<const ROW: usize>(target: &mut [f32], source: &[f32], scale: f32) {
    let (target, source) = (&mut target[..ROW], &source[..ROW]);
    let mut t = 0;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `backward_image` runs only where the CPU has AVX2 and FMA; t + 8 <= ROW keeps
    // every vector inside both rows.
    unsafe {
        let s = _mm256_set1_ps(scale);
        while t + LANES <= ROW {
            let sum =
                _mm256_fmadd_ps(_mm256_loadu_ps(source.as_ptr().add(t)), s, _mm256_loadu_ps(target.as_ptr().add(t)));
            _mm256_storeu_ps(target.as_mut_ptr().add(t), sum);
            t += LANES;
        }
    }
    while t < ROW {
        target[t] = source[t].mul_add(scale, target[t]);
        t += 1;
    }
}

/// `backward_filters` with the row sizes known only at run time.
fn backward_filters_any(g: &Geometry, image: &mut BackwardImage) {
    let [kh_n, kw_n] = g.kernel;
    let row = kw_n * g.channels;
    let row_stride = g.padded_width() * g.channels;
    let plane = g.pooled_height() * g.pooled_width();
    let (mut offsets, mut grads) = (vec![0usize; plane], vec![0f32; plane]);
    for oc in 0..g.filters {
        let count = surviving(g, image, oc, &mut offsets, &mut grads);
        let filter_at = oc * kh_n * row;
        for (&offset, &grad) in offsets[..count].iter().zip(&grads[..count]) {
            image.grad_bias[oc] += grad;
            for kh in 0..kh_n {
                let (at, weight_at) = (offset + kh * row_stride, filter_at + kh * row);
                axpy(&mut image.grad_weight[weight_at..weight_at + row], grad, &image.input[at..at + row]);
                if let Some(grad_input) = image.grad_input.as_deref_mut() {
                    axpy(&mut grad_input[at..at + row], grad, &image.weights[weight_at..weight_at + row]);
                }
            }
        }
    }
}

/// `target += scale * source`, fused multiply-adds.
#[inline(always)]
fn axpy(target: &mut [f32], scale: f32, source: &[f32]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t = s.mul_add(scale, *t);
    }
}
