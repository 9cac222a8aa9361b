// NCCL process groups for data-parallel training on CUDA. ProcessGroupNCCL lives in
// libtorch_cuda, so it is created here, in the library that is loaded only where CUDA is,
// and handed to the core's shim (distributed.cpp) as the same ConvtorchGroup a Gloo group is:
// every collective the core calls is a virtual of c10d::Backend.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <chrono>

#include "../shim/c10d_handles.h"
#include "../shim/guarded.h"

extern "C" {

// An NCCL group of `size` ranks over `store`; collectives fail after `timeout_ms` without a peer.
// Each rank uses the CUDA device current on its thread (the caller sets it from LOCAL_RANK).
char* convtorch_cuda_nccl_group(ConvtorchStore* store, int rank, int size, int64_t timeout_ms, ConvtorchGroup** out) {
  return convtorch_guarded("ProcessGroupNCCL", [&] {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::milliseconds(timeout_ms);
    c10::intrusive_ptr<c10d::Backend> backend =
        c10::make_intrusive<c10d::ProcessGroupNCCL>(store->store, rank, size, options);
    *out = new ConvtorchGroup{backend, rank, size};
  });
}

}  // extern "C"
