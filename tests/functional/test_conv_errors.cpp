// Error texts of the conv and pooling functions.
#include <doctest/doctest.h>

#include "ember/ember.hpp"
#include "ember/functional/conv.hpp"
#include "ember/functional/pooling.hpp"

namespace F = ember::F;
using ember::Tensor;
using ember::zeros;

TEST_CASE("conv2d: wrong input channels name both shapes") {
  const Tensor<float> w = zeros<float>({16, 3, 3, 3});
  CHECK_THROWS_WITH_AS(F::conv2d(zeros<float>({8, 1, 28, 28}), w),
                       "conv2d: expected input of shape [N, 3, H, W], got [8, 1, 28, 28]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(F::conv2d(zeros<float>({8, 3, 28}), w),  // unbatched [C, H, W]: 8 channels
                       "conv2d: expected input of shape [N, 3, H, W], got [8, 3, 28]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(F::conv2d(zeros<float>({8, 3, 5, 5}), w, {}, 1, 0, 1, 2),
                       "conv2d: expected input of shape [N, 6, H, W], got [8, 3, 5, 5]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(F::conv1d(zeros<float>({8, 2, 5}), zeros<float>({4, 3, 3})),
                       "conv1d: expected input of shape [N, 3, L], got [8, 2, 5]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(F::conv_transpose2d(zeros<float>({1, 3, 2, 2}), w),
                       "conv_transpose2d: expected input of shape [N, 16, H, W], got [1, 3, 2, 2]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(F::conv2d(zeros<float>({8, 3, 5, 5}), w, zeros<float>({3})),
                       "conv2d: expected bias of shape [16], got [3]", ember::shape_error);
}

TEST_CASE("conv2d: a kernel larger than the padded input") {
  const Tensor<float> w = zeros<float>({16, 3, 3, 3});
  CHECK_THROWS_WITH_AS(
      F::conv2d(zeros<float>({8, 3, 2, 2}), w),
      "conv2d: kernel size [3, 3] (with dilation) is larger than the padded input size [2, 2]",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(
      F::conv2d(zeros<float>({8, 3, 4, 4}), w, {}, 1, 0, 2),
      "conv2d: kernel size [5, 5] (with dilation) is larger than the padded input size [4, 4]",
      ember::shape_error);
  // Padding makes it fit.
  CHECK(F::conv2d(zeros<float>({8, 3, 2, 2}), w, {}, 1, 1).shape() == ember::Shape{8, 16, 2, 2});
}

TEST_CASE("conv2d: invalid groups, stride, padding, dilation") {
  const Tensor<float> x = zeros<float>({8, 3, 5, 5}), w = zeros<float>({16, 3, 3, 3});
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, 1, 0, 1, 0), "conv2d: groups must be positive, got 0",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(
      F::conv2d(zeros<float>({8, 15, 5, 5}), w, {}, 1, 0, 1, 5),
      "conv2d: groups (5) must divide the weight's first dim; weight shape [16, 3, 3, 3]",
      ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, 0), "conv2d: stride must be positive, got [0, 0]",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, {1, 2, 3}),
                       "conv2d: stride must have 1 or 2 values, got [1, 2, 3]", ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, 1, {0, -1}),
                       "conv2d: padding must be non-negative, got [0, -1]", ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, 1, 0, 0),
                       "conv2d: dilation must be positive, got [0, 0]", ember::value_error);
  CHECK_THROWS_WITH_AS(
      F::conv2d(x, w, {}, 2, "same"),
      "conv2d: padding='same' is not supported for strided convolutions (stride [2, 2])",
      ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv2d(x, w, {}, 1, "full"),
                       "conv2d: padding must be a number, 'same' or 'valid', got 'full'",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(F::conv_transpose2d(zeros<float>({1, 16, 2, 2}), w, {}, 1, 0, 1),
                       "conv_transpose2d: output_padding [1, 1] must be smaller than either stride "
                       "[1, 1] or dilation [1, 1]",
                       ember::value_error);
}

TEST_CASE("pooling: invalid arguments") {
  CHECK_THROWS_WITH_AS(
      F::max_pool2d(zeros<float>({8, 3, 5, 5}), 3, 1, 2),
      "max_pool2d: padding [2, 2] should be at most half of the (effective) kernel size [3, 3]",
      ember::value_error);
  CHECK_THROWS_WITH_AS(F::max_pool2d(zeros<float>({5, 5}), 3),
                       "max_pool2d: expected a 3-d or 4-d input [N, C, H, W], got [5, 5]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(
      F::avg_pool1d(zeros<float>({1, 1, 2}), 3),
      "avg_pool1d: input of shape [1, 1, 2] is too small for kernel_size [3] (output size [0])",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(F::adaptive_avg_pool2d(zeros<float>({1, 1, 2, 2}), {0, 1}),
                       "adaptive_avg_pool2d: output_size must be positive, got [0, 1]",
                       ember::value_error);
}

// PyTorch accepts an empty batch: an empty output, and weight and bias gradients of zero.
TEST_CASE("conv2d / conv_transpose2d: an empty batch") {
  struct Case {
    int64_t c, oc, k, groups;
  };
  // im2col, Winograd (3x3, >= 16 channels), depthwise, pointwise.
  for (const Case& cs :
       {Case{3, 4, 3, 1}, Case{16, 16, 3, 1}, Case{4, 8, 3, 4}, Case{5, 6, 1, 1}}) {
    CAPTURE(cs.c);
    CAPTURE(cs.groups);
    Tensor<float> x = zeros<float>({0, cs.c, 6, 6}).requires_grad_(true);
    Tensor<float> w =
        ember::ones<float>({cs.oc, cs.c / cs.groups, cs.k, cs.k}).requires_grad_(true);
    Tensor<float> b = ember::ones<float>({cs.oc}).requires_grad_(true);
    const Tensor<float> y = F::conv2d(x, w, b, 1, cs.k / 2, 1, cs.groups);
    CHECK(y.shape() == ember::Shape{0, cs.oc, 6, 6});
    y.sum().backward();
    CHECK(x.grad().shape() == x.shape());
    CHECK(w.grad().abs().max().item() == 0.0f);
    CHECK(b.grad().abs().max().item() == 0.0f);
  }
  Tensor<float> x = zeros<float>({0, 4, 5, 5}).requires_grad_(true);
  Tensor<float> w = ember::ones<float>({4, 3, 3, 3}).requires_grad_(true);
  Tensor<float> b = ember::ones<float>({3}).requires_grad_(true);
  const Tensor<float> y = F::conv_transpose2d(x, w, b);
  CHECK(y.shape() == ember::Shape{0, 3, 7, 7});
  y.sum().backward();
  CHECK(w.grad().abs().max().item() == 0.0f);
  CHECK(b.grad().abs().max().item() == 0.0f);
}
