//! A labelled dataset living on one device as two tensors, uploaded once; training then
//! gathers batches there by index, so no pixels cross from the host per step.
use crate::error::{invalid, Result};
use tch::{Device, Kind, Tensor};

#[derive(Debug)]
pub struct DeviceDataset {
    /// [count, channels, height, width], float32.
    pub images: Tensor,
    /// [count], int64.
    pub labels: Tensor,
    pub count: i64,
    pub example_shape: [i64; 3],
}

/// Per-pixel affine normalisation applied after scaling: (x - mean) / std.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    pub mean: f64,
    pub std: f64,
}

impl Default for Normalisation {
    fn default() -> Self {
        Normalisation { mean: 0.0, std: 1.0 }
    }
}

/// Checks that pixels and labels describe `count` examples of `shape` with labels < classes.
pub fn check_examples(
    context: &str,
    pixel_len: usize,
    labels: &[i32],
    count: i64,
    shape: [i64; 3],
    classes: i64,
) -> Result<()> {
    if count < 1 {
        return Err(invalid(context, "count", count, "a positive integer"));
    }
    if shape.iter().any(|d| *d < 1) {
        return Err(invalid(context, "shape", format!("{shape:?}"), "[channels, height, width] of positive sizes"));
    }
    let per_example: i64 = shape.iter().product();
    let expected = count * per_example;
    if pixel_len as i64 != expected {
        return Err(invalid(
            context,
            "images",
            format!("{pixel_len} values"),
            &format!("{count} x {} x {} x {} = {expected} values", shape[0], shape[1], shape[2]),
        ));
    }
    if labels.len() as i64 != count {
        return Err(invalid(
            context,
            "labels",
            format!("{} labels", labels.len()),
            &format!("{count} labels, one per image"),
        ));
    }
    if let Some((index, label)) = labels.iter().enumerate().find(|(_, l)| **l < 0 || i64::from(**l) >= classes) {
        return Err(invalid(context, &format!("labels[{index}]"), label, &format!("a class index in [0, {classes})")));
    }
    Ok(())
}

/// How a dataset's values are laid out and where they go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub count: i64,
    /// [channels, height, width] of one example.
    pub shape: [i64; 3],
    pub classes: i64,
    pub device: Device,
    pub normalisation: Normalisation,
}

impl Layout {
    fn check(&self, pixel_len: usize, labels: &[i32]) -> Result<()> {
        check_examples("dataset", pixel_len, labels, self.count, self.shape, self.classes)?;
        let Normalisation { mean, std } = self.normalisation;
        if !mean.is_finite() {
            return Err(invalid("dataset", "mean", mean, "a finite number"));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(invalid("dataset", "std", std, "a finite number > 0"));
        }
        Ok(())
    }

    fn dims(&self) -> [i64; 4] {
        [self.count, self.shape[0], self.shape[1], self.shape[2]]
    }
}

impl DeviceDataset {
    /// Bytes as in IDX files, scaled like torchvision's ToTensor (x / 255), then normalised.
    pub fn from_bytes(pixels: &[u8], labels: &[i32], layout: &Layout) -> Result<DeviceDataset> {
        layout.check(pixels.len(), labels)?;
        // Upload as bytes (a quarter of the float size) and convert on the device.
        let bytes = Tensor::f_from_slice(pixels)?.f_view(layout.dims())?.f_to_device(layout.device)?;
        let mut images = bytes.f_to_kind(Kind::Float)?;
        // In place: a second float copy of the whole dataset would double the peak memory.
        let _ = images.f_div_scalar_(255.0)?;
        Self::finish(images, labels, layout)
    }

    /// Float pixels taken as they are, then normalised.
    pub fn from_floats(pixels: &[f32], labels: &[i32], layout: &Layout) -> Result<DeviceDataset> {
        layout.check(pixels.len(), labels)?;
        let images = Tensor::f_from_slice(pixels)?.f_view(layout.dims())?.f_to_device(layout.device)?;
        Self::finish(images, labels, layout)
    }

    fn finish(images: Tensor, labels: &[i32], layout: &Layout) -> Result<DeviceDataset> {
        let Normalisation { mean, std } = layout.normalisation;
        let images = if layout.normalisation == Normalisation::default() {
            images
        } else {
            images.f_sub_scalar(mean)?.f_div_scalar(std)?
        };
        let labels = Tensor::f_from_slice(labels)?.f_to_kind(Kind::Int64)?.f_to_device(layout.device)?;
        Ok(DeviceDataset { images, labels, count: layout.count, example_shape: layout.shape })
    }

    pub fn device(&self) -> Device {
        self.images.device()
    }
}
