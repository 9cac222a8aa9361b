use crate::slot::{Reservation, Slot};
use convtorch_core::{DeviceDataset, Model};

/// A chunk of training: batches of `order` on the model, the job of `trainBatches`.
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

    /// Shared by the async and the sync entry points; the reservation (async) ends with it.
    pub fn run(&self, _reservation: Option<Reservation>) -> convtorch_core::Result<Vec<f32>> {
        self.model.with(|model| {
            self.dataset.with_waiting(|dataset| {
                model.train_batches(dataset, &self.order, self.batch_size, self.learning_rates.as_deref())
            })
        })
    }
}
