//! Parameter initialisers, reproducing PyTorch's random stream exactly: every layer is first
//! given PyTorch's constructor default (Kaiming-uniform), which consumes the generator as
//! `nn.Conv2d(...)` / `nn.Linear(...)` would, and only then re-initialised as asked.
use crate::error::{invalid, Result};
use crate::layer::Network;
use crate::shim::PrivateGenerator;
use tch::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// The seed tutorial's: weights N(0, 0.01), biases zero.
    Seed,
    /// PyTorch's constructor default: Kaiming-uniform with a = sqrt(5), uniform bias.
    Default,
    /// Xavier (Glorot) uniform weights, zero biases.
    Xavier,
}

impl Init {
    pub fn parse(name: &str) -> Result<Init> {
        match name {
            "seed" | "normal" => Ok(Init::Seed),
            "default" | "kaiming" => Ok(Init::Default),
            "xavier" => Ok(Init::Xavier),
            _ => Err(invalid("model", "init", format!("'{name}'"), "'seed', 'default' or 'xavier'")),
        }
    }
}

/// fan_in and fan_out as torch.nn.init computes them for a weight of the given dims.
fn fans(weight: &Tensor) -> (f64, f64) {
    let dims = weight.size();
    let receptive: i64 = dims.iter().skip(2).product();
    ((dims[1] * receptive) as f64, (dims[0] * receptive) as f64)
}

fn pytorch_default(weight: &Tensor, bias: &Tensor, generator: &mut PrivateGenerator) -> Result<()> {
    let (fan_in, _) = fans(weight);
    // kaiming_uniform_(w, a=sqrt(5)), written as torch writes it so the bound rounds the same.
    let a = 5f64.sqrt();
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    let bound = 3f64.sqrt() * (gain / fan_in.sqrt());
    generator.uniform_(weight, -bound, bound)?;
    let bias_bound = if fan_in > 0.0 { 1.0 / fan_in.sqrt() } else { 0.0 };
    generator.uniform_(bias, -bias_bound, bias_bound)
}

/// Initialises every parameter of `network` in place from `generator` (seeded as the seed
/// script's `torch.manual_seed`, the draws are the script's).
pub fn initialise(network: &Network, init: Init, generator: &mut PrivateGenerator) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let pairs: Vec<(Tensor, Tensor)> = network
        .parameters
        .chunks(2)
        .map(|pair| (pair[0].tensor.shallow_clone(), pair[1].tensor.shallow_clone()))
        .collect();
    for (weight, bias) in &pairs {
        pytorch_default(weight, bias, generator)?;
    }
    for (weight, bias) in &pairs {
        match init {
            Init::Default => {}
            Init::Seed => {
                generator.normal_(weight, 0.0, 0.01)?;
                let _ = bias.shallow_clone().f_zero_()?;
            }
            Init::Xavier => {
                let (fan_in, fan_out) = fans(weight);
                let bound = 3f64.sqrt() * (2.0 / (fan_in + fan_out)).sqrt();
                generator.uniform_(weight, -bound, bound)?;
                let _ = bias.shallow_clone().f_zero_()?;
            }
        }
    }
    Ok(())
}
