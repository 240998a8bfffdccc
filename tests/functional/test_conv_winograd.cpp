// conv2d's Winograd paths, F(2x2, 3x3) and F(4x4, 3x3) (3x3, stride 1, groups 1, enough
// channels), against the
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

// A: F::detail::Wino2 or Wino4.
template <class T, class A>
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
  F::detail::wino_forward_with<A>(g, x.data(), w.data(), y.data(), b.data());
  expect_close("forward", y, y_ref, tol);
  F::detail::conv_backward_input(g, w.data(), gy.data(), gx_ref.data());
  F::detail::conv_backward_weight(g, x.data(), gy.data(), gw_ref.data(), gb_ref.data());
  F::detail::wino_backward_with<A>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(),
                                   gb.data());
  expect_close("input grad", gx, gx_ref, tol);
  expect_close("weight grad", gw, gw_ref, tol);
  expect_close("bias grad", gb, gb_ref, tol);
  // Each gradient alone (the other pointers null) gives the same values.
  std::vector<T> gx2(in), gw2(wn);
  F::detail::wino_backward_with<A, T>(g, nullptr, w.data(), gy.data(), gx2.data(), nullptr,
                                      nullptr);
  F::detail::wino_backward_with<A, T>(g, x.data(), nullptr, gy.data(), nullptr, gw2.data(),
                                      nullptr);
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
    // sizes 1, 2, 3 mod 4 (F(4x4)'s partial tiles) with padding 0..3
    {2, 16, 16, 7, 11, 2},
    {3, 19, 17, 10, 13, 3},
    {2, 18, 16, 9, 8, 0, 3},
};

}  // namespace wino_test

TEST_CASE("conv2d Winograd F(2x2) path matches the im2col path (float)") {
  // float: the im2col path and Winograd each round differently; with unit-variance inputs and C
  // up to 32 (K = 288 terms), the differences measured stay below 1e-6 of the tensor's largest
  // magnitude; 1e-5 leaves room for other compilers / ISAs.
  for (const auto& s : wino_test::kShapes) {
    wino_test::compare_paths<float, ember::F::detail::Wino2>(s, 1e-5);
  }
}

TEST_CASE("conv2d Winograd F(2x2) path matches the im2col path (double)") {
  // double: the same argument as float, at double's epsilon (about 2e-16) scale.
  for (const auto& s : wino_test::kShapes) {
    wino_test::compare_paths<double, ember::F::detail::Wino2>(s, 1e-13);
  }
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

TEST_CASE("conv2d gradcheck on the Winograd F(4x4) path") {
  namespace F = ember::F;
  using T = ember::Tensor<double>;
  auto leaf = [](const ember::Shape& shape, uint64_t seed) {
    ember::Generator gen(seed);
    return ember::rand<double>(shape, &gen).mul(2.0).sub(1.0).requires_grad_();
  };
  // 17x16 outputs: a partial tile row.
  REQUIRE(F::detail::use_winograd(wino_test::geom({1, 16, 16, 17, 16, 1})));
  REQUIRE(F::detail::use_wino4(wino_test::geom({1, 16, 16, 17, 16, 1})));
  const std::vector<T> inputs = {leaf({1, 16, 17, 16}, 1), leaf({16, 16, 3, 3}, 2), leaf({16}, 3)};
  // Fast mode (one random projection per input): the full Jacobian took 70 s here (160 s under
  // ASan); compare_paths checks every gradient element against the im2col path.
  const ember::GradcheckResult r = ember::gradcheck(
      [](const std::vector<T>& in) { return F::conv2d(in[0], in[1], in[2], 1, 1); }, inputs, 1e-6,
      1e-5, 1e-3, /*fast_mode=*/true);
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("conv2d gradcheck on the Winograd F(2x2) path") {
  namespace F = ember::F;
  using T = ember::Tensor<double>;
  auto leaf = [](const ember::Shape& shape, uint64_t seed) {
    ember::Generator gen(seed);
    return ember::rand<double>(shape, &gen).mul(2.0).sub(1.0).requires_grad_();
  };
  REQUIRE(F::detail::use_winograd(wino_test::geom({2, 16, 16, 5, 3, 1})));
  REQUIRE(!F::detail::use_wino4(wino_test::geom({2, 16, 16, 5, 3, 1})));
  for (int64_t pad : {0, 1}) {
    CAPTURE(pad);
    const std::vector<T> inputs = {leaf({2, 16, 5, 3 + 2 * (1 - pad)}, 1), leaf({16, 16, 3, 3}, 2),
                                   leaf({16}, 3)};
    // Fast mode, as for F(4x4): the full Jacobians took 17 s (80 s under ASan).
    const ember::GradcheckResult r = ember::gradcheck(
        [pad](const std::vector<T>& in) { return F::conv2d(in[0], in[1], in[2], 1, pad); }, inputs,
        1e-6, 1e-5, 1e-3, /*fast_mode=*/true);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("Winograd F(4, 3): A^T (G g . B^T d) is the 1-d correlation") {
  namespace D = ember::F::detail;
  ember::Generator gen(11);
  const ember::Tensor<double> r = ember::randn<double>({64, 9}, &gen);
  for (int64_t t = 0; t < 64; ++t) {
    const double* d = r.data() + t * 9;  // d[0..5], g = d[6..8]
    double bd[6], gg[6];
    for (int i = 0; i < 6; ++i) {
      bd[i] = 0;
      for (int k = 0; k < 6; ++k) bd[i] += D::kWino4BT[i][k] * d[k];
      gg[i] = D::kWino4G[i][0] * d[6] + D::kWino4G[i][1] * d[7] + D::kWino4G[i][2] * d[8];
    }
    for (int i = 0; i < 4; ++i) {
      double y = 0;
      for (int k = 0; k < 6; ++k) y += D::kWino4AT[i][k] * gg[k] * bd[k];
      const double want = d[6] * d[i] + d[7] * d[i + 1] + d[8] * d[i + 2];
      CHECK(std::fabs(y - want) <= 1e-13 * (1 + std::fabs(want)));
    }
  }
  // The 1-d passes apply exactly those matrices (and their transposes): unit vectors in, columns
  // out (all entries are small integers, so exact).
  for (int u = 0; u < 6; ++u) {
    double e[6][1] = {}, o[6][1] = {};
    e[u][0] = 1;
    D::wino4_bt<double>(1, e[0], e[1], e[2], e[3], e[4], e[5], o[0], o[1], o[2], o[3], o[4], o[5]);
    for (int i = 0; i < 6; ++i) CHECK(o[i][0] == D::kWino4BT[i][u]);
    D::wino4_b<double>(1, e[0], e[1], e[2], e[3], e[4], e[5], o[0], o[1], o[2], o[3], o[4], o[5]);
    for (int i = 0; i < 6; ++i) CHECK(o[i][0] == D::kWino4BT[u][i]);
    D::wino4_at<double>(1, e[0], e[1], e[2], e[3], e[4], e[5], 0.0, o[0], o[1], o[2], o[3]);
    for (int i = 0; i < 4; ++i) CHECK(o[i][0] == D::kWino4AT[i][u]);
    if (u < 4) {
      D::wino4_a<double>(1, e[0], e[1], e[2], e[3], o[0], o[1], o[2], o[3], o[4], o[5]);
      for (int i = 0; i < 6; ++i) CHECK(o[i][0] == D::kWino4AT[u][i]);
    }
  }
}

TEST_CASE("conv2d Winograd F(4x4) path matches the im2col path (float)") {
  // F(4x4)'s transforms have larger coefficients (B^T up to 5, A^T up to 8, G's 1/24: the terms
  // before and after the products span a wider range), so it rounds worse than F(2x2): the worst
  // difference measured over these shapes is 7.1e-6 of (1 + the tensor's largest magnitude) (the
  // forward at C = 64; F(2x2): 5.7e-7); 3e-5 leaves room for other compilers / ISAs.
  for (const auto& s : wino_test::kShapes) {
    wino_test::compare_paths<float, ember::F::detail::Wino4>(s, 3e-5);
  }
}

TEST_CASE("conv2d Winograd F(4x4) path matches the im2col path (double)") {
  // Measured worst: 1.2e-14 of (1 + largest magnitude) (F(2x2): 7.8e-16).
  for (const auto& s : wino_test::kShapes) {
    wino_test::compare_paths<double, ember::F::detail::Wino4>(s, 1e-13);
  }
}

TEST_CASE("conv2d Winograd F(2x2) and F(4x4): bitwise identical with 1 and 2 threads") {
  namespace D = ember::F::detail;
  // Batch 13 (uneven fixed chunks), 32 -> 64 at 14x14 (several blocks per chunk, blocks spanning
  // images), 32 -> 48 at 36x30 (an image's tile rows over several blocks).
  for (const wino_test::Shape4& s :
       {wino_test::Shape4{13, 16, 24, 11, 9, 1}, wino_test::Shape4{64, 32, 64, 14, 14, 1},
        wino_test::Shape4{4, 32, 48, 36, 30, 2}}) {
    CAPTURE(s.N);
    CAPTURE(s.H);
    const D::ConvGeom g = wino_test::geom(s);
    const auto in = static_cast<std::size_t>(g.N * g.in_size());
    const auto out = static_cast<std::size_t>(g.N * g.out_size());
    const auto wn = static_cast<std::size_t>(g.OC * g.K());
    const std::vector<float> x = wino_test::random_vec<float>(in, 1),
                             w = wino_test::random_vec<float>(wn, 2),
                             gy = wino_test::random_vec<float>(out, 4);
    auto run = [&](int threads, bool f4) {
      ember::set_num_threads(threads);
      std::vector<float> y(out), gx(in), gw(wn);
      if (f4) {
        D::wino_forward_with<D::Wino4>(g, x.data(), w.data(), y.data(),
                                       static_cast<const float*>(nullptr));
        D::wino_backward_with<D::Wino4>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(),
                                        static_cast<float*>(nullptr));
      } else {
        D::wino_forward_with<D::Wino2>(g, x.data(), w.data(), y.data(),
                                       static_cast<const float*>(nullptr));
        D::wino_backward_with<D::Wino2>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(),
                                        static_cast<float*>(nullptr));
      }
      ember::set_num_threads(1);
      return std::vector<std::vector<float>>{y, gx, gw};
    };
    for (bool f4 : {false, true}) {
      CAPTURE(f4);
      CHECK(run(1, f4) == run(2, f4));
    }
  }
}
