// gradcheck (double, small shapes) of conv1d, conv2d and conv_transpose2d over their options, and
// 1 vs 2 threads bitwise identical; conv2d's fast paths (bias inside the GEMM, the dot-product
// weight gradient, flat im2col rows) against direct loops at sizes those paths see.
#include <doctest/doctest.h>

#include <cmath>
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
      {"depthwise multiplier 2, stride 2, dilation 2",
       {2, 2, 7, 7},
       {4, 1, 3, 3},
       2,
       1,
       2,
       2,
       true},
      {"1x1 (plain GEMM path)", {2, 3, 4, 3}, {5, 3, 1, 1}, 1, 0, 1, 1, true},
      {"1x1 groups 3", {2, 6, 3, 3}, {3, 2, 1, 1}, 1, 0, 1, 3, true},
      {"1x1 stride 2", {2, 3, 5, 5}, {2, 3, 1, 1}, 2, 0, 1, 1, true},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    Inputs in{leaf(c.x, seed++), leaf(c.w, seed++)};
    if (c.bias) in.push_back(leaf({c.w[0]}, seed++));
    check(
        c.name,
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
  check("plain", [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], v[2]); },
        {leaf({2, 3, 3, 4}, 70), leaf({3, 2, 3, 3}, 71), leaf({2}, 72)});
  check("stride 2 padding 1 output_padding 1",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], v[2], 2, 1, 1); },
        {leaf({2, 2, 3, 3}, 73), leaf({2, 3, 3, 3}, 74), leaf({3}, 75)});
  check("groups 2 dilation 2 no bias",
        [](const Inputs& v) { return F::conv_transpose2d(v[0], v[1], {}, 1, 1, 0, 2, 2); },
        {leaf({1, 4, 3, 3}, 76), leaf({4, 3, 3, 2}, 77)});
  check("depthwise stride (2,1)",
        [](const Inputs& v) {
          return F::conv_transpose2d(v[0], v[1], v[2], {2, 1}, 0, 0, 2);
        },
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

TEST_CASE("conv2d with an odd batch: bitwise identical with 1 and 2 threads") {
  // 1 -> 32 (im2col, dot-product weight gradient, bias in the GEMM), 16 -> 24 5x5 (K = 400: bias
  // gradient outside it), then the Winograd path:
  // 16 -> 24 at batch 13 (fixed chunks of uneven size), 32 -> 64 at batch 64 (several blocks per
  // chunk), 32 -> 48 with images whose tile rows span several blocks; 3x3 padding 1.
  for (const auto& [xs, ws] :
       {std::pair<ember::Shape, ember::Shape>{{13, 1, 20, 20}, {32, 1, 3, 3}},
        std::pair<ember::Shape, ember::Shape>{{13, 16, 10, 9}, {24, 16, 5, 5}},
        std::pair<ember::Shape, ember::Shape>{{13, 16, 11, 9}, {24, 16, 3, 3}},
        std::pair<ember::Shape, ember::Shape>{{64, 32, 14, 14}, {64, 32, 3, 3}},
        std::pair<ember::Shape, ember::Shape>{{4, 32, 36, 30}, {48, 32, 3, 3}}}) {
    std::vector<Tensor<float>> runs[2];
    for (int threads : {1, 2}) {
      ember::set_num_threads(threads);
      ember::Generator gen(5);
      Tensor<float> x = ember::randn<float>(xs, &gen).requires_grad_();
      Tensor<float> w = ember::randn<float>(ws, &gen).requires_grad_();
      Tensor<float> b = ember::randn<float>({ws[0]}, &gen).requires_grad_();
      Tensor<float> y = F::conv2d(x, w, b, 1, 1);
      y.mul(y).sum().backward();
      runs[threads - 1] = {y, x.grad(), w.grad(), b.grad()};
    }
    ember::set_num_threads(1);
    for (std::size_t i = 0; i < runs[0].size(); ++i) {
      CAPTURE(i);
      CHECK(bitwise_equal(runs[0][i], runs[1][i]));
    }
  }
}

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

namespace {

// conv2d (stride 1, padding p, groups), its input, weight and bias gradients for the upstream
// gradient gy, by direct loops in double.
struct DirectConv {
  std::vector<double> y, gx, gw, gb;
};

DirectConv direct_conv(const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>& b,
                       const Tensor<float>& gy, int64_t p, int64_t groups) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OC = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3);
  const int64_t OH = H + 2 * p - KH + 1, OW = W + 2 * p - KW + 1, OCg = OC / groups;
  DirectConv r;
  r.y.assign(static_cast<std::size_t>(N * OC * OH * OW), 0.0);
  r.gx.assign(static_cast<std::size_t>(x.numel()), 0.0);
  r.gw.assign(static_cast<std::size_t>(w.numel()), 0.0);
  r.gb.assign(static_cast<std::size_t>(OC), 0.0);
  const float *xd = x.data(), *wd = w.data(), *bd = b.data(), *gd = gy.data();
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t oc = 0; oc < OC; ++oc) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t o = ((n * OC + oc) * OH + oh) * OW + ow;
          double acc = bd[oc];
          const double g = gd[o];
          r.gb[static_cast<std::size_t>(oc)] += g;
          for (int64_t c = 0; c < Cg; ++c) {
            const int64_t ic = oc / OCg * Cg + c;
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t ih = oh - p + kh;
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t iw = ow - p + kw;
                if (iw < 0 || iw >= W) continue;
                const int64_t xi = ((n * C + ic) * H + ih) * W + iw;
                const int64_t wi = ((oc * Cg + c) * KH + kh) * KW + kw;
                acc += double(wd[wi]) * xd[xi];
                r.gx[static_cast<std::size_t>(xi)] += double(wd[wi]) * g;
                r.gw[static_cast<std::size_t>(wi)] += double(xd[xi]) * g;
              }
            }
          }
          r.y[static_cast<std::size_t>(o)] = acc;
        }
      }
    }
  }
  return r;
}

void check_near(const std::string& what, const Tensor<float>& got, const std::vector<double>& want,
                double scale) {
  CAPTURE(what);
  REQUIRE(static_cast<std::size_t>(got.numel()) == want.size());
  const Tensor<float> c = got.contiguous();
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(double(c.data()[i]) - want[i]));
  }
  CHECK(worst <= 1e-5 * scale);
}

}  // namespace

TEST_CASE("conv2d fast paths match direct loops (odd batch, bias in and out of the GEMM)") {
  struct Case {
    ember::Shape x, w;
    int64_t pad, groups;
  };
  // 1 -> 32 channels (the dot-product weight gradient, K = 9), 16 -> 8 (K = 144: the bias
  // gradient outside the GEMM), 6 -> 10 in 2 groups with a 5x3 kernel and odd image sizes.
  const Case cases[] = {{{13, 1, 28, 28}, {32, 1, 3, 3}, 1, 1},
                        {{5, 16, 9, 7}, {8, 16, 3, 3}, 1, 1},
                        {{3, 6, 11, 6}, {10, 3, 5, 3}, 2, 2},
                        {{2, 4, 5, 5}, {6, 4, 3, 3}, 0, 1}};
  for (const Case& k : cases) {
    CAPTURE(k.x);
    CAPTURE(k.w);
    ember::Generator gen(21);
    Tensor<float> x = ember::randn<float>(k.x, &gen).requires_grad_();
    Tensor<float> w = ember::randn<float>(k.w, &gen).requires_grad_();
    Tensor<float> b = ember::randn<float>({k.w[0]}, &gen).requires_grad_();
    Tensor<float> y = F::conv2d(x, w, b, 1, k.pad, 1, k.groups);
    const Tensor<float> gy = ember::randn<float>(y.shape(), &gen);
    y.backward(gy);
    const DirectConv want = direct_conv(x, w, b, gy, k.pad, k.groups);
    // Sums of up to a few thousand unit-variance terms.
    const double terms = double(k.x[0] * y.size(2) * y.size(3));
    check_near("y", y, want.y, 10.0);
    check_near("grad input", x.grad(), want.gx, 10.0);
    check_near("grad weight", w.grad(), want.gw, std::sqrt(terms) * 10.0);
    check_near("grad bias", b.grad(), want.gb, std::sqrt(terms) * 10.0);
  }
}
