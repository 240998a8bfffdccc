// gradcheck of every differentiable elementwise op, with broadcasting and strided inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "ember/ember.hpp"

using ember::Tensor;
using Inputs = std::vector<Tensor<double>>;

namespace {

// A leaf with values in [lo, hi), fixed by seed.
Tensor<double> leaf(const ember::Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  ember::Generator gen(seed);
  return ember::rand<double>(shape, &gen).mul(hi - lo).add(lo).requires_grad_();
}

void check(const std::string& what, const std::function<Tensor<double>(const Inputs&)>& fn,
           const Inputs& inputs) {
  CAPTURE(what);
  const ember::GradcheckResult r = ember::gradcheck(fn, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

using Binary = std::function<Tensor<double>(const Tensor<double>&, const Tensor<double>&)>;

}  // namespace

TEST_CASE("binary ops: same shapes, broadcasting both ways, strided operands") {
  const std::vector<std::pair<std::string, Binary>> ops = {
      {"add", [](auto& a, auto& b) { return a.add(b); }},
      {"sub", [](auto& a, auto& b) { return a.sub(b); }},
      {"mul", [](auto& a, auto& b) { return a.mul(b); }},
      {"div", [](auto& a, auto& b) { return a.div(b.abs().add(0.5)); }},  // keep away from 0
      {"pow", [](auto& a, auto& b) { return a.abs().add(0.5).pow(b); }},  // positive base
      {"maximum", [](auto& a, auto& b) { return a.maximum(b); }},
      {"minimum", [](auto& a, auto& b) { return a.minimum(b); }},
      {"operators", [](auto& a, auto& b) { return (a * b - a / (b * b + 1.0)) + 2.0 * a; }},
  };
  for (const auto& entry : ops) {
    // Named copies: clang 14 cannot capture structured bindings in lambdas.
    const std::string& name = entry.first;
    const Binary& op = entry.second;
    check(name + " [2,3]x[2,3]", [&](const Inputs& in) { return op(in[0], in[1]); },
          {leaf({2, 3}, 1), leaf({2, 3}, 2)});
    check(name + " [2,3]x[3]", [&](const Inputs& in) { return op(in[0], in[1]); },
          {leaf({2, 3}, 3), leaf({3}, 4)});
    check(name + " [4,1]x[1,3]", [&](const Inputs& in) { return op(in[0], in[1]); },
          {leaf({4, 1}, 5), leaf({1, 3}, 6)});
    check(name + " []x[2,2]", [&](const Inputs& in) { return op(in[0], in[1]); },
          {leaf({}, 7), leaf({2, 2}, 8)});
    // Strided: the op sees a transposed view and a stepped slice of the leaves.
    check(name + " transposed x sliced",
          [&](const Inputs& in) { return op(in[0].t(), in[1].slice(1, 0, 6, 2)); },
          {leaf({3, 2}, 9), leaf({2, 6}, 10)});
  }
}

TEST_CASE("scalar operands on either side") {
  check("x + 2", [](const Inputs& in) { return in[0] + 2.0; }, {leaf({3}, 11)});
  check("2 - x", [](const Inputs& in) { return 2.0 - in[0]; }, {leaf({3}, 12)});
  check("3 / x", [](const Inputs& in) { return 3.0 / in[0]; }, {leaf({3}, 13, 0.5, 2.0)});
  check("x ^ 3", [](const Inputs& in) { return in[0].pow(3.0); }, {leaf({3}, 14)});
  check("x ^ 0.5", [](const Inputs& in) { return in[0].pow(0.5); }, {leaf({3}, 15, 0.5, 2.0)});
}

TEST_CASE("unary ops and activations") {
  using Unary = std::function<Tensor<double>(const Tensor<double>&)>;
  const std::vector<std::tuple<std::string, Unary, double, double>> ops = {
      {"neg", [](auto& x) { return x.neg(); }, -1, 1},
      {"abs", [](auto& x) { return x.abs(); }, 0.1, 1},  // away from the kink
      {"abs-neg", [](auto& x) { return x.abs(); }, -1, -0.1},
      {"relu", [](auto& x) { return x.relu(); }, 0.1, 1},
      {"relu-neg", [](auto& x) { return x.relu(); }, -1, -0.1},
      {"exp", [](auto& x) { return x.exp(); }, -2, 2},
      {"log", [](auto& x) { return x.log(); }, 0.2, 3},
      {"sqrt", [](auto& x) { return x.sqrt(); }, 0.2, 3},
      {"rsqrt", [](auto& x) { return x.rsqrt(); }, 0.2, 3},
      {"tanh", [](auto& x) { return x.tanh(); }, -2, 2},
      {"sigmoid", [](auto& x) { return x.sigmoid(); }, -3, 3},
      {"clamp", [](auto& x) { return x.clamp(-0.5, 0.5); }, -1, 1},
      {"clamp_min", [](auto& x) { return x.clamp_min(0.25); }, -1, 1},
      {"clamp_max", [](auto& x) { return x.clamp_max(0.25); }, -1, 1},
  };
  uint64_t seed = 100;
  for (const auto& entry : ops) {
    const std::string& name = std::get<0>(entry);
    const Unary& op = std::get<1>(entry);
    const double lo = std::get<2>(entry), hi = std::get<3>(entry);
    check(name, [&](const Inputs& in) { return op(in[0]); }, {leaf({3, 4}, seed++, lo, hi)});
    check(name + " strided", [&](const Inputs& in) { return op(in[0].t()); },
          {leaf({4, 3}, seed++, lo, hi)});
  }
}

TEST_CASE("hand-computed gradients of the unary rules at known points") {
  Tensor<double> x = ember::tensor<double>({-1.0, 0.5, 2.0}).requires_grad_();
  Tensor<double> y = x.clamp(-0.5, 1.0).add(x.sign()).add(x.relu());
  y.backward(ember::ones_like(y));
  // clamp passes 0, 1, 0; sign contributes 0; relu passes 0, 1, 1.
  CHECK(x.grad()(0) == 0.0);
  CHECK(x.grad()(1) == 2.0);
  CHECK(x.grad()(2) == 1.0);
}

TEST_CASE_TEMPLATE("relu's gradient is PyTorch's threshold_backward", T, float, double) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  // Where the output is <= 0 the gradient is 0 even if the incoming one is NaN; a NaN output
  // passes the incoming gradient (torch: relu(nan) = nan and its gradient is the incoming one).
  Tensor<T> x = ember::tensor<T>({-1, 0, 2, nan, -0.0, 3}).requires_grad_();
  x.relu().backward(ember::tensor<T>({nan, 5, 7, 9, 4, nan}));
  const std::vector<T> got(x.grad().data(), x.grad().data() + 6);
  CHECK(got[0] == T(0));
  CHECK(got[1] == T(0));
  CHECK(got[2] == T(7));
  CHECK(got[3] == T(9));
  CHECK(got[4] == T(0));
  CHECK(std::isnan(got[5]));
  // A strided incoming gradient, and enough elements for the vector kernels' main loops.
  Tensor<T> z = ember::arange<T>(-20, 20).reshape({8, 5}).requires_grad_();
  const Tensor<T> g = ember::arange<T>(0, 40).reshape({5, 8}).t();
  z.relu().backward(g);
  for (int64_t i = 0; i < 8; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      const T v = z(i, j);
      CHECK(z.grad()(i, j) == (v > 0 ? g(i, j) : T(0)));
    }
  }
}

namespace {
struct WrongSquare : ember::autograd::Function<WrongSquare> {
  static constexpr const char* name = "WrongSquare";
  static Tensor<double> forward(ember::autograd::Context<double>& ctx, const Tensor<double>& x) {
    ctx.save_for_backward({x});
    return x.mul(x);
  }
  static std::vector<Tensor<double>> backward(ember::autograd::Context<double>& ctx,
                                              const Tensor<double>& g) {
    return {g.mul(ctx.saved()[0])};  // should be 2x
  }
};
}  // namespace

TEST_CASE("gradcheck reports the worst element when a backward is wrong") {
  Tensor<double> x = ember::tensor<double>({1.0, 3.0}).requires_grad_();
  const auto r = ember::gradcheck([](const Inputs& in) { return WrongSquare::apply(in[0]); }, {x});
  CHECK(!r.ok);
  CHECK(r.message ==
        "gradcheck: Jacobian mismatch for input 0 element [1] and output element [1]: analytic 3, "
        "numeric 6 (abs error 3, allowed 0.00601)");
}

TEST_CASE("gradcheck fast mode: passes correct gradients, catches a wrong one, restores inputs") {
  Tensor<double> x = ember::tensor<double>({1.0, 3.0, -2.0}).requires_grad_();
  Tensor<double> y = ember::tensor<double>({0.5, -1.5, 2.5}).requires_grad_();
  const auto good = ember::gradcheck(
      [](const Inputs& in) { return in[0].mul(in[1]).exp().add(in[0].mul(in[0])); }, {x, y}, 1e-6,
      1e-5, 1e-3, /*fast_mode=*/true);
  CHECK_MESSAGE(good.ok, good.message);
  const auto bad = ember::gradcheck([](const Inputs& in) { return WrongSquare::apply(in[0]); }, {x},
                                    1e-6, 1e-5, 1e-3, /*fast_mode=*/true);
  CHECK(!bad.ok);
  // The wrong backward gives half the derivative, so the analytic projection is half the numeric
  // one (the message prints 6 significant digits).
  double analytic = 0, numeric = 0;
  REQUIRE(std::sscanf(bad.message.c_str(),
                      "gradcheck (fast mode): mismatch for input 0: v^T J u analytic %lf, "
                      "numeric %lf",
                      &analytic, &numeric) == 2);
  CHECK(analytic == doctest::Approx(numeric / 2).epsilon(1e-5));
  CHECK(x.data()[0] == 1.0);
  CHECK(x.data()[1] == 3.0);
  CHECK(x.data()[2] == -2.0);
  CHECK(y.data()[0] == 0.5);
  CHECK(y.data()[1] == -1.5);
  CHECK(y.data()[2] == 2.5);
}
