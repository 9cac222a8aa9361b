//! Safe handles over libconvtorch_cuda's streams and graphs (cuda/graph.cpp).
use crate::cuda_library::{checked, require, Functions};
use crate::error::Result;
use std::ffi::{c_int, c_void};

/// The device's side stream (one per device, kept for the process), current on this thread
/// until `exit` (or drop) restores the previous one, which then waits for the side stream.
pub struct SideStream {
    handle: *mut c_void,
    functions: &'static Functions,
}

impl SideStream {
    pub fn enter(device: i64) -> Result<SideStream> {
        let functions = require("a CUDA side stream")?;
        let mut handle = std::ptr::null_mut();
        checked(unsafe { (functions.side_stream_enter)(device as c_int, &mut handle) })?;
        Ok(SideStream { handle, functions })
    }

    pub fn exit(mut self) -> Result<()> {
        let handle = std::mem::replace(&mut self.handle, std::ptr::null_mut());
        checked(unsafe { (self.functions.side_stream_exit)(handle) })
    }
}

impl Drop for SideStream {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // On an error path: restore the stream; the first error is the one reported.
            let _ = checked(unsafe { (self.functions.side_stream_exit)(self.handle) });
        }
    }
}

/// A CUDA graph (at::cuda::CUDAGraph): captured once, replayed many times.
pub struct CudaGraph {
    handle: *mut c_void,
    functions: &'static Functions,
}

// The graph is used only from the thread that owns its model (the compute thread); the handle
// moves with the model.
unsafe impl Send for CudaGraph {}

impl std::fmt::Debug for CudaGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CudaGraph")
    }
}

impl CudaGraph {
    /// A graph of CUDA device `device`, with a private memory pool of its own.
    pub fn new(device: i64) -> Result<CudaGraph> {
        let functions = require("CUDA graphs")?;
        let mut handle = std::ptr::null_mut();
        checked(unsafe { (functions.graph_new)(device as c_int, &mut handle) })?;
        Ok(CudaGraph { handle, functions })
    }

    /// Captures the work `body` queues on the current stream, which must be a side stream
    /// (SideStream). Nothing is executed: the work runs at each `replay`.
    pub fn capture<T>(&mut self, body: impl FnOnce() -> Result<T>) -> Result<T> {
        checked(unsafe { (self.functions.graph_capture_begin)(self.handle) })?;
        let outcome = body();
        let ended = checked(unsafe { (self.functions.graph_capture_end)(self.handle) });
        let value = outcome?;
        ended?;
        Ok(value)
    }

    /// Launches the captured work on the current stream, without waiting for it.
    pub fn replay(&self) -> Result<()> {
        checked(unsafe { (self.functions.graph_replay)(self.handle) })
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        unsafe { (self.functions.graph_free)(self.handle) }
    }
}
