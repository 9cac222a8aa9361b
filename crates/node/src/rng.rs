//! The default generators' states, for checkpoints that resume dropout exactly.
use crate::error::guarded;
use convtorch_core::device::parse_device;
use convtorch_core::rng::{generator_state, set_generator_state};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

/// The state of the default generator of `device` ("cpu" or "cuda:N").
#[napi]
pub fn rng_state(device: String) -> napi::Result<Uint8Array> {
    guarded(|| generator_state(parse_device(&device)?)).map(Uint8Array::new)
}

#[napi]
pub fn set_rng_state(device: String, state: Uint8Array) -> napi::Result<()> {
    guarded(|| set_generator_state(parse_device(&device)?, &state))
}
