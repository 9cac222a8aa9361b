//! The default generators' states as bytes: what a checkpoint keeps so that a resumed run
//! draws the same dropout masks as an uninterrupted one.
use crate::error::{invalid, Result};
use crate::model::host_values;
use crate::shim;
use tch::{Device, Kind, Tensor};

/// The state of the CPU generator, or of one CUDA device's.
pub fn generator_state(device: Device) -> Result<Vec<u8>> {
    host_values::<u8>(&shim::rng_state(device)?)
}

pub fn set_generator_state(device: Device, state: &[u8]) -> Result<()> {
    let current = shim::rng_state(device)?;
    if current.numel() != state.len() || current.kind() != Kind::Uint8 {
        return Err(invalid(
            "setRngState",
            "state",
            format!("{} bytes", state.len()),
            &format!("the {} bytes of this libtorch's generator state", current.numel()),
        ));
    }
    shim::set_rng_state(device, &Tensor::f_from_slice(state)?)
}
