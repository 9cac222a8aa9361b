// The few ATen calls that tch's generated API does not reach: in-place ops with their scalar
// argument (tch drops `alpha`/`value`, and `a + alpha * b` is fused in ATen's kernel, so a
// separate multiply would round differently), clearing or setting a gradient (zero_grad with
// set_to_none, a sharded batch's summed gradient), the generators' states (exact resume of
// dropout masks), and private generators: seeded like manual_seed(seed) but apart from the
// defaults, so creating a model draws its initial weights without touching the generators a
// running training chunk has installed.
// Every function catches C++ exceptions and returns them as a malloc'd message (NULL: success).
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <cstring>
#include <mutex>

using at::Tensor;

namespace {

char* failure(const char* message) { return strdup(message); }

template <typename Body>
char* guarded(Body body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception& e) {
    return failure(e.what());
  } catch (...) {
    return failure("unknown C++ exception");
  }
}

at::Generator generator_of(int cuda_index) {
  if (cuda_index < 0) return at::detail::getDefaultCPUGenerator();
  return at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(cuda_index)));
}

}  // namespace

extern "C" {

void convtorch_free_message(char* message) { free(message); }

// self += alpha * other, as torch's `add_(other, alpha=...)`.
char* convtorch_add_scaled_(Tensor* self, const Tensor* other, double alpha) {
  return guarded([&] { self->add_(*other, alpha); });
}

// self += value * a * b, as torch's `addcmul_(a, b, value=...)`.
char* convtorch_addcmul_(Tensor* self, const Tensor* a, const Tensor* b, double value) {
  return guarded([&] { self->addcmul_(*a, *b, value); });
}

// self += value * a / b, as torch's `addcdiv_(a, b, value=...)`.
char* convtorch_addcdiv_(Tensor* self, const Tensor* a, const Tensor* b, double value) {
  return guarded([&] { self->addcdiv_(*a, *b, value); });
}

// torch.backends.cudnn's benchmark, deterministic and allow_tf32 (a value < 0 leaves that flag
// as it is); the flags as they were before go into `previous` (three 0/1 values).
void convtorch_cudnn_flags(int benchmark, int deterministic, int allow_tf32, int* previous) {
  auto& context = at::globalContext();
  previous[0] = context.benchmarkCuDNN() ? 1 : 0;
  previous[1] = context.deterministicCuDNN() ? 1 : 0;
  previous[2] = context.allowTF32CuDNN() ? 1 : 0;
  if (benchmark >= 0) context.setBenchmarkCuDNN(benchmark != 0);
  if (deterministic >= 0) context.setDeterministicCuDNN(deterministic != 0);
  if (allow_tf32 >= 0) context.setAllowTF32CuDNN(allow_tf32 != 0);
}

// param.grad = None, as torch.optim's zero_grad(set_to_none=True).
char* convtorch_clear_grad(Tensor* self) {
  return guarded([&] { self->mutable_grad().reset(); });
}

// param.grad = grad: the sum of a batch's shard gradients (see `sharded`).
char* convtorch_set_grad(Tensor* self, const Tensor* grad) {
  return guarded([&] { self->mutable_grad() = *grad; });
}

// The state of the default CPU generator (cuda_index < 0) or of CUDA device cuda_index.
char* convtorch_rng_state(int cuda_index, Tensor** out) {
  return guarded([&] {
    at::Generator generator = generator_of(cuda_index);
    std::lock_guard<std::mutex> lock(generator.mutex());
    *out = new Tensor(generator.get_state());
  });
}

char* convtorch_set_rng_state(int cuda_index, const Tensor* state) {
  return guarded([&] {
    at::Generator generator = generator_of(cuda_index);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(*state);
  });
}

// A new generator of the default generator's kind (CPU, or CUDA device cuda_index), seeded as
// manual_seed(seed) seeds that default, sharing no state with it.
char* convtorch_generator_seeded(int cuda_index, int64_t seed, at::Generator** out) {
  return guarded([&] {
    at::Generator source = generator_of(cuda_index);
    at::Generator copy;
    {
      std::lock_guard<std::mutex> lock(source.mutex());
      copy = source.clone();
    }
    copy.set_current_seed(static_cast<uint64_t>(seed));
    *out = new at::Generator(std::move(copy));
  });
}

void convtorch_generator_free(at::Generator* generator) { delete generator; }

char* convtorch_generator_state(at::Generator* generator, Tensor** out) {
  return guarded([&] { *out = new Tensor(generator->get_state()); });
}

char* convtorch_uniform_(Tensor* self, double from, double to, at::Generator* generator) {
  return guarded([&] { self->uniform_(from, to, *generator); });
}

char* convtorch_normal_(Tensor* self, double mean, double std, at::Generator* generator) {
  return guarded([&] { self->normal_(mean, std, *generator); });
}

// Fills an integer tensor from the generator's full range, as `random_()` does.
char* convtorch_random_(Tensor* self, at::Generator* generator) {
  return guarded([&] { self->random_(*generator); });
}

char* convtorch_randperm(int64_t n, at::Generator* generator, Tensor** out) {
  return guarded([&] { *out = new Tensor(at::randperm(n, *generator, at::TensorOptions().dtype(at::kLong))); });
}

}  // extern "C"
