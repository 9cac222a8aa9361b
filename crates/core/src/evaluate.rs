//! Evaluation and prediction, without autograd.
use crate::dataset::{check_examples, DeviceDataset};
use crate::error::{invalid, Result};
use crate::model::{host_values, Model};
use tch::{Kind, Tensor};

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Sum over examples of the cross-entropy loss.
    pub loss_sum: f64,
    pub correct: i64,
    pub count: i64,
    /// The predicted class of every example, in dataset order.
    pub predictions: Vec<i32>,
}

impl Model {
    /// Loss, accuracy and predictions over the whole dataset, in batches of `batch_size`.
    pub fn evaluate(&self, data: &DeviceDataset, batch_size: i64) -> Result<Evaluation> {
        self.check_dataset("evaluate", data)?;
        if batch_size < 1 {
            return Err(invalid("evaluate", "batchSize", batch_size, "a positive integer"));
        }
        let _guard = tch::no_grad_guard();
        // Results go into tensors allocated once, in place: small per-batch results kept alive
        // across batches pinned holes in the heap between the batches' large activations, and
        // glibc then grew the heap instead of reusing them (an evaluation of 60,000 examples
        // now and then peaked 0.5-0.9 GB above its working set).
        let mut loss_sum = Tensor::f_zeros([], (Kind::Double, self.device))?;
        let predictions = Tensor::f_empty([data.count], (Kind::Int64, self.device))?;
        let mut start = 0;
        while start < data.count {
            let length = batch_size.min(data.count - start);
            let images = data.images.f_narrow(0, start, length)?;
            let labels = data.labels.f_narrow(0, start, length)?;
            let logits = self.network.forward(&images, false)?;
            let loss = logits.f_cross_entropy_loss::<Tensor>(&labels, None, tch::Reduction::Sum, -100, 0.0)?;
            let _ = loss_sum.f_add_(&loss.f_to_kind(Kind::Double)?)?;
            predictions.f_narrow(0, start, length)?.f_copy_(&logits.f_argmax(1, false)?)?;
            start += length;
        }
        let correct = predictions.f_eq_tensor(&data.labels)?.f_sum(Kind::Int64)?.f_int64_value(&[])?;
        let predictions = host_values::<i32>(&predictions.f_to_kind(Kind::Int)?)?;
        Ok(Evaluation { loss_sum: loss_sum.f_double_value(&[])?, correct, count: data.count, predictions })
    }

    /// The logits for `count` host images, in evaluation mode, without autograd.
    fn forward_host(&self, context: &str, pixels: &[f32], count: i64) -> Result<Tensor> {
        let [c, h, w] = self.spec.input;
        let no_labels = vec![0; count.max(0) as usize];
        check_examples(context, pixels.len(), &no_labels, count, self.spec.input, self.spec.classes)?;
        let _guard = tch::no_grad_guard();
        let images = Tensor::f_from_slice(pixels)?.f_view([count, c, h, w])?.f_to_device(self.device)?;
        self.network.forward(&images, false)
    }

    /// Raw class scores, `count` rows of `classes` values.
    pub fn logits(&self, pixels: &[f32], count: i64) -> Result<Vec<f32>> {
        host_values::<f32>(&self.forward_host("logits", pixels, count)?)
    }

    /// Class probabilities (softmax of the logits) for `count` host images, row by row.
    pub fn predict(&self, pixels: &[f32], count: i64) -> Result<Vec<f32>> {
        host_values::<f32>(&self.forward_host("predict", pixels, count)?.f_softmax(1, Kind::Float)?)
    }
}
