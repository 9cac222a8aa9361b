// Data parallelism on torch's own c10d: a TCPStore for the rendezvous, a Gloo process group for
// CPU tensors (NCCL groups, for CUDA, are made by the CUDA library: cuda/nccl.cpp), and the
// collectives a data-parallel step needs: averaging gradients and broadcasting parameters.
//
// The Gloo route: the torch wheel exports ProcessGroupGloo (libtorch_cpu) but ships no gloo
// headers, which ProcessGroupGloo.hpp includes. Debian's libgloo-dev supplies them; only
// declarations are used, and every gloo symbol is resolved from libtorch_cpu (we never link
// Debian's libgloo). This is sound because the gloo types reach ProcessGroupGloo's layout only
// behind pointers (shared_ptr/unique_ptr members and vectors of them), so sizeof and member
// offsets do not depend on the gloo snapshot; and every method we call is a virtual of
// c10d::Backend, dispatched through the vtable that libtorch_cpu built.
//
// Every function catches C++ exceptions and returns them as a malloc'd message (NULL: success).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "c10d_handles.h"
#include "guarded.h"

using at::Tensor;

namespace {

// Consecutive runs of tensors, in the caller's order, of at most `bucket_bytes` each (a tensor
// larger than that is a bucket of its own). The order is the parameters' order on every rank,
// so every rank reduces the same buckets in the same sequence: results are deterministic.
std::vector<std::vector<Tensor>> buckets(Tensor** tensors, size_t count, int64_t bucket_bytes) {
  std::vector<std::vector<Tensor>> out;
  int64_t filled = 0;
  for (size_t i = 0; i < count; ++i) {
    const Tensor& t = *tensors[i];
    TORCH_CHECK(t.defined(), "tensor ", i, " is undefined (a parameter without a gradient?)");
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    bool same_kind = !out.empty() && out.back().front().scalar_type() == t.scalar_type();
    if (out.empty() || !same_kind || filled + bytes > bucket_bytes) {
      out.emplace_back();
      filled = 0;
    }
    out.back().push_back(t);
    filled += bytes;
  }
  return out;
}

Tensor flattened(const std::vector<Tensor>& bucket) {
  std::vector<Tensor> flat;
  flat.reserve(bucket.size());
  for (const Tensor& t : bucket) flat.push_back(t.reshape({-1}));
  return at::cat(flat);
}

void scatter_back(const Tensor& flat, const std::vector<Tensor>& bucket) {
  int64_t offset = 0;
  for (const Tensor& t : bucket) {
    const int64_t n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

void wait(const c10::intrusive_ptr<c10d::Work>& work) {
  // Work::wait throws the collective's failure (a peer gone, the group's timeout).
  work->wait();
}

}  // namespace

extern "C" {

// A TCPStore: the server (is_server, on `port`, 0 picks a free one) or a client of one.
char* convtorch_dist_store(const char* host, int port, int is_server, int world_size, int64_t timeout_ms,
                           ConvtorchStore** out) {
  return convtorch_guarded("TCPStore", [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = is_server != 0;
    options.numWorkers = static_cast<std::size_t>(world_size);
    // The process group's rendezvous waits for every rank; the store itself need not.
    options.waitWorkers = false;
    options.timeout = std::chrono::milliseconds(timeout_ms);
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
    const int bound = store->getPort();
    *out = new ConvtorchStore{store, bound};
  });
}

int convtorch_dist_store_port(const ConvtorchStore* store) { return store->port; }

void convtorch_dist_store_free(ConvtorchStore* store) { delete store; }

// store[key] = value (a rank's heartbeat; see src/heartbeat.rs).
char* convtorch_dist_store_set(ConvtorchStore* store, const char* key, const char* value) {
  return convtorch_guarded("TCPStore set", [&] {
    const std::string text(value);
    store->store->set(std::string(key), std::vector<uint8_t>(text.begin(), text.end()));
  });
}

// Reads store[key] if present (*found = 0 when absent), into a malloc'd string *out; every
// store call from now on gives up after timeout_ms (this is read when a collective failed,
// and a store whose host rank hangs must not hang the report too).
char* convtorch_dist_store_read(ConvtorchStore* store, const char* key, int64_t timeout_ms, int* found, char** out) {
  return convtorch_guarded("TCPStore get", [&] {
    store->store->setTimeout(std::chrono::milliseconds(timeout_ms));
    const std::string name(key);
    *found = store->store->check({name}) ? 1 : 0;
    *out = nullptr;
    if (*found != 0) {
      const std::vector<uint8_t> value = store->store->get(name);
      *out = strdup(std::string(value.begin(), value.end()).c_str());
    }
  });
}

// A Gloo process group of `size` ranks; collectives fail after `timeout_ms` without a peer.
char* convtorch_dist_gloo(ConvtorchStore* store, int rank, int size, int64_t timeout_ms, ConvtorchGroup** out) {
  return convtorch_guarded("ProcessGroupGloo", [&] {
    auto options = c10d::ProcessGroupGloo::Options::create_default(std::chrono::milliseconds(timeout_ms));
    c10::intrusive_ptr<c10d::Backend> backend =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, rank, size, options);
    *out = new ConvtorchGroup{backend, rank, size};
  });
}

void convtorch_dist_group_free(ConvtorchGroup* group) { delete group; }

// Sums each tensor over the ranks, in place (metrics: counts and loss sums).
char* convtorch_dist_allreduce_sum(ConvtorchGroup* group, Tensor** tensors, size_t count) {
  return convtorch_guarded("allreduce", [&] {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < count; ++i) {
      std::vector<Tensor> one{*tensors[i]};
      wait(group->backend->allreduce(one, c10d::AllreduceOptions{}));
    }
  });
}

// Overwrites each tensor with rank `root`'s values (the parameters at the start of a run).
char* convtorch_dist_broadcast(ConvtorchGroup* group, Tensor** tensors, size_t count, int root,
                               int64_t bucket_bytes) {
  return convtorch_guarded("broadcast", [&] {
    at::NoGradGuard no_grad;
    for (const auto& bucket : buckets(tensors, count, bucket_bytes)) {
      std::vector<Tensor> flat{flattened(bucket)};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      wait(group->backend->broadcast(flat, options));
      scatter_back(flat[0], bucket);
    }
  });
}

char* convtorch_dist_barrier(ConvtorchGroup* group) {
  return convtorch_guarded("barrier", [&] { wait(group->backend->barrier(c10d::BarrierOptions{})); });
}

}  // extern "C"
