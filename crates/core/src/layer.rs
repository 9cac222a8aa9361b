//! A network built from a spec: its layers in order and its named parameters.
use crate::channels_last;
use crate::error::{CoreError, Result};
use crate::kernels::{conv_gemm, conv_relu_pool, max_pool};
use crate::shape::{infer_shapes, window, Shape, Window};
use crate::spec::{LayerSpec, ModelSpec};
use tch::{Device, Kind, Tensor};

/// A trainable tensor with its PyTorch-style name ("conv_1.weight").
#[derive(Debug)]
pub struct Parameter {
    pub name: String,
    pub tensor: Tensor,
}

#[derive(Debug)]
pub enum Layer {
    Conv2d { weight: Tensor, bias: Tensor, window: Window },
    MaxPool2d(Window),
    AvgPool2d(Window),
    Relu,
    LeakyRelu(f64),
    Sigmoid,
    Tanh,
    Dropout(f64),
    Flatten,
    Linear { weight: Tensor, bias: Tensor },
}

impl Layer {
    /// `fast` allows equivalent formulations that are cheaper (see `kernels`).
    pub fn forward(&self, x: &Tensor, train: bool, fast: bool) -> Result<Tensor> {
        let y = match self {
            Layer::Conv2d { weight, bias, window } => {
                let product = if fast && conv_gemm::applies(x, weight) {
                    conv_gemm::conv2d(x, weight, bias, window)?
                } else {
                    None
                };
                match product {
                    Some(y) => y,
                    None => {
                        // A multi-channel input is convolved channels-last (see `channels_last`).
                        let input = if fast && channels_last::suits(x) {
                            channels_last::to_channels_last(x)?
                        } else {
                            x.shallow_clone()
                        };
                        input.f_conv2d(weight, Some(bias), window.stride, window.padding, [1, 1], 1)?
                    }
                }
            }
            Layer::MaxPool2d(w) if fast && max_pool::supports(x) => max_pool::max_pool2d(x, w)?,
            Layer::MaxPool2d(w) => x.f_max_pool2d(w.kernel, w.stride, w.padding, [1, 1], false)?,
            // count_include_pad = true is PyTorch's default for AvgPool2d.
            Layer::AvgPool2d(w) => x.f_avg_pool2d(w.kernel, w.stride, w.padding, false, true, None)?,
            Layer::Relu => x.f_relu()?,
            // where(x > 0, x, slope * x): PyTorch's leaky_relu, gradient at 0 included.
            Layer::LeakyRelu(slope) => x.f_where_self(&x.f_gt(0.0)?, &x.f_mul_scalar(*slope)?)?,
            Layer::Sigmoid => x.f_sigmoid()?,
            Layer::Tanh => x.f_tanh()?,
            Layer::Dropout(p) => x.f_dropout(*p, train)?,
            Layer::Flatten => x.f_flatten(1, -1)?,
            Layer::Linear { weight, bias } => x.f_linear(weight, Some(bias))?,
        };
        Ok(y)
    }
}

#[derive(Debug)]
pub struct Network {
    pub layers: Vec<Layer>,
    pub parameters: Vec<Parameter>,
    pub shapes: Vec<Shape>,
    /// Run equivalent, cheaper formulations (see `forward`); off gives the literal order.
    pub fast_paths: bool,
}

/// Whether a ReLU may overwrite the output of `producer`: a fresh tensor (not the caller's
/// input) that the producer's backward does not read. Convolution and linear layers save
/// their input and weight, pooling its input and indices; an activation saves its output
/// (relu, sigmoid, tanh), which an in-place ReLU would change under autograd.
fn relu_may_overwrite(producer: Option<&Layer>) -> bool {
    matches!(producer, Some(Layer::Conv2d { .. } | Layer::Linear { .. } | Layer::MaxPool2d(_) | Layer::AvgPool2d(_)))
}

impl Layer {
    /// Non-decreasing element-wise functions commute with max-pooling: f(max(x)) = max(f(x)).
    fn commutes_with_max_pool(&self) -> bool {
        matches!(self, Layer::Relu | Layer::LeakyRelu(_) | Layer::Sigmoid | Layer::Tanh)
    }
}

/// Weight and bias shapes of a layer that has parameters, given the shape that enters it.
fn parameter_dims(layer: &LayerSpec, input: Shape) -> Option<(Vec<i64>, Vec<i64>)> {
    match (layer, input) {
        (LayerSpec::Conv2d { filters, kernel, .. }, Shape::Image(channels, _, _)) => {
            let [kh, kw] = kernel.get();
            Some((vec![*filters, channels, kh, kw], vec![*filters]))
        }
        (LayerSpec::Linear { units, .. }, Shape::Features(features)) => Some((vec![*units, features], vec![*units])),
        _ => None,
    }
}

fn layer_name(index: usize, layer: &LayerSpec) -> String {
    let name = match layer {
        LayerSpec::Conv2d { name, .. }
        | LayerSpec::Linear { name, .. }
        | LayerSpec::MaxPool2d { name, .. }
        | LayerSpec::AvgPool2d { name, .. } => name.clone(),
        _ => None,
    };
    // nn.Sequential names anonymous children by their index.
    name.unwrap_or_else(|| index.to_string())
}

impl Network {
    /// Builds the layers with zeroed parameters on `device`; the caller initialises them.
    pub fn build(spec: &ModelSpec, device: Device) -> Result<Network> {
        let shapes = infer_shapes(spec)?;
        let [c, h, w] = spec.input;
        let mut input = Shape::Image(c, h, w);
        let mut layers = Vec::with_capacity(spec.layers.len());
        let mut parameters: Vec<Parameter> = Vec::new();
        for (index, layer_spec) in spec.layers.iter().enumerate() {
            let name = layer_name(index, layer_spec);
            let tensors = match parameter_dims(layer_spec, input) {
                Some((weight_dims, bias_dims)) => {
                    if parameters.iter().any(|p| p.name == format!("{name}.weight")) {
                        return Err(CoreError::InvalidSpec(format!(
                            "layer {index} ({}) reuses the name '{name}'",
                            layer_spec.kind()
                        )));
                    }
                    let weight = Tensor::f_zeros(weight_dims, (Kind::Float, device))?.f_set_requires_grad(true)?;
                    let bias = Tensor::f_zeros(bias_dims, (Kind::Float, device))?.f_set_requires_grad(true)?;
                    parameters.push(Parameter { name: format!("{name}.weight"), tensor: weight.shallow_clone() });
                    parameters.push(Parameter { name: format!("{name}.bias"), tensor: bias.shallow_clone() });
                    Some((weight, bias))
                }
                None => None,
            };
            layers.push(build_layer(index, layer_spec, tensors)?);
            input = shapes[index];
        }
        Ok(Network { layers, parameters, shapes, fast_paths: true })
    }

    /// With fast paths, a convolution, ReLU and 2x2 max-pool run as one node of our own where
    /// `conv_relu_pool` applies (see there). Otherwise an activation directly followed by a
    /// max-pool runs after the pool, on a
    /// quarter of the elements (2x2 pools): the same values, and the same gradients except
    /// where a pooling window holds tied maxima. On the CPU a ReLU overwrites its input where
    /// that input is a fresh tensor whose producer does not need it for its own gradient
    /// (`relu_may_overwrite`): the same values, one activation less to allocate and write.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut out = x.shallow_clone();
        // The layer whose output `out` is (through flatten's views); None: the caller's input.
        let mut producer: Option<&Layer> = None;
        let mut index = 0;
        while index < self.layers.len() {
            let layer = &self.layers[index];
            if let Some(fused) = self.conv_relu_pool_at(index, &out)? {
                out = fused;
                producer = self.layers.get(index + 2);
                index += 3;
                continue;
            }
            match self.layers.get(index + 1) {
                Some(pool @ Layer::MaxPool2d(_)) if self.fast_paths && layer.commutes_with_max_pool() => {
                    let pooled = pool.forward(&out, train, true)?;
                    out = self.activate(layer, pooled, Some(pool), train)?;
                    producer = Some(layer);
                    index += 2;
                }
                _ => {
                    out = self.activate(layer, out, producer, train)?;
                    if !matches!(layer, Layer::Flatten) {
                        producer = Some(layer);
                    }
                    index += 1;
                }
            }
        }
        Ok(out)
    }

    /// With fast paths, layers `index..index + 3` on `x` when they are a convolution, a ReLU and
    /// a 2x2 max-pool that `conv_relu_pool` handles: one node of our own (None: they are not).
    fn conv_relu_pool_at(&self, index: usize, x: &Tensor) -> Result<Option<Tensor>> {
        let layers = (self.layers.get(index), self.layers.get(index + 1), self.layers.get(index + 2));
        match layers {
            (Some(Layer::Conv2d { weight, bias, window }), Some(Layer::Relu), Some(Layer::MaxPool2d(pool)))
                if self.fast_paths && conv_relu_pool::applies(x, weight, window, pool) =>
            {
                Ok(Some(conv_relu_pool::conv_relu_pool(x, weight, bias, window)?))
            }
            _ => Ok(None),
        }
    }

    /// `layer` on `x`, which `producer` made; a ReLU in place where `relu_may_overwrite`.
    fn activate(&self, layer: &Layer, mut x: Tensor, producer: Option<&Layer>, train: bool) -> Result<Tensor> {
        if matches!(layer, Layer::Relu) && self.fast_paths && x.device() == Device::Cpu && relu_may_overwrite(producer)
        {
            return Ok(x.f_relu_()?);
        }
        layer.forward(&x, train, self.fast_paths)
    }

    pub fn parameter(&self, name: &str) -> Option<&Tensor> {
        self.parameters.iter().find(|p| p.name == name).map(|p| &p.tensor)
    }
}

fn build_layer(index: usize, spec: &LayerSpec, tensors: Option<(Tensor, Tensor)>) -> Result<Layer> {
    let window = window(index, spec)?;
    let layer = match (spec, tensors, window) {
        (LayerSpec::Conv2d { .. }, Some((weight, bias)), Some(window)) => Layer::Conv2d { weight, bias, window },
        (LayerSpec::Linear { .. }, Some((weight, bias)), _) => Layer::Linear { weight, bias },
        (LayerSpec::MaxPool2d { .. }, _, Some(window)) => Layer::MaxPool2d(window),
        (LayerSpec::AvgPool2d { .. }, _, Some(window)) => Layer::AvgPool2d(window),
        (LayerSpec::Relu {}, ..) => Layer::Relu,
        (LayerSpec::LeakyRelu { slope }, ..) => Layer::LeakyRelu(*slope),
        (LayerSpec::Sigmoid {}, ..) => Layer::Sigmoid,
        (LayerSpec::Tanh {}, ..) => Layer::Tanh,
        (LayerSpec::Dropout { p }, ..) => Layer::Dropout(*p),
        (LayerSpec::Flatten {}, ..) => Layer::Flatten,
        (other, ..) => {
            return Err(CoreError::InvalidSpec(format!("layer {index} ({}) could not be built", other.kind())))
        }
    };
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_zeroes_about_p_and_rescales_the_rest_in_training_only() {
        let x = Tensor::ones([100_000], (Kind::Float, Device::Cpu));
        let layer = Layer::Dropout(0.3);
        let trained = layer.forward(&x, true, true).unwrap();
        let zeroed = trained.eq(0.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
        assert!((zeroed - 0.3).abs() < 0.01, "zeroed fraction {zeroed}");
        let kept = trained.max().double_value(&[]);
        assert!((kept - 1.0 / 0.7).abs() < 1e-6, "kept values are scaled by 1/(1-p), got {kept}");
        assert_eq!(layer.forward(&x, false, true).unwrap().sum(Kind::Float).double_value(&[]), 100_000.0);
    }
}
