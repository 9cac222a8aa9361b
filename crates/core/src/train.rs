//! The training step: forward, softmax cross-entropy, backward, optimizer step.
use crate::dataset::{check_examples, DeviceDataset};
use crate::error::{invalid, Result};
use crate::model::{host_values, Model};
use crate::rng::Generators;
use crate::sharded;
use tch::{Kind, Tensor};

impl Model {
    /// Runs `body` with this model's generator states installed, keeps what it drew, and puts
    /// back the states that were installed before (see `rng`).
    fn with_own_generators<R>(&mut self, body: impl FnOnce(&mut Model) -> Result<R>) -> Result<R> {
        let outside = Generators::capture(self.device)?;
        self.generators.install()?;
        let result = body(self);
        self.generators = Generators::capture(self.device)?;
        outside.install()?;
        result
    }

    /// One step on a batch already on the model's device; returns the (detached) mean loss
    /// without reading it, so callers decide when to synchronise. With `skip_non_finite`, a
    /// batch whose loss is NaN or infinite changes nothing (no optimizer step).
    pub fn train_batch(&mut self, images: &Tensor, labels: &Tensor) -> Result<Tensor> {
        self.optimizer.zero_grad(&self.network.parameters)?;
        let shards = sharded::shard_count(&self.network, self.device, images.size()[0]);
        // Distributed: every rank continues with the mean gradients and the mean loss, so the
        // skip decision below is the same on all of them.
        let loss = if shards > 1 {
            let loss = sharded::backward(&self.network, images, labels, shards)?;
            self.average_over_ranks(loss)?
        } else {
            let logits = self.network.forward(images, true)?;
            let loss = logits.f_cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0)?;
            self.backward_over_ranks(loss)?
        };
        // Reading the loss is a device sync, paid only by runs that asked to skip such batches.
        if self.skip_non_finite && loss.f_isfinite()?.f_double_value(&[])? == 0.0 {
            return Ok(loss.f_detach()?);
        }
        self.optimizer.step(&self.network.parameters)?;
        Ok(loss.f_detach()?)
    }

    /// One step on a batch given as host values (checked first): [count, c, h, w] pixels.
    pub fn train_step(&mut self, pixels: &[f32], labels: &[i32], count: i64) -> Result<f32> {
        check_examples("trainStep", pixels.len(), labels, count, self.spec.input, self.spec.classes)?;
        let [c, h, w] = self.spec.input;
        let images = Tensor::f_from_slice(pixels)?.f_view([count, c, h, w])?.f_to_device(self.device)?;
        let labels = Tensor::f_from_slice(labels)?.f_to_kind(Kind::Int64)?.f_to_device(self.device)?;
        let loss = self.with_own_generators(|model| model.train_batch(&images, &labels))?;
        Ok(loss.f_double_value(&[])? as f32)
    }

    /// Trains on consecutive batches of `batch_size` examples taken from `data` in `order`
    /// (dataset indices); the last batch may be smaller. `learning_rates`, when given, holds
    /// one rate per batch (a per-step schedule). Returns each batch's mean loss, read from the
    /// device once at the end.
    pub fn train_batches(
        &mut self,
        data: &DeviceDataset,
        order: &[u32],
        batch_size: i64,
        learning_rates: Option<&[f64]>,
    ) -> Result<Vec<f32>> {
        self.check_dataset("trainBatches", data)?;
        if batch_size < 1 {
            return Err(invalid("trainBatches", "batchSize", batch_size, "a positive integer"));
        }
        if let Some((position, index)) = order.iter().enumerate().find(|(_, i)| i64::from(**i) >= data.count) {
            return Err(invalid(
                "trainBatches",
                &format!("order[{position}]"),
                index,
                &format!("an example index in [0, {})", data.count),
            ));
        }
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let batches = (order.len() as i64 + batch_size - 1) / batch_size;
        if let Some(rates) = learning_rates {
            if rates.len() as i64 != batches {
                return Err(invalid(
                    "trainBatches",
                    "learningRates",
                    format!("{} rates", rates.len()),
                    &format!("one rate per batch ({batches})"),
                ));
            }
            if let Some(bad) = rates.iter().find(|lr| !(lr.is_finite() && **lr > 0.0)) {
                return Err(invalid("trainBatches", "learningRates", bad, "finite numbers > 0"));
            }
        }
        let indices: Vec<i64> = order.iter().map(|i| i64::from(*i)).collect();
        let indices = Tensor::f_from_slice(&indices)?.f_to_device(self.device)?;
        // Losses are written in place into one tensor, for the reason given in `evaluate`.
        let losses = Tensor::f_empty([batches], (Kind::Float, self.device))?;
        self.with_own_generators(|model| model.train_in_order(data, &indices, batch_size, learning_rates, &losses))?;
        host_values::<f32>(&losses)
    }

    fn train_in_order(
        &mut self,
        data: &DeviceDataset,
        indices: &Tensor,
        batch_size: i64,
        learning_rates: Option<&[f64]>,
        losses: &Tensor,
    ) -> Result<()> {
        if self.captures_steps() {
            return self.train_in_order_captured(data, indices, batch_size, learning_rates, losses);
        }
        let total = indices.size()[0];
        let mut start = 0;
        while start < total {
            let batch_index = start / batch_size;
            if let Some(rates) = learning_rates {
                self.optimizer.set_learning_rate(rates[batch_index as usize])?;
            }
            let length = batch_size.min(total - start);
            let (images, labels) = self.gather_batch(data, &indices.f_narrow(0, start, length)?)?;
            let loss = self.train_batch(&images, &labels)?;
            losses.f_narrow(0, batch_index, 1)?.f_copy_(&loss.f_view([1])?)?;
            start += length;
        }
        Ok(())
    }

    /// The examples at `positions` of `data`, gathered on the device and augmented when asked.
    pub(crate) fn gather_batch(&self, data: &DeviceDataset, positions: &Tensor) -> Result<(Tensor, Tensor)> {
        let mut images = data.images.f_index_select(0, positions)?;
        if let Some(augmentation) = &self.augmentation {
            images = augmentation.apply(&images, &data.black)?;
        }
        Ok((images, data.labels.f_index_select(0, positions)?))
    }

    pub(crate) fn check_dataset(&self, context: &str, data: &DeviceDataset) -> Result<()> {
        if data.example_shape != self.spec.input {
            return Err(invalid(
                context,
                "dataset",
                format!("examples of shape {:?}", data.example_shape),
                &format!("examples of the model's input shape {:?}", self.spec.input),
            ));
        }
        if data.device() != self.device {
            return Err(invalid(
                context,
                "dataset",
                format!("a dataset on {:?}", data.device()),
                &format!("a dataset on the model's device {:?}", self.device),
            ));
        }
        Ok(())
    }
}
