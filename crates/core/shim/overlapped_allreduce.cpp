// The backward pass of a data-parallel step with the gradients' allreduce overlapping it, as
// DDP's Reducer does: the parameters are grouped into buckets in reverse order (the last
// layers' gradients are ready first), a hook on every parameter copies its gradient into its
// bucket's flat buffer as autograd produces it, and a bucket whose gradients are all in is
// sent to the process group at once (an asynchronous collective), while autograd goes on with
// the earlier layers. Buckets are launched strictly in bucket order, whatever order the hooks
// fire in, so every rank issues the same collectives in the same sequence (c10d requires it,
// and it keeps the sums deterministic). After the backward pass every bucket is waited for,
// divided by the world size and written back into the parameters' gradients.
//
// The step's loss is averaged too, as one more element of the last bucket (the first layers',
// whose gradients come last): no collective of its own, which on a small network is a round
// trip saved per step.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <mutex>
#include <vector>

#include "c10d_handles.h"
#include "guarded.h"

using at::Tensor;

namespace {

struct Bucket {
  std::vector<size_t> members;  // parameter indices, in the bucket's order
  std::vector<int64_t> offsets;  // each member's first element in `flat`
  int64_t numel = 0;
  int64_t bytes = 0;
  at::TensorOptions options;
  Tensor flat;
  size_t pending = 0;  // members whose gradient has not arrived yet
  c10::intrusive_ptr<c10d::Work> work;
};

// The state one step's hooks share; they may run on autograd's device thread (CUDA).
class Reducer {
 public:
  Reducer(ConvtorchGroup* group, Tensor** parameters, size_t count, int64_t first_bucket_bytes,
          int64_t bucket_bytes, const Tensor& loss)
      : group_(group), bucket_of_(count), slot_of_(count) {
    TORCH_CHECK(count > 0, "a network without parameters has no gradients to average");
    for (size_t k = count; k-- > 0;) {
      const Tensor& p = *parameters[k];
      const at::TensorOptions options = at::TensorOptions().dtype(p.scalar_type()).device(p.device());
      // DDP's rule: a bucket closes once it holds its cap (the first one a small cap, so the
      // first collective starts early), or where the dtype or the device changes.
      const int64_t cap = buckets_.size() == 1 ? first_bucket_bytes : bucket_bytes;
      if (buckets_.empty() || buckets_.back().bytes >= cap || buckets_.back().options.dtype() != options.dtype() ||
          buckets_.back().options.device() != options.device()) {
        buckets_.emplace_back();
        buckets_.back().options = options;
      }
      Bucket& bucket = buckets_.back();
      bucket_of_[k] = buckets_.size() - 1;
      slot_of_[k] = bucket.members.size();
      bucket.members.push_back(k);
      bucket.offsets.push_back(bucket.numel);
      bucket.numel += p.numel();
      bucket.bytes += p.numel() * static_cast<int64_t>(p.element_size());
    }
    buckets_.back().numel += 1;  // the loss
    for (Bucket& bucket : buckets_) {
      // Zeros: a parameter that gets no gradient in this step contributes none.
      bucket.flat = at::zeros({bucket.numel}, bucket.options);
      bucket.pending = bucket.members.size();
    }
    at::NoGradGuard no_grad;
    loss_slot().copy_(loss.detach().reshape({1}));
  }

  // The loss's element in the last bucket (its mean, once finished).
  Tensor loss_slot() const { return buckets_.back().flat.narrow(0, buckets_.back().numel - 1, 1); }

  // A parameter's gradient, as autograd is about to accumulate it.
  void arrived(size_t k, const Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex_);
    Bucket& bucket = buckets_[bucket_of_[k]];
    const int64_t n = grad.numel();
    bucket.flat.narrow(0, bucket.offsets[slot_of_[k]], n).view(grad.sizes()).copy_(grad);
    bucket.pending -= 1;
    launch_ready(true);
  }

  // After the backward pass: launches what the hooks did not (buckets with a parameter that
  // got no gradient), then waits for every bucket and writes the means into the gradients.
  void finish(Tensor** parameters) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (Bucket& bucket : buckets_) bucket.pending = 0;
      launch_ready(false);
    }
    at::NoGradGuard no_grad;
    for (Bucket& bucket : buckets_) {
      bucket.work->wait();
      bucket.flat.div_(group_->size);
      for (size_t slot = 0; slot < bucket.members.size(); ++slot) {
        Tensor& p = *parameters[bucket.members[slot]];
        const Tensor mean = bucket.flat.narrow(0, bucket.offsets[slot], p.numel()).view(p.sizes());
        if (p.grad().defined()) {
          p.mutable_grad().copy_(mean);
        } else {
          p.mutable_grad() = mean.clone();
        }
      }
    }
  }

  int64_t launched_during_backward() const { return launched_during_backward_; }

 private:
  // Sends every complete bucket from the next unsent one on, stopping at the first incomplete.
  void launch_ready(bool during_backward) {
    while (next_ < buckets_.size() && buckets_[next_].pending == 0) {
      std::vector<Tensor> flat{buckets_[next_].flat};
      buckets_[next_].work = group_->backend->allreduce(flat, c10d::AllreduceOptions{});
      if (during_backward) ++launched_during_backward_;
      ++next_;
    }
  }

  ConvtorchGroup* group_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<size_t> slot_of_;
  size_t next_ = 0;
  int64_t launched_during_backward_ = 0;
  std::mutex mutex_;
};

// Removes the step's hooks however the step ends (a failed backward must not leave hooks that
// point at a dead Reducer).
struct HookRegistration {
  std::vector<std::pair<Tensor, unsigned>> hooks;
  ~HookRegistration() {
    for (auto& [tensor, handle] : hooks) tensor.remove_hook(handle);
  }
};

}  // namespace

extern "C" {

// Runs `loss`'s backward pass with the parameters' gradients averaged over the ranks as they
// are produced; `mean_loss` (one element) receives the loss's mean over the ranks.
// *overlapped: how many buckets were sent before the backward pass ended.
char* convtorch_dist_backward_mean(ConvtorchGroup* group, Tensor* loss, Tensor* mean_loss, Tensor** parameters,
                                   size_t count, int64_t first_bucket_bytes, int64_t bucket_bytes,
                                   int64_t* overlapped) {
  return convtorch_guarded("allreduce", [&] {
    Reducer reducer(group, parameters, count, first_bucket_bytes, bucket_bytes, *loss);
    {
      HookRegistration registration;
      for (size_t k = 0; k < count; ++k) {
        const Tensor& p = *parameters[k];
        registration.hooks.emplace_back(p, p.register_hook([&reducer, k](const Tensor& grad) { reducer.arrived(k, grad); }));
      }
      loss->backward();
    }
    reducer.finish(parameters);
    at::NoGradGuard no_grad;
    mean_loss->copy_(reducer.loss_slot());
    *overlapped = reducer.launched_during_backward();
  });
}

}  // extern "C"
