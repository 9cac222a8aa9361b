// torch-sys (links = "tch") hands its libtorch directory to direct dependents as
// DEP_TCH_LIBTORCH_LIB; record it as the test binaries' RUNPATH so `cargo test` needs no
// LD_LIBRARY_PATH, and keep it for error messages. The C++ shim (shim/shim.cpp) is compiled
// against the same libtorch's headers, with torch-sys's flags; shim/distributed.cpp (c10d) too,
// with gloo's headers (build/distributed.rs).
// CUDA graphs and NCCL groups go into a library of their own, libconvtorch_cuda.so, loaded only
// where CUDA is (build/cuda.rs).
use std::path::Path;

#[path = "build/cuda.rs"]
mod cuda;
#[path = "build/distributed.rs"]
mod distributed;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    // With rerun-if-changed given, cargo watches only what is named: the script's own modules too.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=shim/shim.cpp");
    println!("cargo:rerun-if-changed=shim/conv_relu_pool.cpp");
    println!("cargo:rerun-if-changed=shim/distributed.cpp");
    println!("cargo:rerun-if-changed=shim/overlapped_allreduce.cpp");
    println!("cargo:rerun-if-changed=shim/c10d_handles.h");
    println!("cargo:rerun-if-changed=shim/guarded.h");
    println!("cargo:rerun-if-env-changed=CONVTORCH_GLOO_INCLUDE");
    let lib =
        std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys did not report its libtorch (DEP_TCH_LIBTORCH_LIB)");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    println!("cargo:rustc-env=CONVTORCH_BUILD_LIBTORCH_LIB={lib}");
    let include = Path::new(&lib).parent().expect("libtorch's lib/ has a parent").join("include");
    // PyPI's torch 2.11 wheels use the C++11 ABI, as torch-sys assumes without Python.
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());
    let mut base = cc::Build::new();
    base.cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT");
    base.clone().file("shim/shim.cpp").file("shim/conv_relu_pool.cpp").compile("convtorch_shim");
    cuda::build(&base, Path::new(&lib), &include);
    distributed::compile(base);
}
