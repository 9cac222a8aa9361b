// The c10d objects that cross the C boundary to Rust as opaque handles. Shared by the core's
// shim (distributed.cpp: stores, Gloo groups, collectives) and the CUDA library
// (cuda/nccl.cpp: NCCL groups), which are compiled apart but against the same torch headers.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

struct ConvtorchStore {
  c10::intrusive_ptr<c10d::Store> store;
  int port;
};

struct ConvtorchGroup {
  c10::intrusive_ptr<c10d::Backend> backend;
  int rank;
  int size;
};
