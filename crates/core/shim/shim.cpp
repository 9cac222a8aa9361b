// The few ATen calls that tch's generated API does not reach: in-place ops with their scalar
// argument (tch drops `alpha`/`value`, and `a + alpha * b` is fused in ATen's kernel, so a
// separate multiply would round differently), clearing a gradient (zero_grad(set_to_none)),
// and the generators' states (exact resume of dropout masks).
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

// param.grad = None, as torch.optim's zero_grad(set_to_none=True).
char* convtorch_clear_grad(Tensor* self) {
  return guarded([&] { self->mutable_grad().reset(); });
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

}  // extern "C"
