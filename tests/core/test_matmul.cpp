#include <doctest/doctest.h>

#include <string>

#include "check.hpp"
#include "ember/core/tensor.hpp"
#include "refs_indexing.hpp"

using ember::Tensor;

TEST_CASE_TEMPLATE("matmul matches torch.matmul for every rank and broadcast batch", T, float,
                   double, int64_t) {
  int seen = 0;
  for (const auto& c : ember_refs::indexing_cases()) {
    if (std::string(c.op) != "matmul") continue;
    if constexpr (std::is_same_v<T, int64_t>) continue;  // non-integral inputs
    ++seen;
    auto a = ember_refs::to_tensor<T>(c.inputs[0]);
    auto b = ember_refs::to_tensor<T>(c.inputs[1]);
    if (c.params[0] == 1) {
      // The inputs were stored transposed: pass transposed views (gemm's transpose flags).
      a = a.transpose(-1, -2);
      b = b.transpose(-1, -2);
      CHECK_FALSE(a.is_contiguous());
    }
    const std::string what =
        "matmul " + ember::detail::concat(a.shape()) + " @ " + ember::detail::concat(b.shape());
    // float: sums of 3 products of values up to 2.
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    ember_test::check_ref(ember::matmul(a, b), c.outputs[0], tol, tol, what);
  }
  if constexpr (!std::is_same_v<T, int64_t>) CHECK(seen > 10);
}

TEST_CASE("int64 matmul uses exact integer arithmetic") {
  const auto a = ember::arange<int64_t>(6).view({2, 3});
  const auto b = ember::arange<int64_t>(6).view({3, 2});
  ember_test::check_values(a.mm(b), {2, 2}, {10, 13, 28, 40}, 0, 0, "mm");
}

TEST_CASE_TEMPLATE("mm and bmm agree with a naive loop on larger, strided operands", T, float,
                   double) {
  const auto a = ember::randn<T>({4, 37, 29});
  const auto b = ember::randn<T>({4, 41, 29}).transpose(1, 2);       // [4, 29, 41], transposed
  const auto sliced = ember::randn<T>({4, 37, 60}).slice(2, 3, 32);  // row stride 60
  const auto c = a.bmm(b);
  const auto d = sliced.bmm(b);
  REQUIRE(c.shape() == ember::Shape{4, 37, 41});
  for (int64_t t = 0; t < 4; ++t) {
    for (int64_t i = 0; i < 37; ++i) {
      for (int64_t j = 0; j < 41; ++j) {
        double acc = 0, acc2 = 0;
        for (int64_t p = 0; p < 29; ++p) {
          acc += static_cast<double>(a(t, i, p)) * static_cast<double>(b(t, p, j));
          acc2 += static_cast<double>(sliced(t, i, p)) * static_cast<double>(b(t, p, j));
        }
        const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
        CHECK(static_cast<double>(c(t, i, j)) == doctest::Approx(acc).epsilon(tol).scale(1));
        CHECK(static_cast<double>(d(t, i, j)) == doctest::Approx(acc2).epsilon(tol).scale(1));
      }
    }
  }
  CHECK(ember::allclose(a.select(0, 2).mm(b.select(0, 2)), c.select(0, 2), 1e-5, 1e-5));
}

TEST_CASE("matmul with a zero-sized inner dimension gives zeros") {
  const auto r = ember::matmul(ember::ones<float>({2, 0}), ember::ones<float>({0, 3}));
  ember_test::check_values(r, {2, 3}, {0, 0, 0, 0, 0, 0}, 0, 0, "k = 0");
}

TEST_CASE("matmul errors name the shapes") {
  CHECK_THROWS_WITH_AS(ember::matmul(ember::zeros<float>({2, 3}), ember::zeros<float>({4, 5})),
                       "matmul: shapes [2, 3] and [4, 5] cannot be multiplied", ember::shape_error);
  CHECK_THROWS_WITH_AS(
      ember::matmul(ember::zeros<float>({2, 2, 3}), ember::zeros<float>({3, 3, 1})),
      "matmul: shapes [2] and [3] cannot be broadcast together (dimension 0: 2 vs 3)",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::matmul(ember::scalar_tensor<float>(1), ember::zeros<float>({3})),
                       "matmul: both arguments need at least 1 dimension, got shapes [] and [3]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::mm(ember::zeros<float>({2, 3, 1}), ember::zeros<float>({3, 1})),
                       "mm: expects 2-d tensors, got shapes [2, 3, 1] and [3, 1]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::bmm(ember::zeros<float>({2, 3, 4}), ember::zeros<float>({3, 4, 5})),
                       "bmm: batch sizes differ: shapes [2, 3, 4] and [3, 4, 5]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::bmm(ember::zeros<float>({2, 3, 4}), ember::zeros<float>({2, 5, 5})),
                       "bmm: shapes [2, 3, 4] and [2, 5, 5] cannot be multiplied",
                       ember::shape_error);
}
