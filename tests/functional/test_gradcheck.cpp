// gradcheck (double, central differences) of every ember::F function, including the fused
// backwards of softmax, log_softmax and the normalisations, over several dims and layouts.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "ember/autograd/gradcheck.hpp"
#include "ember/nn.hpp"

using ember::Tensor;
using Inputs = std::vector<Tensor<double>>;
namespace F = ember::F;

namespace {

Tensor<double> leaf(const ember::Shape& shape, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  ember::Generator gen(seed);
  return ember::rand<double>(shape, &gen).mul(hi - lo).add(lo).requires_grad_();
}

// Values kept at least `gap` away from the kinks at `points` (finite differences straddling a
// kink would disagree with the one-sided derivative).
Tensor<double> leaf_away(const ember::Shape& shape, uint64_t seed, std::vector<double> points,
                         double gap = 0.05) {
  Tensor<double> t = leaf(shape, seed).detach();
  for (int64_t i = 0; i < t.numel(); ++i) {
    double& v = t.data()[i];
    for (double p : points)
      if (std::abs(v - p) < gap) v = p + (v < p ? -gap : gap);
  }
  return t.requires_grad_();
}

void check(const std::string& what, const std::function<Tensor<double>(const Inputs&)>& fn,
           const Inputs& inputs) {
  CAPTURE(what);
  const ember::GradcheckResult r = ember::gradcheck(fn, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

TEST_CASE("pointwise activations") {
  const auto x = leaf_away({3, 5}, 1, {0.0, -1.0, 1.0, 0.5});
  check("relu", [](const Inputs& in) { return F::relu(in[0]); }, {x});
  check("leaky_relu", [](const Inputs& in) { return F::leaky_relu(in[0], 0.2); }, {x});
  check("elu", [](const Inputs& in) { return F::elu(in[0], 1.5); }, {x});
  check("gelu none", [](const Inputs& in) { return F::gelu(in[0]); }, {x});
  check("gelu tanh", [](const Inputs& in) { return F::gelu(in[0], "tanh"); }, {x});
  check("silu", [](const Inputs& in) { return F::silu(in[0]); }, {x});
  check("mish", [](const Inputs& in) { return F::mish(in[0]); }, {x});
  check("tanh", [](const Inputs& in) { return F::tanh(in[0]); }, {x});
  check("sigmoid", [](const Inputs& in) { return F::sigmoid(in[0]); }, {x});
  check("softplus", [](const Inputs& in) { return F::softplus(in[0]); }, {x});
  // beta * x crosses the threshold inside [-2, 2]: both branches are exercised.
  check("softplus beta=4 threshold=2",
        [](const Inputs& in) { return F::softplus(in[0], 4.0, 2.0); }, {x});
  check("hardtanh", [](const Inputs& in) { return F::hardtanh(in[0]); }, {x});
  check("hardtanh -0.5..0.5", [](const Inputs& in) { return F::hardtanh(in[0], -0.5, 0.5); },
        {leaf_away({3, 5}, 2, {-0.5, 0.5})});
  // A strided (transposed) input.
  check("gelu on a transposed view", [](const Inputs& in) { return F::gelu(in[0].t()); }, {x});
}

TEST_CASE("softmax and log_softmax over every dim, contiguous or not") {
  const auto x = leaf({2, 3, 4}, 3);
  for (int64_t dim : {0, 1, 2, -1}) {
    check("softmax dim " + std::to_string(dim),
          [dim](const Inputs& in) { return F::softmax(in[0], dim); }, {x});
    check("log_softmax dim " + std::to_string(dim),
          [dim](const Inputs& in) { return F::log_softmax(in[0], dim); }, {x});
  }
  check("softmax of a transposed view",
        [](const Inputs& in) { return F::softmax(in[0].transpose(0, 2), -1); }, {x});
  // Weighted outputs: a plain sum of a softmax has zero gradient and would prove little.
  const auto w = leaf({2, 3, 4}, 4);
  check("weighted log_softmax",
        [](const Inputs& in) { return F::log_softmax(in[0], 1).mul(in[1]); }, {x, w});
}

TEST_CASE("linear, dropout and embedding") {
  check("linear 2-d", [](const Inputs& in) { return F::linear(in[0], in[1], in[2]); },
        {leaf({4, 3}, 5), leaf({2, 3}, 6), leaf({2}, 7)});
  check("linear 3-d, no bias", [](const Inputs& in) { return F::linear(in[0], in[1]); },
        {leaf({2, 2, 3}, 8), leaf({5, 3}, 9)});
  check("linear 1-d", [](const Inputs& in) { return F::linear(in[0], in[1], in[2]); },
        {leaf({3}, 10), leaf({2, 3}, 11), leaf({2}, 12)});
  check("linear of transposed views",
        [](const Inputs& in) { return F::linear(in[0].t(), in[1].t(), in[2]); },
        {leaf({3, 4}, 30), leaf({3, 2}, 31), leaf({2}, 32)});
  check("dropout (the same mask in every evaluation)",
        [](const Inputs& in) {
          ember::Generator g(42);
          return F::dropout(in[0], 0.4, true, &g);
        },
        {leaf({4, 5}, 13)});
  const Tensor<int64_t> idx = ember::tensor<int64_t>({{1, 3, 1}, {0, 2, 3}});
  check("embedding", [&](const Inputs& in) { return F::embedding(idx, in[0]); },
        {leaf({4, 2}, 14)});
  // padding_idx deliberately breaks agreement with finite differences on its own row (tested
  // below); the other rows must keep their exact gradient.
  const Tensor<int64_t> idx_no_pad = ember::tensor<int64_t>({{1, 3, 1}, {2, 2, 3}});
  check("embedding with padding_idx 0 (not looked up)",
        [&](const Inputs& in) { return F::embedding(idx_no_pad, in[0], 0); }, {leaf({4, 2}, 15)});
}

TEST_CASE("embedding: the padding row gets no gradient") {
  const Tensor<double> w = leaf({4, 2}, 16);
  F::embedding(ember::tensor<int64_t>({1, 1, 2}), w, 1).sum().backward();
  CHECK(w.grad()(1, 0) == 0.0);
  CHECK(w.grad()(2, 0) == 1.0);
  CHECK_THROWS_WITH_AS(F::embedding(ember::tensor<int64_t>({4}), w),
                       "embedding: index 4 is out of range for 4 embeddings", ember::index_error);
}

TEST_CASE("normalisations: input, weight and bias") {
  const auto x4 = leaf({3, 2, 2, 3}, 17);
  const auto c2 = leaf({2}, 18, 0.5, 1.5);
  const auto b2 = leaf({2}, 19);
  check("batch_norm training [N,C,H,W]",
        [](const Inputs& in) {
          return F::batch_norm(in[0], Tensor<double>(), Tensor<double>(), in[1], in[2], true);
        },
        {x4, c2, b2});
  check("batch_norm training [N,C] with running stats",
        [](const Inputs& in) {
          Tensor<double> rm = ember::zeros<double>({2}), rv = ember::ones<double>({2});
          return F::batch_norm(in[0], rm, rv, in[1], in[2], true, 0.1, 1e-5);
        },
        {leaf({5, 2}, 20), c2, b2});
  check("batch_norm eval",
        [](const Inputs& in) {
          return F::batch_norm(in[0], ember::tensor<double>({0.1, -0.2}),
                               ember::tensor<double>({0.5, 2.0}), in[1], in[2], false);
        },
        {x4, c2, b2});
  check("layer_norm over the last dim",
        [](const Inputs& in) { return F::layer_norm(in[0], {3}, in[1], in[2]); },
        {leaf({4, 3}, 21), leaf({3}, 22), leaf({3}, 23)});
  check("layer_norm over two dims, no affine",
        [](const Inputs& in) {
          return F::layer_norm(in[0], {2, 3});
        },
        {leaf({2, 2, 3}, 24)});
  check("group_norm", [](const Inputs& in) { return F::group_norm(in[0], 2, in[1], in[2]); },
        {leaf({2, 4, 3}, 25), leaf({4}, 26), leaf({4}, 27)});
}

TEST_CASE("bad arguments are named") {
  const Tensor<double> x = ember::zeros<double>({2, 3});
  CHECK_THROWS_WITH_AS(F::dropout(x, 1.5),
                       "dropout: dropout probability has to be between 0 and 1, but got p = 1.5",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(F::gelu(x, "fast"),
                       "gelu: approximate must be \"none\" or \"tanh\", got \"fast\"",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(F::layer_norm(x, {4}),
                       "layer_norm: expected input of shape [*, 4], got [2, 3]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(
      F::group_norm(x, 2),
      "group_norm: expected the number of channels 3 to be divisible by num_groups 2",
      ember::value_error);
  CHECK_THROWS_WITH_AS(
      F::batch_norm(ember::zeros<double>({1, 3}), Tensor<double>(), Tensor<double>(),
                    Tensor<double>(), Tensor<double>(), true),
      "batch_norm: expected more than 1 value per channel when training, got input of shape [1, 3]",
      ember::value_error);
}

TEST_CASE("linear: the weight gradient is g^T x in the weight's own layout") {
  const Tensor<double> x = leaf({5, 3}, 40), w = leaf({4, 3}, 41), g = leaf({5, 4}, 42).detach();
  F::linear(x, w).backward(g);
  CHECK(w.grad().is_contiguous());
  CHECK(ember::allclose(w.grad(), g.t().mm(x.detach()), 1e-12, 1e-12));
  CHECK(ember::allclose(x.grad(), g.mm(w.detach()), 1e-12, 1e-12));
  // Only one side needs a gradient.
  const Tensor<double> x2 = leaf({5, 3}, 43).detach();
  const Tensor<double> w2 = leaf({4, 3}, 44);
  F::linear(x2, w2).backward(g);
  CHECK(ember::allclose(w2.grad(), g.t().mm(x2), 1e-12, 1e-12));
}
