#include <doctest/doctest.h>

#include "ember/ember.hpp"

using ember::Tensor;

TEST_CASE("a scalar expression backpropagates into its leaves") {
  Tensor<double> x = ember::tensor<double>({1.0, 2.0, 3.0}).requires_grad_();
  Tensor<double> w = ember::tensor<double>({0.5, -1.0, 2.0}).requires_grad_();
  // y = sum-free: use the single element path via item-like ops later; here elementwise only.
  Tensor<double> y = x.mul(w).add(x.exp());
  y.backward(ember::ones_like(y));
  // dy/dx = w + exp(x), dy/dw = x.
  for (int i = 0; i < 3; ++i) {
    CHECK(x.grad()(i) == doctest::Approx(w(i) + std::exp(x(i))));
    CHECK(w.grad()(i) == doctest::Approx(x(i)));
  }
  CHECK(x.is_leaf());
  CHECK(!y.is_leaf());
  CHECK(y.grad_fn()->name() == "AddBackward");
}
