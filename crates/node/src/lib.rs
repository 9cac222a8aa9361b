//! The napi-rs binding of convtorch-core: thin type conversions, one class per concept,
//! heavy calls as promises settled from the compute thread. Errors cross as "CODE: message".
#![deny(clippy::all)]

mod compute_thread;
mod dataset;
mod error;
mod evaluate_task;
mod group;
mod model;
mod runtime;
mod slot;
mod train_task;

pub use dataset::NativeDataset;
pub use model::NativeModel;
pub use runtime::{
    cuda_memory, error_codes, native_memory, runtime_info, set_cudnn_flags, set_num_threads, torch_loader_orders,
    torch_version_string, CudaMemory, CudnnFlags, NativeMemory, RuntimeInfo,
};
pub use slot::live_objects;
