// gradcheck (double, small shapes) of conv1d, conv2d and conv_transpose2d over their options, and
// 1 vs 2 threads bitwise identical.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/functional/conv.hpp"

namespace F = ember::F;
using ember::Tensor;
using Inputs = std::vector<Tensor<double>>;

namespace {

Tensor<double> leaf(const ember::Shape& shape, uint64_t seed) {
  ember::Generator gen(seed);
  return ember::rand<double>(shape, &gen).mul(2.0).sub(1.0).requires_grad_();
}

void check(const std::string& what, const std::function<Tensor<double>(const Inputs&)>& fn,
           const Inputs& inputs) {
  CAPTURE(what);
  const ember::GradcheckResult r = ember::gradcheck(fn, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

TEST_CASE("conv2d gradcheck over stride, padding, dilation, groups, bias") {
  struct Case {
    std::string name;
    ember::Shape x, w;
    F::Ints stride;
    F::ConvPadding padding;
    F::Ints dilation;
    int64_t groups;
    bool bias;
  };
  const std::vector<Case> cases = {
      {"plain", {2, 3, 5, 5}, {4, 3, 3, 3}, 1, 0, 1, 1, true},
      {"no bias", {2, 3, 5, 5}, {4, 3, 3, 3}, 1, 0, 1, 1, false},
      {"stride 2", {2, 2, 6, 5}, {3, 2, 3, 2}, 2, 0, 1, 1, true},
      {"padding 1", {1, 2, 4, 4}, {3, 2, 3, 3}, 1, 1, 1, 1, true},
      {"stride (2,1) padding (1,2)", {2, 2, 5, 4}, {2, 2, 3, 3}, {2, 1}, {1, 2}, 1, 1, true},
      {"same, odd kernel", {1, 2, 5, 4}, {3, 2, 3, 3}, 1, "same", 1, 1, true},
      {"same, even kernel", {1, 2, 5, 4}, {2, 2, 2, 4}, 1, "same", 1, 1, true},
      {"valid", {1, 2, 5, 4}, {2, 2, 2, 2}, 1, "valid", 1, 1, true},
      {"dilation 2", {2, 2, 7, 6}, {3, 2, 3, 2}, 1, 1, 2, 1, true},
      {"same with dilation 2", {1, 2, 6, 6}, {2, 2, 3, 3}, 1, "same", 2, 1, false},
      {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, 1, 1, 1, 2, true},
      {"depthwise", {2, 3, 5, 5}, {3, 1, 3, 3}, 1, 1, 1, 3, true},
      {"depthwise multiplier 2, stride 2, dilation 2", {2, 2, 7, 7}, {4, 1, 3, 3}, 2, 1, 2, 2, true},
      {"1x1 (plain GEMM path)", {2, 3, 4, 3}, {5, 3, 1, 1}, 1, 0, 1, 1, true},
      {"1x1 groups 3", {2, 6, 3, 3}, {3, 2, 1, 1}, 1, 0, 1, 3, true},
      {"1x1 stride 2", {2, 3, 5, 5}, {2, 3, 1, 1}, 2, 0, 1, 1, true},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    Inputs in{leaf(c.x, seed++), leaf(c.w, seed++)};
    if (c.bias) in.push_back(leaf({c.w[0]}, seed++));
    check(c.name,
          [&](const Inputs& v) {
            return F::conv2d(v[0], v[1], c.bias ? v[2] : Tensor<double>(), c.stride, c.padding,
                             c.dilation, c.groups);
          },
          in);
  }
}

TEST_CASE("conv2d gradcheck: non-contiguous input and weight, unbatched input") {
  check("transposed input",
        [](const Inputs& v) { return F::conv2d(v[0].transpose(2, 3), v[1], v[2], 1, 1); },
        {leaf({2, 2, 4, 5}, 40), leaf({3, 2, 3, 3}, 41), leaf({3}, 42)});
  check("sliced weight",
        [](const Inputs& v) { return F::conv2d(v[0], v[1].slice(0, 0, 6, 2), v[2], 2); },
        {leaf({1, 2, 5, 5}, 43), leaf({6, 2, 2, 2}, 44), leaf({3}, 45)});
  check("unbatched [C, H, W]", [](const Inputs& v) { return F::conv2d(v[0], v[1], v[2], 1, 1); },
        {leaf({2, 4, 4}, 46), leaf({3, 2, 3, 3}, 47), leaf({3}, 48)});
}

TEST_CASE("conv1d gradcheck") {
  check("plain", [](const Inputs& v) { return F::conv1d(v[0], v[1], v[2]); },
        {leaf({2, 3, 7}, 50), leaf({4, 3, 3}, 51), leaf({4}, 52)});
  check("stride 2 padding 1 dilation 2",
        [](const Inputs& v) { return F::conv1d(v[0], v[1], v[2], 2, 1, 2); },
        {leaf({2, 2, 9}, 53), leaf({3, 2, 3}, 54), leaf({3}, 55)});
  check("same even kernel", [](const Inputs& v) { return F::conv1d(v[0], v[1], {}, 1, "same"); },
        {leaf({1, 2, 6}, 56), leaf({2, 2, 4}, 57)});
  check("groups 2", [](const Inputs& v) { return F::conv1d(v[0], v[1], v[2], 1, 0, 1, 2); },
        {leaf({2, 4, 6}, 58), leaf({4, 2, 3}, 59), leaf({4}, 60)});
  check("depthwise", [](const Inputs& v) { return F::conv1d(v[0], v[1], v[2], 1, 1, 1, 3); },
        {leaf({2, 3, 6}, 61), leaf({3, 1, 3}, 62), leaf({3}, 63)});
}

TEST_CASE("conv_transpose2d gradcheck") {
  check("plain",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], v[2]); },
        {leaf({2, 3, 3, 4}, 70), leaf({3, 2, 3, 3}, 71), leaf({2}, 72)});
  check("stride 2 padding 1 output_padding 1",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], v[2], 2, 1, 1); },
        {leaf({2, 2, 3, 3}, 73), leaf({2, 3, 3, 3}, 74), leaf({3}, 75)});
  check("groups 2 dilation 2 no bias",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], {}, 1, 1, 0, 2, 2); },
        {leaf({1, 4, 3, 3}, 76), leaf({4, 3, 3, 2}, 77)});
  check("depthwise stride (2,1)",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], v[2], {2, 1}, 0, 0, 2); },
        {leaf({2, 2, 3, 3}, 78), leaf({2, 1, 2, 3}, 79), leaf({2}, 80)});
  check("non-contiguous input",
        [](const Inputs& v) { return F::conv_transpose2d(v[0].transpose(2, 3), v[1], v[2], 2); },
        {leaf({1, 2, 3, 4}, 81), leaf({2, 2, 2, 2}, 82), leaf({2}, 83)});
}

namespace {

// Forward and all three gradients at the given thread count.
std::vector<Tensor<float>> run_conv(int threads, int64_t groups, const ember::Shape& wshape) {
  ember::set_num_threads(threads);
  ember::Generator gen(7);
  Tensor<float> x = ember::randn<float>({16, 4, 12, 12}, &gen).requires_grad_();
  Tensor<float> w = ember::randn<float>(wshape, &gen).requires_grad_();
  Tensor<float> b = ember::randn<float>({wshape[0]}, &gen).requires_grad_();
  Tensor<float> y = F::conv2d(x, w, b, 1, 1, 1, groups);
  y.mul(y).sum().backward();
  Tensor<float> t = ember::randn<float>({16, 4, 12, 12}, &gen).requires_grad_();
  Tensor<float> tw = ember::randn<float>({4, 3, 3, 3}, &gen).requires_grad_();
  Tensor<float> z = F::conv_transpose2d(t, tw, {}, 2, 1, 1);
  z.mul(z).sum().backward();
  ember::set_num_threads(1);
  return {y, x.grad(), w.grad(), b.grad(), z, t.grad(), tw.grad()};
}

bool bitwise_equal(const Tensor<float>& a, const Tensor<float>& b) {
  if (a.shape() != b.shape()) return false;
  const Tensor<float> ca = a.contiguous(), cb = b.contiguous();
  return std::equal(ca.data(), ca.data() + ca.numel(), cb.data());
}

}  // namespace

TEST_CASE("conv results are bitwise identical with 1 and 2 threads") {
  for (int64_t groups : {1, 2, 4}) {
    CAPTURE(groups);
    const ember::Shape wshape{8, 4 / groups, 3, 3};
    const auto one = run_conv(1, groups, wshape), two = run_conv(2, groups, wshape);
    for (std::size_t i = 0; i < one.size(); ++i) {
      CAPTURE(i);
      CHECK(bitwise_equal(one[i], two[i]));
    }
  }
}
