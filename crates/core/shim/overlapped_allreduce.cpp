// The gradients of a data-parallel step averaged over the ranks while the backward pass runs,
// as DDP's Reducer does: the parameters are grouped into buckets in reverse order (the last
// layers' gradients are ready first), a hook on every parameter copies its gradient into its
// bucket's flat buffer as autograd produces it, and a bucket whose gradients are all in is
// sent to the process group at once (an asynchronous collective), while autograd goes on with
// the earlier layers. Buckets are sent strictly in bucket order, whatever order the hooks fire
// in, so every rank issues the same collectives in the same sequence (c10d requires it, and it
// keeps the sums deterministic). After the backward pass every bucket is waited for, divided
// by the world size and written back into the parameters' gradients.
//
// The step's loss is averaged too, as one more element of the last bucket (the first layers',
// whose gradients come last): no collective of its own, a round trip saved per step.
//
// A reducer lives as long as its parameters stay the same tensors (the caller keeps it across
// steps), because libtorch's remove_hook only blanks a hook's slot: hooks registered per step
// would pile up. Gradients computed before (a sharded CPU step, whose gradients exist only once
// its shards are summed) go through the same buckets, so ranks that take different paths still
// send matching collectives.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <algorithm>
#include <mutex>
#include <vector>

#include "c10d_handles.h"
#include "guarded.h"

using at::Tensor;

namespace {

struct Bucket {
  std::vector<size_t> members;   // parameter indices, in the bucket's order
  std::vector<int64_t> offsets;  // each member's first element in `flat`
  int64_t numel = 0;
  int64_t bytes = 0;
  at::TensorOptions options;
  Tensor flat;
  size_t pending = 0;  // members whose gradient has not arrived in this step
  c10::intrusive_ptr<c10d::Work> work;
};

}  // namespace

class ConvtorchReducer {
 public:
  ConvtorchReducer(ConvtorchGroup* group, Tensor** parameters, size_t count, int64_t first_bucket_bytes,
                   int64_t bucket_bytes)
      : group_(group),
        first_bucket_bytes_(first_bucket_bytes),
        bucket_bytes_(bucket_bytes),
        bucket_of_(count),
        slot_of_(count),
        arrived_(count) {
    TORCH_CHECK(count > 0, "a network without parameters has no gradients to average");
    for (size_t k = 0; k < count; ++k) parameters_.push_back(*parameters[k]);
    for (size_t k = count; k-- > 0;) {
      const Tensor& p = parameters_[k];
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
    for (Bucket& bucket : buckets_) bucket.flat = at::zeros({bucket.numel}, bucket.options);
    for (size_t k = 0; k < count; ++k) {
      hooks_.push_back(parameters_[k].register_hook([this, k](const Tensor& grad) { arrived(k, grad); }));
    }
  }

  ~ConvtorchReducer() {
    for (size_t k = 0; k < parameters_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
  }

  // Whether this reducer was made for these parameters and bucket sizes.
  bool fits(Tensor** parameters, size_t count, int64_t first_bucket_bytes, int64_t bucket_bytes) const {
    if (count != parameters_.size() || first_bucket_bytes != first_bucket_bytes_ || bucket_bytes != bucket_bytes_) {
      return false;
    }
    for (size_t k = 0; k < count; ++k) {
      if (parameters[k]->unsafeGetTensorImpl() != parameters_[k].unsafeGetTensorImpl()) return false;
    }
    return true;
  }

  // Opens a step: from now on the hooks collect gradients. The loss goes into its slot first.
  void begin(const Tensor& loss) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Bucket& bucket : buckets_) {
      bucket.pending = bucket.members.size();
      bucket.work.reset();
    }
    std::fill(arrived_.begin(), arrived_.end(), false);
    next_ = 0;
    launched_during_backward_ = 0;
    at::NoGradGuard no_grad;
    // The loss in the parameters' dtype: float for every network convtorch builds, so exact.
    loss_slot().copy_(loss.detach().reshape({1}));
    open_ = true;
  }

  // A parameter's gradient: from its hook, as autograd is about to accumulate it, or from
  // `collect` for gradients computed before the step was opened.
  void arrived(size_t k, const Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Outside a step (another backward pass through these parameters), the hook does nothing.
    if (!open_ || arrived_[k]) return;
    arrived_[k] = true;
    Bucket& bucket = buckets_[bucket_of_[k]];
    at::NoGradGuard no_grad;
    bucket.flat.narrow(0, bucket.offsets[slot_of_[k]], grad.numel()).view(grad.sizes()).copy_(grad);
    bucket.pending -= 1;
    launch_ready(during_backward_);
  }

  // The gradients already in the parameters, bucket by bucket (a sharded step's).
  void collect() {
    for (size_t k = parameters_.size(); k-- > 0;) {
      const Tensor& grad = parameters_[k].grad();
      if (grad.defined()) arrived(k, grad);
    }
  }

  // Runs `loss`'s backward pass with the hooks sending buckets as they fill.
  void backward(const Tensor& loss) {
    during_backward_ = true;
    try {
      loss.backward();
    } catch (...) {
      during_backward_ = false;
      open_ = false;
      throw;
    }
    during_backward_ = false;
  }

  // Closes the step: sends what is left (a parameter that got no gradient contributes zeros;
  // every rank then gets the mean as its gradient, so all stay alike), waits for every bucket
  // and writes the means into the gradients; returns the mean loss.
  Tensor finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t k = 0; k < parameters_.size(); ++k) {
        if (arrived_[k]) continue;
        Bucket& bucket = buckets_[bucket_of_[k]];
        bucket.flat.narrow(0, bucket.offsets[slot_of_[k]], parameters_[k].numel()).zero_();
        bucket.pending -= 1;
      }
      open_ = false;
      launch_ready(false);
    }
    at::NoGradGuard no_grad;
    for (Bucket& bucket : buckets_) {
      bucket.work->wait();
      bucket.flat.div_(group_->size);
      for (size_t slot = 0; slot < bucket.members.size(); ++slot) {
        const Tensor& p = parameters_[bucket.members[slot]];
        const Tensor mean = bucket.flat.narrow(0, bucket.offsets[slot], p.numel()).view(p.sizes());
        if (p.grad().defined()) {
          p.mutable_grad().copy_(mean);
        } else {
          p.mutable_grad() = mean.clone();
        }
      }
      bucket.work.reset();
    }
    return loss_slot().clone();
  }

  int64_t launched_during_backward() const { return launched_during_backward_; }

 private:
  Tensor loss_slot() const { return buckets_.back().flat.narrow(0, buckets_.back().numel - 1, 1); }

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
  int64_t first_bucket_bytes_;
  int64_t bucket_bytes_;
  std::vector<Tensor> parameters_;
  std::vector<unsigned> hooks_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<size_t> slot_of_;
  std::vector<bool> arrived_;
  size_t next_ = 0;
  bool open_ = false;
  bool during_backward_ = false;
  int64_t launched_during_backward_ = 0;
  std::mutex mutex_;
};

namespace {

// The cached reducer if it fits these parameters, else a new one (the old one's hooks removed).
ConvtorchReducer* reducer_for(ConvtorchGroup* group, ConvtorchReducer** cache, Tensor** parameters, size_t count,
                              int64_t first_bucket_bytes, int64_t bucket_bytes) {
  if (*cache == nullptr || !(*cache)->fits(parameters, count, first_bucket_bytes, bucket_bytes)) {
    delete *cache;
    *cache = nullptr;
    *cache = new ConvtorchReducer(group, parameters, count, first_bucket_bytes, bucket_bytes);
  }
  return *cache;
}

}  // namespace

extern "C" {

// Runs `loss`'s backward pass with the parameters' gradients averaged over the ranks as they
// are produced (`has_gradients`: they were computed already; only average them); `mean_loss`
// (one element) receives the loss's mean over the ranks, *overlapped how many buckets were
// sent before the backward pass ended. *cache holds the reducer from step to step.
char* convtorch_dist_backward_mean(ConvtorchGroup* group, ConvtorchReducer** cache, Tensor* loss, int has_gradients,
                                   Tensor* mean_loss, Tensor** parameters, size_t count, int64_t first_bucket_bytes,
                                   int64_t bucket_bytes, int64_t* overlapped) {
  return convtorch_guarded("allreduce", [&] {
    ConvtorchReducer* reducer = reducer_for(group, cache, parameters, count, first_bucket_bytes, bucket_bytes);
    reducer->begin(*loss);
    if (has_gradients != 0) {
      reducer->collect();
    } else {
      reducer->backward(*loss);
    }
    const Tensor mean = reducer->finish();
    at::NoGradGuard no_grad;
    mean_loss->copy_(mean);
    *overlapped = reducer->launched_during_backward();
  });
}

void convtorch_dist_reducer_free(ConvtorchReducer* reducer) { delete reducer; }

}  // extern "C"
