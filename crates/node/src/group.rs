//! A model's membership of a data-parallel process group (convtorch_core::distributed).
use crate::error::{guarded_quick, spawn};
use crate::model::NativeModel;
use convtorch_core::distributed::{Backend, ProcessGroup, Rendezvous, DEFAULT_BUCKET_BYTES};
use convtorch_core::error::invalid;
use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;
use std::time::Duration;

/// Where this rank meets the others (the TS side reads torchrun's variables into it).
#[napi(object)]
pub struct RendezvousOptions {
    pub rank: i64,
    pub world_size: i64,
    pub host: String,
    pub port: u32,
    /// This process hosts the store (rank 0, unless torchrun's agent hosts it).
    pub host_store: bool,
    /// 'gloo' (CPU tensors) or 'nccl' (CUDA tensors).
    pub backend: String,
    pub timeout_ms: f64,
    /// The gradient buckets' size in bytes (DDP's bucket_cap_mb); default 25 MiB.
    pub bucket_bytes: Option<f64>,
}

fn rendezvous(options: &RendezvousOptions) -> convtorch_core::Result<Rendezvous> {
    let backend = match options.backend.as_str() {
        "gloo" => Backend::Gloo,
        "nccl" => Backend::Nccl,
        other => return Err(invalid("joinGroup", "backend", other, "'gloo' or 'nccl'")),
    };
    let port =
        u16::try_from(options.port).map_err(|_| invalid("joinGroup", "port", options.port, "a port in [0, 65535]"))?;
    if !(options.timeout_ms.is_finite() && options.timeout_ms >= 1.0) {
        return Err(invalid("joinGroup", "timeoutMs", options.timeout_ms, "a number of milliseconds >= 1"));
    }
    let bucket_bytes = options.bucket_bytes.unwrap_or(DEFAULT_BUCKET_BYTES as f64);
    if !(bucket_bytes.is_finite() && bucket_bytes >= 1.0) {
        return Err(invalid("joinGroup", "bucketBytes", bucket_bytes, "a number of bytes >= 1"));
    }
    Ok(Rendezvous {
        rank: options.rank,
        world_size: options.world_size,
        host: options.host.clone(),
        port,
        is_server: options.host_store,
        backend,
        timeout: Duration::from_millis(options.timeout_ms as u64),
        bucket_bytes: bucket_bytes as i64,
    })
}

#[napi]
impl NativeModel {
    /// Joins the group (waiting for every rank, up to the timeout) and takes rank 0's
    /// parameters; from then on each step averages the gradients over the ranks. Resolves
    /// with the store's port.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn join_group<'env>(&self, env: &'env Env, options: RendezvousOptions) -> napi::Result<Object<'env>> {
        let rendezvous = rendezvous(&options).map_err(crate::error::js_error)?;
        let reservation = self.slot().reserve().map_err(crate::error::js_error)?;
        let slot = self.slot().clone();
        spawn(
            env,
            move || {
                let _reservation = reservation;
                let group = ProcessGroup::join(&rendezvous)?;
                let port = group.port();
                slot.with(|model| model.join_group(group))?;
                Ok(u32::from(port))
            },
            |port| port,
        )
    }

    /// Leaves the group: the model trains alone again.
    #[napi]
    pub fn leave_group(&self) -> napi::Result<()> {
        self.slot().check_free().map_err(crate::error::js_error)?;
        guarded_quick(|| {
            self.slot().with(|model| {
                drop(model.leave_group());
                Ok(())
            })
        })
    }
}
