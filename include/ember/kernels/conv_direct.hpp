// ember: a direct convolution over one image with the output channels in the vector lanes
// (functional/conv.hpp's path for few output channels and small kernels: no im2col, no im2row);
// arch-tagged, called through the kernel table (KernelSet::conv_direct_forward / _wgrad).
//
// Output channels go in blocks of kDirectOcBlock (16: one AVX-512 register of float) padded with
// zeros; the weights are [K][OCp] (K = C * KH * KW taps in (c, kh, kw) order, OCp = OC rounded up
// to the block). The input is read in place with its padding already applied by the caller:
// output pixel (oh, ow), tap (c, kh, kw) reads x[c * ldp + (oh * sh + kh * dh) * ldx + ow + kw *
// dw] (column stride 1).
//   forward: a register tile of R pixels of one output row times the block's channels; per tap
//     one weight vector and R broadcast input pixels (fused multiply-adds, no im2col); the tile
//     is then transposed into y's channel rows.
//   weight gradient: a register tile of KHB kernel rows x KW taps times the block's channels,
//     summed over every pixel of the image: per pixel one vector of dY (dY transposed once per
//     image into [L][16] scratch) and KHB * KW broadcast input pixels; the bias gradient (the sum
//     of dY) rides along.
// Every output element is one chain over taps (forward: bias first, then taps in order) or over
// pixels in order (weight gradient), whatever the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/gemm_microkernel.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ember::kernels::impl {

namespace conv_direct_detail {

template <class Arch, class T>
struct dparams {
  static constexpr std::size_t lanes = gemm_detail::lanes_of<Arch, T>::value;
  static constexpr std::size_t nv = kDirectOcBlock / lanes;  // vectors per channel block
  static constexpr std::size_t regs = gemm_detail::params<Arch, T>::regs;
  // Accumulators that leave room for the weight / dY vectors and a broadcast.
  static constexpr std::size_t budget = regs > 4 ? regs - 4 : 1;
  static constexpr std::size_t rmax_raw = budget / nv;
  // Forward: pixels per register tile.
  static constexpr std::size_t rmax = rmax_raw < 1 ? 1 : (rmax_raw > 16 ? 16 : rmax_raw);
};

// Forward tile: R pixels of one output row (x at their first window's top-left pixel, y at the
// first pixel of channel oc0), channels [oc0, oc0 + ocn) with weights wt (already offset to oc0).
template <class Arch, class T, std::size_t R>
void forward_tile(const DirectConvShape& s, const T* x, const T* wt, std::size_t ocp, const T* bias,
                  T* y, std::size_t ldy, std::size_t ocn) noexcept {
  constexpr std::size_t BLK = kDirectOcBlock;
  alignas(64) T tile[R * BLK];
  if constexpr (is_scalar_arch<Arch>) {
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t j = 0; j < BLK; ++j) tile[r * BLK + j] = bias != nullptr ? bias[j] : T(0);
    }
    for (std::size_t c = 0; c < s.C; ++c) {
      for (std::size_t kh = 0; kh < s.KH; ++kh) {
        const T* row = x + c * s.ldp + kh * s.dh * s.ldx;
        for (std::size_t kw = 0; kw < s.KW; ++kw) {
          const T* wk = wt + ((c * s.KH + kh) * s.KW + kw) * ocp;
          const T* xr = row + kw * s.dw;
          for (std::size_t r = 0; r < R; ++r) {
            for (std::size_t j = 0; j < BLK; ++j) tile[r * BLK + j] += xr[r] * wk[j];
          }
        }
      }
    }
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = dparams<Arch, T>::lanes, NV = dparams<Arch, T>::nv;
    B acc[R][NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) {
      const B b0 = bias != nullptr ? B::load_unaligned(bias + v * W) : B(T(0));
#pragma GCC unroll 16
      for (std::size_t r = 0; r < R; ++r) acc[r][v] = b0;
    }
    for (std::size_t c = 0; c < s.C; ++c) {
      for (std::size_t kh = 0; kh < s.KH; ++kh) {
        const T* xr = x + c * s.ldp + kh * s.dh * s.ldx;
        const T* wk = wt + (c * s.KH + kh) * s.KW * ocp;
        for (std::size_t kw = 0; kw < s.KW; ++kw) {
          B wv[NV];
#pragma GCC unroll 4
          for (std::size_t v = 0; v < NV; ++v) wv[v] = B::load_unaligned(wk + v * W);
#pragma GCC unroll 16
          for (std::size_t r = 0; r < R; ++r) {
            const B xv(xr[r]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) {
              acc[r][v] = gemm_detail::fmadd<Arch, T>(xv, wv[v], acc[r][v]);
            }
          }
          xr += s.dw;
          wk += ocp;
        }
      }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * BLK + v * W);
    }
  }
  for (std::size_t j = 0; j < ocn; ++j) {
    T* out = y + j * ldy;
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) out[r] = tile[r * BLK + j];
  }
}

// The tile for r (1..R) pixels: a jump to the instantiation for exactly r.
template <class Arch, class T, std::size_t R = dparams<Arch, T>::rmax>
void forward_tile_n(std::size_t r, const DirectConvShape& s, const T* x, const T* wt,
                    std::size_t ocp, const T* bias, T* y, std::size_t ldy,
                    std::size_t ocn) noexcept {
  if constexpr (R == 1) {
    forward_tile<Arch, T, 1>(s, x, wt, ocp, bias, y, ldy, ocn);
  } else {
    if (r == R) {
      forward_tile<Arch, T, R>(s, x, wt, ocp, bias, y, ldy, ocn);
    } else {
      forward_tile_n<Arch, T, R - 1>(r, s, x, wt, ocp, bias, y, ldy, ocn);
    }
  }
}

// Weight gradient tile: KHB kernel rows (x at the first one's offset, kh0 * dh rows down) x KW
// taps, channels of one block; gw at tap (c, kh0, 0), channel oc0, rows ocp apart; gyt: dY as
// [L][16]. gb (may be null): the bias gradient's block.
template <class Arch, class T, std::size_t KW, std::size_t KHB>
void wgrad_tile(const DirectConvShape& s, const T* x, const T* gyt, T* gw, std::size_t ocp,
                T* gb) noexcept {
  constexpr std::size_t BLK = kDirectOcBlock;
  const std::size_t dw = s.dw;
  if constexpr (is_scalar_arch<Arch>) {
    T acc[KHB][KW][BLK];
    T bacc[BLK];
    for (std::size_t i = 0; i < KHB; ++i) {
      for (std::size_t kw = 0; kw < KW; ++kw) {
        for (std::size_t j = 0; j < BLK; ++j) acc[i][kw][j] = gw[(i * s.KW + kw) * ocp + j];
      }
    }
    for (std::size_t j = 0; j < BLK; ++j) bacc[j] = gb != nullptr ? gb[j] : T(0);
    for (std::size_t oh = 0; oh < s.OH; ++oh) {
      for (std::size_t ow = 0; ow < s.OW; ++ow) {
        const T* g = gyt + (oh * s.OW + ow) * BLK;
        for (std::size_t i = 0; i < KHB; ++i) {
          const T* xr = x + (oh * s.sh + i * s.dh) * s.ldx + ow;
          for (std::size_t kw = 0; kw < KW; ++kw) {
            for (std::size_t j = 0; j < BLK; ++j) acc[i][kw][j] += xr[kw * dw] * g[j];
          }
        }
        for (std::size_t j = 0; j < BLK; ++j) bacc[j] += g[j];
      }
    }
    for (std::size_t i = 0; i < KHB; ++i) {
      for (std::size_t kw = 0; kw < KW; ++kw) {
        for (std::size_t j = 0; j < BLK; ++j) gw[(i * s.KW + kw) * ocp + j] = acc[i][kw][j];
      }
    }
    if (gb != nullptr) {
      for (std::size_t j = 0; j < BLK; ++j) gb[j] = bacc[j];
    }
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = dparams<Arch, T>::lanes, NV = dparams<Arch, T>::nv;
    B acc[KHB][KW][NV];
#pragma GCC unroll 8
    for (std::size_t i = 0; i < KHB; ++i) {
#pragma GCC unroll 8
      for (std::size_t kw = 0; kw < KW; ++kw) {
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) {
          acc[i][kw][v] = B::load_unaligned(gw + (i * s.KW + kw) * ocp + v * W);
        }
      }
    }
    B bacc[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) {
      bacc[v] = gb != nullptr ? B::load_unaligned(gb + v * W) : B(T(0));
    }
    for (std::size_t oh = 0; oh < s.OH; ++oh) {
      const T* rows[KHB];
#pragma GCC unroll 8
      for (std::size_t i = 0; i < KHB; ++i) rows[i] = x + (oh * s.sh + i * s.dh) * s.ldx;
      const T* g = gyt + oh * s.OW * BLK;
      for (std::size_t ow = 0; ow < s.OW; ++ow) {
        B gv[NV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) gv[v] = B::load_unaligned(g + v * W);
#pragma GCC unroll 8
        for (std::size_t i = 0; i < KHB; ++i) {
#pragma GCC unroll 8
          for (std::size_t kw = 0; kw < KW; ++kw) {
            const B xv(rows[i][ow + kw * dw]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) {
              acc[i][kw][v] = gemm_detail::fmadd<Arch, T>(xv, gv[v], acc[i][kw][v]);
            }
          }
        }
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) bacc[v] += gv[v];
        g += BLK;
      }
    }
#pragma GCC unroll 8
    for (std::size_t i = 0; i < KHB; ++i) {
#pragma GCC unroll 8
      for (std::size_t kw = 0; kw < KW; ++kw) {
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) {
          acc[i][kw][v].store_unaligned(gw + (i * s.KW + kw) * ocp + v * W);
        }
      }
    }
    if (gb != nullptr) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) bacc[v].store_unaligned(gb + v * W);
    }
  }
}

// Kernel rows per weight-gradient tile of KW taps a row: as many as the accumulators allow, with
// room for the bias sums.
template <class Arch, class T, std::size_t KW>
inline constexpr std::size_t khb_max =
    (dparams<Arch, T>::budget / dparams<Arch, T>::nv) / KW < 2
        ? 1
        : (dparams<Arch, T>::budget / dparams<Arch, T>::nv - 1) / KW;

template <class Arch, class T, std::size_t KW, std::size_t KHB = khb_max<Arch, T, KW>>
void wgrad_tile_n(std::size_t khb, const DirectConvShape& s, const T* x, const T* gyt, T* gw,
                  std::size_t ocp, T* gb) noexcept {
  if constexpr (KHB == 1) {
    wgrad_tile<Arch, T, KW, 1>(s, x, gyt, gw, ocp, gb);
  } else {
    if (khb == KHB) {
      wgrad_tile<Arch, T, KW, KHB>(s, x, gyt, gw, ocp, gb);
    } else {
      wgrad_tile_n<Arch, T, KW, KHB - 1>(khb, s, x, gyt, gw, ocp, gb);
    }
  }
}

// All taps, KW columns at a time (s.KW a multiple of KW).
template <class Arch, class T, std::size_t KW>
void wgrad_kw(const DirectConvShape& s, const T* x, const T* gyt, T* gw, std::size_t ocp,
              T* gb) noexcept {
  constexpr std::size_t KHB = khb_max<Arch, T, KW>;
  // Kernel rows split evenly over the fewest tiles of at most KHB rows.
  const std::size_t tiles = (s.KH + KHB - 1) / KHB;
  for (std::size_t c = 0; c < s.C; ++c) {
    for (std::size_t t = 0; t < tiles; ++t) {
      const std::size_t kh0 = t * s.KH / tiles, kh1 = (t + 1) * s.KH / tiles;
      for (std::size_t kw0 = 0; kw0 < s.KW; kw0 += KW) {
        const bool first = c == 0 && t == 0 && kw0 == 0;
        wgrad_tile_n<Arch, T, KW>(kh1 - kh0, s, x + c * s.ldp + kh0 * s.dh * s.ldx + kw0 * s.dw,
                                  gyt, gw + ((c * s.KH + kh0) * s.KW + kw0) * ocp, ocp,
                                  first ? gb : nullptr);
      }
    }
  }
}

}  // namespace conv_direct_detail

// See KernelSet::conv_direct_forward.
template <class Arch, class T>
void conv_direct_forward(const DirectConvShape& s, const T* x, const T* wt, const T* bias, T* y,
                         std::size_t ldy) noexcept {
  namespace cd = conv_direct_detail;
  constexpr std::size_t BLK = kDirectOcBlock, RMAX = cd::dparams<Arch, T>::rmax;
  const std::size_t ocp = (s.OC + BLK - 1) / BLK * BLK;
  // Each output row split evenly over the fewest tiles of at most RMAX pixels.
  const std::size_t tiles = (s.OW + RMAX - 1) / RMAX;
  for (std::size_t oc0 = 0; oc0 < s.OC; oc0 += BLK) {
    const std::size_t ocn = s.OC - oc0 < BLK ? s.OC - oc0 : BLK;
    for (std::size_t oh = 0; oh < s.OH; ++oh) {
      for (std::size_t t = 0; t < tiles; ++t) {
        const std::size_t ow0 = t * s.OW / tiles, ow1 = (t + 1) * s.OW / tiles;
        cd::forward_tile_n<Arch, T>(ow1 - ow0, s, x + oh * s.sh * s.ldx + ow0, wt + oc0, ocp,
                                    bias != nullptr ? bias + oc0 : nullptr,
                                    y + oc0 * ldy + oh * s.OW + ow0, ldy, ocn);
      }
    }
  }
}

// See KernelSet::conv_direct_wgrad.
template <class Arch, class T>
void conv_direct_wgrad(const DirectConvShape& s, const T* x, const T* gy, std::size_t ldgy, T* gw,
                       T* gb, T* scratch) noexcept {
  namespace cd = conv_direct_detail;
  constexpr std::size_t BLK = kDirectOcBlock;
  const std::size_t ocp = (s.OC + BLK - 1) / BLK * BLK, L = s.OH * s.OW;
  for (std::size_t oc0 = 0; oc0 < s.OC; oc0 += BLK) {
    const std::size_t ocn = s.OC - oc0 < BLK ? s.OC - oc0 : BLK;
    // dY of this block transposed: scratch[p * 16 + j] = gy[(oc0 + j) * ldgy + p], zero past OC.
    for (std::size_t j = 0; j < BLK; ++j) {
      if (j < ocn) {
        const T* src = gy + (oc0 + j) * ldgy;
        for (std::size_t p = 0; p < L; ++p) scratch[p * BLK + j] = src[p];
      } else {
        for (std::size_t p = 0; p < L; ++p) scratch[p * BLK + j] = T(0);
      }
    }
    T* gwb = gw + oc0;
    T* gbb = gb != nullptr ? gb + oc0 : nullptr;
    switch (s.KW) {
      case 3:
        cd::wgrad_kw<Arch, T, 3>(s, x, scratch, gwb, ocp, gbb);
        break;
      case 5:
        cd::wgrad_kw<Arch, T, 5>(s, x, scratch, gwb, ocp, gbb);
        break;
      default:
        cd::wgrad_kw<Arch, T, 1>(s, x, scratch, gwb, ocp, gbb);
        break;
    }
  }
}

// See KernelSet::col2im_plane. Each image row is summed in registers over every tap that reaches
// it and stored once: no store is read back (a masked store followed by an overlapping load cannot
// be forwarded and stalls until the store retires; adding tap by tap into the image spent most of
// its time there). AVX-512: per 16 (8) columns of an image row, the col rows of each tap added with
// merge masks; other ISAs: the same additions in the same order by scalar loops.
template <class Arch, class T>
void col2im_plane(const Col2imShape& s, const T* col, std::size_t ldc, T* img) noexcept {
  const auto W = static_cast<std::int64_t>(s.W), OW = static_cast<std::int64_t>(s.OW);
  const auto OH = static_cast<std::int64_t>(s.OH), sh = static_cast<std::int64_t>(s.sh);
  const auto dh = static_cast<std::int64_t>(s.dh), dw = static_cast<std::int64_t>(s.dw);
  const std::int64_t KH = static_cast<std::int64_t>(s.KH), KW = static_cast<std::int64_t>(s.KW);
  // The output row of image row ih and kernel row kh, or -1.
  auto out_row = [&](std::int64_t ih, std::int64_t kh) -> std::int64_t {
    const std::int64_t t = ih + s.ph - kh * dh;
    if (t < 0 || t % sh != 0 || t / sh >= OH) return -1;
    return t / sh;
  };
  // Tap kw adds col entry ow to image column ow + kw * dw - pw, for ow in [lo, hi).
  auto range = [&](std::int64_t kw, std::int64_t& lo, std::int64_t& hi) {
    const std::int64_t off = kw * dw - s.pw;
    lo = -off > 0 ? -off : 0;
    hi = W - off < OW ? W - off : OW;
    if (hi < lo) hi = lo;
  };
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    using V = typename xsimd::batch<T, Arch>::register_type;  // __m512 or __m512d
    using M = std::conditional_t<std::is_same_v<T, float>, __mmask16, __mmask8>;
    constexpr std::int64_t NL = 64 / static_cast<std::int64_t>(sizeof(T));
    constexpr std::int64_t kMaxKw = 32;
    auto lanes = [](std::int64_t a, std::int64_t b) -> M {
      a = a < 0 ? 0 : a;
      b = b > NL ? NL : b;
      if (b <= a) return M(0);
      return static_cast<M>(((std::uint64_t(1) << b) - 1) & ~((std::uint64_t(1) << a) - 1));
    };
    if (KW <= kMaxKw) {
      for (std::int64_t j0 = 0; j0 < W; j0 += NL) {
        M m[kMaxKw];
        std::int64_t off[kMaxKw];
        for (std::int64_t kw = 0; kw < KW; ++kw) {
          std::int64_t lo, hi;
          range(kw, lo, hi);
          off[kw] = kw * dw - s.pw;
          m[kw] = lanes(lo + off[kw] - j0, hi + off[kw] - j0);
        }
        const M all = lanes(0, W - j0);
        // kRows image rows at a time: independent chains of additions (one row's chain, 25 adds
        // for a 5x5 kernel, is latency-bound on its own).
        constexpr std::int64_t kRows = 4;
        for (std::int64_t ih0 = 0; ih0 < static_cast<std::int64_t>(s.H); ih0 += kRows) {
          const std::int64_t rn = static_cast<std::int64_t>(s.H) - ih0 < kRows
                                      ? static_cast<std::int64_t>(s.H) - ih0
                                      : kRows;
          V acc[kRows];
#pragma GCC unroll 4
          for (std::int64_t r = 0; r < kRows; ++r) {
            if constexpr (std::is_same_v<T, float>) {
              acc[r] = _mm512_setzero_ps();
            } else {
              acc[r] = _mm512_setzero_pd();
            }
          }
          for (std::int64_t kh = 0; kh < KH; ++kh) {
            const T* crow[kRows];
            bool live[kRows];
#pragma GCC unroll 4
            for (std::int64_t r = 0; r < kRows; ++r) {
              const std::int64_t oh = r < rn ? out_row(ih0 + r, kh) : -1;
              live[r] = oh >= 0;
              crow[r] = live[r] ? col + static_cast<std::size_t>(kh * KW) * ldc +
                                      static_cast<std::size_t>(oh * OW + j0)
                                : col;
            }
            for (std::int64_t kw = 0; kw < KW; ++kw) {
              if (m[kw] == 0) continue;
              const std::size_t step = static_cast<std::size_t>(kw) * ldc;
#pragma GCC unroll 4
              for (std::int64_t r = 0; r < kRows; ++r) {
                if (!live[r]) continue;
                // Lane l reads crow[l - off]: masked lanes are not accessed.
                const T* src = crow[r] + step - off[kw];
                if constexpr (std::is_same_v<T, float>) {
                  acc[r] =
                      _mm512_mask_add_ps(acc[r], m[kw], acc[r], _mm512_maskz_loadu_ps(m[kw], src));
                } else {
                  acc[r] =
                      _mm512_mask_add_pd(acc[r], m[kw], acc[r], _mm512_maskz_loadu_pd(m[kw], src));
                }
              }
            }
          }
#pragma GCC unroll 4
          for (std::int64_t r = 0; r < kRows; ++r) {
            if (r >= rn) continue;
            if constexpr (std::is_same_v<T, float>) {
              _mm512_mask_storeu_ps(img + (ih0 + r) * W + j0, all, acc[r]);
            } else {
              _mm512_mask_storeu_pd(img + (ih0 + r) * W + j0, all, acc[r]);
            }
          }
        }
      }
      return;
    }
  }
#endif
  for (std::int64_t ih = 0; ih < static_cast<std::int64_t>(s.H); ++ih) {
    T* d = img + ih * W;
    for (std::int64_t iw = 0; iw < W; ++iw) d[iw] = T(0);
    for (std::int64_t kh = 0; kh < KH; ++kh) {
      const std::int64_t oh = out_row(ih, kh);
      if (oh < 0) continue;
      for (std::int64_t kw = 0; kw < KW; ++kw) {
        const T* crow =
            col + static_cast<std::size_t>(kh * KW + kw) * ldc + static_cast<std::size_t>(oh * OW);
        std::int64_t lo, hi;
        range(kw, lo, hi);
        const std::int64_t off = kw * dw - s.pw;
        for (std::int64_t ow = lo; ow < hi; ++ow) d[ow + off] += crow[ow];
      }
    }
  }
}

// ---- few output channels: output pixels of a row in the vector lanes ----

namespace conv_rows_detail {

// The first min(n, lanes) elements at p, zeros in the other lanes (AVX-512: one masked load,
// which does not touch the other lanes' memory; a full mask costs the same as a plain load).
template <class Arch, class T>
xsimd::batch<T, Arch> load_first(const T* p, std::size_t n) noexcept {
  using B = xsimd::batch<T, Arch>;
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    const std::uint32_t m = n >= B::size ? (1u << B::size) - 1u : (1u << n) - 1u;
    if constexpr (std::is_same_v<T, float>) {
      return B(_mm512_maskz_loadu_ps(static_cast<__mmask16>(m), p));
    } else {
      return B(_mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p));
    }
  }
#endif
  if (n >= B::size) return B::load_unaligned(p);
  alignas(64) T tmp[B::size];
  for (std::size_t l = 0; l < B::size; ++l) tmp[l] = l < n ? p[l] : T(0);
  return B::load_aligned(tmp);
}

// Forward tile: OCN channels x PV vectors of pixels of one output row from ow0 (n valid pixels).
template <class Arch, class T, std::size_t OCN, std::size_t PV>
void rows_forward_tile(const DirectConvShape& s, const T* x, const T* w, const T* bias, T* y,
                       std::size_t ldy, std::size_t n) noexcept {
  using B = xsimd::batch<T, Arch>;
  constexpr std::size_t W = B::size;
  const std::size_t K = s.C * s.KH * s.KW;
  B acc[OCN][PV];
#pragma GCC unroll 8
  for (std::size_t o = 0; o < OCN; ++o) {
    const B b0(bias != nullptr ? bias[o] : T(0));
#pragma GCC unroll 4
    for (std::size_t v = 0; v < PV; ++v) acc[o][v] = b0;
  }
  std::size_t k = 0;
  for (std::size_t c = 0; c < s.C; ++c) {
    for (std::size_t kh = 0; kh < s.KH; ++kh) {
      const T* xr = x + c * s.ldp + kh * s.dh * s.ldx;
      for (std::size_t kw = 0; kw < s.KW; ++kw, ++k) {
        B xv[PV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < PV; ++v) xv[v] = B::load_unaligned(xr + v * W);
#pragma GCC unroll 8
        for (std::size_t o = 0; o < OCN; ++o) {
          const B wv(w[o * K + k]);
#pragma GCC unroll 4
          for (std::size_t v = 0; v < PV; ++v) {
            acc[o][v] = gemm_detail::fmadd<Arch, T>(wv, xv[v], acc[o][v]);
          }
        }
        xr += s.dw;
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t o = 0; o < OCN; ++o) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < PV; ++v) {
      T* out = y + o * ldy + v * W;
      if ((v + 1) * W <= n) {
        acc[o][v].store_unaligned(out);
      } else if (v * W < n) {
        alignas(64) T tmp[W];
        acc[o][v].store_aligned(tmp);
        for (std::size_t l = 0; l < n - v * W; ++l) out[l] = tmp[l];
      }
    }
  }
}

template <class Arch, class T, std::size_t OCN>
void rows_forward_oc(const DirectConvShape& s, const T* x, const T* w, const T* bias, T* y,
                     std::size_t ldy) noexcept {
  constexpr std::size_t W = xsimd::batch<T, Arch>::size;
  for (std::size_t oh = 0; oh < s.OH; ++oh) {
    for (std::size_t ow0 = 0; ow0 < s.OW; ow0 += 2 * W) {
      const std::size_t n = s.OW - ow0;
      const T* xo = x + oh * s.sh * s.ldx + ow0;
      T* yo = y + oh * s.OW + ow0;
      if (n > W) {
        rows_forward_tile<Arch, T, OCN, 2>(s, xo, w, bias, yo, ldy, n);
      } else {
        rows_forward_tile<Arch, T, OCN, 1>(s, xo, w, bias, yo, ldy, n);
      }
    }
  }
}

// Weight gradient tile: OCN channels x TB taps (tap t at x offset toff[t]), summed over every
// pixel of the image in vectors, then across lanes; added to gw[o * K + k0 + t] for t < tn.
template <class Arch, class T, std::size_t OCN, std::size_t TB>
void rows_wgrad_tile(const DirectConvShape& s, const T* x, const std::size_t* toff, std::size_t tn,
                     const T* gy, std::size_t ldgy, T* gw, std::size_t K, std::size_t k0) noexcept {
  using B = xsimd::batch<T, Arch>;
  constexpr std::size_t W = B::size;
  B acc[OCN][TB];
#pragma GCC unroll 8
  for (std::size_t o = 0; o < OCN; ++o) {
#pragma GCC unroll 24
    for (std::size_t t = 0; t < TB; ++t) acc[o][t] = B(T(0));
  }
  for (std::size_t oh = 0; oh < s.OH; ++oh) {
    const T* xr = x + oh * s.sh * s.ldx;
    const T* g = gy + oh * s.OW;
    for (std::size_t ow0 = 0; ow0 < s.OW; ow0 += W) {
      const std::size_t n = s.OW - ow0;
      // Lanes past the row are zero in dY and in x (the next pixels of the buffer could hold an
      // inf, and 0 * inf is NaN).
      B gv[OCN];
#pragma GCC unroll 8
      for (std::size_t o = 0; o < OCN; ++o) gv[o] = load_first<Arch, T>(g + o * ldgy + ow0, n);
#pragma GCC unroll 24
      for (std::size_t t = 0; t < TB; ++t) {
        const B xv = load_first<Arch, T>(xr + toff[t] + ow0, n);
#pragma GCC unroll 8
        for (std::size_t o = 0; o < OCN; ++o) {
          acc[o][t] = gemm_detail::fmadd<Arch, T>(xv, gv[o], acc[o][t]);
        }
      }
    }
  }
  // Own horizontal sums (as gemm_gemv.hpp: xsimd 8.1's hadd trips g++ 12's maybe-uninitialized
  // on AVX-512), lanes in order. Compile-time indices only: a runtime index into acc would keep
  // it in memory for the whole loop.
  alignas(64) T lanes[OCN][TB][W];
#pragma GCC unroll 8
  for (std::size_t o = 0; o < OCN; ++o) {
#pragma GCC unroll 24
    for (std::size_t t = 0; t < TB; ++t) acc[o][t].store_aligned(lanes[o][t]);
  }
  for (std::size_t o = 0; o < OCN; ++o) {
    for (std::size_t t = 0; t < tn; ++t) {
      T sum = T(0);
      for (std::size_t l = 0; l < W; ++l) sum += lanes[o][t][l];
      gw[o * K + k0 + t] += sum;
    }
  }
}

// Taps per weight-gradient tile for OCN channels.
template <class Arch, class T, std::size_t OCN>
inline constexpr std::size_t rows_tb = (gemm_detail::params<Arch, T>::regs - 2 - OCN) / OCN < 1
                                           ? 1
                                           : (gemm_detail::params<Arch, T>::regs - 2 - OCN) / OCN;

template <class Arch, class T, std::size_t OCN>
void rows_wgrad_oc(const DirectConvShape& s, const T* x, const T* gy, std::size_t ldgy,
                   T* gw) noexcept {
  constexpr std::size_t TB = rows_tb<Arch, T, OCN>;
  const std::size_t K = s.C * s.KH * s.KW;
  std::size_t toff[TB];
  for (std::size_t k0 = 0; k0 < K; k0 += TB) {
    const std::size_t tn = K - k0 < TB ? K - k0 : TB;
    for (std::size_t t = 0; t < TB; ++t) {
      // Past the last tap: tap k0 again (its sums are dropped).
      const std::size_t k = k0 + (t < tn ? t : 0);
      const std::size_t c = k / (s.KH * s.KW), kh = k / s.KW % s.KH, kw = k % s.KW;
      toff[t] = c * s.ldp + kh * s.dh * s.ldx + kw * s.dw;
    }
    rows_wgrad_tile<Arch, T, OCN, TB>(s, x, toff, tn, gy, ldgy, gw, K, k0);
  }
}

// Calls f(std::integral_constant<std::size_t, oc>{}) for oc in [N, kRowsMaxOc]: the tile templates
// per output-channel count. Other counts do nothing (use_rows keeps them away).
template <class Arch, std::size_t N = 1, class F>
void with_oc(std::size_t oc, const F& f) noexcept {
  if constexpr (N <= kRowsMaxOc) {
    if (oc == N) {
      f(std::integral_constant<std::size_t, N>{});
    } else {
      with_oc<Arch, N + 1>(oc, f);
    }
  }
}

}  // namespace conv_rows_detail

// See KernelSet::conv_rows_forward.
template <class Arch, class T>
void conv_rows_forward(const DirectConvShape& s, const T* x, const T* w, const T* bias, T* y,
                       std::size_t ldy) noexcept {
  namespace cr = conv_rows_detail;
  if constexpr (is_scalar_arch<Arch>) {
    const std::size_t K = s.C * s.KH * s.KW;
    for (std::size_t o = 0; o < s.OC; ++o) {
      for (std::size_t oh = 0; oh < s.OH; ++oh) {
        for (std::size_t ow = 0; ow < s.OW; ++ow) {
          T acc = bias != nullptr ? bias[o] : T(0);
          std::size_t k = 0;
          for (std::size_t c = 0; c < s.C; ++c) {
            for (std::size_t kh = 0; kh < s.KH; ++kh) {
              for (std::size_t kw = 0; kw < s.KW; ++kw, ++k) {
                acc +=
                    w[o * K + k] * x[c * s.ldp + (oh * s.sh + kh * s.dh) * s.ldx + ow + kw * s.dw];
              }
            }
          }
          y[o * ldy + oh * s.OW + ow] = acc;
        }
      }
    }
  } else {
    cr::with_oc<Arch>(s.OC, [&](auto n) {
      cr::rows_forward_oc<Arch, T, decltype(n)::value>(s, x, w, bias, y, ldy);
    });
  }
}

// See KernelSet::conv_rows_wgrad.
template <class Arch, class T>
void conv_rows_wgrad(const DirectConvShape& s, const T* x, const T* gy, std::size_t ldgy,
                     T* gw) noexcept {
  namespace cr = conv_rows_detail;
  if constexpr (is_scalar_arch<Arch>) {
    const std::size_t K = s.C * s.KH * s.KW;
    for (std::size_t o = 0; o < s.OC; ++o) {
      for (std::size_t k = 0; k < K; ++k) {
        const std::size_t c = k / (s.KH * s.KW), kh = k / s.KW % s.KH, kw = k % s.KW;
        T acc = T(0);
        for (std::size_t oh = 0; oh < s.OH; ++oh) {
          for (std::size_t ow = 0; ow < s.OW; ++ow) {
            acc += x[c * s.ldp + (oh * s.sh + kh * s.dh) * s.ldx + ow + kw * s.dw] *
                   gy[o * ldgy + oh * s.OW + ow];
          }
        }
        gw[o * K + k] += acc;
      }
    }
  } else {
    cr::with_oc<Arch>(
        s.OC, [&](auto n) { cr::rows_wgrad_oc<Arch, T, decltype(n)::value>(s, x, gy, ldgy, gw); });
  }
}

}  // namespace ember::kernels::impl
