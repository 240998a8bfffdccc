// Layer behaviour beyond the PyTorch parity cases: input checks and their texts, dropout's
// statistics, BatchNorm's modes and counters, Sequential chaining.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "ember/nn.hpp"

using ember::Tensor;
namespace nn = ember::nn;

TEST_CASE("wrong input shapes name the layer and both shapes") {
  nn::BatchNorm2d bn(16);
  CHECK_THROWS_WITH_AS(
      bn.forward(ember::zeros<float>({8, 3, 32, 32})),
      "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): "
      "expected input of shape [N, 16, H, W], got [8, 3, 32, 32]",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(
      bn.forward(ember::zeros<float>({8, 16, 32})),
      "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): "
      "expected input of shape [N, 16, H, W], got [8, 16, 32]",
      ember::shape_error);
  nn::BatchNorm1d bn1(4);
  CHECK_THROWS_WITH_AS(
      bn1.forward(ember::zeros<float>({2, 4, 3, 3})),
      "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): "
      "expected input of shape [N, 4] or [N, 4, L], got [2, 4, 3, 3]",
      ember::shape_error);
  nn::LayerNorm ln(std::vector<int64_t>{3, 4});
  CHECK_THROWS_WITH_AS(ln.forward(ember::zeros<float>({2, 4, 3})),
                       "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True): expected input of "
                       "shape [*, 3, 4], got [2, 4, 3]",
                       ember::shape_error);
  nn::GroupNorm gn(2, 6);
  CHECK_THROWS_WITH_AS(
      gn.forward(ember::zeros<float>({2, 4})),
      "GroupNorm(2, 6, eps=1e-05, affine=True): expected input of shape [N, 6, *], got [2, 4]",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(nn::GroupNorm(4, 6),
                       "GroupNorm: num_channels 6 must be divisible by num_groups 4",
                       ember::value_error);
  nn::Unflatten uf(1, {2, 3});
  CHECK_THROWS_WITH_AS(
      uf.forward(ember::zeros<float>({2, 5})),
      "Unflatten(dim=1, unflattened_size=(2, 3)): the sizes [2, 3] do not multiply "
      "to 5, the size of dim 1 of the input [2, 5]",
      ember::shape_error);
  nn::Embedding emb(5, 2);
  CHECK_THROWS_WITH_AS(emb.forward(ember::tensor<int64_t>({0, 5})),
                       "embedding: index 5 is out of range for 5 embeddings", ember::index_error);
}

TEST_CASE("Dropout: p is checked, eval is the identity, training keeps the mean") {
  CHECK_THROWS_WITH_AS(nn::Dropout(1.5),
                       "Dropout: dropout probability has to be between 0 and 1, but got p = 1.5",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Dropout(-0.1),
                       "Dropout: dropout probability has to be between 0 and 1, but got p = -0.1",
                       ember::value_error);
  ember::Generator g(11);
  nn::Dropout<double> d(0.3, &g);
  const Tensor<double> x = ember::ones<double>({100, 100});
  d.eval();
  CHECK(d.forward(x).shares_storage_with(x));
  d.train();
  const Tensor<double> y = d.forward(x);
  int64_t zeros = 0;
  bool scaled = true;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double v = y.data()[i];
    zeros += v == 0.0;
    scaled = scaled && (v == 0.0 || std::abs(v - 1.0 / 0.7) < 1e-15);
  }
  CHECK(scaled);
  // Binomial(10000, 0.3): standard deviation sqrt(10000 * 0.3 * 0.7) = 45.8; allow 5 of them.
  CHECK(std::abs(static_cast<double>(zeros) - 3000.0) < 5 * 45.8);
  nn::Dropout<double> all(1.0);
  CHECK(all.forward(x).abs().sum().item() == 0.0);
  // The same generator state gives the same mask.
  ember::Generator g1(5), g2(5);
  CHECK(ember::F::dropout(x, 0.5, true, &g1)
            .sub(ember::F::dropout(x, 0.5, true, &g2))
            .abs()
            .sum()
            .item() == 0.0);
}

TEST_CASE("BatchNorm: counters, running statistics and eval mode") {
  nn::BatchNorm1d<double> bn(2);
  const Tensor<double> x = ember::tensor<double>({{1.0, 10.0}, {3.0, 20.0}, {5.0, 60.0}});
  bn.forward(x);
  bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 2);
  // Batch mean of channel 0 is 3 (unbiased var 4): after two updates with momentum 0.1,
  // running_mean = 3 * (1 - 0.9^2) and running_var = 0.81 + 4 * 0.19.
  CHECK(bn.running_mean(0) == doctest::Approx(3 * 0.19).epsilon(1e-14));
  CHECK(bn.running_var(0) == doctest::Approx(0.81 + 4 * 0.19).epsilon(1e-14));
  bn.eval();
  const Tensor<double> y = bn.forward(x);
  CHECK(bn.num_batches_tracked.item() == 2);  // eval does not count
  CHECK(y(0, 0) == doctest::Approx((1.0 - 0.57) / std::sqrt(1.57 + 1e-5)).epsilon(1e-14));
  // momentum = None: a cumulative average, so two identical batches give the batch statistics.
  nn::BatchNorm1d<double> cum(nn::BatchNormOptions(2).momentum(std::nullopt));
  cum.forward(x);
  cum.forward(x);
  CHECK(cum.running_mean(0) == doctest::Approx(3.0).epsilon(1e-14));
}

TEST_CASE("Sequential chains modules and switches their mode") {
  ember::manual_seed(3);
  auto net =
      std::make_shared<nn::Sequential<>>(nn::Linear(4, 8), nn::BatchNorm1d(8), nn::ReLU(),
                                         nn::Dropout(0.5), nn::Linear(8, 2), nn::LogSoftmax(1));
  const Tensor<float> x = ember::randn<float>({5, 4});
  net->eval();
  const Tensor<float> a = net->forward(x), b = net->forward(x);
  CHECK(a.sub(b).abs().max().item() == 0.0f);  // eval: deterministic
  CHECK(a.exp().sum({1}).sub(1.0f).abs().max().item() < 1e-6f);
  net->train();
  const Tensor<float> y = net->forward(x);
  y.sum().backward();
  for (const auto& p : net->parameters()) CHECK(p.grad().defined());
}

// Sequential runs ReLU -> MaxPool as MaxPool -> ReLU (container.hpp): the same values and the
// same gradients as the functions called in the written order.
TEST_CASE("Sequential's ReLU before a max pool: same outputs and gradients as in order") {
  // 7x7 planes: the pool drops the last row and column (its backward scatters); 6x6: 2x2 windows
  // tile the planes (the backward kernel writes every element).
  for (const int64_t side : {int64_t(7), int64_t(6)}) {
    CAPTURE(side);
    ember::manual_seed(11);
    nn::Sequential<float> net(nn::Conv2d<float>(nn::Conv2dOptions(2, 3, 3).padding(1)),
                              nn::ReLU<float>(), nn::MaxPool2d<float>(2), nn::Flatten<float>(),
                              nn::Linear<float>(3 * 3 * 3, 4), nn::ReLU<float>(),
                              nn::MaxPool1d<float>(nn::MaxPool1dOptions(2).stride(1).padding(1)));
    auto conv = net.at<nn::Conv2d<float>>(0);
    auto fc = net.at<nn::Linear<float>>(4);
    // The bias pushes many windows to all negative values and makes exact ties among the zeros.
    Tensor<float> x = ember::randn<float>({2, 2, side, side});
    x.requires_grad_(true);
    {
      ember::NoGradGuard no_grad;
      conv->bias.sub_(0.5f);
    }
    const Tensor<float> g = ember::randn<float>({2, 5});

    const Tensor<float> y = net.forward(x);
    y.backward(g);
    const Tensor<float> gx = x.grad().clone(), gw = conv->weight.grad().clone(),
                        gfc = fc->weight.grad().clone();
    net.zero_grad();
    x.set_grad(Tensor<float>());

    const Tensor<float> h = ember::F::max_pool2d(ember::F::relu(conv->forward(x)), 2);
    const Tensor<float> ref =
        ember::F::max_pool1d(ember::F::relu(fc->forward(h.flatten(1))), 2, 1, 1);
    ref.backward(g);
    CHECK(y.sub(ref).abs().max().item() == 0.0f);
    CHECK(gx.sub(x.grad()).abs().max().item() == 0.0f);
    CHECK(gw.sub(conv->weight.grad()).abs().max().item() == 0.0f);
    CHECK(gfc.sub(fc->weight.grad()).abs().max().item() == 0.0f);
    CHECK(gx.abs().max().item() > 0.0f);  // the gradients are not trivially zero
  }
}
