//! libconvtorch_cuda.so (built from cuda/*.cpp by build/cuda.rs): CUDA graphs, device memory
//! and NCCL groups, which need libtorch_cuda. It is loaded on first use, after libtorch_cuda
//! (runtime.rs), so a CPU-only libtorch never meets it. Looked for, in order: the path in
//! CONVTORCH_CUDA_LIBRARY, next to the binary this crate is linked into (the npm package puts
//! it beside the addon), and where the build left it.
use crate::error::{CoreError, Result};
use crate::runtime::{cuda_library, CudaLibrary};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::OnceLock;

pub const FILE_NAME: &str = "libconvtorch_cuda.so";

pub type Message = *mut c_char;

/// The library's entry points (see cuda/graph.cpp and cuda/nccl.cpp for what each does).
pub struct Functions {
    pub path: PathBuf,
    pub side_stream_enter: unsafe extern "C" fn(c_int, *mut *mut c_void) -> Message,
    pub side_stream_exit: unsafe extern "C" fn(*mut c_void) -> Message,
    pub graph_new: unsafe extern "C" fn(c_int, *mut *mut c_void) -> Message,
    pub graph_capture_begin: unsafe extern "C" fn(*mut c_void) -> Message,
    pub graph_capture_end: unsafe extern "C" fn(*mut c_void) -> Message,
    pub graph_replay: unsafe extern "C" fn(*mut c_void) -> Message,
    pub graph_free: unsafe extern "C" fn(*mut c_void),
    pub memory: unsafe extern "C" fn(c_int, c_int, *mut usize, *mut usize) -> Message,
    pub nccl_group: unsafe extern "C" fn(*mut c_void, c_int, c_int, i64, *mut *mut c_void) -> Message,
}

static FUNCTIONS: OnceLock<std::result::Result<Functions, String>> = OnceLock::new();

/// The loaded library, or why it is not available (the reason names what was searched).
pub fn functions() -> std::result::Result<&'static Functions, &'static str> {
    FUNCTIONS.get_or_init(load).as_ref().map_err(String::as_str)
}

/// `functions()` as a typed error for callers that need the library.
pub fn require(what: &str) -> Result<&'static Functions> {
    functions()
        .map_err(|reason| CoreError::DeviceUnavailable { device: "cuda".into(), reason: format!("{what}: {reason}") })
}

/// Turns a returned message (NULL: success) into a result; frees it.
pub(crate) fn checked(message: Message) -> Result<()> {
    if message.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null message is a NUL-terminated string strdup'd by the library.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    unsafe { libc::free(message.cast()) };
    Err(CoreError::from(tch::TchError::Torch(text)))
}

/// The directory of the shared object holding this function: the addon in Node, the test
/// binary under `cargo test`.
fn own_directory() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let address = own_directory as *const c_void;
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    let file = unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy().into_owned();
    std::fs::canonicalize(file).ok()?.parent().map(PathBuf::from)
}

/// Where the library is looked for, in order.
pub fn candidates() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(path) = std::env::var_os("CONVTORCH_CUDA_LIBRARY") {
        paths.push(PathBuf::from(path));
    }
    if let Some(dir) = own_directory() {
        paths.push(dir.join(FILE_NAME));
    }
    let built = env!("CONVTORCH_BUILD_CUDA_LIBRARY");
    if !built.is_empty() {
        paths.push(PathBuf::from(built));
    }
    paths
}

fn load() -> std::result::Result<Functions, String> {
    match cuda_library() {
        CudaLibrary::Loaded(_) => {}
        CudaLibrary::Absent(path) => return Err(format!("libtorch has no CUDA ({} is absent)", path.display())),
        CudaLibrary::Failed { path, error } => return Err(format!("{} could not be loaded: {error}", path.display())),
        CudaLibrary::LibtorchNotFound => return Err("libtorch_cpu.so is not loaded in this process".into()),
    }
    let searched = candidates();
    let Some(path) = searched.iter().find(|p| p.is_file()).cloned() else {
        let list: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "{FILE_NAME} was not found (searched: {}); this build of convtorch was made without CUDA headers",
            if list.is_empty() { "nothing".to_owned() } else { list.join(", ") }
        ));
    };
    let c_path = CString::new(path.to_string_lossy().as_bytes()).map_err(|_| "the path has a NUL byte".to_owned())?;
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        let error = unsafe { libc::dlerror() };
        let error = if error.is_null() {
            "unknown error".into()
        } else {
            unsafe { CStr::from_ptr(error) }.to_string_lossy().into_owned()
        };
        return Err(format!("{} could not be loaded: {error}", path.display()));
    }
    let symbol = |name: &CStr| -> std::result::Result<*mut c_void, String> {
        let address = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if address.is_null() {
            Err(format!("{} has no symbol {}", path.display(), name.to_string_lossy()))
        } else {
            Ok(address)
        }
    };
    Ok(Functions {
        side_stream_enter: function(symbol(c"convtorch_cuda_side_stream_enter")?),
        side_stream_exit: function(symbol(c"convtorch_cuda_side_stream_exit")?),
        graph_new: function(symbol(c"convtorch_cuda_graph_new")?),
        graph_capture_begin: function(symbol(c"convtorch_cuda_graph_capture_begin")?),
        graph_capture_end: function(symbol(c"convtorch_cuda_graph_capture_end")?),
        graph_replay: function(symbol(c"convtorch_cuda_graph_replay")?),
        graph_free: function(symbol(c"convtorch_cuda_graph_free")?),
        memory: function(symbol(c"convtorch_cuda_memory")?),
        nccl_group: function(symbol(c"convtorch_cuda_nccl_group")?),
        path,
    })
}

/// A symbol's address as the function-pointer type `F` of its field in `Functions`.
fn function<F>(address: *mut c_void) -> F {
    // SAFETY: every call site names an extern "C" function of this library whose signature is
    // the field's type (see cuda/*.cpp); F is a function pointer, the size of an address.
    unsafe { std::mem::transmute_copy::<*mut c_void, F>(&address) }
}

/// Free and total bytes of a CUDA device, after releasing the allocator's cached blocks when
/// `release_cached` (so that freed tensors show as free memory).
pub fn memory_info(device: i64, release_cached: bool) -> Result<(u64, u64)> {
    let functions = require("CUDA memory")?;
    let (mut free, mut total) = (0usize, 0usize);
    checked(unsafe { (functions.memory)(device as c_int, c_int::from(release_cached), &mut free, &mut total) })?;
    Ok((free as u64, total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cuda_graph::{CudaGraph, SideStream};

    /// CI builds the library (CONVTORCH_REQUIRE_CUDA_LIBRARY=1) against the CUDA wheel, so there
    /// it must load here, every symbol resolved (RTLD_NOW), even on a machine without a GPU;
    /// without a GPU its calls are errors, not crashes.
    #[test]
    fn the_library_loads_and_without_a_gpu_its_calls_are_errors() {
        let required = std::env::var("CONVTORCH_REQUIRE_CUDA_LIBRARY").as_deref() == Ok("1");
        let functions = match functions() {
            Ok(functions) => functions,
            Err(reason) => {
                assert!(!required, "CONVTORCH_REQUIRE_CUDA_LIBRARY=1 but the library did not load: {reason}");
                eprintln!("skipped: {FILE_NAME} is not available here ({reason})");
                return;
            }
        };
        assert!(functions.path.ends_with(FILE_NAME), "{}", functions.path.display());
        if crate::device::cuda_is_available() {
            let (free, total) = memory_info(0, true).expect("memory of device 0");
            assert!(free <= total && total > 0);
            return;
        }
        for (what, error) in [
            ("memory", memory_info(0, false).err()),
            ("graph", CudaGraph::new(0).err()),
            ("side stream", SideStream::enter(0).err()),
        ] {
            let error = error.unwrap_or_else(|| panic!("{what}: succeeded without a GPU"));
            assert!(!error.to_string().is_empty(), "{what}");
        }
    }
}
