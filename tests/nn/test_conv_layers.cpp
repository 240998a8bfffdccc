// Conv and pooling modules: parameters (names, shapes, init bounds), repr, error texts, forward
// through the functional ops, and PyTorch parity of a layer's gradients.
#include <doctest/doctest.h>

#include <cmath>

#include "ember/ember.hpp"
#include "ember/nn/conv.hpp"
#include "ember/nn/pooling.hpp"

namespace nn = ember::nn;
namespace F = ember::F;
using ember::Tensor;

namespace {

// Every value lies in [-bound, bound], and the spread is not degenerate.
template <class T>
void check_uniform_bound(const Tensor<T>& t, double bound) {
  const Tensor<T> c = t.contiguous();
  double lo = 1e30, hi = -1e30;
  for (int64_t i = 0; i < c.numel(); ++i) {
    lo = std::min(lo, double(c.data()[i]));
    hi = std::max(hi, double(c.data()[i]));
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi - lo > bound);  // hundreds of draws cover more than half the range
}

}  // namespace

TEST_CASE("Conv2d: parameters, shapes and PyTorch's default init") {
  nn::Conv2d conv(nn::Conv2dOptions(6, 16, 5).groups(2));
  const auto params = conv.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK(conv.weight.shape() == ember::Shape{16, 3, 5, 5});
  CHECK(conv.bias.shape() == ember::Shape{16});
  // kaiming_uniform_(a = sqrt(5)): bound = sqrt(6 / ((1 + 5) * fan_in)) = 1 / sqrt(fan_in), and the
  // bias bound is 1 / sqrt(fan_in); fan_in = 3 * 5 * 5.
  check_uniform_bound(conv.weight, 1.0 / std::sqrt(75.0));
  check_uniform_bound(conv.bias, 1.0 / std::sqrt(75.0));

  nn::Conv1d<double> c1(nn::Conv1dOptions(4, 8, 3).bias(false));
  CHECK(c1.named_parameters().size() == 1);
  CHECK(c1.weight.shape() == ember::Shape{8, 4, 3});
  CHECK_FALSE(c1.bias.defined());

  nn::ConvTranspose2d ct(nn::ConvTranspose2dOptions(4, 6, {3, 2}).groups(2));
  CHECK(ct.weight.shape() == ember::Shape{4, 3, 3, 2});
  CHECK(ct.bias.shape() == ember::Shape{6});
  check_uniform_bound(ct.weight, 1.0 / std::sqrt(18.0));  // fan_in = weight.size(1) * 3 * 2
}

TEST_CASE("conv modules: repr as PyTorch prints it") {
  CHECK(nn::Conv2d(3, 16, 3).repr() == "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))");
  CHECK(nn::Conv2d(nn::Conv2dOptions(3, 16, {3, 5}).stride(2).padding(1).dilation(2).groups(1).bias(false))
            .repr() ==
        "Conv2d(3, 16, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "bias=False)");
  CHECK(nn::Conv2d(nn::Conv2dOptions(4, 4, 3).padding("same").groups(4)).repr() ==
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=4)");
  CHECK(nn::Conv1d(4, 8, 3).repr() == "Conv1d(4, 8, kernel_size=(3,), stride=(1,))");
  CHECK(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1).output_padding(1))
            .repr() ==
        "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "output_padding=(1, 1))");
  CHECK(nn::MaxPool2d(2).repr() ==
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  CHECK(nn::MaxPool1d(nn::MaxPool1dOptions(3).stride(2).ceil_mode(true)).repr() ==
        "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)");
  CHECK(nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1)).repr() ==
        "AvgPool2d(kernel_size=3, stride=2, padding=1)");
  CHECK(nn::AvgPool1d(3).repr() == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))");
  CHECK(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({5, 7})).repr() ==
        "AdaptiveAvgPool2d(output_size=(5, 7))");
}

TEST_CASE("conv modules: error texts name the layer and both shapes") {
  nn::Conv2d conv(3, 16, 3);
  CHECK_THROWS_WITH_AS(conv(ember::zeros<float>({8, 1, 28, 28})),
                       "Conv2d(3, 16, kernel_size=3): expected input of shape [N, 3, H, W], got "
                       "[8, 1, 28, 28]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(conv(ember::zeros<float>({8, 3, 2, 2})),
                       "Conv2d(3, 16, kernel_size=3): kernel size [3, 3] (with dilation) is larger "
                       "than the padded input size [2, 2]",
                       ember::shape_error);
  nn::Conv1d c1(4, 8, 5);
  CHECK_THROWS_WITH_AS(c1(ember::zeros<float>({2, 3, 10})),
                       "Conv1d(4, 8, kernel_size=5): expected input of shape [N, 4, L], got [2, 3, 10]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).groups(2)),
                       "Conv2d(3, 16, kernel_size=3): in_channels (3) must be divisible by groups (2)",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(4)),
                       "Conv2d(4, 6, kernel_size=3): out_channels (6) must be divisible by groups (4)",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).stride(0)),
                       "Conv2d(3, 16, kernel_size=3): stride must be positive, got [0, 0]",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding(-1)),
                       "Conv2d(3, 16, kernel_size=3): padding must be non-negative, got [-1, -1]",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding("same").stride(2)),
                       "Conv2d(3, 16, kernel_size=3): padding='same' is not supported for strided "
                       "convolutions (stride [2, 2])",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding_mode("reflect")),
                       "Conv2d(3, 16, kernel_size=3): padding_mode 'reflect' is not supported by "
                       "ember yet; only 'zeros' is",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding_mode("mirror")),
                       "Conv2d(3, 16, kernel_size=3): padding_mode must be one of 'zeros', "
                       "'reflect', 'replicate', 'circular', got 'mirror'",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(nn::MaxPool2d(2)(ember::zeros<float>({4, 4})),
                       "MaxPool2d: expected a 3-d or 4-d input [N, C, H, W], got [4, 4]",
                       ember::shape_error);
}

TEST_CASE("conv modules: forward equals the functional op, gradients reach the parameters") {
  ember::Generator gen(3);
  nn::Conv2d<double> conv(nn::Conv2dOptions(2, 4, 3).stride(2).padding(1), &gen);
  const Tensor<double> x = ember::randn<double>({2, 2, 7, 7}, &gen);
  const Tensor<double> y = conv(x);
  const Tensor<double> ref = F::conv2d(x, conv.weight, conv.bias, 2, 1);
  CHECK(y.shape() == ember::Shape{2, 4, 4, 4});
  CHECK(y.sub(ref).abs().max().item() == 0.0);
  y.sum().backward();
  REQUIRE(conv.weight.grad().defined());
  REQUIRE(conv.bias.grad().defined());
  // d sum(y) / d bias[c] = the number of output positions per channel, N * 4 * 4.
  CHECK(conv.bias.grad().sub(32.0).abs().max().item() < 1e-12);

  nn::MaxPool2d<double> pool(2);
  nn::AvgPool2d<double> avg(2);
  nn::AdaptiveAvgPool2d<double> ada(1);
  const Tensor<double> z = ada(avg(pool(ember::randn<double>({1, 3, 8, 8}, &gen))));
  CHECK(z.shape() == ember::Shape{1, 3, 1, 1});
  nn::ConvTranspose2d<double> ct(nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1).output_padding(1), &gen);
  CHECK(ct(y).shape() == ember::Shape{2, 2, 8, 8});
}
