//! A single-channel convolution whose input needs no gradient (a first layer on grey images)
//! as one matrix product: weight [OC, K] x columns [K, N*L] (`im2col`) + bias.
//!
//! oneDNN's kernels are slow when a layer has one input channel: for the seed net's first
//! layer (1 -> 8 channels, 3x3, batch 128, two cores) the forward took ~0.5 ms and the weight
//! gradient ~1.7 ms for 7 MFLOP each. As a product, both are single large GEMMs (the weight
//! gradient is `grad [OC, N*L] x columns^T`, computed by autograd's `addmm` backward), and no
//! input gradient is ever formed. The output is returned as an [N, OC, OH, OW] view of the
//! [OC, N, OH, OW] product (channels outermost in memory); element-wise layers and our
//! max-pooling read it as it is.
use super::im2col::im2col;
use crate::error::Result;
use crate::shape::Window;
use tch::{Device, Kind, Tensor};

/// Whether the product formulation applies: float CPU tensors, no gradient wanted for the
/// input, and a single input channel. Measured on two cores, batch 128, forward plus weight
/// and bias gradients: 1->8 channels 3x3 on 28x28, 1.4 ms vs oneDNN's 2.2 ms; 1->32 5x5,
/// 7.7 vs 13.9 ms; but 3->16 3x3 on 32x32, 8.2 vs 5.7 ms; 4->16 on 16x16, even; 8->16 on
/// 14x14, 2.4 vs 1.8 ms.
pub fn applies(input: &Tensor, weight: &Tensor) -> bool {
    let dims = weight.size();
    input.device() == Device::Cpu
        && input.kind() == Kind::Float
        && input.dim() == 4
        && !input.requires_grad()
        && dims.len() == 4
        && dims[1] == 1
}

/// The convolution of `input` [N, C, H, W] with `weight` [OC, C, kh, kw] and `bias` [OC], or
/// `None` when the window does not fit (libtorch then reports the error).
pub fn conv2d(input: &Tensor, weight: &Tensor, bias: &Tensor, window: &Window) -> Result<Option<Tensor>> {
    let Some(columns) = im2col(input, window)? else { return Ok(None) };
    let (batch, filters) = (input.size()[0], weight.size()[0]);
    let [_, _, height, width] = input.size()[..] else { return Ok(None) };
    let out =
        |size: i64, axis: usize| (size + 2 * window.padding[axis] - window.kernel[axis]) / window.stride[axis] + 1;
    let product = bias.f_view([filters, 1])?.f_addmm(&weight.f_view([filters, -1])?, &columns)?;
    Ok(Some(product.f_view([filters, batch, out(height, 0), out(width, 1)])?.f_permute([1, 0, 2, 3])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_parameter_gradients_equal_libtorch_conv2d() {
        let cases: [([i64; 4], [i64; 4], Window); 4] = [
            ([5, 1, 28, 28], [8, 1, 3, 3], Window { kernel: [3, 3], stride: [1, 1], padding: [1, 1] }),
            ([3, 1, 11, 9], [4, 1, 3, 3], Window { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }),
            ([2, 1, 12, 12], [6, 1, 5, 5], Window { kernel: [5, 5], stride: [1, 1], padding: [0, 0] }),
            ([2, 1, 7, 8], [3, 1, 2, 3], Window { kernel: [2, 3], stride: [1, 2], padding: [1, 2] }),
        ];
        for (shape, dims, window) in cases {
            let x = Tensor::randn(shape, (Kind::Float, Device::Cpu));
            let data_w = Tensor::randn(dims, (Kind::Float, Device::Cpu));
            let data_b = Tensor::randn([dims[0]], (Kind::Float, Device::Cpu));
            let run = |fast: bool| {
                let w = data_w.copy().set_requires_grad(true);
                let b = data_b.copy().set_requires_grad(true);
                assert!(applies(&x, &w));
                let y = if fast {
                    conv2d(&x, &w, &b, &window).unwrap().unwrap()
                } else {
                    x.conv2d(&w, Some(&b), window.stride, window.padding, [1, 1], 1)
                };
                // A weighting that differs per element, so every gradient entry is exercised, and
                // stays positive, so the sums behind the gradients do not cancel to ~0.
                let weights =
                    Tensor::arange(y.numel() as i64, (Kind::Float, Device::Cpu)).view(y.size().as_slice()).sin() * 0.5
                        + 1.0;
                (&y * weights).sum(Kind::Float).backward();
                (y.contiguous(), w.grad(), b.grad())
            };
            let (fast, plain) = (run(true), run(false));
            for (what, a, b) in
                [("output", &fast.0, &plain.0), ("weight grad", &fast.1, &plain.1), ("bias grad", &fast.2, &plain.2)]
            {
                assert_eq!(a.size(), b.size(), "{what} shape for {shape:?}");
                let error = (a - b).abs().max().double_value(&[]) / b.abs().max().double_value(&[]).max(1e-12);
                assert!(error < 1e-5, "{what} differs by {error} (relative) for {shape:?} {dims:?} {window:?}");
            }
        }
    }
}
