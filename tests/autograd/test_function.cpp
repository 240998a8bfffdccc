// User-defined differentiable functions.
#include <doctest/doctest.h>

#include "ember/ember.hpp"

using ember::Tensor;

namespace {

// y = x^3 * s + z, with s a plain (non-tensor) argument.
struct CubeScaleAdd : ember::autograd::Function<CubeScaleAdd> {
  static constexpr const char* name = "CubeScaleAdd";
  template <class T>
  static Tensor<T> forward(ember::autograd::Context<T>& ctx, const Tensor<T>& x, double s,
                           const Tensor<T>& z) {
    ctx.save_for_backward({x});
    ctx.saved_data["s"] = s;
    return x.mul(x).mul(x).mul(static_cast<T>(s)).add(z);
  }
  template <class T>
  static std::vector<Tensor<T>> backward(ember::autograd::Context<T>& ctx, const Tensor<T>& g) {
    const Tensor<T> x = ctx.saved()[0];
    const auto s = static_cast<T>(ctx.saved_data.at("s"));
    return {g.mul(x).mul(x).mul(T(3) * s), g};
  }
};

struct TooFewGrads : ember::autograd::Function<TooFewGrads> {
  static Tensor<double> forward(ember::autograd::Context<double>&, const Tensor<double>& x,
                                const Tensor<double>& y) {
    return x.add(y);
  }
  static std::vector<Tensor<double>> backward(ember::autograd::Context<double>&,
                                              const Tensor<double>& g) {
    return {g};
  }
};

}  // namespace

TEST_CASE("a custom function joins the graph like a built-in op") {
  Tensor<double> x = ember::tensor<double>({1.0, -2.0}).requires_grad_();
  Tensor<double> z = ember::tensor<double>({0.5, 0.5}).requires_grad_();
  Tensor<double> y = CubeScaleAdd::apply(x, 2.0, z);
  CHECK(y.grad_fn()->name() == "CubeScaleAdd");
  CHECK(y(1) == doctest::Approx(-16 + 0.5));
  y.exp().backward(ember::ones_like(y));
  CHECK(x.grad()(0) == doctest::Approx(std::exp(2.5) * 6.0));
  CHECK(z.grad()(1) == doctest::Approx(std::exp(-15.5)));

  const auto r = ember::gradcheck(
      [](const std::vector<Tensor<double>>& in) { return CubeScaleAdd::apply(in[0], 0.5, in[1]); },
      {x, z});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("custom functions work in float and record nothing without grad") {
  Tensor<float> x = ember::tensor<float>({1.0f, 2.0f});
  Tensor<float> y = CubeScaleAdd::apply(x, 1.0, x);
  CHECK(!y.requires_grad());
  CHECK(y(1) == 10.0f);
}

TEST_CASE("a custom backward returning the wrong number of gradients is reported") {
  Tensor<double> x = ember::tensor<double>({1.0}).requires_grad_();
  Tensor<double> y = TooFewGrads::apply(x, x);
  CHECK_THROWS_WITH_AS(y.backward(),
                       "backward: custom function CustomFunction returned 1 gradients for 2 tensor "
                       "inputs",
                       ember::runtime_error);
}
