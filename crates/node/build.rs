// The addon finds libtorch without LD_LIBRARY_PATH. RUNPATH: $ORIGIN/libtorch (a link the
// TypeScript loader maintains), then CONVTORCH_RPATH entries, then the libtorch it was built
// against (so `cargo`-level tools work in a clone).
fn main() {
    napi_build::setup();
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=CONVTORCH_RPATH");
    println!("cargo:rerun-if-env-changed=CONVTORCH_PORTABLE");
    // First: the link that the TypeScript loader keeps beside the addon (src/libtorch.ts).
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/libtorch");
    if let Ok(extra) = std::env::var("CONVTORCH_RPATH") {
        for dir in extra.split(':').filter(|d| !d.is_empty()) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
    // A portable build (the npm package) records no path of the build machine.
    let portable = std::env::var("CONVTORCH_PORTABLE").is_ok_and(|v| v == "1");
    if let (Ok(lib), false) = (std::env::var("DEP_TCH_LIBTORCH_LIB"), portable) {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
