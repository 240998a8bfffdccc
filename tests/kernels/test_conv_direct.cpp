// The small-channel conv kernels (kernels/conv_direct.hpp) on every ISA, float and double:
// conv_direct_forward / conv_direct_wgrad (output channels in the lanes) against sums in double:
// output channels below, at and above one 16-wide block, 1..7-wide kernels (the 3- and 5-wide
// weight-gradient tiles and the generic one), output rows of 1..35 pixels (every forward tile
// width), row stride and dilation, input rows and planes with gaps, y rows with gaps (nothing else
// written), accumulation into gw and gb; col2im_plane bitwise against kernels::col2im;
// conv_rows_forward / conv_rows_wgrad (output pixels in the lanes, 1..8 channels) against sums in
// double, x ending right after the margin the kernels may read.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/im2col.hpp"
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

struct PlaneCase {
  std::int64_t H, W, KH, KW, sh, ph, pw, dh, dw;
};

// col2im_plane against kernels::col2im (generic, on a zeroed image), bitwise: the same additions
// in the same order, on every ISA. Padding, row stride, dilation, image rows of several vectors,
// a wide kernel; a col row stride past OH * OW.
template <class T>
void check_plane() {
  kt::IsaRestore restore;
  const std::vector<PlaneCase> cases{
      {12, 12, 5, 5, 1, 0, 0, 1, 1}, {14, 14, 5, 5, 1, 0, 0, 1, 1}, {9, 9, 3, 3, 1, 1, 1, 1, 1},
      {7, 44, 3, 7, 1, 1, 3, 1, 1},  {11, 13, 3, 3, 2, 1, 0, 2, 2}, {28, 28, 5, 5, 1, 2, 2, 1, 1},
      {1, 1, 1, 1, 1, 0, 0, 1, 1},   {6, 35, 2, 17, 3, 0, 1, 1, 1}, {10, 40, 4, 2, 1, 2, 1, 2, 3},
  };
  std::uint64_t seed = 77;
  for (const PlaneCase& c : cases) {
    ember::kernels::ConvWindow g{1, c.H, c.W, c.KH, c.KW, c.sh, 1, c.ph, c.pw, c.dh, c.dw, 0, 0};
    g.OH = (c.H + 2 * c.ph - c.dh * (c.KH - 1) - 1) / c.sh + 1;
    g.OW = c.W + 2 * c.pw - c.dw * (c.KW - 1);
    const std::int64_t L = g.OH * g.OW, ldc = L + 3;
    const auto margin = static_cast<std::int64_t>(ember::kernels::col2im_margin(g));
    const std::vector<T> col_buf = kt::inputs<T>(
        static_cast<std::size_t>(c.KH * c.KW * ldc + 2 * margin), -1.0, 1.0, seed += 3, false);
    const T* col = col_buf.data() + margin;
    std::vector<T> ref(static_cast<std::size_t>(c.H * c.W), T(0));
    ember::kernels::col2im(g, col, ref.data(), ldc);
    const ember::kernels::Col2imShape s = ember::kernels::col2im_shape(g);
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.H);
      CAPTURE(c.W);
      CAPTURE(c.KH);
      CAPTURE(c.KW);
      CAPTURE(c.sh);
      // Overwritten: start from values that must not survive, and one past the end that must.
      std::vector<T> img(ref.size() + 1, T(9));
      ember::active_kernels().of<T>().col2im_plane(s, col, static_cast<std::size_t>(ldc),
                                                   img.data());
      CHECK(img.back() == T(9));
      img.pop_back();
      CHECK(kt::same_bits(img, ref));
    }
  }
}

// The few-channel kernels (conv_rows_forward / conv_rows_wgrad): 1..8 output channels, rows of
// 1..40 outputs (partial vectors), row stride, dilation, input rows with gaps; x readable only
// kRowsMargin past the last tap (the buffer ends there).
template <class T>
void check_rows(bool with_bias) {
  kt::IsaRestore restore;
  const std::vector<DirectCase> cases{
      {1, 5, 5, 1, 1, 1, 24, 24, 6, 0, 0},  // LeNet conv1, unpadded
      {1, 5, 5, 1, 1, 1, 28, 28, 6, 4, 0},  // LeNet-5 conv1 (padded rows of 32)
      {3, 3, 3, 2, 1, 1, 5, 35, 8, 3, 5},   // row stride 2
      {2, 5, 3, 1, 2, 2, 4, 13, 3, 1, 2},   // dilation
      {4, 2, 7, 1, 1, 1, 3, 16, 1, 0, 7},   // one channel, one full vector
      {2, 3, 3, 1, 1, 1, 2, 40, 5, 0, 0},   // 40 wide: 2 + 1 vectors
      {3, 1, 1, 1, 1, 1, 3, 1, 7, 2, 0},    // 1x1, one pixel a row
      {2, 4, 4, 3, 1, 1, 3, 17, 4, 1, 1},   // 17 wide
      {1, 3, 3, 1, 1, 1, 4, 9, 2, 0, 0},    // 9 wide
  };
  std::uint64_t seed = 501;
  for (const DirectCase& c : cases) {
    DirectData<T> d = make_data<T>(c, seed += 11);
    // x ends kRowsMargin past the last tap of the last pixel.
    const std::size_t last = (c.C - 1) * d.s.ldp +
                             ((c.OH - 1) * c.sh + (c.KH - 1) * c.dh) * d.s.ldx + (c.OW - 1) +
                             (c.KW - 1) * c.dw;
    d.x.resize(last + 1 + ember::kernels::kRowsMargin);
    // Weights as [OC][K].
    std::vector<T> w(c.OC * d.K);
    for (std::size_t o = 0; o < c.OC; ++o) {
      for (std::size_t k = 0; k < d.K; ++k) w[o * d.K + k] = d.wt[k * d.ocp + o];
    }
    const std::vector<T> gw0 = kt::inputs<T>(c.OC * d.K, -1.0, 1.0, seed + 3, false);
    const T sentinel = T(-12345);
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.C);
      CAPTURE(c.KW);
      CAPTURE(c.OW);
      CAPTURE(c.OC);
      const auto& ks = ember::active_kernels().of<T>();
      std::vector<T> y(c.OC * d.ldy + 1, sentinel);
      ks.conv_rows_forward(d.s, d.x.data(), w.data(), with_bias ? d.bias.data() : nullptr, y.data(),
                           d.ldy);
      std::vector<T> gw = gw0;
      ks.conv_rows_wgrad(d.s, d.x.data(), d.gy.data(), d.ldy, gw.data());
      for (std::size_t oc = 0; oc < c.OC; ++oc) {
        for (std::size_t p = 0; p < d.L; ++p) {
          double ref = with_bias ? static_cast<double>(d.bias[oc]) : 0.0;
          double mag = std::fabs(ref);
          for (std::size_t k = 0; k < d.K; ++k) {
            const double t = pixel(d, p, k) * static_cast<double>(w[oc * d.K + k]);
            ref += t;
            mag += std::fabs(t);
          }
          check_sum<T>(y[oc * d.ldy + p], ref, mag, d.K + 1,
                       "y[" + std::to_string(oc) + ", " + std::to_string(p) + "]");
        }
        for (std::size_t p = d.L; p < d.ldy; ++p) CHECK(y[oc * d.ldy + p] == sentinel);
        for (std::size_t k = 0; k < d.K; ++k) {
          double ref = static_cast<double>(gw0[oc * d.K + k]), mag = std::fabs(ref);
          for (std::size_t p = 0; p < d.L; ++p) {
            const double t = pixel(d, p, k) * static_cast<double>(d.gy[oc * d.ldy + p]);
            ref += t;
            mag += std::fabs(t);
          }
          check_sum<T>(gw[oc * d.K + k], ref, mag, d.L + 1,
                       "gw[" + std::to_string(oc) + ", " + std::to_string(k) + "]");
        }
      }
      CHECK(y.back() == sentinel);
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("col2im_plane: a channel's col2im, image rows summed in registers, every ISA", T,
                   float, double) {
  check_plane<T>();
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

TEST_CASE_TEMPLATE("conv_rows_forward / conv_rows_wgrad: few output channels on every ISA", T,
                   float, double) {
  check_rows<T>(true);
  check_rows<T>(false);
}
