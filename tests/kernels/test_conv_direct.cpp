// The direct convolution kernels (kernels/conv_direct.hpp: conv_direct_forward, conv_direct_wgrad)
// on every ISA, float and double, against sums in double: output channels below, at and above one
// 16-wide block, 1..7-wide kernels (the 3- and 5-wide weight-gradient tiles and the generic one),
// output rows of 1..35 pixels (every forward tile width), row stride and dilation, input rows and
// planes with gaps, y rows with gaps (nothing else written), accumulation into gw and gb.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/kernels/dispatch.hpp"
#include "kernel_test_support.hpp"

namespace {

using ember::Isa;
using ember::kernels::DirectConvShape;
using ember::kernels::kDirectOcBlock;

struct DirectCase {
  std::size_t C, KH, KW, sh, dh, dw, OH, OW, OC;
  std::size_t row_gap, plane_gap;  // extra elements after each input row / plane
};

std::vector<DirectCase> direct_cases() {
  return {
      {6, 5, 5, 1, 1, 1, 8, 8, 16, 0, 0},    // LeNet conv2 (12x12 input)
      {6, 5, 5, 1, 1, 1, 10, 10, 16, 0, 0},  // LeNet-5 conv2 (14x14 input)
      {1, 5, 5, 1, 1, 1, 6, 28, 6, 0, 0},    // 28-wide rows, 6 channels
      {3, 3, 3, 2, 1, 1, 5, 35, 17, 3, 5},   // row stride 2, two channel blocks
      {2, 5, 3, 1, 2, 2, 4, 13, 9, 1, 2},    // dilation
      {4, 2, 7, 1, 1, 1, 3, 16, 33, 0, 7},   // generic 7-wide weight-gradient tile, 3 blocks
      {5, 1, 1, 1, 1, 1, 2, 1, 1, 2, 0},     // 1x1, one pixel a row, one channel
      {2, 4, 4, 3, 1, 1, 3, 17, 12, 1, 1},   // 4-wide kernel, row stride 3
      {3, 6, 2, 1, 1, 3, 2, 31, 16, 0, 0},   // 2-wide kernel, column dilation 3
  };
}

template <class T>
struct DirectData {
  DirectConvShape s;
  std::size_t K, ocp, L, ldy;
  std::vector<T> x, wt, bias, gy;
};

template <class T>
DirectData<T> make_data(const DirectCase& c, std::uint64_t seed) {
  DirectData<T> d;
  DirectConvShape& s = d.s;
  s.C = c.C;
  s.KH = c.KH;
  s.KW = c.KW;
  s.sh = c.sh;
  s.dh = c.dh;
  s.dw = c.dw;
  s.OH = c.OH;
  s.OW = c.OW;
  s.OC = c.OC;
  const std::size_t H = (c.OH - 1) * c.sh + (c.KH - 1) * c.dh + 1;
  const std::size_t W = c.OW + (c.KW - 1) * c.dw;
  s.ldx = W + c.row_gap;
  s.ldp = H * s.ldx + c.plane_gap;
  d.K = c.C * c.KH * c.KW;
  d.ocp = (c.OC + kDirectOcBlock - 1) / kDirectOcBlock * kDirectOcBlock;
  d.L = c.OH * c.OW;
  d.ldy = d.L + 3;
  d.x = kt::inputs<T>(c.C * s.ldp, -1.0, 1.0, seed, false);
  d.wt = kt::inputs<T>(d.K * d.ocp, -1.0, 1.0, seed + 1, false);
  // Padding channels of the weights are zero, as the caller packs them.
  for (std::size_t k = 0; k < d.K; ++k) {
    for (std::size_t j = c.OC; j < d.ocp; ++j) d.wt[k * d.ocp + j] = T(0);
  }
  d.bias = kt::inputs<T>(d.ocp, -1.0, 1.0, seed + 2, false);
  d.gy = kt::inputs<T>(c.OC * d.ldy, -1.0, 1.0, seed + 3, false);
  return d;
}

// The input pixel of output pixel p, tap k.
template <class T>
double pixel(const DirectData<T>& d, std::size_t p, std::size_t k) {
  const DirectConvShape& s = d.s;
  const std::size_t oh = p / s.OW, ow = p % s.OW;
  const std::size_t c = k / (s.KH * s.KW), kh = k / s.KW % s.KH, kw = k % s.KW;
  return static_cast<double>(d.x[c * s.ldp + (oh * s.sh + kh * s.dh) * s.ldx + ow + kw * s.dw]);
}

// |got - ref| within a few rounding errors of a sum of n terms of magnitude sum_abs.
template <class T>
void check_sum(T got, double ref, double sum_abs, std::size_t n, const std::string& where) {
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 2.0 * static_cast<double>(n + 2) * eps * sum_abs + 1e-300;
  if (!(std::fabs(static_cast<double>(got) - ref) <= tol)) {
    FAIL_CHECK(where << ": got " << got << ", want " << ref << " (tolerance " << tol << ")");
  }
}

template <class T>
void check_forward(bool with_bias) {
  kt::IsaRestore restore;
  std::uint64_t seed = 11;
  for (const DirectCase& c : direct_cases()) {
    const DirectData<T> d = make_data<T>(c, seed += 7);
    const T sentinel = T(-12345);
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.C);
      CAPTURE(c.KH);
      CAPTURE(c.KW);
      CAPTURE(c.OW);
      CAPTURE(c.OC);
      std::vector<T> y(c.OC * d.ldy + 1, sentinel);
      ember::active_kernels().of<T>().conv_direct_forward(
          d.s, d.x.data(), d.wt.data(), with_bias ? d.bias.data() : nullptr, y.data(), d.ldy);
      for (std::size_t oc = 0; oc < c.OC; ++oc) {
        for (std::size_t p = 0; p < d.L; ++p) {
          double ref = with_bias ? static_cast<double>(d.bias[oc]) : 0.0;
          double mag = std::fabs(ref);
          for (std::size_t k = 0; k < d.K; ++k) {
            const double t = pixel(d, p, k) * static_cast<double>(d.wt[k * d.ocp + oc]);
            ref += t;
            mag += std::fabs(t);
          }
          check_sum<T>(y[oc * d.ldy + p], ref, mag, d.K + 1,
                       "y[" + std::to_string(oc) + ", " + std::to_string(p) + "]");
        }
        for (std::size_t p = d.L; p < d.ldy; ++p) CHECK(y[oc * d.ldy + p] == sentinel);
      }
      CHECK(y.back() == sentinel);
    }
  }
}

template <class T>
void check_wgrad(bool with_bias) {
  kt::IsaRestore restore;
  std::uint64_t seed = 101;
  for (const DirectCase& c : direct_cases()) {
    const DirectData<T> d = make_data<T>(c, seed += 5);
    // Starting values to accumulate onto.
    const std::vector<T> gw0 = kt::inputs<T>(d.K * d.ocp, -1.0, 1.0, seed + 9, false);
    const std::vector<T> gb0 = kt::inputs<T>(d.ocp, -1.0, 1.0, seed + 10, false);
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.C);
      CAPTURE(c.KH);
      CAPTURE(c.KW);
      CAPTURE(c.OW);
      CAPTURE(c.OC);
      std::vector<T> gw = gw0, gb = gb0;
      std::vector<T> scratch(d.L * kDirectOcBlock, T(7));
      ember::active_kernels().of<T>().conv_direct_wgrad(d.s, d.x.data(), d.gy.data(), d.ldy,
                                                        gw.data(), with_bias ? gb.data() : nullptr,
                                                        scratch.data());
      for (std::size_t oc = 0; oc < d.ocp; ++oc) {
        for (std::size_t k = 0; k < d.K; ++k) {
          double ref = static_cast<double>(gw0[k * d.ocp + oc]), mag = std::fabs(ref);
          if (oc < c.OC) {
            for (std::size_t p = 0; p < d.L; ++p) {
              const double t = pixel(d, p, k) * static_cast<double>(d.gy[oc * d.ldy + p]);
              ref += t;
              mag += std::fabs(t);
            }
          }
          check_sum<T>(gw[k * d.ocp + oc], ref, mag, d.L + 1,
                       "gw[" + std::to_string(k) + ", " + std::to_string(oc) + "]");
        }
        if (with_bias) {
          double ref = static_cast<double>(gb0[oc]), mag = std::fabs(ref);
          if (oc < c.OC) {
            for (std::size_t p = 0; p < d.L; ++p) {
              ref += static_cast<double>(d.gy[oc * d.ldy + p]);
              mag += std::fabs(static_cast<double>(d.gy[oc * d.ldy + p]));
            }
          }
          check_sum<T>(gb[oc], ref, mag, d.L + 1, "gb[" + std::to_string(oc) + "]");
        } else {
          CHECK(gb[oc] == gb0[oc]);
        }
      }
    }
  }
}

struct KrowCase {
  std::size_t rows, KW, OW, W, pw, dw, row_gap;
};

// col2im_krow against its loops, bitwise (one addition per element, in kw order), on every ISA:
// padding (negative offsets), image rows of more than one vector, dilation, wide kernels.
template <class T>
void check_krow() {
  kt::IsaRestore restore;
  const std::vector<KrowCase> cases{
      {8, 5, 8, 12, 0, 1, 0},  {10, 5, 10, 14, 0, 1, 3}, {3, 3, 9, 9, 1, 1, 0},
      {4, 7, 40, 44, 1, 1, 2}, {2, 3, 7, 11, 0, 2, 0},   {5, 5, 28, 28, 2, 1, 0},
      {1, 1, 1, 1, 0, 1, 0},   {3, 17, 20, 30, 3, 1, 1}, {6, 2, 33, 35, 1, 3, 0},
  };
  std::uint64_t seed = 77;
  for (const KrowCase& c : cases) {
    std::vector<std::int64_t> off(c.KW);
    std::vector<std::size_t> lo(c.KW), hi(c.KW);
    for (std::size_t kw = 0; kw < c.KW; ++kw) {
      off[kw] = static_cast<std::int64_t>(kw * c.dw) - static_cast<std::int64_t>(c.pw);
      // ow + off in [0, W).
      std::int64_t a = -off[kw], b = static_cast<std::int64_t>(c.W) - off[kw];
      a = std::max<std::int64_t>(a, 0);
      b = std::min<std::int64_t>(b, static_cast<std::int64_t>(c.OW));
      lo[kw] = static_cast<std::size_t>(a);
      hi[kw] = static_cast<std::size_t>(std::max(a, b));
    }
    const std::size_t ldc = c.rows * c.OW + 5, ldi = c.W + c.row_gap;
    const std::size_t margin = ember::kernels::col2im_margin(c.W, c.KW * c.dw + c.pw);
    std::vector<T> col_buf = kt::inputs<T>(c.KW * ldc + 2 * margin, -1.0, 1.0, seed += 3, false);
    const T* col = col_buf.data() + margin;
    std::vector<T> img0 = kt::inputs<T>(c.rows * ldi + 1, -1.0, 1.0, seed + 1, false);
    img0[0] = -T(0);  // a -0 that nothing adds to (a column no tap reaches when pw > 0) stays -0
    std::vector<T> ref = img0;
    for (std::size_t oh = 0; oh < c.rows; ++oh) {
      for (std::size_t kw = 0; kw < c.KW; ++kw) {
        for (std::size_t ow = lo[kw]; ow < hi[kw]; ++ow) {
          ref[oh * ldi + static_cast<std::size_t>(static_cast<std::int64_t>(ow) + off[kw])] +=
              col[kw * ldc + oh * c.OW + ow];
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.KW);
      CAPTURE(c.W);
      CAPTURE(c.pw);
      std::vector<T> img = img0;
      ember::active_kernels().of<T>().col2im_krow(c.rows, c.KW, c.OW, col, ldc, c.OW, img.data(),
                                                  ldi, c.W, off.data(), lo.data(), hi.data());
      CHECK(kt::same_bits(img, ref));
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("col2im_krow: a kernel row's taps added into image rows on every ISA", T, float,
                   double) {
  check_krow<T>();
}

TEST_CASE_TEMPLATE("conv_direct_forward: direct convolution on every ISA", T, float, double) {
  check_forward<T>(true);
  check_forward<T>(false);
}

TEST_CASE_TEMPLATE("conv_direct_wgrad: accumulated weight and bias gradients on every ISA", T,
                   float, double) {
  check_wgrad<T>(true);
  check_wgrad<T>(false);
}
