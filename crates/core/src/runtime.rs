//! Start-up of the libtorch runtime: the binary links only the CPU libraries, so a CUDA build
//! of libtorch has to be loaded by hand for CUDA to register its kernels and allocator.
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What happened when we looked for `libtorch_cuda.so` next to the loaded `libtorch_cpu.so`.
#[derive(Debug, Clone)]
pub enum CudaLibrary {
    Loaded(PathBuf),
    Absent(PathBuf),
    Failed { path: PathBuf, error: String },
    LibtorchNotFound,
}

static CUDA_LIBRARY: OnceLock<CudaLibrary> = OnceLock::new();

/// Loads `libtorch_cuda.so` once per process; cheap after the first call.
pub fn cuda_library() -> &'static CudaLibrary {
    CUDA_LIBRARY.get_or_init(load_cuda_library)
}

/// Directory of the `libtorch_cpu.so` this process actually loaded (read from the loader's map).
pub fn libtorch_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.ends_with("/libtorch_cpu.so"))
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
}

fn load_cuda_library() -> CudaLibrary {
    let Some(dir) = libtorch_dir() else { return CudaLibrary::LibtorchNotFound };
    let path = dir.join("libtorch_cuda.so");
    if !path.exists() {
        return CudaLibrary::Absent(path);
    }
    let Ok(c_path) = CString::new(path.to_string_lossy().as_bytes()) else {
        return CudaLibrary::Failed { path, error: "path contains a NUL byte".into() };
    };
    // RTLD_GLOBAL so that the CUDA kernels' static registrars see libtorch_cpu's dispatcher.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        let error = unsafe {
            let message = libc::dlerror();
            if message.is_null() {
                "unknown dlopen error".to_owned()
            } else {
                CStr::from_ptr(message).to_string_lossy().into_owned()
            }
        };
        return CudaLibrary::Failed { path, error };
    }
    CudaLibrary::Loaded(path)
}

/// Keeps freed tensor memory in the process instead of handing it back to the kernel after
/// every step: with glibc's default thresholds each training step of the seed net took ~1,500
/// fresh page faults (zeroed pages) for its activations.
///
/// - `M_MMAP_THRESHOLD` (32 MiB, glibc's largest): activations come from the arenas, not from a
///   fresh `mmap` each.
/// - `M_TRIM_THRESHOLD`: a freed top of an arena stays mapped.
/// - `M_TOP_PAD` of a whole per-thread heap (64 MiB): the compute and OpenMP threads allocate
///   from per-thread arenas, made of 64 MiB heaps. A step that outgrows its heap maps a new one,
///   and glibc deletes a heap as soon as it is wholly free unless the top pad asks to keep that
///   much, so each CIFAR-sized step mapped, faulted in and unmapped ~50 MB again (~500k page
///   faults an epoch, ~0.5 s of kernel time; perf showed the `mmap` calls under
///   `sysmalloc`/`alloc_new_heap` from the backward pass).
///
/// With memory kept, what stays alive between batches matters: see `Model::evaluate`.
pub fn tune_allocator() {
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// The version string of the libtorch we run on, e.g. "2.11.0".
pub fn torch_version() -> String {
    tch_version_from_dir().unwrap_or_else(|| "unknown".to_owned())
}

fn tch_version_from_dir() -> Option<String> {
    // The Python wheel keeps its version next to the library directory: torch/version.py.
    let dir = libtorch_dir()?;
    let candidates = [dir.join("../version.py"), dir.join("../build-version")];
    for candidate in candidates {
        if let Ok(text) = std::fs::read_to_string(&candidate) {
            if let Some(version) = parse_version(&text) {
                return Some(version);
            }
        }
    }
    None
}

fn parse_version(text: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("__version__") {
            let value = rest.trim_start_matches([' ', '=', ':']).trim();
            let value = value.split('#').next()?.trim().trim_matches(['\'', '"']);
            return Some(value.to_owned());
        }
        if !line.is_empty() && line.chars().next()?.is_ascii_digit() {
            return Some(line.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{parse_version, tune_allocator};

    /// Page faults the calling thread has taken so far.
    fn thread_minor_faults() -> i64 {
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        usage.ru_minflt
    }

    #[test]
    fn a_thread_that_outgrows_its_heap_each_step_keeps_its_pages() {
        tune_allocator();
        // A step's worth of 8 MiB activations (80 MiB: more than one 64 MiB per-thread heap),
        // written and freed, five times on a thread of its own, as a shard's step does.
        let faults_per_step = std::thread::spawn(|| {
            const BUFFER: usize = 8 << 20;
            let mut faults = Vec::new();
            for _ in 0..5 {
                let before = thread_minor_faults();
                let buffers: Vec<*mut libc::c_void> = (0..10).map(|_| unsafe { libc::malloc(BUFFER) }).collect();
                for &buffer in &buffers {
                    assert!(!buffer.is_null());
                    // black_box: the optimiser may drop a malloc, memset and free it can see whole.
                    unsafe { libc::memset(std::hint::black_box(buffer), 1, BUFFER) };
                }
                for buffer in buffers {
                    unsafe { libc::free(std::hint::black_box(buffer)) };
                }
                faults.push(thread_minor_faults() - before);
            }
            faults
        })
        .join()
        .unwrap();
        let pages_per_step = 10 * (8 << 20) / 4096;
        // The first step faults its pages in; later ones reuse them (without the top pad, glibc
        // unmapped the second heap at every step's end: 6,145 faults a step here).
        assert!(faults_per_step[0] > pages_per_step / 2, "first step: {faults_per_step:?}");
        for later in &faults_per_step[1..] {
            assert!(*later < pages_per_step / 20, "faults per step: {faults_per_step:?} of {pages_per_step} pages");
        }
    }

    #[test]
    fn reads_the_version_of_a_python_wheel_and_of_a_libtorch_zip() {
        let wheel = "from typing import Optional\n__version__ = '2.11.0+cu130'\ndebug = False\n";
        assert_eq!(parse_version(wheel).as_deref(), Some("2.11.0+cu130"));
        assert_eq!(parse_version("2.11.0+cpu\n").as_deref(), Some("2.11.0+cpu"));
        assert_eq!(parse_version("nothing here"), None);
    }
}
