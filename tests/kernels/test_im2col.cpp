// im2col / col2im against direct loops over every window position: strides, padding (also
// asymmetric: fewer output rows than the padding allows), dilation, odd sizes, and column blocks of
// several images side by side (ldc > OH * OW).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ember/kernels/im2col.hpp"
#include "kernel_test_support.hpp"

namespace {

using ember::kernels::ConvWindow;

ConvWindow window(int64_t C, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t s, int64_t p,
                  int64_t d, int64_t extra = 0) {
  ConvWindow g{C, H, W, KH, KW, s, s, p, p, d, d, 0, 0};
  g.OH = (H + 2 * p - d * (KH - 1) - 1) / s + 1 - extra;
  g.OW = (W + 2 * p - d * (KW - 1) - 1) / s + 1;
  return g;
}

// The pixel a column entry reads, or -1 in the padding.
int64_t source(const ConvWindow& g, int64_t c, int64_t kh, int64_t kw, int64_t oh, int64_t ow) {
  const int64_t ih = oh * g.sh - g.ph + kh * g.dh, iw = ow * g.sw - g.pw + kw * g.dw;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return -1;
  return (c * g.H + ih) * g.W + iw;
}

}  // namespace

TEST_CASE("im2col and col2im match direct loops, alone and in a block of columns") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  const ConvWindow cases[] = {window(1, 28, 28, 3, 3, 1, 1, 1), window(3, 14, 14, 3, 3, 1, 1, 1),
                              window(2, 7, 9, 3, 3, 1, 0, 1),   window(2, 7, 9, 5, 3, 1, 2, 1),
                              window(2, 8, 8, 3, 3, 2, 1, 1),   window(1, 9, 7, 3, 3, 1, 2, 2),
                              window(3, 5, 6, 1, 1, 1, 0, 1),   window(2, 6, 6, 4, 4, 1, 1, 1, 1),
                              window(1, 5, 5, 3, 3, 1, 3, 1),   window(2, 4, 11, 2, 5, 3, 1, 2)};
  for (const ConvWindow& g : cases) {
    CAPTURE(g.C);
    CAPTURE(g.H);
    CAPTURE(g.W);
    CAPTURE(g.KH);
    CAPTURE(g.sh);
    CAPTURE(g.ph);
    CAPTURE(g.dh);
    const int64_t L = g.OH * g.OW, rows = g.C * g.KH * g.KW, pixels = g.C * g.H * g.W;
    std::vector<double> image(static_cast<std::size_t>(pixels));
    for (double& v : image) v = dist(rng);
    for (int64_t ldc : {L, 3 * L + 1}) {
      CAPTURE(ldc);
      // Column block: this image's columns at offset L within rows ldc apart; the rest untouched.
      const int64_t at = ldc == L ? 0 : L;
      std::vector<double> col(static_cast<std::size_t>(rows * ldc), 42.0);
      ember::kernels::im2col(g, image.data(), col.data() + at, ldc);
      std::vector<double> back(static_cast<std::size_t>(pixels), 0.5), want = back;
      for (int64_t c = 0; c < g.C; ++c) {
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t r = (c * g.KH + kh) * g.KW + kw;
            for (int64_t l = 0; l < ldc; ++l) {
              const double got = col[static_cast<std::size_t>(r * ldc + l)];
              if (l < at || l >= at + L) {
                REQUIRE(got == 42.0);
                continue;
              }
              const int64_t src = source(g, c, kh, kw, (l - at) / g.OW, (l - at) % g.OW);
              REQUIRE(got == (src < 0 ? 0.0 : image[static_cast<std::size_t>(src)]));
              if (src >= 0) want[static_cast<std::size_t>(src)] += got * 0.25;
            }
          }
        }
      }
      // col2im of a scaled copy adds each entry into its pixel (exact: the values are scaled by a
      // power of two and added in the same order as the direct loop above).
      std::vector<double> scaled(col);
      for (double& v : scaled) v *= 0.25;
      ember::kernels::col2im(g, scaled.data() + at, back.data(), ldc);
      for (int64_t i = 0; i < pixels; ++i) {
        CHECK(back[static_cast<std::size_t>(i)] ==
              doctest::Approx(want[static_cast<std::size_t>(i)]));
      }
    }
  }
}

// col2im_flat (one dispatched add per tap, the padding entries of col zeroed first) against
// col2im, bit for bit, on every ISA: col holds random values everywhere, also in the entries
// that fall into the padding (a GEMM writes them), with some NaN, infinities and -0.
TEST_CASE_TEMPLATE("col2im_flat gives col2im's bits on every ISA", T, float, double) {
  kt::IsaRestore restore;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  const ConvWindow cases[] = {window(1, 28, 28, 3, 3, 1, 1, 1),  window(3, 14, 14, 3, 3, 1, 1, 1),
                              window(2, 7, 7, 3, 3, 1, 1, 1),    window(2, 7, 9, 5, 5, 1, 2, 1),
                              window(2, 9, 8, 3, 3, 1, 2, 2),    window(3, 5, 6, 1, 1, 1, 0, 1),
                              window(2, 6, 6, 3, 3, 1, 1, 1, 1), window(1, 3, 17, 3, 3, 1, 1, 1),
                              window(1, 2, 2, 3, 3, 1, 1, 1)};
  for (const ConvWindow& g : cases) {
    REQUIRE(ember::kernels::detail::flat_rows(g));
    const int64_t L = g.OH * g.OW, rows = g.C * g.KH * g.KW, pixels = g.C * g.H * g.W;
    for (int64_t ldc : {L, 2 * L + 3}) {
      std::vector<T> col(static_cast<std::size_t>(rows * ldc));
      for (std::size_t i = 0; i < col.size(); ++i) {
        col[i] = static_cast<T>(dist(rng));
        if (i % 29 == 3) col[i] = std::numeric_limits<T>::quiet_NaN();
        if (i % 31 == 5) col[i] = std::numeric_limits<T>::infinity();
        if (i % 23 == 7) col[i] = -T(0);
      }
      std::vector<T> want(static_cast<std::size_t>(pixels), T(0));
      ember::kernels::col2im(g, col.data(), want.data(), ldc);
      for (ember::Isa isa : ember::available_isas()) {
        ember::set_isa(isa);
        CAPTURE(std::string(ember::isa_name(isa)));
        CAPTURE(g.C);
        CAPTURE(g.H);
        CAPTURE(g.W);
        CAPTURE(g.KH);
        CAPTURE(ldc);
        std::vector<T> consumed(col), got(static_cast<std::size_t>(pixels), T(0));
        ember::kernels::col2im_flat(g, consumed.data(), got.data(),
                                    ember::active_kernels().of<T>().axpy, ldc);
        bool same = true;
        for (std::size_t i = 0; i < got.size(); ++i) {
          const T u = got[i], v = want[i];
          same = same && ((std::isnan(u) && std::isnan(v)) || std::memcmp(&u, &v, sizeof(T)) == 0);
        }
        CHECK(same);
      }
    }
  }
}

// Every size class of the short-run copies and additions (runs of 1 to 40 elements: scalar, 16-,
// 32- and 64-byte moves, memcpy), float and double, at unaligned starts (image and column matrix
// one element past an aligned buffer's start), with padding, stride 2 and dilation: im2col gives
// the direct loop's entries and col2im the direct loop's sums, bit for bit (same order per pixel).
TEST_CASE_TEMPLATE("im2col and col2im on runs of every length, unaligned", T, float, double) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (int64_t W = 1; W <= 44; ++W) {
    for (const ConvWindow& g0 : {window(2, 3, W, 2, 3, 1, 0, 1), window(2, 4, W, 3, 3, 1, 1, 1),
                                 window(1, 5, W, 2, 2, 2, 1, 1), window(2, 6, W, 3, 3, 1, 2, 2)}) {
      const ConvWindow& g = g0;
      if (g.OW <= 0 || g.OH <= 0) continue;
      CAPTURE(W);
      CAPTURE(g.KW);
      CAPTURE(g.sw);
      CAPTURE(g.pw);
      CAPTURE(g.dw);
      const int64_t L = g.OH * g.OW, rows = g.C * g.KH * g.KW, pixels = g.C * g.H * g.W;
      std::vector<T> image(static_cast<std::size_t>(pixels + 1));
      for (T& v : image) v = static_cast<T>(dist(rng));
      std::vector<T> col(static_cast<std::size_t>(rows * L + 1), T(42));
      ember::kernels::im2col(g, image.data() + 1, col.data() + 1);
      std::vector<T> want(static_cast<std::size_t>(pixels + 1), T(0)), got(want);
      bool same = true;
      for (int64_t c = 0; c < g.C; ++c) {
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t r = (c * g.KH + kh) * g.KW + kw;
            for (int64_t l = 0; l < L; ++l) {
              const int64_t src = source(g, c, kh, kw, l / g.OW, l % g.OW);
              const T v = col[static_cast<std::size_t>(1 + r * L + l)];
              same = same && v == (src < 0 ? T(0) : image[static_cast<std::size_t>(1 + src)]);
              if (src >= 0) want[static_cast<std::size_t>(1 + src)] += v;
            }
          }
        }
      }
      CHECK(same);
      CHECK(col[0] == T(42));
      ember::kernels::col2im(g, col.data() + 1, got.data() + 1);
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(T)) == 0);
    }
  }
}

// im2row is im2col transposed: row l of its matrix is column l of im2col's, entry for entry, at
// every run length, with padding, strides, dilation, unaligned starts and a row stride past the
// last entry (left untouched).
TEST_CASE_TEMPLATE("im2row is im2col transposed", T, float, double) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (int64_t W = 1; W <= 24; ++W) {
    for (const ConvWindow& g : {window(2, 3, W, 2, 3, 1, 0, 1), window(2, 4, W, 3, 3, 1, 1, 1),
                                window(1, 5, W, 2, 2, 2, 1, 1), window(2, 6, W, 3, 3, 1, 2, 2),
                                window(3, 8, W, 5, 5, 1, 2, 1), window(1, 4, W, 1, 17, 1, 8, 1),
                                window(2, 7, W, 3, 2, 3, 1, 2), window(1, 3, W, 1, 35, 1, 20, 1)}) {
      if (g.OW <= 0 || g.OH <= 0) continue;
      CAPTURE(W);
      CAPTURE(g.KW);
      CAPTURE(g.sw);
      CAPTURE(g.pw);
      CAPTURE(g.dw);
      const int64_t L = g.OH * g.OW, K = g.C * g.KH * g.KW, pixels = g.C * g.H * g.W;
      std::vector<T> image(static_cast<std::size_t>(pixels + 1));
      for (T& v : image) v = static_cast<T>(dist(rng));
      std::vector<T> col(static_cast<std::size_t>(K * L));
      ember::kernels::im2col(g, image.data() + 1, col.data());
      for (int64_t ldr : {K, K + 3}) {
        std::vector<T> rows(static_cast<std::size_t>(L * ldr + 1), T(42));
        ember::kernels::im2row(g, image.data() + 1, rows.data() + 1, ldr);
        bool same = rows[0] == T(42);
        for (int64_t l = 0; l < L; ++l) {
          for (int64_t k = 0; k < ldr; ++k) {
            const T v = rows[static_cast<std::size_t>(1 + l * ldr + k)];
            same = same && v == (k < K ? col[static_cast<std::size_t>(k * L + l)] : T(42));
          }
        }
        CHECK(same);
      }
    }
  }
}
