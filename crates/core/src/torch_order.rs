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
use crate::shim::PrivateGenerator;
use crate::spec::ModelSpec;
use tch::{Device, Kind, Tensor};

const DRAWS_PER_PASS: usize = 2;
const PASSES_PER_EPOCH: usize = 2;

/// One permutation of 0..count per epoch. Draws from generators of its own: the defaults are
/// left as they are.
pub fn seed_script_orders(spec: &ModelSpec, init: Init, seed: i64, epochs: usize, count: i64) -> Result<Vec<Vec<u32>>> {
    if count < 1 || count > i64::from(u32::MAX) {
        return Err(invalid("torchOrders", "count", count, "a positive 32-bit count of examples"));
    }
    let mut global = PrivateGenerator::seeded(Device::Cpu, seed)?;
    initialise(&Network::build(spec, Device::Cpu)?, init, &mut global)?;
    // All the seeds first: drawing them is the only use the script makes of the global
    // generator after initialisation, and each permutation below reseeds it.
    let mut draws = Vec::with_capacity(epochs * PASSES_PER_EPOCH * DRAWS_PER_PASS);
    for _ in 0..epochs * PASSES_PER_EPOCH * DRAWS_PER_PASS {
        let scalar = Tensor::f_empty([], (Kind::Int64, Device::Cpu))?;
        global.random_(&scalar)?;
        draws.push(scalar.f_int64_value(&[])?);
    }
    let mut orders = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        // The training pass's sampler seed: the second draw of the epoch's first pass.
        let mut sampler = PrivateGenerator::seeded(Device::Cpu, draws[epoch * PASSES_PER_EPOCH * DRAWS_PER_PASS + 1])?;
        let permutation = host_values::<i64>(&sampler.randperm(count)?)?;
        orders.push(permutation.into_iter().map(|i| i as u32).collect());
    }
    Ok(orders)
}
