// ember: F::dropout. In training, each element is zeroed with probability p and the survivors
// are scaled by 1 / (1 - p); otherwise the input is returned unchanged.
#pragma once

#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::F {

namespace detail {
inline void check_dropout_p(double p, const char* op) {
  EMBER_CHECK_VALUE(p >= 0.0 && p <= 1.0, op, ": dropout probability has to be between 0 and 1, "
                    "but got p = ", p);
}
}  // namespace detail

// The mask is drawn from gen (or the default generator); the gradient flows through the
// multiplication by the mask.
template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p = 0.5, bool training = true,
                  Generator* gen = nullptr) {
  detail::check_dropout_p(p, "dropout");
  x.check_defined("dropout");
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x.mul(zeros<T>(x.shape()));
  const Tensor<T> mask = bernoulli<T>(x.shape(), 1.0 - p, gen).mul(static_cast<T>(1.0 / (1.0 - p)));
  return x.mul(mask);
}

}  // namespace ember::F
