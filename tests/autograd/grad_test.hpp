// Helpers shared by the autograd gradient tests.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "ember/ember.hpp"

namespace grad_test {

using Inputs = std::vector<ember::Tensor<double>>;

// A random double leaf that requires grad.
inline ember::Tensor<double> leaf(const ember::Shape& shape, uint64_t seed) {
  ember::Generator gen(seed);
  ember::Tensor<double> t = ember::randn<double>(shape, &gen);
  t.requires_grad_();
  return t;
}

// gradcheck of fn at inputs; a failure prints the worst element.
template <class F>
void check_grad(F&& fn, const Inputs& inputs) {
  const ember::GradcheckResult r = ember::gradcheck(fn, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

// Contiguous copy of the values, for comparison with hand-computed lists.
inline std::vector<double> values(const ember::Tensor<double>& t) {
  const ember::Tensor<double> c = t.contiguous();
  return std::vector<double>(c.data(), c.data() + c.numel());
}

// A leaf holding 0, 1, 2, ... in `shape`.
inline ember::Tensor<double> iota_leaf(const ember::Shape& shape) {
  ember::Tensor<double> t =
      ember::arange<double>(static_cast<double>(ember::detail::numel_of(shape)))
          .reshape(shape)
          .contiguous();
  t.requires_grad_();
  return t;
}

}  // namespace grad_test
