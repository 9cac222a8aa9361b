//! convtorch-core: convolutional networks on libtorch (through `tch`), with no Node.js in sight.
//! Every path a caller can reach uses the fallible `f_*` tch calls and returns [`CoreError`].
#![deny(clippy::all)]

pub mod augment;
pub mod captured_step;
pub mod channels_last;
pub mod checkpoint;
pub mod cuda_graph;
pub mod cuda_info;
pub mod cuda_library;
pub mod data_parallel;
pub mod dataset;
pub mod device;
pub mod distributed;
pub mod error;
pub mod evaluate;
pub mod heartbeat;
pub mod init;
pub mod inspect;
pub mod kernels;
pub mod layer;
pub mod model;
pub mod openmp;
pub mod optimizer;
pub mod optimizer_device;
pub mod optimizer_spec;
pub mod rng;
pub mod runtime;
pub mod shape;
pub mod sharded;
pub mod shim;
pub mod spec;
pub mod torch_order;
pub mod train;

pub use dataset::DeviceDataset;
pub use error::{CoreError, Result};
pub use model::Model;
pub use spec::ModelSpec;
