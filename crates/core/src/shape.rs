//! Shape inference over a spec: every layer's input and output shape, checked before any
//! tensor exists, with the same output-size formula as the seed's comments:
//! out = floor((in + 2p - k) / s) + 1.
use crate::error::{CoreError, Result};
use crate::spec::{LayerSpec, ModelSpec, Padding, PaddingMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// channels, height, width
    Image(i64, i64, i64),
    Features(i64),
}

impl Shape {
    pub fn dims(self) -> Vec<i64> {
        match self {
            Shape::Image(c, h, w) => vec![c, h, w],
            Shape::Features(n) => vec![n],
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Image(c, h, w) => write!(f, "{c}x{h}x{w}"),
            Shape::Features(n) => write!(f, "{n}"),
        }
    }
}

/// A window operation (convolution or pooling) with every number resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub kernel: [i64; 2],
    pub stride: [i64; 2],
    pub padding: [i64; 2],
}

fn layer_error(index: usize, layer: &LayerSpec, message: String) -> CoreError {
    CoreError::InvalidSpec(format!("layer {index} ({}) {message}", layer.kind()))
}

fn positive(index: usize, layer: &LayerSpec, field: &str, values: &[i64]) -> Result<()> {
    match values.iter().find(|v| **v < 1) {
        Some(v) => Err(layer_error(index, layer, format!("{field} must be positive, got {v}"))),
        None => Ok(()),
    }
}

pub fn conv_padding(
    index: usize,
    layer: &LayerSpec,
    padding: Padding,
    kernel: [i64; 2],
    stride: [i64; 2],
) -> Result<[i64; 2]> {
    match padding {
        Padding::Amount(pair) => {
            let p = pair.get();
            if p.iter().any(|v| *v < 0) {
                return Err(layer_error(index, layer, format!("padding must be >= 0, got {p:?}")));
            }
            Ok(p)
        }
        Padding::Mode(PaddingMode::Valid) => Ok([0, 0]),
        Padding::Mode(PaddingMode::Full) => Ok([kernel[0] - 1, kernel[1] - 1]),
        Padding::Mode(PaddingMode::Same) => {
            if stride != [1, 1] || kernel.iter().any(|k| k % 2 == 0) {
                return Err(layer_error(
                    index,
                    layer,
                    format!(
                        "padding 'same' needs stride 1 and an odd kernel, got stride {stride:?} and kernel {kernel:?}"
                    ),
                ));
            }
            Ok([(kernel[0] - 1) / 2, (kernel[1] - 1) / 2])
        }
    }
}

/// Resolves the window of a conv or pool layer; pools default their stride to their kernel.
pub fn window(index: usize, layer: &LayerSpec) -> Result<Option<Window>> {
    let resolved = match layer {
        LayerSpec::Conv2d { kernel, stride, padding, .. } => {
            let (kernel, stride) = (kernel.get(), stride.get());
            positive(index, layer, "kernel", &kernel)?;
            positive(index, layer, "stride", &stride)?;
            let padding = conv_padding(index, layer, *padding, kernel, stride)?;
            Window { kernel, stride, padding }
        }
        LayerSpec::MaxPool2d { kernel, stride, padding, .. } | LayerSpec::AvgPool2d { kernel, stride, padding, .. } => {
            let kernel = kernel.get();
            let stride = stride.map(|s| s.get()).unwrap_or(kernel);
            let padding = padding.get();
            positive(index, layer, "kernel", &kernel)?;
            positive(index, layer, "stride", &stride)?;
            // libtorch's own rule for pooling; checked here so it is a spec error, not a C++ one.
            if (0..2).any(|i| padding[i] < 0 || 2 * padding[i] > kernel[i]) {
                return Err(layer_error(
                    index,
                    layer,
                    format!("padding must be between 0 and half the kernel {kernel:?}, got {padding:?}"),
                ));
            }
            Window { kernel, stride, padding }
        }
        _ => return Ok(None),
    };
    Ok(Some(resolved))
}

/// The output shape of every layer, in order; the last one must be `Features(classes)`.
pub fn infer_shapes(spec: &ModelSpec) -> Result<Vec<Shape>> {
    let [c, h, w] = spec.input;
    if c < 1 || h < 1 || w < 1 {
        return Err(CoreError::InvalidSpec(format!(
            "input must be [channels, height, width] of positive sizes, got {:?}",
            spec.input
        )));
    }
    if spec.classes < 2 {
        return Err(CoreError::InvalidSpec(format!("classes must be at least 2, got {}", spec.classes)));
    }
    let mut shape = Shape::Image(c, h, w);
    let mut shapes = Vec::with_capacity(spec.layers.len());
    for (index, layer) in spec.layers.iter().enumerate() {
        shape = next_shape(index, layer, shape)?;
        shapes.push(shape);
    }
    if shape != Shape::Features(spec.classes) {
        return Err(CoreError::InvalidSpec(format!(
            "the last layer must give {} class scores, the model gives {shape}",
            spec.classes
        )));
    }
    Ok(shapes)
}

fn next_shape(index: usize, layer: &LayerSpec, input: Shape) -> Result<Shape> {
    match layer {
        LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. } | LayerSpec::AvgPool2d { .. } => {
            let Shape::Image(channels, height, width) = input else {
                return Err(layer_error(
                    index,
                    layer,
                    format!("expects an image (channels x height x width), the layer before gives {input} features"),
                ));
            };
            let window = window(index, layer)?.expect("window layers have a window");
            let size =
                |extent: i64, i: usize| (extent + 2 * window.padding[i] - window.kernel[i]) / window.stride[i] + 1;
            let (out_h, out_w) = (size(height, 0), size(width, 1));
            if height + 2 * window.padding[0] < window.kernel[0] || width + 2 * window.padding[1] < window.kernel[1] {
                return Err(layer_error(
                    index,
                    layer,
                    format!("kernel {:?} is larger than its padded input {input}", window.kernel),
                ));
            }
            let out_channels = match layer {
                LayerSpec::Conv2d { filters, .. } => {
                    if *filters < 1 {
                        return Err(layer_error(index, layer, format!("filters must be positive, got {filters}")));
                    }
                    *filters
                }
                _ => channels,
            };
            Ok(Shape::Image(out_channels, out_h, out_w))
        }
        LayerSpec::Flatten {} => Ok(match input {
            Shape::Image(c, h, w) => Shape::Features(c * h * w),
            features => features,
        }),
        LayerSpec::Linear { units, inputs, .. } => {
            let Shape::Features(features) = input else {
                return Err(layer_error(
                    index,
                    layer,
                    format!("expects features, the layer before gives an image {input}; add a flatten layer"),
                ));
            };
            if *units < 1 {
                return Err(layer_error(index, layer, format!("units must be positive, got {units}")));
            }
            if let Some(expected) = inputs.filter(|expected| *expected != features) {
                return Err(layer_error(
                    index,
                    layer,
                    format!("expects {expected} inputs, the layer before gives {features}"),
                ));
            }
            Ok(Shape::Features(*units))
        }
        LayerSpec::Dropout { p } => {
            if !(0.0..1.0).contains(p) {
                return Err(layer_error(index, layer, format!("p must be in [0, 1), got {p}")));
            }
            Ok(input)
        }
        LayerSpec::LeakyRelu { slope } => {
            if !slope.is_finite() || *slope < 0.0 {
                return Err(layer_error(index, layer, format!("slope must be a finite number >= 0, got {slope}")));
            }
            Ok(input)
        }
        LayerSpec::Relu {} | LayerSpec::Sigmoid {} | LayerSpec::Tanh {} => Ok(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Pair;

    #[test]
    fn the_seed_net_shrinks_28_to_14_to_7_as_its_comments_say() {
        let shapes = infer_shapes(&ModelSpec::seed()).unwrap();
        assert_eq!(shapes[0], Shape::Image(8, 28, 28));
        assert_eq!(shapes[2], Shape::Image(8, 14, 14));
        assert_eq!(shapes[5], Shape::Image(16, 7, 7));
        assert_eq!(shapes[6], Shape::Features(784));
        assert_eq!(shapes[7], Shape::Features(10));
    }

    #[test]
    fn a_linear_layer_on_an_image_asks_for_flatten() {
        let mut spec = ModelSpec::seed();
        spec.layers.remove(6);
        let message = infer_shapes(&spec).unwrap_err().to_string();
        assert!(message.contains("layer 6 (linear)") && message.contains("flatten"), "{message}");
    }

    #[test]
    fn full_padding_grows_and_valid_padding_shrinks() {
        let mut spec = ModelSpec::seed();
        spec.layers[0] = LayerSpec::Conv2d {
            name: None,
            filters: 8,
            kernel: Pair::Both(3),
            stride: Pair::Both(1),
            padding: Padding::Mode(PaddingMode::Full),
        };
        assert_eq!(infer_shapes(&spec).unwrap()[0], Shape::Image(8, 30, 30));
        let conv = |padding| LayerSpec::Conv2d {
            name: None,
            filters: 2,
            kernel: Pair::Both(3),
            stride: Pair::Both(1),
            padding,
        };
        assert_eq!(
            next_shape(0, &conv(Padding::Mode(PaddingMode::Full)), Shape::Image(1, 5, 5)).unwrap(),
            Shape::Image(2, 7, 7)
        );
        assert_eq!(
            next_shape(0, &conv(Padding::Mode(PaddingMode::Valid)), Shape::Image(1, 5, 5)).unwrap(),
            Shape::Image(2, 3, 3)
        );
    }
}
