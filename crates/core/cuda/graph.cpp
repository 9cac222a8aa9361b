// CUDA graphs for the training step: a side stream (warm-up and capture must not run on the
// default stream), capture of whatever the caller runs between begin and end (tch ops issued
// from Rust on this thread, and the backward the autograd engine runs on its device thread),
// and replay. Follows what torch.cuda.graph does in Python: one cached side stream per device
// (graphs.py's default_capture_stream: a new pool stream per capture would leave a cuBLAS
// workspace behind for each), synchronize and empty the cache before capture, and a private
// memory pool for the graph (the step's activations and gradients) until it is freed.
#include <ATen/Context.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "../shim/guarded.h"

// A stream made current on this thread, and the stream it replaced.
struct ConvtorchSideStream {
  c10::cuda::CUDAStream previous;
  c10::cuda::CUDAStream side;
};

// A graph with the private pool it captures into, named up front so that a failed capture
// can hand the pool back (CUDAGraph::reset releases it only after a capture that ended).
struct ConvtorchGraph {
  at::cuda::CUDAGraph graph;
  at::cuda::MempoolId_t pool;
  c10::DeviceIndex device;
  bool capturing = false;
};

namespace {

// `waiter` does not start work queued after this point until `done` has finished what it has
// queued so far (stream.wait_stream in Python).
void wait_for(const c10::cuda::CUDAStream& waiter, const c10::cuda::CUDAStream& done) {
  at::cuda::CUDAEvent event;
  event.record(done);
  event.block(waiter);
}

// One side stream per device for the life of the process.
c10::cuda::CUDAStream side_stream(c10::DeviceIndex device) {
  static std::mutex lock;
  static std::array<std::optional<c10::cuda::CUDAStream>, 64> streams;
  std::lock_guard<std::mutex> guard(lock);
  TORCH_CHECK(device >= 0 && device < static_cast<c10::DeviceIndex>(streams.size()), "CUDA device index ", device, " out of range");
  auto& stream = streams[static_cast<size_t>(device)];
  if (!stream) stream = c10::cuda::getStreamFromPool(false, device);
  return *stream;
}

}  // namespace

extern "C" {

// Makes device `device`'s side stream current; it first waits for the current stream.
char* convtorch_cuda_side_stream_enter(int device, ConvtorchSideStream** out) {
  return convtorch_guarded("CUDA side stream", [&] {
    const auto index = static_cast<c10::DeviceIndex>(device);
    c10::cuda::CUDAGuard device_guard(index);
    auto previous = c10::cuda::getCurrentCUDAStream(index);
    auto side = side_stream(index);
    wait_for(side, previous);
    c10::cuda::setCurrentCUDAStream(side);
    *out = new ConvtorchSideStream{previous, side};
  });
}

// Restores the stream `enter` replaced, which then waits for the side stream's work; frees it.
char* convtorch_cuda_side_stream_exit(ConvtorchSideStream* stream) {
  return convtorch_guarded("CUDA side stream", [&] {
    std::unique_ptr<ConvtorchSideStream> owned(stream);
    c10::cuda::CUDAGuard device_guard(owned->side.device_index());
    wait_for(owned->previous, owned->side);
    c10::cuda::setCurrentCUDAStream(owned->previous);
  });
}

char* convtorch_cuda_graph_new(int device, ConvtorchGraph** out) {
  return convtorch_guarded("CUDA graph", [&] {
    const auto index = static_cast<c10::DeviceIndex>(device);
    c10::cuda::CUDAGuard device_guard(index);
    *out = new ConvtorchGraph{at::cuda::CUDAGraph(), at::cuda::graph_pool_handle(), index};
  });
}

// Starts capturing the current (side) stream. As torch.cuda.graph: nothing may be in flight,
// and cached blocks are returned first so the graph's pool starts from what the step needs.
// Thread-local mode: a call that synchronises is refused only on this thread, so a parameter
// read on the compute thread's side thread cannot invalidate the capture.
char* convtorch_cuda_graph_capture_begin(ConvtorchGraph* graph) {
  return convtorch_guarded("CUDA graph capture", [&] {
    c10::cuda::CUDAGuard device_guard(graph->device);
    c10::cuda::device_synchronize();
    c10::cuda::CUDACachingAllocator::emptyCache();
    graph->capturing = true;
    graph->graph.capture_begin(graph->pool, cudaStreamCaptureModeThreadLocal);
  });
}

// Ends the capture and instantiates the graph. After a failed capture the caller still calls
// this; if ending fails too, the pool the capture allocated from is closed and released here,
// which CUDAGraph does not do for a capture that did not end (the allocator would otherwise keep
// routing allocations through a filter of a deleted graph).
char* convtorch_cuda_graph_capture_end(ConvtorchGraph* graph) {
  return convtorch_guarded("CUDA graph capture", [&] {
    c10::cuda::CUDAGuard device_guard(graph->device);
    graph->capturing = false;
    try {
      graph->graph.capture_end();
    } catch (...) {
      try {
        c10::cuda::CUDACachingAllocator::endAllocateToPool(graph->device, graph->pool);
      } catch (...) {
        // Already ended (the failure came after endAllocateToPool).
      }
      try {
        c10::cuda::CUDACachingAllocator::releasePool(graph->device, graph->pool);
      } catch (...) {
      }
      (void)cudaGetLastError();  // clear the error the failed capture left
      throw;
    }
  });
}

// Launches the captured work on the current stream; returns without waiting for it.
char* convtorch_cuda_graph_replay(ConvtorchGraph* graph) {
  return convtorch_guarded("CUDA graph replay", [&] { graph->graph.replay(); });
}

void convtorch_cuda_graph_free(ConvtorchGraph* graph) {
  try {
    delete graph;
  } catch (...) {
    // A destructor that throws (a device already lost) must not take the process with it.
  }
}

// Free and total bytes of device `device` (cudaMemGetInfo), after handing the caching
// allocator's unused blocks back to the driver, so "free" counts memory no tensor holds.
char* convtorch_cuda_memory(int device, int release_cached, size_t* free_bytes, size_t* total_bytes) {
  return convtorch_guarded("CUDA memory", [&] {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    if (release_cached != 0) {
      c10::cuda::device_synchronize();
      c10::cuda::CUDACachingAllocator::emptyCache();
    }
    C10_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
  });
}

}  // extern "C"
