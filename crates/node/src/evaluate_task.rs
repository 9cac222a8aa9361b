use crate::slot::{Reservation, Slot};
use convtorch_core::{DeviceDataset, Model};
use napi::bindgen_prelude::Int32Array;
use napi_derive::napi;

#[napi(object)]
pub struct Evaluation {
    pub loss_sum: f64,
    pub correct: i64,
    pub count: i64,
    pub predictions: Int32Array,
}

impl From<convtorch_core::evaluate::Evaluation> for Evaluation {
    fn from(e: convtorch_core::evaluate::Evaluation) -> Self {
        Evaluation {
            loss_sum: e.loss_sum,
            correct: e.correct,
            count: e.count,
            predictions: Int32Array::new(e.predictions),
        }
    }
}

/// An evaluation of a dataset without autograd, the job of `evaluate`.
pub struct EvaluateTask {
    model: Slot<Model>,
    dataset: Slot<DeviceDataset>,
    batch_size: i64,
}

impl EvaluateTask {
    pub fn new(model: Slot<Model>, dataset: Slot<DeviceDataset>, batch_size: i64) -> Self {
        EvaluateTask { model, dataset, batch_size }
    }

    pub fn run(
        &self,
        _reservation: Option<Reservation>,
    ) -> convtorch_core::Result<convtorch_core::evaluate::Evaluation> {
        self.model.with(|model| self.dataset.with_waiting(|dataset| model.evaluate(dataset, self.batch_size)))
    }
}
