//! Facts about the libtorch this process runs on.
use convtorch_core::cuda_info::{cuda_devices, cudnn_version};
use convtorch_core::device::{cuda_absence_reason, cuda_device_count, cuda_is_available};
use convtorch_core::runtime::{cuda_library, libtorch_dir, torch_version, CudaLibrary};
use napi_derive::napi;

#[napi(object)]
pub struct RuntimeInfo {
    pub torch_version: String,
    pub libtorch_dir: Option<String>,
    /// "loaded", "absent" (CPU-only libtorch) or "failed".
    pub cuda_library: String,
    pub cuda_library_detail: String,
    pub cuda_available: bool,
    pub cuda_device_count: i64,
    pub cuda_absence_reason: Option<String>,
    pub threads: i32,
    pub cuda_devices: Vec<CudaDeviceInfo>,
    /// e.g. 91900 for cuDNN 9.19.0; absent where no cuDNN is loaded.
    pub cudnn_version: Option<i64>,
    /// libconvtorch_cuda.so (CUDA graphs, NCCL): its path when loaded, else null and the reason.
    pub cuda_extensions: Option<String>,
    pub cuda_extensions_absence: Option<String>,
}

#[napi(object)]
pub struct CudaMemory {
    pub free_bytes: f64,
    pub total_bytes: f64,
}

/// torch.backends.cudnn's flags; each one given is set, the others kept.
#[napi(object)]
pub struct CudnnFlags {
    pub benchmark: Option<bool>,
    pub deterministic: Option<bool>,
    pub allow_tf32: Option<bool>,
}

/// Sets the cuDNN flags given (process-wide, as in PyTorch); returns all three as they were.
#[napi]
pub fn set_cudnn_flags(flags: CudnnFlags) -> CudnnFlags {
    let previous = convtorch_core::shim::set_cudnn_flags(flags.benchmark, flags.deterministic, flags.allow_tf32);
    CudnnFlags {
        benchmark: Some(previous.benchmark),
        deterministic: Some(previous.deterministic),
        allow_tf32: Some(previous.allow_tf32),
    }
}

/// Free and total memory of CUDA device `device` (cudaMemGetInfo); with `releaseCached`, the
/// caching allocator first hands back the blocks no tensor holds, so freed tensors count as free.
#[napi]
pub fn cuda_memory(device: i64, release_cached: bool) -> napi::Result<CudaMemory> {
    crate::error::guarded(|| {
        let (free, total) = convtorch_core::cuda_library::memory_info(device, release_cached)?;
        Ok(CudaMemory { free_bytes: free as f64, total_bytes: total as f64 })
    })
}

#[napi(object)]
pub struct CudaDeviceInfo {
    pub index: i64,
    pub name: String,
    pub total_memory_bytes: f64,
}

/// Read on the compute thread: the thread count is per thread in OpenMP, and that is the
/// thread whose count matters.
#[napi]
pub fn runtime_info() -> napi::Result<RuntimeInfo> {
    crate::error::guarded(|| Ok(collect_runtime_info()))
}

fn collect_runtime_info() -> RuntimeInfo {
    let (status, detail) = match cuda_library() {
        CudaLibrary::Loaded(path) => ("loaded", path.display().to_string()),
        CudaLibrary::Absent(path) => ("absent", path.display().to_string()),
        CudaLibrary::Failed { path, error } => ("failed", format!("{}: {error}", path.display())),
        CudaLibrary::LibtorchNotFound => ("failed", "libtorch_cpu.so is not mapped in this process".to_owned()),
    };
    let available = cuda_is_available();
    let extensions = convtorch_core::cuda_library::functions();
    RuntimeInfo {
        torch_version: torch_version(),
        libtorch_dir: libtorch_dir().map(|d| d.display().to_string()),
        cuda_library: status.to_owned(),
        cuda_library_detail: detail,
        cuda_available: available,
        cuda_device_count: cuda_device_count(),
        cuda_absence_reason: (!available).then(cuda_absence_reason),
        threads: tch::get_num_threads(),
        cuda_devices: cuda_devices()
            .into_iter()
            .map(|d| CudaDeviceInfo { index: d.index, name: d.name, total_memory_bytes: d.total_memory_bytes as f64 })
            .collect(),
        cudnn_version: cudnn_version().map(|v| v as i64),
        cuda_extensions: extensions.as_ref().ok().map(|f| f.path.display().to_string()),
        cuda_extensions_absence: extensions.err().map(str::to_owned),
    }
}

#[napi]
pub fn torch_version_string() -> String {
    torch_version()
}

/// Sets libtorch's intra-op threads where they are used: on the compute thread.
#[napi]
pub fn set_num_threads(threads: i32) -> napi::Result<()> {
    crate::error::guarded(|| {
        if threads < 1 {
            return Err(convtorch_core::error::invalid("setNumThreads", "threads", threads, "a positive integer"));
        }
        tch::set_num_threads(threads);
        Ok(())
    })
}

/// The seed script's DataLoader order for each epoch (see convtorch_core::torch_order).
#[napi]
pub fn torch_loader_orders(
    spec_json: String,
    init: String,
    seed: i64,
    epochs: u32,
    count: i64,
) -> napi::Result<Vec<napi::bindgen_prelude::Uint32Array>> {
    let orders = crate::error::guarded_quick(|| {
        let spec = convtorch_core::ModelSpec::from_json(&spec_json)?;
        let init = convtorch_core::init::Init::parse(&init)?;
        convtorch_core::torch_order::seed_script_orders(&spec, init, seed, epochs as usize, count)
    })?;
    Ok(orders.into_iter().map(napi::bindgen_prelude::Uint32Array::new).collect())
}

/// Every error code the addon can raise: the core's, and INTERNAL for a caught panic.
#[napi]
pub fn error_codes() -> Vec<String> {
    convtorch_core::CoreError::CODES
        .iter()
        .map(|code| code.to_string())
        .chain(["CONVTORCH_INTERNAL".to_owned()])
        .collect()
}

/// What the process holds natively, for leak checks: the C heap in use (glibc's mallinfo2:
/// small blocks plus mmapped ones, where CPU tensors live) and the live models and datasets.
#[napi(object)]
pub struct NativeMemory {
    pub heap_bytes: f64,
    pub live_objects: u32,
}

#[napi]
pub fn native_memory() -> NativeMemory {
    let info = unsafe { libc::mallinfo2() };
    NativeMemory { heap_bytes: (info.uordblks + info.hblkhd) as f64, live_objects: crate::slot::live_objects() as u32 }
}
