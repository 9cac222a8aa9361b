//! Each model's own generator states. Dropout draws from libtorch's default generators, which
//! every model of the process shares; a model installs its own states around its training
//! calls (all on one compute thread) and keeps what they drew, so its masks depend on its own
//! history only: two runs in one process stay reproducible, and a checkpoint that saves these
//! bytes resumes the masks exactly.
use crate::error::{invalid, Result};
use crate::model::host_values;
use crate::shim;
use tch::{Device, Kind, Tensor};

#[derive(Debug)]
pub struct Generators {
    cpu: Tensor,
    /// The model's CUDA device's generator, for models on a GPU.
    cuda: Option<(Device, Tensor)>,
}

impl Generators {
    /// The default generators' states now (the CPU's and, for a CUDA device, that device's).
    pub fn capture(device: Device) -> Result<Generators> {
        let cuda = match device {
            Device::Cuda(_) => Some((device, shim::rng_state(device)?)),
            _ => None,
        };
        Ok(Generators { cpu: shim::rng_state(Device::Cpu)?, cuda })
    }

    /// The states `manual_seed(seed)` and then the draws of `cpu` (the initialisation) would
    /// leave in the default generators, read from private ones: the CPU's is `cpu`'s, and a
    /// CUDA device's is freshly seeded (initialisation draws on the CPU).
    pub fn after_seeding(device: Device, seed: i64, cpu: &shim::PrivateGenerator) -> Result<Generators> {
        let cuda = match device {
            Device::Cuda(_) => Some((device, shim::PrivateGenerator::seeded(device, seed)?.state()?)),
            _ => None,
        };
        Ok(Generators { cpu: cpu.state()?, cuda })
    }

    /// Makes these the default generators' states.
    pub fn install(&self) -> Result<()> {
        shim::set_rng_state(Device::Cpu, &self.cpu)?;
        if let Some((device, state)) = &self.cuda {
            shim::set_rng_state(*device, state)?;
        }
        Ok(())
    }

    /// libtorch's own byte layout of the CPU state and of the CUDA one, if any.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let cuda = match &self.cuda {
            Some((_, state)) => Some(host_values::<u8>(state)?),
            None => None,
        };
        Ok((host_values::<u8>(&self.cpu)?, cuda))
    }

    /// Replaces the states with bytes from `to_bytes` (a CUDA state is ignored on the CPU).
    pub fn set_bytes(&mut self, cpu: &[u8], cuda: Option<&[u8]>) -> Result<()> {
        let checked = |current: &Tensor, bytes: &[u8], which: &str| -> Result<Tensor> {
            if current.numel() != bytes.len() || current.kind() != Kind::Uint8 {
                return Err(invalid(
                    "setRngState",
                    which,
                    format!("{} bytes", bytes.len()),
                    &format!("the {} bytes of this libtorch's generator state", current.numel()),
                ));
            }
            Ok(Tensor::f_from_slice(bytes)?)
        };
        let cpu = checked(&self.cpu, cpu, "cpu")?;
        let cuda = match (&self.cuda, cuda) {
            (Some((device, current)), Some(bytes)) => Some((*device, checked(current, bytes, "device")?)),
            (current, _) => current.as_ref().map(|(device, state)| (*device, state.shallow_clone())),
        };
        self.cpu = cpu;
        self.cuda = cuda;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_bytes_of_the_wrong_size_are_refused_and_change_nothing() {
        tch::manual_seed(5);
        let mut generators = Generators::capture(Device::Cpu).unwrap();
        let (before, _) = generators.to_bytes().unwrap();
        assert!(generators.set_bytes(&[1, 2, 3], None).is_err());
        assert_eq!(generators.to_bytes().unwrap().0, before);
        let mut other = before.clone();
        other[10] ^= 1;
        generators.set_bytes(&other, None).unwrap();
        assert_eq!(generators.to_bytes().unwrap().0, other);
    }
}
