//! A CPU training batch split into shards, one per OpenMP team member, each running forward
//! and backward on its own examples single-threaded; the shards' gradients are then summed in
//! shard order (a fixed order: the result does not depend on which thread finished first).
//!
//! Why: run op by op on the whole batch, every libtorch op of the seed net's step (~70 of them,
//! most under 0.1 ms) opens a parallel region and ends in a barrier, so the two cores wait on
//! each other ~70 times a step, and a core lent to another process for a moment stalls them
//! all. Sharded, a step has one region and one join.
//!
//! The shards' loss is the sum of their summed cross-entropies divided by the batch size, so
//! the gradient is the batch mean's, summed in another order (~1e-7 relative).
use crate::error::{CoreError, Result};
use crate::layer::{Layer, Network, Parameter};
use crate::openmp;
use crate::shim::set_grad;
use std::sync::Mutex;
use tch::{Device, Tensor};

/// The fewest examples a shard gets: below this a shard's ops are too small to pay for the split.
const MIN_SHARD: i64 = 16;

/// How many shards a batch of `batch` examples is split into (1: not sharded). Networks with
/// dropout are not sharded: its masks would be drawn from two threads in no fixed order.
pub fn shard_count(network: &Network, device: Device, batch: i64) -> usize {
    let has_dropout = network.layers.iter().any(|l| matches!(l, Layer::Dropout(_)));
    if device != Device::Cpu || !network.fast_paths || has_dropout {
        return 1;
    }
    openmp::available_threads().min((batch / MIN_SHARD).max(1) as usize)
}

impl Network {
    /// The same layers over new leaf tensors that share the parameters' storage: a shard's own
    /// autograd graph and gradients, and the optimizer's in-place updates seen by all.
    fn replica(&self) -> Result<Network> {
        let leaf = |t: &Tensor| -> Result<Tensor> { Ok(t.f_detach()?.f_set_requires_grad(true)?) };
        let mut parameters = Vec::with_capacity(self.parameters.len());
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let copy = match layer {
                Layer::Conv2d { weight, bias, window } => {
                    Layer::Conv2d { weight: leaf(weight)?, bias: leaf(bias)?, window: *window }
                }
                Layer::Linear { weight, bias } => Layer::Linear { weight: leaf(weight)?, bias: leaf(bias)? },
                Layer::MaxPool2d(w) => Layer::MaxPool2d(*w),
                Layer::AvgPool2d(w) => Layer::AvgPool2d(*w),
                Layer::Relu => Layer::Relu,
                Layer::LeakyRelu(slope) => Layer::LeakyRelu(*slope),
                Layer::Sigmoid => Layer::Sigmoid,
                Layer::Tanh => Layer::Tanh,
                Layer::Dropout(p) => Layer::Dropout(*p),
                Layer::Flatten => Layer::Flatten,
            };
            if let Layer::Conv2d { weight, bias, .. } | Layer::Linear { weight, bias } = &copy {
                parameters.push(weight.shallow_clone());
                parameters.push(bias.shallow_clone());
            }
            layers.push(copy);
        }
        // Parameters are created layer by layer, weight then bias (`Network::build`), so the
        // replica's list lines up with the original's.
        let parameters = self
            .parameters
            .iter()
            .zip(parameters)
            .map(|(p, tensor)| Parameter { name: p.name.clone(), tensor })
            .collect();
        Ok(Network { layers, parameters, shapes: self.shapes.clone(), fast_paths: self.fast_paths })
    }
}

/// Runs `body` on each of `jobs` in parallel, one job per team member at a time, each with its
/// own replica of `network` (see `replica`); returns the jobs in their order, or the first
/// error in that order.
pub fn run_on_replicas<J: Send>(
    network: &Network,
    jobs: Vec<J>,
    body: &(dyn Fn(&Network, &mut J) -> Result<()> + Sync),
) -> Result<Vec<(Network, J)>> {
    let count = jobs.len();
    let mut slots = Vec::with_capacity(count);
    for job in jobs {
        slots.push(Mutex::new((network.replica()?, job, None::<Result<()>>)));
    }
    let ok = openmp::parallel(count, &|member, members| {
        for index in openmp::share(count, member, members) {
            let mut slot = slots[index].lock().unwrap_or_else(|p| p.into_inner());
            let (replica, job, outcome) = &mut *slot;
            *outcome = Some(body(replica, job));
        }
    });
    if !ok {
        return Err(failure("a shard panicked on a worker thread"));
    }
    let mut done = Vec::with_capacity(count);
    for slot in slots {
        let (replica, job, outcome) = slot.into_inner().unwrap_or_else(|p| p.into_inner());
        outcome.unwrap_or_else(|| Err(failure("a shard did not run")))?;
        done.push((replica, job));
    }
    Ok(done)
}

/// A training shard's examples, and the share of the batch's loss they computed.
struct Shard {
    images: Tensor,
    labels: Tensor,
    loss: Option<Tensor>,
}

/// Forward and backward of `images`/`labels` in `shards` shards; leaves the summed gradient in
/// each parameter's `grad` and returns the batch's mean loss (detached).
pub fn backward(network: &Network, images: &Tensor, labels: &Tensor, shards: usize) -> Result<Tensor> {
    let batch = images.size()[0];
    let mut jobs = Vec::with_capacity(shards);
    for index in 0..shards {
        let range = openmp::share(batch as usize, index, shards);
        let (start, length) = (range.start as i64, range.len() as i64);
        jobs.push(Shard {
            images: images.f_narrow(0, start, length)?,
            labels: labels.f_narrow(0, start, length)?,
            loss: None,
        });
    }
    let shards = run_on_replicas(network, jobs, &|replica, shard| {
        let logits = replica.forward(&shard.images, true)?;
        let summed = logits.f_cross_entropy_loss::<Tensor>(&shard.labels, None, tch::Reduction::Sum, -100, 0.0)?;
        let loss = summed.f_div_scalar(batch as f64)?;
        loss.f_backward()?;
        shard.loss = Some(loss.f_detach()?);
        Ok(())
    })?;
    // Losses and gradients are summed in shard order, whichever thread finished first.
    let mut loss: Option<Tensor> = None;
    for (_, shard) in &shards {
        let share = shard.loss.as_ref().ok_or_else(|| failure("a training shard did not run"))?;
        loss = Some(match loss {
            None => share.shallow_clone(),
            Some(sum) => sum.f_add(share)?,
        });
    }
    let _guard = tch::no_grad_guard();
    for (index, parameter) in network.parameters.iter().enumerate() {
        let mut sum: Option<Tensor> = None;
        for (replica, _) in &shards {
            let grad = replica.parameters[index].tensor.f_grad()?;
            if grad.defined() {
                sum = Some(match sum {
                    None => grad,
                    Some(mut s) => s.f_add_(&grad)?,
                });
            }
        }
        if let Some(sum) = sum {
            set_grad(&parameter.tensor, &sum)?;
        }
    }
    loss.ok_or_else(|| failure("a batch with no shards"))
}

fn failure(message: &str) -> CoreError {
    CoreError::Torch(tch::TchError::Torch(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ModelSpec;

    /// Gradients and loss of the whole batch run at once, as libtorch would (the plain twin).
    fn whole_batch(network: &Network, images: &Tensor, labels: &Tensor) -> (Tensor, Vec<Tensor>) {
        let logits = network.forward(images, true).unwrap();
        let loss = logits.cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0);
        loss.backward();
        (loss.detach(), network.parameters.iter().map(|p| p.tensor.grad().copy()).collect())
    }

    #[test]
    fn shards_give_the_whole_batch_loss_and_gradients() {
        let specs = [
            ModelSpec::seed().to_json(),
            r#"{"input":[3,12,10],"classes":5,"layers":[
                {"type":"conv2d","filters":6,"kernel":3,"padding":"same"},{"type":"leakyRelu"},
                {"type":"avgPool2d","kernel":2},{"type":"conv2d","filters":4,"kernel":[3,2],"stride":2},
                {"type":"tanh"},{"type":"maxPool2d","kernel":2,"stride":1},{"type":"flatten"},
                {"type":"linear","units":7},{"type":"sigmoid"},{"type":"linear","units":5}]}"#
                .to_string(),
        ];
        tch::manual_seed(3);
        for json in specs {
            let spec = ModelSpec::from_json(&json).unwrap();
            let network = Network::build(&spec, Device::Cpu).unwrap();
            tch::no_grad(|| {
                for p in &network.parameters {
                    let _ = p.tensor.shallow_clone().normal_(0.0, 0.3);
                }
            });
            let [c, h, w] = spec.input;
            // 37 examples: shards of unequal sizes.
            let images = Tensor::rand([37, c, h, w], (tch::Kind::Float, Device::Cpu));
            let labels = Tensor::randint(spec.classes, [37], (tch::Kind::Int64, Device::Cpu));
            let (plain_loss, plain_grads) = whole_batch(&network, &images, &labels);
            for shards in [2, 3] {
                for p in &network.parameters {
                    crate::shim::clear_grad(&p.tensor).unwrap();
                }
                let loss = backward(&network, &images, &labels, shards).unwrap();
                let close = |a: &Tensor, b: &Tensor| {
                    let scale = b.abs().max().double_value(&[]).max(1e-12);
                    (a - b).abs().max().double_value(&[]) / scale
                };
                assert!(close(&loss, &plain_loss) < 1e-6, "loss with {shards} shards");
                for (p, plain) in network.parameters.iter().zip(&plain_grads) {
                    let error = close(&p.tensor.grad(), plain);
                    assert!(error < 1e-5, "{} gradient differs by {error} (relative) with {shards} shards", p.name);
                }
            }
        }
    }

    #[test]
    fn dropout_and_non_cpu_networks_are_not_sharded() {
        let dropout = r#"{"input":[1,8,8],"classes":2,"layers":[{"type":"flatten"},{"type":"dropout","p":0.5},
            {"type":"linear","units":2}]}"#;
        let network = Network::build(&ModelSpec::from_json(dropout).unwrap(), Device::Cpu).unwrap();
        assert_eq!(shard_count(&network, Device::Cpu, 128), 1);
        let seed = Network::build(&ModelSpec::seed(), Device::Cpu).unwrap();
        assert_eq!(shard_count(&seed, Device::Cuda(0), 128), 1);
        assert_eq!(shard_count(&seed, Device::Cpu, MIN_SHARD), 1);
    }
}
