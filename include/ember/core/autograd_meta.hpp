// ember: the part of autograd's per-tensor state that the Tensor handle reads itself. The full
// state (grad, grad_fn, hooks) is autograd::Meta<T>, which derives from this.
#pragma once

namespace ember::detail {

struct AutogradMeta {
  virtual ~AutogradMeta() = default;
  bool requires_grad = false;
};

}  // namespace ember::detail
