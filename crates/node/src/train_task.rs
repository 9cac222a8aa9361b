use crate::error::guarded;
use crate::model::lock;
use convtorch_core::{DeviceDataset, Model};
use napi::bindgen_prelude::Float32Array;
use napi::{Env, Task};
use std::sync::{Arc, Mutex};

pub struct TrainBatchesTask {
    model: Arc<Mutex<Model>>,
    dataset: Arc<Mutex<DeviceDataset>>,
    order: Vec<u32>,
    batch_size: i64,
    learning_rates: Option<Vec<f64>>,
}

impl TrainBatchesTask {
    pub fn new(
        model: Arc<Mutex<Model>>,
        dataset: Arc<Mutex<DeviceDataset>>,
        order: Vec<u32>,
        batch_size: i64,
        learning_rates: Option<Vec<f64>>,
    ) -> Self {
        TrainBatchesTask { model, dataset, order, batch_size, learning_rates }
    }

    /// Shared by the async and the sync entry points.
    pub fn run(&self) -> convtorch_core::Result<Vec<f32>> {
        let mut model = lock(&self.model)?;
        let dataset = self.dataset.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        model.train_batches(&dataset, &self.order, self.batch_size, self.learning_rates.as_deref())
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
