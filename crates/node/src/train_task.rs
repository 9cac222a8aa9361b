use crate::error::guarded;
use crate::slot::Slot;
use convtorch_core::{DeviceDataset, Model};
use napi::bindgen_prelude::Float32Array;
use napi::{Env, Task};

pub struct TrainBatchesTask {
    model: Slot<Model>,
    dataset: Slot<DeviceDataset>,
    order: Vec<u32>,
    batch_size: i64,
    learning_rates: Option<Vec<f64>>,
}

impl TrainBatchesTask {
    pub fn new(
        model: Slot<Model>,
        dataset: Slot<DeviceDataset>,
        order: Vec<u32>,
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> Self {
        TrainBatchesTask { model, dataset, order, batch_size, learning_rates }
    }

    /// Shared by the async and the sync entry points.
    pub fn run(&self) -> convtorch_core::Result<Vec<f32>> {
        self.model.with(|model| {
            self.dataset.with_waiting(|dataset| {
                model.train_batches(dataset, &self.order, self.batch_size, self.learning_rates.as_deref())
            })
        })
    }
}

impl Task for TrainBatchesTask {
    type Output = Vec<f32>;
    type JsValue = Float32Array;

    fn compute(&mut self) -> napi::Result<Vec<f32>> {
        guarded(|| self.run())
    }

    fn resolve(&mut self, _env: Env, losses: Vec<f32>) -> napi::Result<Float32Array> {
        Ok(Float32Array::new(losses))
    }
}
