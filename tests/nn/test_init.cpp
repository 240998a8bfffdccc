// nn::init and the layers' default initialisation: PyTorch's distributions, checked by bounds and
// moments. The seeds are fixed, so the checks are deterministic; the tolerances are 5 standard
// errors of the estimate (given next to each), so a correct sampler passes with any seed while a
// wrong scale (even by 10%) fails.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ember/nn.hpp"

using ember::Tensor;
namespace nn = ember::nn;
namespace init = ember::nn::init;

namespace {

struct Moments {
  double mean, var, min, max;
};

template <class T>
Moments moments(const Tensor<T>& t) {
  const Tensor<T> c = t.contiguous();
  const auto n = static_cast<double>(c.numel());
  double s = 0, lo = 1e300, hi = -1e300;
  for (int64_t i = 0; i < c.numel(); ++i) {
    const double v = c.data()[i];
    s += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double mean = s / n;
  double ss = 0;
  for (int64_t i = 0; i < c.numel(); ++i) ss += (c.data()[i] - mean) * (c.data()[i] - mean);
  return {mean, ss / n, lo, hi};
}

// U(-a, a) from n samples: mean has standard error a / sqrt(3n); the variance a^2 / 3 has
// standard error a^2 sqrt(4 / (45 n)) (Var(x^2) = a^4 / 5 - a^4 / 9).
template <class T>
void check_uniform(const Tensor<T>& t, double a) {
  const Moments m = moments(t);
  const double n = static_cast<double>(t.numel());
  CHECK(m.min >= -a);
  CHECK(m.max <= a);
  CHECK(m.max > 0.99 * a);  // the whole interval is used (P(miss) ~ (1 - 0.005)^n is negligible)
  CHECK(m.min < -0.99 * a);
  CHECK(std::abs(m.mean) < 5 * a / std::sqrt(3 * n));
  CHECK(std::abs(m.var - a * a / 3) < 5 * a * a * std::sqrt(4 / (45 * n)));
}

// N(mu, s^2): mean standard error s / sqrt(n); variance standard error s^2 sqrt(2 / n).
template <class T>
void check_normal(const Tensor<T>& t, double mu, double s) {
  const Moments m = moments(t);
  const double n = static_cast<double>(t.numel());
  CHECK(std::abs(m.mean - mu) < 5 * s / std::sqrt(n));
  CHECK(std::abs(m.var - s * s) < 5 * s * s * std::sqrt(2 / n));
}

}  // namespace

TEST_CASE("calculate_gain and fans follow PyTorch") {
  CHECK(init::calculate_gain("linear") == 1.0);
  CHECK(init::calculate_gain("sigmoid") == 1.0);
  CHECK(init::calculate_gain("conv2d") == 1.0);
  CHECK(init::calculate_gain("relu") == doctest::Approx(1.4142135623730951).epsilon(1e-15));
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3).epsilon(1e-15));
  CHECK(init::calculate_gain("leaky_relu") == doctest::Approx(1.4141428569978354).epsilon(1e-15));
  CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) ==
        doctest::Approx(0.5773502691896257).epsilon(1e-15));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK_THROWS_WITH_AS(init::calculate_gain("swish"),
                       "calculate_gain: unsupported nonlinearity 'swish'", ember::value_error);
  const auto f = init::calculate_fan_in_and_fan_out(ember::empty<float>({16, 8, 3, 3}));
  CHECK(f.fan_in == 72);
  CHECK(f.fan_out == 144);
  CHECK_THROWS_AS(init::calculate_fan_in_and_fan_out(ember::empty<float>({5})), ember::value_error);
}

TEST_CASE("uniform_, normal_, constant_") {
  ember::Generator g(1);
  Tensor<double> t = ember::empty<double>({200, 100});
  init::uniform_(t, -0.3, 0.3, &g);
  check_uniform(t, 0.3);
  init::normal_(t, 1.5, 0.2, &g);
  check_normal(t, 1.5, 0.2);
  init::constant_(t, 0.25);
  CHECK(moments(t).min == 0.25);
  CHECK(moments(t).max == 0.25);
  init::ones_(t);
  CHECK(moments(t).min == 1.0);
  init::zeros_(t);
  CHECK(moments(t).max == 0.0);
}

TEST_CASE("xavier and kaiming scales") {
  ember::Generator g(2);
  Tensor<float> w = ember::empty<float>({120, 80, 3});  // fan_in 240, fan_out 360
  init::xavier_uniform_(w, 2.0, &g);
  check_uniform(w, 2.0 * std::sqrt(6.0 / 600));
  init::xavier_normal_(w, 1.0, &g);
  check_normal(w, 0.0, std::sqrt(2.0 / 600));
  init::kaiming_uniform_(w, 0.0, "fan_in", "relu", &g);
  check_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 240));
  init::kaiming_normal_(w, 0.0, "fan_out", "relu", &g);
  check_normal(w, 0.0, std::sqrt(2.0) / std::sqrt(360.0));
  init::kaiming_uniform_(w, 0.2, "fan_out", "leaky_relu", &g);
  check_uniform(w, std::sqrt(2.0 / 1.04) * std::sqrt(3.0 / 360));
  CHECK_THROWS_WITH_AS(init::kaiming_normal_(w, 0.0, "fan_avg"),
                       "kaiming_normal_: mode must be \"fan_in\" or \"fan_out\", got \"fan_avg\"",
                       ember::value_error);
}

TEST_CASE("trunc_normal_ stays in [a, b] with the truncated normal's mean") {
  ember::Generator g(3);
  Tensor<double> t = ember::empty<double>({100, 100});
  init::trunc_normal_(t, 0.0, 1.0, -1.0, 2.0, &g);
  const Moments m = moments(t);
  CHECK(m.min >= -1.0);
  CHECK(m.max <= 2.0);
  // Mean of N(0, 1) truncated to [-1, 2]: (phi(-1) - phi(2)) / (Phi(2) - Phi(-1)) = 0.22917;
  // its variance is 0.53 < 1, so 5 / sqrt(n) bounds 5 standard errors.
  CHECK(std::abs(m.mean - 0.2291655) < 5.0 / 100);
  // A shifted and scaled window.
  init::trunc_normal_(t, 3.0, 0.5, 2.5, 3.5, &g);
  CHECK(moments(t).min >= 2.5);
  CHECK(moments(t).max <= 3.5);
  CHECK(std::abs(moments(t).mean - 3.0) < 5 * 0.5 / 100);
}

TEST_CASE("orthogonal_ gives orthonormal rows or columns") {
  ember::Generator g(4);
  // rows < cols: W W^T = gain^2 I.
  Tensor<double> wide = ember::empty<double>({3, 7});
  init::orthogonal_(wide, 2.0, &g);
  CHECK(wide.mm(wide.t()).sub(ember::eye<double>(3).mul(4.0)).abs().max().item() < 1e-13);
  // rows > cols: W^T W = I.
  Tensor<double> tall = ember::empty<double>({9, 4});
  init::orthogonal_(tall, 1.0, &g);
  CHECK(tall.t().mm(tall).sub(ember::eye<double>(4)).abs().max().item() < 1e-13);
  // A conv weight is orthogonal as [out, in * k * k]; float to rounding.
  Tensor<float> conv = ember::empty<float>({4, 2, 3, 3});
  init::orthogonal_(conv, 1.0, &g);
  const Tensor<float> m = conv.reshape({4, 18});
  CHECK(m.mm(m.t()).sub(ember::eye<float>(4)).abs().max().item() < 1e-6f);
}

TEST_CASE("layers initialise from PyTorch's distributions") {
  ember::manual_seed(5);
  nn::Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);  // kaiming_uniform_(a = sqrt(5)) on fan_in 400
  check_uniform(fc.weight, bound);
  const Moments b = moments(fc.bias);  // 300 values: bounds only, plus a loose mean check
  CHECK(b.min >= -bound);
  CHECK(b.max <= bound);
  CHECK(std::abs(b.mean) < 5 * bound / std::sqrt(3 * 300.0));

  nn::Embedding emb(nn::EmbeddingOptions(200, 50).padding_idx(-1));
  CHECK(*emb.options().padding_idx() == 199);
  check_normal(emb.weight.slice(0, 0, 199), 0.0, 1.0);
  CHECK(emb.weight.select(0, 199).abs().sum().item() == 0.0f);

  nn::BatchNorm2d bn(8);
  CHECK(bn.weight.sum().item() == 8.0f);
  CHECK(bn.bias.abs().sum().item() == 0.0f);
  CHECK(bn.running_var.sum().item() == 8.0f);
  nn::LayerNorm ln(std::vector<int64_t>{6});
  CHECK(ln.weight.sum().item() == 6.0f);
  nn::GroupNorm gn(2, 6);
  CHECK(gn.bias.abs().sum().item() == 0.0f);
}

TEST_CASE("the same seed gives the same layer; a Generator is independent of the default one") {
  ember::manual_seed(7);
  nn::Linear a(5, 4);
  ember::manual_seed(7);
  nn::Linear b(5, 4);
  CHECK(a.weight.sub(b.weight).abs().max().item() == 0.0f);
  ember::Generator g1(9), g2(9);
  nn::Linear<double> c(5, 4, &g1);
  ember::manual_seed(123);  // must not matter
  nn::Linear<double> d(5, 4, &g2);
  CHECK(c.weight.sub(d.weight).abs().max().item() == 0.0);
  CHECK(c.bias.sub(d.bias).abs().max().item() == 0.0);
  CHECK(a.weight.sub(nn::Linear(5, 4).weight).abs().max().item() > 0.0f);
}
