//! On the CPU fast paths a convolution reads a multi-channel input in channels-last layout
//! (NHWC in memory, still [N, C, H, W] in shape), so that oneDNN convolves it in its nhwc
//! kernels instead of reordering every input and output between NCHW and its blocked layout,
//! forward and backward. Every op after it keeps the layout (convolutions, element-wise ops,
//! libtorch's pooling), so the copy is made once, before the first such convolution, and
//! `flatten` reads the layout in [C, H, W] order as before, so a linear layer sees the same
//! features.
//!
//! Measured on this project's 2-core machine, alternating in one process: the CIFAR-sized
//! net's training epoch 9.23 s NCHW, 8.04 s channels-last (medians of six); the seed net's
//! (its second convolution, 8 -> 16 channels, reads channels-last) 3.93 -> 2.95 s (medians of
//! eight). PyTorch 2.11 alone, one thread, the CIFAR-sized net's step at batch 64: 240 ms
//! NCHW, 197 ms channels-last. Values agree with the NCHW path to float tolerance (another
//! kernel sums in another order); the literal path (`fast_paths` off) never changes layout.
//!
//! A one-channel input stays as it is: NCHW and NHWC are the same memory, and a grey first
//! layer is a matrix product anyway (`kernels::conv_gemm`).
use crate::error::Result;
use tch::{Device, Kind, Tensor};

/// Whether a convolution's input `x` should be laid out channels-last first: a multi-channel
/// float CPU tensor not already in that layout (a copy only where it is not), with planes of
/// more than one pixel (with 1x1 planes both layouts are the same memory).
pub fn suits(x: &Tensor) -> bool {
    x.device() == Device::Cpu
        && x.kind() == Kind::Float
        && x.dim() == 4
        && x.size()[1] > 1
        && x.size()[2] * x.size()[3] > 1
        && !is_channels_last(x)
}

/// Whether a [N, C, H, W] tensor lies channels-last in memory (and is not also NCHW, as a
/// tensor with one channel or 1x1 planes is).
pub fn is_channels_last(x: &Tensor) -> bool {
    x.dim() == 4 && !x.is_contiguous() && x.f_permute([0, 2, 3, 1]).map(|t| t.is_contiguous()).unwrap_or(false)
}

/// The same [N, C, H, W] values, laid out NHWC; differentiable (a permuted copy).
pub fn to_channels_last(x: &Tensor) -> Result<Tensor> {
    Ok(x.f_permute([0, 2, 3, 1])?.f_contiguous()?.f_permute([0, 3, 1, 2])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Network;
    use crate::spec::ModelSpec;

    fn cifar_like() -> Network {
        let spec = ModelSpec::from_json(
            r#"{"input":[3,12,12],"classes":10,"layers":[
                {"type":"conv2d","filters":8,"kernel":3,"padding":1},{"type":"relu"},
                {"type":"conv2d","filters":8,"kernel":3,"padding":1},{"type":"relu"},
                {"type":"maxPool2d","kernel":2},
                {"type":"conv2d","filters":16,"kernel":3,"padding":1},{"type":"leakyRelu","slope":0.1},
                {"type":"avgPool2d","kernel":2},
                {"type":"flatten"},{"type":"linear","units":10}]}"#,
        )
        .unwrap();
        let network = Network::build(&spec, Device::Cpu).unwrap();
        let _guard = tch::no_grad_guard();
        for parameter in &network.parameters {
            let _ = parameter.tensor.shallow_clone().normal_(0.0, 0.2);
        }
        network
    }

    #[test]
    fn multi_channel_inputs_go_channels_last_once_and_stay_so() {
        let network = cifar_like();
        let rgb = Tensor::randn([4, 3, 12, 12], (Kind::Float, Device::Cpu));
        assert!(suits(&rgb));
        let laid = to_channels_last(&rgb).unwrap();
        assert!(is_channels_last(&laid) && !is_channels_last(&rgb) && !suits(&laid));
        assert_eq!(laid.size(), rgb.size());
        assert_eq!((&laid - &rgb).abs().max().double_value(&[]), 0.0);
        // The first convolution lays its input out; libtorch keeps the layout from there on.
        let mut x = rgb;
        for layer in &network.layers[..7] {
            x = layer.forward(&x, true, true).unwrap();
            assert!(is_channels_last(&x), "after {layer:?}");
        }
        let literal =
            network.layers[0].forward(&Tensor::randn([4, 3, 12, 12], (Kind::Float, Device::Cpu)), true, false);
        assert!(!is_channels_last(&literal.unwrap()), "the literal path keeps NCHW");
        let grey = Tensor::randn([4, 1, 12, 12], (Kind::Float, Device::Cpu));
        assert!(!suits(&grey), "one channel: NCHW is NHWC already");
    }

    #[test]
    fn logits_and_gradients_agree_with_the_literal_path() {
        let mut network = cifar_like();
        let images = Tensor::randn([6, 3, 12, 12], (Kind::Float, Device::Cpu));
        let labels = Tensor::from_slice(&[0i64, 3, 9, 1, 1, 7]);
        let mut run = |fast: bool| {
            network.fast_paths = fast;
            for parameter in &network.parameters {
                let mut grad = parameter.tensor.grad();
                if grad.defined() {
                    let _ = grad.zero_();
                }
            }
            let logits = network.forward(&images, true).unwrap();
            logits.cross_entropy_for_logits(&labels).backward();
            let grads: Vec<Tensor> = network.parameters.iter().map(|p| p.tensor.grad().copy()).collect();
            let names: Vec<String> = network.parameters.iter().map(|p| p.name.clone()).collect();
            (logits.detach().contiguous(), grads, names)
        };
        let (plain, plain_grads, _) = run(false);
        let (laid, laid_grads, names) = run(true);
        let relative = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]) / b.abs().max().double_value(&[]);
        assert!(relative(&laid, &plain) < 1e-5, "logits differ by {}", relative(&laid, &plain));
        for ((name, a), b) in names.iter().zip(&laid_grads).zip(&plain_grads) {
            assert!(a.is_contiguous(), "{name}'s gradient keeps the parameter's layout");
            assert!(relative(a, b) < 1e-4, "{name} gradient differs by {}", relative(a, b));
        }
    }
}
