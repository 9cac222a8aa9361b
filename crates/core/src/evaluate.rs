//! Evaluation and prediction, without autograd.
use crate::dataset::{check_examples, DeviceDataset};
use crate::error::{invalid, Result};
use crate::layer::Network;
use crate::model::{host_values, Model};
use crate::{openmp, sharded};
use tch::{Device, Kind, Tensor};

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
        self.check_evaluation("evaluate", data, batch_size)?;
        let _guard = tch::no_grad_guard();
        let (loss_sum, predictions) = self.evaluate_examples(&data.images, &data.labels, batch_size)?;
        evaluation(data, &loss_sum, &predictions)
    }

    /// `evaluate`, with the work shared by the ranks of this model's group (alone, `evaluate`):
    /// each rank evaluates its own run of whole batches, and the loss sums and predictions are
    /// summed over the ranks (the runs are disjoint), so every rank returns the whole dataset's
    /// evaluation. Collective: every rank of the group must call it, with the same dataset.
    pub fn evaluate_across_ranks(&self, data: &DeviceDataset, batch_size: i64) -> Result<Evaluation> {
        let Some(group) = &self.group else {
            return self.evaluate(data, batch_size);
        };
        self.check_evaluation("evaluate", data, batch_size)?;
        let _guard = tch::no_grad_guard();
        let batches = (data.count + batch_size - 1) / batch_size;
        let own = openmp::share(batches as usize, group.rank() as usize, group.world_size() as usize);
        let start = (own.start as i64 * batch_size).min(data.count);
        let length = (own.end as i64 * batch_size).min(data.count) - start;
        let predictions = Tensor::f_zeros([data.count], (Kind::Int64, self.device))?;
        let mut loss_sum = Tensor::f_zeros([1], (Kind::Double, self.device))?;
        if length > 0 {
            let (images, labels) = (data.images.f_narrow(0, start, length)?, data.labels.f_narrow(0, start, length)?);
            let (own_loss, own_predictions) = self.evaluate_examples(&images, &labels, batch_size)?;
            loss_sum.f_copy_(&own_loss.f_view([1])?)?;
            predictions.f_narrow(0, start, length)?.f_copy_(&own_predictions)?;
        }
        group.allreduce_sum(&[&predictions, &loss_sum])?;
        evaluation(data, &loss_sum.f_view([])?, &predictions)
    }

    fn check_evaluation(&self, context: &str, data: &DeviceDataset, batch_size: i64) -> Result<()> {
        self.check_dataset(context, data)?;
        if batch_size < 1 {
            return Err(invalid(context, "batchSize", batch_size, "a positive integer"));
        }
        Ok(())
    }

    /// The summed loss (double, 0-d) and the predicted classes (int64) of `images`.
    fn evaluate_examples(&self, images: &Tensor, labels: &Tensor, batch_size: i64) -> Result<(Tensor, Tensor)> {
        let count = images.size()[0];
        let predictions = Tensor::f_empty([count], (Kind::Int64, self.device))?;
        let ranges = evaluation_ranges(&self.network, self.device, count, batch_size);
        let loss_sum = if ranges.len() > 1 {
            // One parallel region for the whole pass: each range's batches run single-threaded on
            // a team member, and the ranges' sums are added in range order.
            let mut jobs = Vec::with_capacity(ranges.len());
            for (start, length) in ranges {
                jobs.push(RangeJob {
                    images: images.f_narrow(0, start, length)?,
                    labels: labels.f_narrow(0, start, length)?,
                    predictions: predictions.f_narrow(0, start, length)?,
                    loss_sum: None,
                });
            }
            let done = sharded::run_on_replicas(&self.network, jobs, &|replica, job| {
                let _guard = tch::no_grad_guard();
                job.loss_sum = Some(evaluate_range(replica, &job.images, &job.labels, &job.predictions, batch_size)?);
                Ok(())
            })?;
            let mut total = Tensor::f_zeros([], (Kind::Double, self.device))?;
            for (_, job) in done {
                if let Some(sum) = &job.loss_sum {
                    total = total.f_add(sum)?;
                }
            }
            total
        } else {
            evaluate_range(&self.network, images, labels, &predictions, batch_size)?
        };
        Ok((loss_sum, predictions))
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

/// The evaluation of `data` from its summed loss and its predicted classes.
fn evaluation(data: &DeviceDataset, loss_sum: &Tensor, predictions: &Tensor) -> Result<Evaluation> {
    let correct = predictions.f_eq_tensor(&data.labels)?.f_sum(Kind::Int64)?.f_int64_value(&[])?;
    let predictions = host_values::<i32>(&predictions.f_to_kind(Kind::Int)?)?;
    Ok(Evaluation { loss_sum: loss_sum.f_double_value(&[])?, correct, count: data.count, predictions })
}

/// A contiguous part of an evaluated dataset, and its summed loss once evaluated.
struct RangeJob {
    images: Tensor,
    labels: Tensor,
    predictions: Tensor,
    loss_sum: Option<Tensor>,
}

/// (start, length) of the parts a CPU evaluation is split into, one per thread, each a whole
/// number of batches (so every batch is the one an unsplit pass would run).
fn evaluation_ranges(network: &Network, device: Device, count: i64, batch_size: i64) -> Vec<(i64, i64)> {
    let batches = (count + batch_size - 1) / batch_size;
    let parts = if device == Device::Cpu && network.fast_paths { openmp::available_threads() as i64 } else { 1 };
    let parts = parts.clamp(1, batches.max(1));
    (0..parts)
        .map(|part| {
            let range = openmp::share(batches as usize, part as usize, parts as usize);
            let start = range.start as i64 * batch_size;
            (start, (range.end as i64 * batch_size).min(count) - start)
        })
        .collect()
}

/// Evaluates `images` in batches, writing each prediction into `predictions` in place; returns
/// the summed loss (double). Results go into tensors allocated once: small per-batch results
/// kept alive across batches pinned holes in the heap between the batches' large activations,
/// and glibc then grew the heap instead of reusing them (an evaluation of 60,000 examples now
/// and then peaked 0.5-0.9 GB above its working set).
fn evaluate_range(
    network: &Network,
    images: &Tensor,
    labels: &Tensor,
    predictions: &Tensor,
    batch_size: i64,
) -> Result<Tensor> {
    let count = images.size()[0];
    let mut loss_sum = Tensor::f_zeros([], (Kind::Double, images.device()))?;
    let mut start = 0;
    while start < count {
        let length = batch_size.min(count - start);
        let logits = network.forward(&images.f_narrow(0, start, length)?, false)?;
        let loss = logits.f_cross_entropy_loss::<Tensor>(
            &labels.f_narrow(0, start, length)?,
            None,
            tch::Reduction::Sum,
            -100,
            0.0,
        )?;
        let _ = loss_sum.f_add_(&loss.f_to_kind(Kind::Double)?)?;
        predictions.f_narrow(0, start, length)?.f_copy_(&logits.f_argmax(1, false)?)?;
        start += length;
    }
    Ok(loss_sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelOptions;
    use crate::spec::ModelSpec;

    #[test]
    fn ranges_are_whole_batches_that_cover_the_dataset_once() {
        let network = Network::build(&ModelSpec::seed(), Device::Cpu).unwrap();
        for (count, batch) in [(1000, 256), (257, 256), (5, 256), (768, 256), (1, 1)] {
            let ranges = evaluation_ranges(&network, Device::Cpu, count, batch);
            let mut next = 0;
            for (start, length) in &ranges {
                assert_eq!(*start, next, "ranges of {count} in batches of {batch}: {ranges:?}");
                assert!(*length > 0 && start % batch == 0, "{ranges:?}");
                next = start + length;
            }
            assert_eq!(next, count);
        }
    }

    #[test]
    fn a_split_evaluation_equals_one_pass_over_the_dataset() {
        let model =
            Model::new(ModelSpec::seed(), ModelOptions { init: crate::init::Init::Default, ..ModelOptions::default() })
                .unwrap();
        let count: usize = 601;
        let data = crate::dataset::grey_test_dataset(count, 7, 1);
        let split = model.evaluate(&data, 100).unwrap();
        let _guard = tch::no_grad_guard();
        let predictions = Tensor::empty([count as i64], (Kind::Int64, Device::Cpu));
        let loss = evaluate_range(&model.network, &data.images, &data.labels, &predictions, 100).unwrap();
        let whole: Vec<i32> = Vec::<i64>::try_from(&predictions).unwrap().into_iter().map(|p| p as i32).collect();
        assert_eq!(split.predictions, whole);
        let loss = loss.double_value(&[]);
        assert!((split.loss_sum - loss).abs() <= 1e-6 * loss.abs(), "{} vs {loss}", split.loss_sum);
    }
}
