// A stride-1 convolution, ReLU and 2x2 max-pool as one autograd node (tch cannot define a
// torch::autograd::Function). Its forward and backward are convtorch's own CPU kernels
// (crates/core/src/kernels/conv_relu_pool.rs), handed in as function pointers so that this
// library needs no Rust symbol at link time. The kernels return NULL or a malloc'd message.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "guarded.h"

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// dims: batch, channels, height, width, filters, kernel h, kernel w, padding h, padding w.
using ForwardKernel = char* (*)(const int64_t* dims, const float* input, const float* weight, const float* bias,
                                float* output, uint8_t* codes);
using BackwardKernel = char* (*)(const int64_t* dims, const float* input, const float* weight,
                                 const float* grad_output, const uint8_t* codes, float* grad_input,
                                 float* grad_weight, float* grad_bias);

namespace {

void check(char* message, const char* what) {
  if (message == nullptr) return;
  std::string text = std::string(what) + ": " + message;
  free(message);
  throw std::runtime_error(text);
}

std::array<int64_t, 9> dims_of(const Tensor& input, const Tensor& weight, int64_t pad_h, int64_t pad_w) {
  return {input.size(0),  input.size(1),  input.size(2), input.size(3), weight.size(0),
          weight.size(2), weight.size(3), pad_h,         pad_w};
}

struct ConvReluPool : public torch::autograd::Function<ConvReluPool> {
  static Tensor forward(AutogradContext* ctx, const Tensor& input, const Tensor& weight, const Tensor& bias,
                        int64_t pad_h, int64_t pad_w, int64_t forward_kernel, int64_t backward_kernel) {
    Tensor x = input.contiguous(), w = weight.contiguous(), b = bias.contiguous();
    auto dims = dims_of(x, w, pad_h, pad_w);
    int64_t pooled_h = (dims[2] + 2 * pad_h - dims[5] + 1) / 2, pooled_w = (dims[3] + 2 * pad_w - dims[6] + 1) / 2;
    Tensor output = at::empty({dims[0], dims[4], pooled_h, pooled_w}, x.options());
    Tensor codes = at::empty({dims[0], dims[4], pooled_h, pooled_w}, x.options().dtype(at::kByte));
    check(reinterpret_cast<ForwardKernel>(forward_kernel)(dims.data(), x.data_ptr<float>(), w.data_ptr<float>(),
                                                          b.data_ptr<float>(), output.data_ptr<float>(),
                                                          codes.data_ptr<uint8_t>()),
          "forward");
    ctx->save_for_backward({x, w});
    ctx->saved_data["codes"] = codes;
    ctx->saved_data["pad_h"] = pad_h;
    ctx->saved_data["pad_w"] = pad_w;
    ctx->saved_data["backward"] = backward_kernel;
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &w = saved[1];
    Tensor codes = ctx->saved_data["codes"].toTensor();
    auto dims = dims_of(x, w, ctx->saved_data["pad_h"].toInt(), ctx->saved_data["pad_w"].toInt());
    Tensor grad = grads[0].contiguous();
    Tensor grad_input;
    if (ctx->needs_input_grad(0)) grad_input = at::empty_like(x);
    Tensor grad_weight = at::empty_like(w), grad_bias = at::empty({dims[4]}, w.options());
    auto kernel = reinterpret_cast<BackwardKernel>(ctx->saved_data["backward"].toInt());
    check(kernel(dims.data(), x.data_ptr<float>(), w.data_ptr<float>(), grad.data_ptr<float>(),
                 codes.data_ptr<uint8_t>(), grad_input.defined() ? grad_input.data_ptr<float>() : nullptr,
                 grad_weight.data_ptr<float>(), grad_bias.data_ptr<float>()),
          "conv_relu_pool backward");
    // One gradient per argument of forward; none for the sizes and kernels.
    return {grad_input, grad_weight, grad_bias, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

extern "C" char* convtorch_conv_relu_pool(const Tensor* input, const Tensor* weight, const Tensor* bias,
                                          int64_t pad_h, int64_t pad_w, ForwardKernel forward,
                                          BackwardKernel backward, Tensor** out) {
  return convtorch_guarded("conv_relu_pool", [&] {
    *out = new Tensor(ConvReluPool::apply(*input, *weight, *bias, pad_h, pad_w, reinterpret_cast<int64_t>(forward),
                                          reinterpret_cast<int64_t>(backward)));
  });
}
