#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "check.hpp"
#include "ember/core/tensor.hpp"
#include "refs_broadcast.hpp"

using ember::Tensor;

namespace {

template <class T>
Tensor<T> run_binary(const std::string& op, const Tensor<T>& a, const Tensor<T>& b) {
  if (op == "add") return a + b;
  if (op == "sub") return a - b;
  if (op == "mul") return a * b;
  if (op == "div") return a / b;
  if (op == "pow") return ember::pow(a, b);
  if (op == "maximum") return ember::maximum(a, b);
  if (op == "minimum") return ember::minimum(a, b);
  if (op == "eq") return a == b;
  if (op == "lt") return a < b;
  if (op == "ge") return a >= b;
  if (op == "logical_and") return ember::logical_and(a, b);
  FAIL("unknown binary op " << op);
  return {};
}

template <class T>
Tensor<T> run_unary(const std::string& op, const Tensor<T>& x) {
  if (op == "neg") return -x;
  if (op == "abs") return x.abs();
  if (op == "exp") return x.exp();
  if (op == "log") return x.log();
  if (op == "sqrt") return x.sqrt();
  if (op == "rsqrt") return x.rsqrt();
  if (op == "tanh") return x.tanh();
  if (op == "sigmoid") return x.sigmoid();
  if (op == "relu") return x.relu();
  if (op == "sign") return x.sign();
  if (op == "clamp") return x.clamp(T(-0.5), T(0.5));
  FAIL("unknown unary op " << op);
  return {};
}

// float: inputs are rounded to float and the kernels may use approximations; 1e-5 relative
// covers float rounding of the reference double values.
template <class T>
constexpr double rtol_for() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

template <class T>
void run_all_cases() {
  for (const auto& c : ember_refs::broadcast_cases()) {
    const std::string op = c.op;
    const std::string what =
        op + " case, first input shape " + ember::detail::concat(c.inputs[0].shape);
    const double rtol = rtol_for<T>(), atol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    if (op == "where") {
      const auto r =
          ember::where(ember_refs::to_tensor<T>(c.inputs[0]), ember_refs::to_tensor<T>(c.inputs[1]),
                       ember_refs::to_tensor<T>(c.inputs[2]));
      ember_test::check_ref(r, c.outputs[0], rtol, atol, what);
    } else if (c.inputs.size() == 2) {
      const auto a = ember_refs::to_tensor<T>(c.inputs[0]);
      const auto b = ember_refs::to_tensor<T>(c.inputs[1]);
      ember_test::check_ref(run_binary(op, a, b), c.outputs[0], rtol, atol, what);
      // The in-place form writes into a when the result has a's shape.
      if (c.outputs[0].shape == c.inputs[0].shape && op == "add") {
        Tensor<T> acc = a.clone();
        acc += b;
        ember_test::check_ref(acc, c.outputs[0], rtol, atol, what + " (in place)");
      }
    } else {
      auto x = ember_refs::to_tensor<T>(c.inputs[0]);
      if (c.params[0] == 1) x = x.t();  // a strided view: the generic loop, not the kernel
      ember_test::check_ref(run_unary(op, x), c.outputs[0], rtol, atol, what);
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("elementwise ops broadcast like PyTorch (generated reference values)", T, float,
                   double) {
  run_all_cases<T>();
}

TEST_CASE("scalar operands work on either side") {
  const auto a = ember::tensor<float>({1.f, 2.f, 4.f});
  ember_test::check_values(a + 1, {3}, {2, 3, 5}, 0, 0, "a + 1");
  ember_test::check_values(1 - a, {3}, {0, -1, -3}, 0, 0, "1 - a");
  ember_test::check_values(2.0 * a, {3}, {2, 4, 8}, 0, 0, "2 * a");
  ember_test::check_values(8 / a, {3}, {8, 4, 2}, 0, 0, "8 / a");
  ember_test::check_values(a / 2, {3}, {0.5, 1, 2}, 0, 0, "a / 2");
  ember_test::check_values(a.pow(2.f), {3}, {1, 4, 16}, 0, 0, "a.pow(2)");
  ember_test::check_values(ember::pow(2.f, a), {3}, {2, 4, 16}, 0, 0, "pow(2, a)");
  ember_test::check_values(a > 1.5, {3}, {0, 1, 1}, 0, 0, "a > 1.5");
  ember_test::check_values(ember::where(a > 1.5, a, 0.f), {3}, {0, 2, 4}, 0, 0, "where");
}

TEST_CASE("in-place ops write through views and bump the shared version counter") {
  auto base = ember::zeros<double>({2, 3});
  auto col = base.select(1, 1);  // a strided view of column 1
  const auto v0 = base.version();
  col.add_(5.0);
  CHECK(base.version() == v0 + 1);
  CHECK(col.version() == base.version());
  ember_test::check_values(base, {2, 3}, {0, 5, 0, 0, 5, 0}, 0, 0, "add_ through a view");
  base.mul_(ember::tensor<double>({1.0, 2.0, 3.0}));  // broadcast row vector
  ember_test::check_values(base, {2, 3}, {0, 10, 0, 0, 10, 0}, 0, 0, "mul_ broadcast");
  base.sub_(1.0).div_(2.0);
  ember_test::check_values(base, {2, 3}, {-0.5, 4.5, -0.5, -0.5, 4.5, -0.5}, 0, 0, "chained");
  base.relu_();
  base.clamp_(0.0, 4.0);
  ember_test::check_values(base, {2, 3}, {0, 4, 0, 0, 4, 0}, 0, 0, "relu_, clamp_");
  base.exp_().log_().neg_().abs_().sqrt_();
  ember_test::check_values(base, {2, 3}, {0, 2, 0, 0, 2, 0}, 1e-12, 0, "unary chain");
  CHECK(base.version() == v0 + 11);
  // Out-of-place ops never touch the version.
  (void)(base + 1.0);
  CHECK(base.version() == v0 + 11);
  base.fill_(3.0);
  base.zero_();
  ember_test::check_values(base, {2, 3}, {0, 0, 0, 0, 0, 0}, 0, 0, "zero_");
}

TEST_CASE("in-place ops reject a result that does not fit the destination") {
  auto a = ember::zeros<float>({3});
  CHECK_THROWS_WITH_AS(a.add_(ember::ones<float>({2, 3})),
                       "add_: output with shape [3] doesn't match the broadcast shape [2, 3]",
                       ember::shape_error);
}

TEST_CASE("int64 tensors support arithmetic, comparisons and logic") {
  const auto a = ember::tensor<int64_t>({1, 2, 3, 4});
  const auto b = ember::tensor<int64_t>({4, 3, 2, 1});
  ember_test::check_values(a + b * 2, {4}, {9, 8, 7, 6}, 0, 0, "a + b * 2");
  ember_test::check_values(a / 2, {4}, {0, 1, 1, 2}, 0, 0, "integer division truncates");
  ember_test::check_values(a.pow(int64_t{3}), {4}, {1, 8, 27, 64}, 0, 0, "pow");
  ember_test::check_values(a < b, {4}, {1, 1, 0, 0}, 0, 0, "lt");
  ember_test::check_values(ember::logical_or(a > 3, b > 3), {4}, {1, 0, 0, 1}, 0, 0, "or");
  ember_test::check_values((a == 2).logical_not(), {4}, {1, 0, 1, 1}, 0, 0, "not");
  ember_test::check_values((-a).abs().sign(), {4}, {1, 1, 1, 1}, 0, 0, "neg abs sign");
}

TEST_CASE("NaN propagates through maximum and minimum") {
  const auto a = ember::tensor<double>({NAN, 1.0, 2.0});
  const auto b = ember::tensor<double>({0.0, NAN, 1.0});
  const auto mx = ember::maximum(a, b), mn = ember::minimum(a, b);
  CHECK(std::isnan(mx(0)));
  CHECK(std::isnan(mx(1)));
  CHECK(mx(2) == 2.0);
  CHECK(std::isnan(mn(0)));
  CHECK(std::isnan(mn(1)));
  CHECK(mn(2) == 1.0);
}

TEST_CASE("relu and abs: the strided path gives the kernel's bits on NaN and signed zeros") {
  // relu keeps NaN (PyTorch's rule) and -0.0; abs(-0.0) is +0.0. A transposed view takes the
  // strided loop, the contiguous tensor the kernel.
  const auto x = ember::tensor<float>({NAN, -0.0f, 0.0f, -1.5f, 2.5f, -INFINITY}).reshape({2, 3});
  const auto xt = x.t().contiguous().t();  // same values, column-major strides
  for (const bool relu : {true, false}) {
    CAPTURE(relu);
    const auto a = (relu ? x.relu() : x.abs()).contiguous();
    const auto b = (relu ? xt.relu() : xt.abs()).contiguous();
    CHECK(std::memcmp(a.data(), b.data(), 6 * sizeof(float)) == 0);
  }
  const auto r = x.relu().contiguous();
  CHECK(std::isnan(r.data()[0]));
  CHECK(std::signbit(r.data()[1]));
  CHECK(r.data()[3] == 0.0f);
  CHECK(!std::signbit(x.abs().contiguous().data()[1]));
}

TEST_CASE("a large contiguous op (threaded, kernel path) agrees with the strided path") {
  const auto x = ember::randn<float>({300, 301});
  const auto y = ember::randn<float>({300, 301});
  const auto fast = (x * y).exp();
  // Transposed copies force the generic strided loop for the same values.
  const auto xt = x.t().contiguous().t(), yt = y.t().contiguous().t();
  CHECK_FALSE(xt.is_contiguous());
  const auto slow = (xt * yt).exp();
  CHECK(ember::allclose(fast, slow, 1e-6, 0));
}
