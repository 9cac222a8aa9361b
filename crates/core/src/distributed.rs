//! Data parallelism over torch's c10d (shim/distributed.cpp): a TCPStore rendezvous, a process
//! group (Gloo on CPU; NCCL on CUDA, made by libconvtorch_cuda.so), and the collectives of a data-parallel step.
use crate::error::{CoreError, Result};
use crate::heartbeat::{Heartbeat, SharedStore};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tch::Tensor;
use torch_sys::C_tensor;

extern "C" {
    fn convtorch_free_message(message: *mut c_char);
    fn convtorch_dist_store(
        host: *const c_char,
        port: c_int,
        is_server: c_int,
        world_size: c_int,
        timeout_ms: i64,
        out: *mut *mut c_void,
    ) -> *mut c_char;
    fn convtorch_dist_store_port(store: *const c_void) -> c_int;
    fn convtorch_dist_gloo(
        store: *mut c_void,
        rank: c_int,
        size: c_int,
        timeout_ms: i64,
        out: *mut *mut c_void,
    ) -> *mut c_char;
    fn convtorch_dist_group_free(group: *mut c_void);
    fn convtorch_dist_allreduce_sum(group: *mut c_void, tensors: *const *mut C_tensor, count: usize) -> *mut c_char;
    fn convtorch_dist_broadcast(
        group: *mut c_void,
        tensors: *const *mut C_tensor,
        count: usize,
        root: c_int,
        bucket: i64,
    ) -> *mut c_char;
    fn convtorch_dist_barrier(group: *mut c_void) -> *mut c_char;
    #[allow(clippy::too_many_arguments)]
    fn convtorch_dist_backward_mean(
        group: *mut c_void,
        cache: *mut *mut c_void,
        loss: *mut C_tensor,
        has_gradients: c_int,
        mean_loss: *mut C_tensor,
        parameters: *const *mut C_tensor,
        count: usize,
        first_bucket_bytes: i64,
        bucket_bytes: i64,
        overlapped: *mut i64,
    ) -> *mut c_char;
    fn convtorch_dist_reducer_free(reducer: *mut c_void);
}

/// DDP's default bucket size (25 MiB): few collectives per step, each large enough to be fast.
pub const DEFAULT_BUCKET_BYTES: i64 = 25 * 1024 * 1024;
/// DDP's first bucket (the last layers' gradients, ready first): small, so that the first
/// collective starts early in the backward pass.
pub const FIRST_BUCKET_BYTES: i64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Gloo,
    Nccl,
}

/// Where and how to meet the other ranks (torchrun's RANK, WORLD_SIZE, MASTER_ADDR, ...).
#[derive(Debug, Clone)]
pub struct Rendezvous {
    pub rank: i64,
    pub world_size: i64,
    pub host: String,
    pub port: u16,
    /// Host the store here (rank 0, unless torchrun's agent hosts it: TORCHELASTIC_USE_AGENT_STORE).
    pub is_server: bool,
    pub backend: Backend,
    /// For the rendezvous and for every collective: past it, a missing peer is an error.
    pub timeout: Duration,
    /// The gradient buckets' size (DDP's bucket_cap_mb, in bytes; DEFAULT_BUCKET_BYTES).
    pub bucket_bytes: i64,
}

/// True when NCCL groups can be created here: libconvtorch_cuda.so (which makes them, since
/// ProcessGroupNCCL lives in libtorch_cuda) is built and loads.
pub fn has_nccl() -> bool {
    crate::cuda_library::functions().is_ok()
}

/// One rank's membership of a process group; dropping it leaves the group.
#[derive(Debug)]
pub struct ProcessGroup {
    /// Holds the store, shared with its thread, which may outlive the group (SharedStore).
    heartbeat: Heartbeat,
    group: *mut c_void,
    rank: i64,
    world_size: i64,
    port: u16,
    bucket_bytes: i64,
    /// The gradient reducer (shim/overlapped_allreduce.cpp), kept from step to step: its hooks
    /// stay on the parameters; null until the first step.
    reducer: Mutex<*mut c_void>,
}

// SAFETY: the store and group are owned by this value alone; c10d backends are thread-safe and
// this value is used from one thread at a time (the compute thread, through &self).
unsafe impl Send for ProcessGroup {}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // The reducer (which sends through the group) first; the store goes with the last of
        // the group and the heartbeat thread (SharedStore).
        let reducer = *self.reducer.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        unsafe {
            convtorch_dist_reducer_free(reducer);
            convtorch_dist_group_free(self.group);
        }
    }
}

fn message(raw: *mut c_char) -> Option<String> {
    if raw.is_null() {
        return None;
    }
    // SAFETY: a non-null message is a NUL-terminated string malloc'd by the shim.
    let text = unsafe { CStr::from_ptr(raw) }.to_string_lossy().into_owned();
    unsafe { convtorch_free_message(raw) };
    Some(text)
}

fn pointers(tensors: &[&Tensor]) -> Vec<*mut C_tensor> {
    // Collectives write into the tensors' storage, which a shared handle permits (as in `shim`).
    tensors.iter().map(|t| t.as_ptr() as *mut C_tensor).collect()
}

/// A store hosted on a free loopback port, for the tests of what uses one.
#[cfg(test)]
pub(crate) fn loopback_store() -> SharedStore {
    let host = CString::new("127.0.0.1").unwrap();
    let mut store: *mut c_void = std::ptr::null_mut();
    let raw = unsafe { convtorch_dist_store(host.as_ptr(), 0, 1, 1, 5_000, &mut store) };
    assert_eq!(message(raw), None);
    SharedStore(store)
}

impl ProcessGroup {
    /// Joins the group: connects to (or hosts) the store, then waits for every rank.
    pub fn join(rendezvous: &Rendezvous) -> Result<ProcessGroup> {
        let Rendezvous { rank, world_size, .. } = *rendezvous;
        let fail = |reason: String| CoreError::Distributed { rank, world: world_size, reason };
        if world_size < 1 || rank < 0 || rank >= world_size {
            return Err(fail(format!("rank must be in [0, {world_size}) and the world at least 1")));
        }
        if rendezvous.bucket_bytes < 1 {
            return Err(fail(format!("the bucket size must be at least 1 byte, not {}", rendezvous.bucket_bytes)));
        }
        let nccl = match rendezvous.backend {
            Backend::Nccl => Some(
                crate::cuda_library::functions().map_err(|reason| fail(format!("NCCL is not available: {reason}")))?,
            ),
            Backend::Gloo => None,
        };
        let host = CString::new(rendezvous.host.as_str()).map_err(|_| fail("the host holds a NUL".to_owned()))?;
        let timeout_ms = rendezvous.timeout.as_millis().min(i64::MAX as u128) as i64;
        let mut store: *mut c_void = std::ptr::null_mut();
        let raw = unsafe {
            convtorch_dist_store(
                host.as_ptr(),
                c_int::from(rendezvous.port),
                c_int::from(rendezvous.is_server),
                world_size as c_int,
                timeout_ms,
                &mut store,
            )
        };
        if let Some(text) = message(raw) {
            return Err(fail(format!(
                "cannot {} the store at {}:{}: {text}",
                if rendezvous.is_server { "host" } else { "reach" },
                rendezvous.host,
                rendezvous.port
            )));
        }
        let port = unsafe { convtorch_dist_store_port(store) } as u16;
        let store = Arc::new(SharedStore(store));
        let mut group: *mut c_void = std::ptr::null_mut();
        let create = match nccl {
            None => convtorch_dist_gloo,
            Some(functions) => functions.nccl_group,
        };
        let raw = unsafe { create(store.0, rank as c_int, world_size as c_int, timeout_ms, &mut group) };
        if let Some(text) = message(raw) {
            return Err(fail(text));
        }
        let heartbeat = Heartbeat::start(store, rank, world_size);
        Ok(ProcessGroup {
            heartbeat,
            group,
            rank,
            world_size,
            port,
            bucket_bytes: rendezvous.bucket_bytes,
            reducer: Mutex::new(std::ptr::null_mut()),
        })
    }

    pub fn rank(&self) -> i64 {
        self.rank
    }

    pub fn world_size(&self) -> i64 {
        self.world_size
    }

    /// The store's port (the one picked, when the server was asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn checked(&self, raw: *mut c_char) -> Result<()> {
        match message(raw) {
            None => Ok(()),
            // A peer's timeout names only the operation; the heartbeats name the peer.
            Some(reason) => Err(CoreError::Distributed {
                rank: self.rank,
                world: self.world_size,
                reason: format!("{reason} [{}]", self.heartbeat.report()),
            }),
        }
    }

    /// Sums every tensor over the ranks, in place.
    pub fn allreduce_sum(&self, tensors: &[&Tensor]) -> Result<()> {
        let raw = pointers(tensors);
        self.checked(unsafe { convtorch_dist_allreduce_sum(self.group, raw.as_ptr(), raw.len()) })
    }

    /// Gives every tensor rank `root`'s values.
    pub fn broadcast(&self, tensors: &[&Tensor], root: i64, bucket_bytes: i64) -> Result<()> {
        let raw = pointers(tensors);
        self.checked(unsafe {
            convtorch_dist_broadcast(self.group, raw.as_ptr(), raw.len(), root as c_int, bucket_bytes)
        })
    }

    /// Averages the gradients of `parameters` and `loss` over the ranks in buckets
    /// (shim/overlapped_allreduce.cpp): during `loss`'s backward pass, which this runs, each
    /// bucket sent as soon as its gradients are in; or, `has_gradients`, from gradients a
    /// backward pass already left (a sharded step's), through the same buckets so that every
    /// rank sends matching collectives whichever path it took. Returns the loss's mean over the
    /// ranks and how many buckets were sent before the backward pass ended.
    pub fn backward_mean(&self, loss: &Tensor, parameters: &[&Tensor], has_gradients: bool) -> Result<(Tensor, i64)> {
        self.heartbeat.step();
        let mean = Tensor::f_empty([1], (loss.kind(), loss.device()))?;
        let raw = pointers(parameters);
        let mut overlapped = 0i64;
        let mut reducer = self.reducer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.checked(unsafe {
            convtorch_dist_backward_mean(
                self.group,
                &mut *reducer,
                loss.as_ptr() as *mut C_tensor,
                c_int::from(has_gradients),
                mean.as_ptr() as *mut C_tensor,
                raw.as_ptr(),
                raw.len(),
                FIRST_BUCKET_BYTES.min(self.bucket_bytes),
                self.bucket_bytes,
                &mut overlapped,
            )
        })?;
        Ok((mean.f_view([])?, overlapped))
    }

    pub fn bucket_bytes(&self) -> i64 {
        self.bucket_bytes
    }

    pub fn barrier(&self) -> Result<()> {
        self.checked(unsafe { convtorch_dist_barrier(self.group) })
    }
}
