//! The example order of PyTorch's `DataLoader(dataset, shuffle=True)` in the seed script, so a
//! convtorch run can see exactly the batches the PyTorch script sees. After
//! `torch.manual_seed(seed)` the script builds its model (the initialisers draw from the global
//! generator), then every pass over the shuffled loader draws two int64 seeds from it (the
//! iterator's `_base_seed`, then `RandomSampler`'s own seed) and permutes with
//! `torch.randperm(n, generator=torch.Generator().manual_seed(that seed))`. Each epoch makes
//! two passes: training, then the seed's training-set accuracy.
use crate::error::{invalid, Result};
use crate::init::{initialise, Init};
use crate::layer::Network;
use crate::model::host_values;
use crate::spec::ModelSpec;
use tch::{Device, Kind, Tensor};

const DRAWS_PER_PASS: usize = 2;
const PASSES_PER_EPOCH: usize = 2;

/// One permutation of 0..count per epoch. Leaves the global generator reseeded.
pub fn seed_script_orders(spec: &ModelSpec, init: Init, seed: i64, epochs: usize, count: i64) -> Result<Vec<Vec<u32>>> {
    if count < 1 || count > i64::from(u32::MAX) {
        return Err(invalid("torchOrders", "count", count, "a positive 32-bit count of examples"));
    }
    tch::manual_seed(seed);
    initialise(&Network::build(spec, Device::Cpu)?, init)?;
    // All the seeds first: drawing them is the only use the script makes of the global
    // generator after initialisation, and each permutation below reseeds it.
    let mut draws = Vec::with_capacity(epochs * PASSES_PER_EPOCH * DRAWS_PER_PASS);
    for _ in 0..epochs * PASSES_PER_EPOCH * DRAWS_PER_PASS {
        let mut scalar = Tensor::f_empty([], (Kind::Int64, Device::Cpu))?;
        draws.push(scalar.f_random_()?.f_int64_value(&[])?);
    }
    let mut orders = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        // The training pass's sampler seed: the second draw of the epoch's first pass.
        tch::manual_seed(draws[epoch * PASSES_PER_EPOCH * DRAWS_PER_PASS + 1]);
        let permutation = host_values::<i64>(&Tensor::f_randperm(count, (Kind::Int64, Device::Cpu))?)?;
        orders.push(permutation.into_iter().map(|i| i as u32).collect());
    }
    Ok(orders)
}
