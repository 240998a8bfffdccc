// conv2d's Winograd F(2x2, 3x3) path (3x3, stride 1, groups 1, enough channels) against the
// general im2col + GEMM path (detail::conv_forward / conv_backward_input / conv_backward_weight),
// float and double, over padding, odd and even sizes, channel counts that are not multiples of the
// GEMM's panels, and batch sizes; a gradcheck through F::conv2d; 1 vs 2 threads bitwise identical.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/functional/conv.hpp"

namespace wino_test {

namespace F = ember::F;
using ember::Tensor;

// |got - want| <= tol * (1 + max |want|) for every element. Winograd sums the same products in a
// different order, and its transforms add up to 9 input values before the multiplications (and
// 16 products after), so its rounding error scales with the magnitude of the largest terms rather
// than of each output; the bound is relative to the largest reference value of the tensor.
template <class T>
void expect_close(const std::string& what, const std::vector<T>& got, const std::vector<T>& want,
                  double tol) {
  CAPTURE(what);
  REQUIRE(got.size() == want.size());
  double scale = 0, worst = 0;
  for (T v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
  }
  CAPTURE(worst);
  CAPTURE(scale);
  CHECK(worst <= tol * (1 + scale));
}

template <class T>
std::vector<T> random_vec(std::size_t n, uint64_t seed) {
  ember::Generator gen(seed);
  const Tensor<T> t = ember::randn<T>({static_cast<int64_t>(n)}, &gen);
  return std::vector<T>(t.data(), t.data() + n);
}

struct Shape4 {
  int64_t N, C, OC, H, W, pad;
  int64_t pad_w = -1;  // the column padding when not pad
};

F::detail::ConvGeom geom(const Shape4& s) {
  F::detail::ConvGeom g;
  g.N = s.N;
  g.OC = s.OC;
  g.groups = 1;
  const int64_t pw = s.pad_w < 0 ? s.pad : s.pad_w;
  const int64_t OH = s.H + 2 * s.pad - 2, OW = s.W + 2 * pw - 2;
  g.win = ember::kernels::ConvWindow{s.C, s.H, s.W, 3, 3, 1, 1, s.pad, pw, 1, 1, OH, OW};
  return g;
}

template <class T>
void compare_paths(const Shape4& s, double tol) {
  CAPTURE(s.N);
  CAPTURE(s.C);
  CAPTURE(s.OC);
  CAPTURE(s.H);
  CAPTURE(s.W);
  CAPTURE(s.pad);
  CAPTURE(s.pad_w);
  const F::detail::ConvGeom g = geom(s);
  REQUIRE(F::detail::use_winograd(g));
  const auto in = static_cast<std::size_t>(g.N * g.in_size());
  const auto out = static_cast<std::size_t>(g.N * g.out_size());
  const auto wn = static_cast<std::size_t>(g.OC * g.K());
  const std::vector<T> x = random_vec<T>(in, 1), w = random_vec<T>(wn, 2),
                       b = random_vec<T>(static_cast<std::size_t>(g.OC), 3),
                       gy = random_vec<T>(out, 4);
  std::vector<T> y_ref(out), y(out), gx_ref(in), gx(in), gw_ref(wn), gw(wn),
      gb_ref(static_cast<std::size_t>(g.OC)), gb(static_cast<std::size_t>(g.OC));
  F::detail::conv_forward(g, x.data(), w.data(), y_ref.data(), b.data());
  F::detail::conv_backward_input(g, w.data(), gy.data(), gx_ref.data());
  F::detail::conv_backward_weight(g, x.data(), gy.data(), gw_ref.data(), gb_ref.data());
  F::detail::wino_forward(g, x.data(), w.data(), y.data(), b.data());
  F::detail::wino_backward(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data());
  expect_close("forward", y, y_ref, tol);
  expect_close("input grad", gx, gx_ref, tol);
  expect_close("weight grad", gw, gw_ref, tol);
  expect_close("bias grad", gb, gb_ref, tol);
  // Each gradient alone (the other pointers null) gives the same values.
  std::vector<T> gx2(in), gw2(wn);
  F::detail::wino_backward<T>(g, nullptr, w.data(), gy.data(), gx2.data(), nullptr, nullptr);
  F::detail::wino_backward<T>(g, x.data(), nullptr, gy.data(), nullptr, gw2.data(), nullptr);
  CHECK(gx2 == gx);
  CHECK(gw2 == gw);
}

const std::vector<Shape4> kShapes = {
    {1, 16, 16, 5, 7, 1},
    {3, 16, 16, 5, 7, 0},
    {3, 17, 19, 14, 14, 1},
    {1, 16, 33, 1, 1, 1},
    {3, 21, 16, 3, 3, 0},
    {1, 16, 16, 4, 4, 0},
    {3, 32, 64, 14, 14, 1},
    {2, 16, 20, 9, 2, 1},
    {1, 24, 16, 2, 9, 0},
    {10, 16, 17, 6, 5, 1},
    // padding 2 and 3 (tiles of padding only), different row and column padding
    {2, 16, 17, 4, 5, 3},
    {1, 16, 16, 6, 3, 2},
    {2, 16, 18, 5, 6, 0, 1},
    {2, 17, 16, 6, 5, 1, 0},
    // large planes: an image's tile rows span several blocks (the backward adds them in order)
    {2, 64, 64, 40, 40, 1},
    {1, 48, 40, 33, 31, 1},
};

}  // namespace wino_test

TEST_CASE("conv2d Winograd path matches the im2col path (float)") {
  // float: the im2col path and Winograd each round differently; with unit-variance inputs and C
  // up to 32 (K = 288 terms), the differences measured stay below 1e-6 of the tensor's largest
  // magnitude; 1e-5 leaves room for other compilers / ISAs.
  for (const auto& s : wino_test::kShapes) wino_test::compare_paths<float>(s, 1e-5);
}

TEST_CASE("conv2d Winograd path matches the im2col path (double)") {
  // double: the same argument as float, at double's epsilon (about 2e-16) scale.
  for (const auto& s : wino_test::kShapes) wino_test::compare_paths<double>(s, 1e-13);
}

TEST_CASE("conv2d Winograd path through F::conv2d: padding 'same', no bias, input only") {
  namespace F = ember::F;
  ember::Generator gen(9);
  ember::Tensor<float> x = ember::randn<float>({2, 16, 7, 6}, &gen).requires_grad_();
  ember::Tensor<float> w = ember::randn<float>({18, 16, 3, 3}, &gen);
  ember::Tensor<float> y = F::conv2d(x, w, {}, 1, "same");
  const F::detail::ConvGeom g = wino_test::geom({2, 16, 18, 7, 6, 1});
  REQUIRE(F::detail::use_winograd(g));
  std::vector<float> want(static_cast<std::size_t>(g.N * g.out_size()));
  F::detail::conv_forward(g, x.data(), w.data(), want.data());
  wino_test::expect_close("forward", std::vector<float>(y.data(), y.data() + y.numel()), want,
                          1e-5);
  y.sum().backward();
  CHECK(!w.grad().defined());
  std::vector<float> ones(want.size(), 1.0f), gx(static_cast<std::size_t>(x.numel()));
  F::detail::conv_backward_input(g, w.data(), ones.data(), gx.data());
  wino_test::expect_close(
      "input grad", std::vector<float>(x.grad().data(), x.grad().data() + x.numel()), gx, 1e-5);
}

TEST_CASE("conv2d gradcheck on the Winograd path") {
  namespace F = ember::F;
  using T = ember::Tensor<double>;
  auto leaf = [](const ember::Shape& shape, uint64_t seed) {
    ember::Generator gen(seed);
    return ember::rand<double>(shape, &gen).mul(2.0).sub(1.0).requires_grad_();
  };
  REQUIRE(F::detail::use_winograd(wino_test::geom({2, 16, 16, 5, 3, 1})));
  for (int64_t pad : {0, 1}) {
    CAPTURE(pad);
    const std::vector<T> inputs = {leaf({2, 16, 5, 3 + 2 * (1 - pad)}, 1), leaf({16, 16, 3, 3}, 2),
                                   leaf({16}, 3)};
    const ember::GradcheckResult r = ember::gradcheck(
        [pad](const std::vector<T>& in) { return F::conv2d(in[0], in[1], in[2], 1, pad); }, inputs);
    CHECK_MESSAGE(r.ok, r.message);
  }
}
