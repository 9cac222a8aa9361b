// The addon finds libtorch without LD_LIBRARY_PATH: the libtorch it was built against is
// recorded as a RUNPATH entry; CONVTORCH_RPATH adds more (colon-separated, $ORIGIN allowed).
fn main() {
    napi_build::setup();
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=CONVTORCH_RPATH");
    if let Ok(extra) = std::env::var("CONVTORCH_RPATH") {
        for dir in extra.split(':').filter(|d| !d.is_empty()) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
