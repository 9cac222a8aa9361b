//! What the network sees: the feature maps after each convolution and pooling layer, and a
//! class-activation map (Grad-CAM) on the last convolution. One call per batch of images, the
//! layers run literally (no fast path reorders them), in evaluation mode.
use crate::dataset::check_examples;
use crate::error::{invalid, Result};
use crate::layer::Layer;
use crate::model::{to_host, HostTensor, Model};
use tch::{Kind, Tensor};

/// One layer's output for the whole batch: [count, channels, height, width].
#[derive(Debug, Clone)]
pub struct FeatureMaps {
    /// The layer's index in the spec.
    pub layer: usize,
    pub kind: &'static str,
    pub maps: HostTensor,
}

fn kind_of(layer: &Layer) -> Option<&'static str> {
    match layer {
        Layer::Conv2d { .. } => Some("conv2d"),
        Layer::MaxPool2d(_) => Some("maxPool2d"),
        Layer::AvgPool2d(_) => Some("avgPool2d"),
        _ => None,
    }
}

impl Model {
    fn images(&self, context: &str, pixels: &[f32], count: i64) -> Result<Tensor> {
        let no_labels = vec![0; count.max(0) as usize];
        check_examples(context, pixels.len(), &no_labels, count, self.spec.input, self.spec.classes)?;
        let [c, h, w] = self.spec.input;
        Ok(Tensor::f_from_slice(pixels)?.f_view([count, c, h, w])?.f_to_device(self.device)?)
    }

    /// The output of every convolution and pooling layer, in order.
    pub fn feature_maps(&self, pixels: &[f32], count: i64) -> Result<Vec<FeatureMaps>> {
        let _guard = tch::no_grad_guard();
        let mut x = self.images("featureMaps", pixels, count)?;
        let mut maps = Vec::new();
        for (index, layer) in self.network.layers.iter().enumerate() {
            x = layer.forward(&x, false, false)?;
            if let Some(kind) = kind_of(layer) {
                maps.push(FeatureMaps { layer: index, kind, maps: to_host(&x)? });
            }
        }
        Ok(maps)
    }

    /// Grad-CAM (Selvaraju et al.) for each image and its `classes[i]`: relu(sum_k w_k A_k) with
    /// A the last convolution's output and w_k the mean over positions of d logit / d A_k;
    /// [count, height, width] at that layer's resolution (unscaled).
    pub fn grad_cam(&self, pixels: &[f32], count: i64, classes: &[i64]) -> Result<HostTensor> {
        let last_conv =
            self.network.layers.iter().rposition(|l| matches!(l, Layer::Conv2d { .. })).ok_or_else(|| {
                invalid("gradCam", "model", "a model without a convolution", "a model with at least one conv2d layer")
            })?;
        if classes.len() as i64 != count {
            return Err(invalid(
                "gradCam",
                "classes",
                format!("{} classes", classes.len()),
                &format!("one per image ({count})"),
            ));
        }
        if let Some((i, bad)) = classes.iter().enumerate().find(|(_, c)| !(0..self.spec.classes).contains(*c)) {
            return Err(invalid(
                "gradCam",
                &format!("classes[{i}]"),
                bad,
                &format!("a class index in [0, {})", self.spec.classes),
            ));
        }
        let mut x = self.images("gradCam", pixels, count)?;
        let mut activations = None;
        for (index, layer) in self.network.layers.iter().enumerate() {
            x = layer.forward(&x, false, false)?;
            if index == last_conv {
                // The map's own gradient is wanted, not the weights': a leaf of its own.
                x = x.f_detach()?.f_set_requires_grad(true)?;
                activations = Some(x.shallow_clone());
            }
        }
        let activations = activations.expect("the last convolution was run");
        let targets = Tensor::f_from_slice(classes)?.f_to_device(self.device)?.f_view([count, 1])?;
        let score = x.f_gather(1, &targets, false)?.f_sum(Kind::Float)?;
        let gradients = Tensor::f_run_backward(&[score], &[&activations], false, false)?.remove(0);
        let weights = gradients.f_mean_dim([2i64, 3].as_slice(), true, Kind::Float)?;
        let cam = activations
            .f_detach()?
            .f_mul(&weights)?
            .f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?
            .f_relu()?;
        to_host(&cam)
    }
}
