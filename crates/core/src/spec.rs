//! The model spec: a JSON-serialisable list of layers, the input shape and the class count.
//! The TypeScript side writes the same structure; the seed's ConvNet is `ModelSpec::seed()`.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelSpec {
    /// [channels, height, width] of one example.
    pub input: [i64; 3],
    pub classes: i64,
    pub layers: Vec<LayerSpec>,
}

/// A kernel, stride or padding given as one number for both sides or as [height, width].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pair {
    Both(i64),
    Each([i64; 2]),
}

impl Pair {
    pub fn get(self) -> [i64; 2] {
        match self {
            Pair::Both(value) => [value, value],
            Pair::Each(values) => values,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaddingMode {
    /// No padding.
    Valid,
    /// Output size equals input size (stride 1, odd kernel).
    Same,
    /// Every partial overlap is computed: padding kernel - 1.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Padding {
    Mode(PaddingMode),
    Amount(Pair),
}

impl Default for Padding {
    fn default() -> Self {
        Padding::Amount(Pair::Both(0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum LayerSpec {
    Conv2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        filters: i64,
        kernel: Pair,
        #[serde(default = "one")]
        stride: Pair,
        #[serde(default)]
        padding: Padding,
    },
    MaxPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel: Pair,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Pair>,
        #[serde(default = "zero")]
        padding: Pair,
    },
    AvgPool2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        kernel: Pair,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<Pair>,
        #[serde(default = "zero")]
        padding: Pair,
    },
    Relu {},
    LeakyRelu {
        #[serde(default = "default_slope")]
        slope: f64,
    },
    Sigmoid {},
    Tanh {},
    Dropout {
        p: f64,
    },
    Flatten {},
    Linear {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        units: i64,
        /// Expected input features; inferred when absent, checked when present.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inputs: Option<i64>,
    },
}

fn one() -> Pair {
    Pair::Both(1)
}

fn zero() -> Pair {
    Pair::Both(0)
}

fn default_slope() -> f64 {
    0.01
}

impl LayerSpec {
    /// The name used in error messages ("conv2d", "maxPool2d", ...), as written in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "maxPool2d",
            LayerSpec::AvgPool2d { .. } => "avgPool2d",
            LayerSpec::Relu {} => "relu",
            LayerSpec::LeakyRelu { .. } => "leakyRelu",
            LayerSpec::Sigmoid {} => "sigmoid",
            LayerSpec::Tanh {} => "tanh",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::Flatten {} => "flatten",
            LayerSpec::Linear { .. } => "linear",
        }
    }
}

impl ModelSpec {
    pub fn from_json(json: &str) -> crate::Result<ModelSpec> {
        serde_json::from_str(json).map_err(|e| crate::CoreError::InvalidSpec(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ModelSpec always serialises")
    }

    /// The ConvNet of the seed tutorial: two 3x3 convolutions with ReLU and 2x2 max-pooling,
    /// then one linear layer from 7*7*16 features to the classes.
    pub fn seed() -> ModelSpec {
        let named = |name: &str| Some(name.to_owned());
        ModelSpec {
            input: [1, 28, 28],
            classes: 10,
            layers: vec![
                LayerSpec::Conv2d {
                    name: named("conv_1"),
                    filters: 8,
                    kernel: Pair::Both(3),
                    stride: Pair::Both(1),
                    padding: Padding::Amount(Pair::Both(1)),
                },
                LayerSpec::Relu {},
                LayerSpec::MaxPool2d {
                    name: named("pool_1"),
                    kernel: Pair::Both(2),
                    stride: Some(Pair::Both(2)),
                    padding: Pair::Both(0),
                },
                LayerSpec::Conv2d {
                    name: named("conv_2"),
                    filters: 16,
                    kernel: Pair::Both(3),
                    stride: Pair::Both(1),
                    padding: Padding::Amount(Pair::Both(1)),
                },
                LayerSpec::Relu {},
                LayerSpec::MaxPool2d {
                    name: named("pool_2"),
                    kernel: Pair::Both(2),
                    stride: Some(Pair::Both(2)),
                    padding: Pair::Both(0),
                },
                LayerSpec::Flatten {},
                LayerSpec::Linear { name: named("linear_1"), units: 10, inputs: None },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_spec_round_trips_through_json() {
        let seed = ModelSpec::seed();
        assert_eq!(ModelSpec::from_json(&seed.to_json()).unwrap(), seed);
    }

    #[test]
    fn json_uses_the_typescript_names() {
        let json = r#"{"input":[1,28,28],"classes":10,"layers":[
            {"type":"conv2d","filters":4,"kernel":[3,5],"padding":"same"},
            {"type":"leakyRelu"},{"type":"avgPool2d","kernel":2},{"type":"flatten"},
            {"type":"linear","units":10}]}"#;
        let spec = ModelSpec::from_json(json).unwrap();
        assert_eq!(spec.layers[1], LayerSpec::LeakyRelu { slope: 0.01 });
        match &spec.layers[0] {
            LayerSpec::Conv2d { kernel, padding, stride, .. } => {
                assert_eq!(kernel.get(), [3, 5]);
                assert_eq!(*stride, Pair::Both(1));
                assert_eq!(*padding, Padding::Mode(PaddingMode::Same));
            }
            other => panic!("expected conv2d, got {other:?}"),
        }
    }

    #[test]
    fn unknown_layer_types_and_fields_are_refused() {
        let bad_type = r#"{"input":[1,2,2],"classes":2,"layers":[{"type":"conv3d"}]}"#;
        assert_eq!(ModelSpec::from_json(bad_type).unwrap_err().code(), "CONVTORCH_INVALID_SPEC");
        let bad_field = r#"{"input":[1,2,2],"classes":2,"layers":[{"type":"relu","slope":1}]}"#;
        assert!(ModelSpec::from_json(bad_field).is_err());
    }
}
