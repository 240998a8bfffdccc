#include <doctest/doctest.h>

#include <cmath>

#include "ember/core/tensor.hpp"

TEST_CASE("equal: same shape and values, any layout") {
  const auto a = ember::arange<float>(6.f).view({2, 3});
  CHECK(ember::equal(a, a.clone()));
  CHECK(ember::equal(a.t(), a.t().contiguous()));
  CHECK_FALSE(ember::equal(a, a.view({3, 2})));  // same values, other shape
  auto b = a.clone();
  b(1, 2) = 5.5f;
  CHECK_FALSE(ember::equal(a, b));
  const auto n = ember::tensor<double>({NAN});
  CHECK_FALSE(ember::equal(n, n));  // NaN != NaN, as in torch.equal
}

TEST_CASE("allclose: |a - b| <= atol + rtol * |b|, broadcasting, NaN and inf") {
  const auto a = ember::tensor<double>({1.0, 100.0});
  CHECK(ember::allclose(a, ember::tensor<double>({1.0 + 1e-6, 100.0 + 1e-4}), 1e-5, 0));
  CHECK_FALSE(ember::allclose(a, ember::tensor<double>({1.0 + 1e-4, 100.0}), 1e-5, 0));
  CHECK(ember::allclose(a, ember::tensor<double>({1.0 + 1e-4, 100.0}), 0, 2e-4));
  CHECK(ember::allclose(ember::full<double>({2, 3}, 2.0), ember::scalar_tensor<double>(2.0)));
  const auto n = ember::tensor<double>({NAN, INFINITY});
  CHECK_FALSE(ember::allclose(n, n));
  CHECK(ember::allclose(n, n, 1e-5, 1e-8, /*equal_nan=*/true));
  CHECK_FALSE(
      ember::allclose(ember::tensor<double>({INFINITY}), ember::tensor<double>({-INFINITY})));
  CHECK_THROWS_WITH_AS(
      ember::allclose(ember::zeros<float>({2}), ember::zeros<float>({3})),
      "allclose: shapes [2] and [3] cannot be broadcast together (dimension 0: 2 vs 3)",
      ember::shape_error);
}

TEST_CASE("int64 pow: exact, negative exponents truncate") {
  const auto b = ember::tensor<int64_t>({2, -1, 1, 3});
  const auto r = ember::pow(b, int64_t{-1});
  CHECK(r(0) == 0);
  CHECK(r(1) == -1);
  CHECK(r(2) == 1);
  CHECK(ember::pow(b, int64_t{39})(3) == 4052555153018976267LL);  // 3^39 fits in int64
}
