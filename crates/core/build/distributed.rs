//! Compiles shim/distributed.cpp (c10d: TCPStore, ProcessGroupGloo) and
//! shim/overlapped_allreduce.cpp (the gradients' allreduce during the backward pass). ProcessGroupGloo.hpp
//! includes gloo's headers, which the torch wheel does not ship; Debian's libgloo-dev provides
//! them for declarations only (the symbols come from libtorch_cpu; see distributed.cpp for why
//! that is sound). CONVTORCH_GLOO_INCLUDE names another directory holding `gloo/`.
use std::path::{Path, PathBuf};

const PROBE: &str = "gloo/algorithm.h";

fn gloo_include() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("CONVTORCH_GLOO_INCLUDE") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![PathBuf::from("/usr/include"), PathBuf::from("/usr/local/include")],
    };
    match candidates.iter().find(|dir| dir.join(PROBE).is_file()) {
        Some(dir) => dir.clone(),
        None => panic!(
            "convtorch: gloo's headers were not found (looked for {PROBE} in {}). Distributed \
             training compiles torch's ProcessGroupGloo.hpp, which includes them and the torch \
             wheel does not ship them: install Debian/Ubuntu's package `libgloo-dev` \
             (apt-get install libgloo-dev), or set CONVTORCH_GLOO_INCLUDE to a directory that \
             holds gloo/.",
            candidates.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub fn compile(mut build: cc::Build) {
    let gloo = gloo_include();
    // Only when gloo is not on the compiler's default path: adding /usr/include by -I would
    // reorder the system directories and break libstdc++'s #include_next.
    if gloo != Path::new("/usr/include") {
        build.include(&gloo);
    }
    build
        .flag("-DUSE_C10D_GLOO")
        .file("shim/distributed.cpp")
        .file("shim/overlapped_allreduce.cpp")
        .compile("convtorch_distributed");
}
