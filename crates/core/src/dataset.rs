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
    /// [channels]: what a pixel of value 0 (black) became after normalisation, the value that
    /// augmentation pads with.
    pub black: Tensor,
}

/// Per-channel affine normalisation applied after scaling: (x - mean[c]) / std[c]; one value
/// stands for every channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Default for Normalisation {
    fn default() -> Self {
        Normalisation { mean: vec![0.0], std: vec![1.0] }
    }
}

impl Normalisation {
    /// mean and std for each of `channels`, checked.
    fn per_channel(&self, channels: i64) -> Result<(Vec<f64>, Vec<f64>)> {
        let expand = |field: &str, values: &[f64]| -> Result<Vec<f64>> {
            match values.len() as i64 {
                1 => Ok(vec![values[0]; channels as usize]),
                n if n == channels => Ok(values.to_vec()),
                n => Err(invalid(
                    "dataset",
                    field,
                    format!("{n} values"),
                    &format!("1 value or one per channel ({channels})"),
                )),
            }
        };
        let mean = expand("mean", &self.mean)?;
        let std = expand("std", &self.std)?;
        if let Some(bad) = mean.iter().find(|m| !m.is_finite()) {
            return Err(invalid("dataset", "mean", bad, "finite numbers"));
        }
        if let Some(bad) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(invalid("dataset", "std", bad, "finite numbers > 0"));
        }
        Ok((mean, std))
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
#[derive(Debug, Clone, PartialEq)]
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
        self.normalisation.per_channel(self.shape[0]).map(|_| ())
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

    fn finish(mut images: Tensor, labels: &[i32], layout: &Layout) -> Result<DeviceDataset> {
        let (mean, std) = layout.normalisation.per_channel(layout.shape[0])?;
        let column = |values: &[f64]| -> Result<Tensor> {
            let floats: Vec<f32> = values.iter().map(|v| *v as f32).collect();
            Ok(Tensor::f_from_slice(&floats)?.f_to_device(layout.device)?)
        };
        let (mean, std) = (column(&mean)?, column(&std)?);
        if layout.normalisation != Normalisation::default() {
            // In place, as the scaling: no second float copy of the dataset.
            let shape = [1, layout.shape[0], 1, 1];
            let _ = images.f_sub_(&mean.f_view(shape)?)?;
            let _ = images.f_div_(&std.f_view(shape)?)?;
        }
        let black = mean.f_neg()?.f_div(&std)?;
        let labels = Tensor::f_from_slice(labels)?.f_to_kind(Kind::Int64)?.f_to_device(layout.device)?;
        Ok(DeviceDataset { images, labels, count: layout.count, example_shape: layout.shape, black })
    }

    pub fn device(&self) -> Device {
        self.images.device()
    }
}

/// A grey 28x28 dataset of `count` examples, for tests: pixel i is `i * pixel_step % 251`, label
/// i is `i * label_step % 10`.
#[cfg(test)]
pub(crate) fn grey_test_dataset(count: usize, pixel_step: usize, label_step: i32) -> DeviceDataset {
    let pixels: Vec<u8> = (0..count * 784).map(|i| (i * pixel_step % 251) as u8).collect();
    let labels: Vec<i32> = (0..count as i32).map(|i| i * label_step % 10).collect();
    let layout = Layout {
        count: count as i64,
        shape: [1, 28, 28],
        classes: 10,
        device: Device::Cpu,
        normalisation: Normalisation::default(),
    };
    DeviceDataset::from_bytes(&pixels, &labels, &layout).expect("a valid test dataset")
}
