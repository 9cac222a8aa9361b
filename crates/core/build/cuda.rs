//! Builds libconvtorch_cuda.so from cuda/*.cpp: CUDA graphs and NCCL groups, which live in
//! libtorch_cuda. It is a library of its own, loaded at run time only where CUDA is (see
//! src/cuda_library.rs), so the addon keeps linking the CPU libraries alone and runs without
//! libtorch_cuda. It compiles against the torch wheel's headers plus the CUDA headers that
//! ATen/cuda includes: the nvidia-cuda-runtime, nvidia-cuda-crt and nvidia-cuda-cccl wheels
//! (scripts/setup-torch.mjs installs them, and names their directory in CONVTORCH_CUDA_INCLUDE),
//! and NCCL's header from the nvidia-nccl wheel next to torch.
//!
//! Without those headers or without libtorch_cuda.so (a CPU-only libtorch), the library is not
//! built and the build says so; CONVTORCH_REQUIRE_CUDA_LIBRARY=1 (CI) makes that an error.
use std::path::{Path, PathBuf};
use std::process::Command;

/// Headers that must be found: the CUDA runtime, its crt/ part, CCCL's nv/target, NCCL.
const PROBES: [&str; 4] = ["cuda_runtime.h", "crt/host_config.h", "nv/target", "nccl.h"];
const SOURCES: [&str; 2] = ["cuda/graph.cpp", "cuda/nccl.cpp"];
pub const LIBRARY: &str = "libconvtorch_cuda.so";

fn include_candidates(torch_include: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("CONVTORCH_CUDA_INCLUDE").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    // The wheels' own layout next to torch (site-packages/nvidia/...).
    if let Some(site) = torch_include.parent().and_then(Path::parent) {
        let nvidia = site.join("nvidia");
        dirs.push(nvidia.join("cu13/include"));
        dirs.push(nvidia.join("cu13/include/cccl"));
        dirs.push(nvidia.join("nccl/include"));
    }
    // Each headers directory may hold CCCL one level down, as the cccl wheel lays it out.
    let nested: Vec<PathBuf> = dirs.iter().map(|d| d.join("cccl")).collect();
    dirs.extend(nested);
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

fn missing(dirs: &[PathBuf]) -> Vec<&'static str> {
    PROBES.iter().copied().filter(|probe| !dirs.iter().any(|d| d.join(probe).exists())).collect()
}

fn profile_copy() -> Option<PathBuf> {
    // OUT_DIR is <target>/<profile>/build/convtorch-core-*/out.
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR")?);
    out_dir.ancestors().nth(3).map(|profile| profile.join(LIBRARY))
}

fn skip(reason: String) {
    // A library left from an earlier build would be picked up as if it were this one.
    if let Some(stale) = profile_copy() {
        let _ = std::fs::remove_file(stale);
    }
    if std::env::var("CONVTORCH_REQUIRE_CUDA_LIBRARY").as_deref() == Ok("1") {
        panic!("convtorch: {LIBRARY} is required (CONVTORCH_REQUIRE_CUDA_LIBRARY=1) but {reason}");
    }
    println!("cargo:warning=convtorch: {LIBRARY} not built ({reason}); CUDA graphs and NCCL will be unavailable");
    println!("cargo:rustc-env=CONVTORCH_BUILD_CUDA_LIBRARY=");
}

/// Compiles and links the library into OUT_DIR and into the profile directory (next to the
/// test binaries, where `npm run build:native` picks it up); records its path for the core.
pub fn build(base: &cc::Build, torch_lib: &Path, torch_include: &Path) {
    println!("cargo:rerun-if-env-changed=CONVTORCH_CUDA_INCLUDE");
    println!("cargo:rerun-if-env-changed=CONVTORCH_REQUIRE_CUDA_LIBRARY");
    println!("cargo:rerun-if-changed=cuda");
    println!("cargo:rerun-if-changed=shim/c10d_handles.h");
    if !torch_lib.join("libtorch_cuda.so").exists() {
        return skip(format!("{} has no libtorch_cuda.so (a CPU-only libtorch)", torch_lib.display()));
    }
    let dirs = include_candidates(torch_include);
    let absent = missing(&dirs);
    if !absent.is_empty() {
        return skip(format!(
            "CUDA headers not found: {} (searched {}; `npm run setup:torch` installs them)",
            absent.join(", "),
            if dirs.is_empty() {
                "nothing".to_owned()
            } else {
                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
            }
        ));
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let output = out_dir.join(LIBRARY);
    let compiler = base.get_compiler();
    let mut command: Command = compiler.to_command();
    command.arg("-shared").arg("-O2").arg("-DUSE_C10D_NCCL").arg("-DUSE_CUDA");
    for dir in &dirs {
        command.arg(format!("-I{}", dir.display()));
    }
    command.args(SOURCES).current_dir(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // No RUNPATH (so no path of this machine in a package): the core loads this library only
    // after libtorch_cuda (src/runtime.rs), so every NEEDED entry is matched by soname against
    // a library already loaded.
    // --no-as-needed: libtorch_cuda must be a NEEDED entry, so that our symbol lookups reach it.
    command
        .arg("-Wl,--no-as-needed")
        .arg(format!("-L{}", torch_lib.display()))
        .args(["-ltorch_cuda", "-lc10_cuda", "-ltorch_cpu", "-lc10"])
        .arg("-o")
        .arg(&output);
    let status = command.status().unwrap_or_else(|e| panic!("convtorch: could not run the C++ compiler: {e}"));
    if !status.success() {
        panic!("convtorch: compiling {LIBRARY} failed ({status}): {command:?}");
    }
    if let Some(copy) = profile_copy() {
        let _ = std::fs::copy(&output, copy);
    }
    println!("cargo:rustc-env=CONVTORCH_BUILD_CUDA_LIBRARY={}", output.display());
}
