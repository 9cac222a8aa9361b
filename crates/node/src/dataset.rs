use crate::error::guarded_quick;
use crate::slot::Slot;
use convtorch_core::dataset::{DeviceDataset, Layout, Normalisation};
use convtorch_core::device::{device_name, parse_device};
use napi::bindgen_prelude::{Float32Array, Int32Array, Uint8Array};
use napi_derive::napi;

#[napi(object)]
pub struct DatasetLayout {
    pub count: i64,
    /// [channels, height, width]
    pub shape: Vec<i64>,
    pub classes: i64,
    pub device: String,
    /// One value for every channel, or one per channel.
    pub mean: Option<Vec<f64>>,
    pub std: Option<Vec<f64>>,
}

/// A labelled dataset uploaded once to a device.
#[napi]
pub struct NativeDataset {
    pub(crate) inner: Slot<DeviceDataset>,
    count: i64,
    device: String,
}

fn shape3(shape: &[i64]) -> convtorch_core::Result<[i64; 3]> {
    <[i64; 3]>::try_from(shape).map_err(|_| {
        convtorch_core::error::invalid("dataset", "shape", format!("{shape:?}"), "[channels, height, width]")
    })
}

impl NativeDataset {
    fn wrap(dataset: DeviceDataset) -> NativeDataset {
        let count = dataset.count;
        let device = device_name(dataset.device());
        NativeDataset { inner: Slot::new("dataset", dataset), count, device }
    }
}

fn layout(layout: &DatasetLayout) -> convtorch_core::Result<Layout> {
    Ok(Layout {
        count: layout.count,
        shape: shape3(&layout.shape)?,
        classes: layout.classes,
        device: parse_device(&layout.device)?,
        normalisation: Normalisation {
            mean: layout.mean.clone().unwrap_or_else(|| vec![0.0]),
            std: layout.std.clone().unwrap_or_else(|| vec![1.0]),
        },
    })
}

#[napi]
impl NativeDataset {
    /// Pixels as bytes (IDX), scaled to [0, 1] like ToTensor.
    #[napi(factory)]
    pub fn from_bytes(pixels: Uint8Array, labels: Int32Array, layout: DatasetLayout) -> napi::Result<NativeDataset> {
        guarded_quick(|| Ok(NativeDataset::wrap(DeviceDataset::from_bytes(&pixels, &labels, &self::layout(&layout)?)?)))
    }

    /// Pixels as floats, used as given.
    #[napi(factory)]
    pub fn from_floats(pixels: Float32Array, labels: Int32Array, layout: DatasetLayout) -> napi::Result<NativeDataset> {
        guarded_quick(|| {
            Ok(NativeDataset::wrap(DeviceDataset::from_floats(&pixels, &labels, &self::layout(&layout)?)?))
        })
    }

    #[napi(getter)]
    pub fn count(&self) -> i64 {
        self.count
    }

    #[napi(getter)]
    pub fn device(&self) -> String {
        self.device.clone()
    }

    /// Frees the tensors now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) -> napi::Result<()> {
        guarded_quick(|| self.inner.dispose())
    }
}
