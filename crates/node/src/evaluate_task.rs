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
    /// Shared by the ranks of the model's group (a collective: every rank evaluates alike).
    across_ranks: bool,
}

impl EvaluateTask {
    pub fn new(model: Slot<Model>, dataset: Slot<DeviceDataset>, batch_size: i64, across_ranks: bool) -> Self {
        EvaluateTask { model, dataset, batch_size, across_ranks }
    }

    pub fn run(
        &self,
        _reservation: Option<Reservation>,
    ) -> convtorch_core::Result<convtorch_core::evaluate::Evaluation> {
        self.model.with(|model| {
            self.dataset.with_waiting(|dataset| match self.across_ranks {
                true => model.evaluate_across_ranks(dataset, self.batch_size),
                false => model.evaluate(dataset, self.batch_size),
            })
        })
    }
}
