// torch-sys (links = "tch") hands its libtorch directory to direct dependents as
// DEP_TCH_LIBTORCH_LIB; record it as the test binaries' RUNPATH so `cargo test` needs no
// LD_LIBRARY_PATH, and keep it for error messages.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:rustc-env=CONVTORCH_BUILD_LIBTORCH_LIB={lib}");
    }
}
