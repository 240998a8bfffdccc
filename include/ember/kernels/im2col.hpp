// ember: im2col / col2im for one image, the layout step that turns a convolution into a GEMM.
//
// Plain templates on the element type, called only from generic (non-per-ISA) code, so they carry
// no ODR hazard. The heavy lifting stays in the dispatched GEMM.
//
// Layout: the image is [C, H, W] contiguous; the column matrix is [C * KH * KW, OH * OW] row-major,
// row (c, kh, kw), column (oh, ow): the input pixel (oh * sh - ph + kh * dh, ow * sw - pw + kw *
// dw), or zero where that lies in the padding. Asymmetric padding ("same" with an even kernel) only
// needs OH/OW to be given: rows past the bottom/right edge read as zero too.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ember/kernels/kernel_table.hpp"

namespace ember::kernels {

// Geometry of a 2-d convolution window over one image.
struct ConvWindow {
  int64_t C, H, W;  // image channels and size
  int64_t KH, KW;   // kernel size
  int64_t sh, sw;   // stride
  int64_t ph, pw;   // padding before the first row / column
  int64_t dh, dw;   // dilation
  int64_t OH, OW;   // output size
};

// KernelSet::col2im_plane's geometry for one channel of window g (whose column stride is 1).
inline Col2imShape col2im_shape(const ConvWindow& g) {
  Col2imShape s;
  s.H = static_cast<std::size_t>(g.H);
  s.W = static_cast<std::size_t>(g.W);
  s.KH = static_cast<std::size_t>(g.KH);
  s.KW = static_cast<std::size_t>(g.KW);
  s.sh = static_cast<std::size_t>(g.sh);
  s.dh = static_cast<std::size_t>(g.dh);
  s.dw = static_cast<std::size_t>(g.dw);
  s.OH = static_cast<std::size_t>(g.OH);
  s.OW = static_cast<std::size_t>(g.OW);
  s.ph = g.ph;
  s.pw = g.pw;
  return s;
}

// The room col2im_plane needs around a col matrix of window g (see KernelSet::col2im_plane).
inline std::size_t col2im_margin(const ConvWindow& g) {
  return col2im_margin(static_cast<std::size_t>(g.W),
                       static_cast<std::size_t>(std::max(g.pw, (g.KW - 1) * g.dw)));
}

namespace detail {

// The output columns [lo, hi) whose input column ow * s - p + off lies inside [0, size).
inline void valid_range(int64_t size, int64_t s, int64_t p, int64_t off, int64_t n, int64_t& lo,
                        int64_t& hi) {
  const int64_t first = p - off;            // need ow * s >= first
  const int64_t last = size - 1 + p - off;  // need ow * s <= last
  if (s == 1) {                             // no divisions
    lo = first <= 0 ? 0 : first;
    hi = last < 0 ? 0 : last + 1;
  } else {
    lo = first <= 0 ? 0 : (first + s - 1) / s;
    hi = last < 0 ? 0 : last / s + 1;
  }
  lo = std::min(lo, n);
  hi = std::max(std::min(hi, n), lo);
}

}  // namespace detail

namespace detail {

// The output rows [lo, hi) whose input row oh * sh - ph + off lies inside [0, H).
inline void valid_rows(const ConvWindow& g, int64_t off, int64_t& lo, int64_t& hi) {
  valid_range(g.H, g.sh, g.ph, off, g.OH, lo, hi);
}

// Whether a window row maps to one contiguous run of the image: stride 1 and output rows as wide
// as input rows, so output position oh * OW + ow reads image position oh * W + ow + const.
inline bool flat_rows(const ConvWindow& g) {
  return g.sh == 1 && g.sw == 1 && g.OW == g.W;
}

// Zeroes n elements; the one or two columns of a 3x3 or 5x5 kernel's padding without a call to
// memset (which a plain loop would become).
template <class T>
inline void zero_short(T* p, int64_t n) {
  if (n <= 0) return;
  p[0] = T(0);
  if (n == 1) return;
  p[1] = T(0);
  if (n > 2) std::fill(p + 2, p + n, T(0));
}

// Short runs (a row of a small convolution's output: 8 or 24 elements) are copied with a few
// fixed-size moves, without a loop per run: compilers turn a copy loop (also one of fixed-size
// chunks) into a memmove call or a `rep movs`, whose start-up costs more than such a copy. A run of
// b bytes, 16 <= b <= 128, is two possibly overlapping moves of the largest size 16, 32 or 64 that
// fits (a fixed-size memcpy compiles to vector moves of the target's width); longer runs call
// memcpy. The size class is picked once for `rows` runs of the same length.
template <std::size_t Bytes>
inline void move_pair(const unsigned char* src, unsigned char* dst, std::size_t b) {
  std::memcpy(dst, src, Bytes);
  if (b > Bytes) std::memcpy(dst + (b - Bytes), src + (b - Bytes), Bytes);
}

// dst[r * ldd + i] = src[r * lds + i] for r < rows, i < n; source and destination do not overlap.
template <class T>
inline void copy_rows(const T* src, int64_t lds, T* dst, int64_t ldd, int64_t rows, int64_t n) {
  if (n <= 0) return;
  const auto b = static_cast<std::size_t>(n) * sizeof(T);
  auto s = [&](int64_t r) { return reinterpret_cast<const unsigned char*>(src + r * lds); };
  auto d = [&](int64_t r) { return reinterpret_cast<unsigned char*>(dst + r * ldd); };
  if (b > 128) {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(d(r), s(r), b);
  } else if (b >= 64) {
    for (int64_t r = 0; r < rows; ++r) move_pair<64>(s(r), d(r), b);
  } else if (b >= 32) {
    for (int64_t r = 0; r < rows; ++r) move_pair<32>(s(r), d(r), b);
  } else if (b >= 16) {
    for (int64_t r = 0; r < rows; ++r) move_pair<16>(s(r), d(r), b);
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < n; ++i) dst[r * ldd + i] = src[r * lds + i];
    }
  }
}

// dst[i] += src[i] for i < n. A plain loop: compilers vectorise it (with an overlap check); adding
// in fixed 16-byte chunks, like copy_rows' moves, measured slower on 8-element rows.
template <class T>
inline void add_short(const T* src, T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// add_short over `rows` runs: dst[r * ldd + i] += src[r * lds + i].
template <class T>
inline void add_rows(const T* src, int64_t lds, T* dst, int64_t ldd, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) add_short(src + r * lds, dst + r * ldd, n);
}

}  // namespace detail

// col rows are ldc apart (ldc >= OH * OW; ldc < 0 means OH * OW): several images' columns can sit
// side by side in one matrix.
template <class T>
void im2col(const ConvWindow& g, const T* image, T* col, int64_t ldc = -1) {
  const int64_t L = g.OH * g.OW;
  if (ldc < 0) ldc = L;
  const bool flat = detail::flat_rows(g);
  const int64_t taps = g.KH * g.KW;
  // Taps outermost: the valid output rows and columns of a tap are the same for every channel.
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    int64_t r0, r1;
    detail::valid_rows(g, kh * g.dh, r0, r1);
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      int64_t lo, hi;
      detail::valid_range(g.W, g.sw, g.pw, kw * g.dw, g.OW, lo, hi);
      const bool empty = r0 >= r1 || lo >= hi;
      for (int64_t c = 0; c < g.C; ++c) {
        T* row = col + (c * taps + kh * g.KW + kw) * ldc;
        if (empty) {
          std::fill(row, row + L, T(0));
          continue;
        }
        // Index arithmetic (not pointer offsets) because the base alone may be negative.
        const int64_t off = (c * g.H - g.ph + kh * g.dh) * g.W - g.pw + kw * g.dw;
        if (flat) {
          // One copy of the run from the first valid pixel to the last, then the padding columns
          // (which the run filled with neighbouring rows' pixels) set to zero.
          const int64_t s = r0 * g.OW + lo, e = (r1 - 1) * g.OW + hi;
          std::fill(row, row + s, T(0));
          std::copy(image + (off + s), image + (off + e), row + s);
          std::fill(row + e, row + L, T(0));
        } else {
          std::fill(row, row + r0 * g.OW, T(0));
          std::fill(row + r1 * g.OW, row + L, T(0));
          const int64_t first = off + r0 * g.sh * g.W;  // pixel of (r0, column 0)
          if (g.sw == 1) {
            detail::copy_rows(image + (first + lo), g.sh * g.W, row + (r0 * g.OW + lo), g.OW,
                              r1 - r0, hi - lo);
          } else {
            for (int64_t oh = r0; oh < r1; ++oh) {
              const T* src = image + (first + (oh - r0) * g.sh * g.W);
              T* dst = row + oh * g.OW;
              for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.sw];
            }
          }
        }
        if (lo > 0 || hi < g.OW) {
          for (int64_t oh = r0; oh < r1; ++oh) {
            T* dst = row + oh * g.OW;
            detail::zero_short(dst, lo);
            detail::zero_short(dst + hi, g.OW - hi);
          }
        }
      }
    }
  }
}

// im2col's transpose: the row matrix [OH * OW, C * KH * KW], row (oh, ow) holding the window of
// output position (oh, ow) in im2col's row order (c, kh, kw); rows are ldr apart (ldr < 0: C * KH *
// KW), the entries past C * KH * KW left alone. A convolution's weight gradient gy @ col^T is
// gy @ rows, a product whose B operand a GEMM reads in place (no transposing pack).
template <class T>
void im2row(const ConvWindow& g, const T* image, T* rows, int64_t ldr = -1) {
  const int64_t K = g.C * g.KH * g.KW;
  if (ldr < 0) ldr = K;
  // Output columns [in0, in1) whose whole window row lies inside the image's columns; the others
  // (next to the padding) are filled entry by entry.
  int64_t in0, in1;
  {
    int64_t lo_first, hi_first, lo_last, hi_last;
    detail::valid_range(g.W, g.sw, g.pw, 0, g.OW, lo_first, hi_first);
    detail::valid_range(g.W, g.sw, g.pw, (g.KW - 1) * g.dw, g.OW, lo_last, hi_last);
    in0 = std::max(lo_first, lo_last);
    in1 = std::max(std::min(hi_first, hi_last), in0);
  }
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t k0 = (c * g.KH + kh) * g.KW;  // first entry of this (c, kh) in a row
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        T* dst = rows + oh * g.OW * ldr + k0;
        const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
        if (ih < 0 || ih >= g.H) {
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            for (int64_t kw = 0; kw < g.KW; ++kw) dst[ow * ldr + kw] = T(0);
          }
          continue;
        }
        // Index arithmetic (not pointer offsets) because the base alone may be negative.
        const int64_t base =
            (c * g.H + ih) * g.W - g.pw;  // pixel of (ow, kw) = base + ow*sw + kw*dw
        auto edge = [&](int64_t ow) {
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * g.sw - g.pw + kw * g.dw;
            dst[ow * ldr + kw] = iw < 0 || iw >= g.W ? T(0) : image[base + g.pw + iw];
          }
        };
        for (int64_t ow = 0; ow < in0; ++ow) edge(ow);
        if (in0 < in1) {
          if (g.dw == 1) {
            // Overlapping windows of one image row: one run of KW pixels per output column.
            detail::copy_rows(image + (base + in0 * g.sw), g.sw, dst + in0 * ldr, ldr, in1 - in0,
                              g.KW);
          } else {
            for (int64_t ow = in0; ow < in1; ++ow) {
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                dst[ow * ldr + kw] = image[base + ow * g.sw + kw * g.dw];
              }
            }
          }
        }
        for (int64_t ow = in1; ow < g.OW; ++ow) edge(ow);
      }
    }
  }
}

// The adjoint of im2col: adds every column entry into the pixel it was read from. `image` must be
// zeroed (or hold values to add to) by the caller. Serial within an image, so the order of the
// additions into one pixel is fixed. col rows are ldc apart (ldc < 0: OH * OW).
template <class T>
void col2im(const ConvWindow& g, const T* col, T* image, int64_t ldc = -1) {
  if (ldc < 0) ldc = g.OH * g.OW;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      int64_t r0, r1;
      detail::valid_rows(g, kh * g.dh, r0, r1);
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * ldc;
        int64_t lo, hi;
        detail::valid_range(g.W, g.sw, g.pw, kw * g.dw, g.OW, lo, hi);
        if (r0 >= r1 || lo >= hi) continue;
        const int64_t off = (c * g.H + r0 * g.sh - g.ph + kh * g.dh) * g.W - g.pw + kw * g.dw;
        if (g.sw == 1) {
          detail::add_rows(row + (r0 * g.OW + lo), g.OW, image + (off + lo), g.sh * g.W, r1 - r0,
                           hi - lo);
        } else {
          for (int64_t oh = r0; oh < r1; ++oh) {
            const T* src = row + oh * g.OW;
            T* dst = image + (off + (oh - r0) * g.sh * g.W);
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.sw] += src[ow];
          }
        }
      }
    }
  }
}

// col2im for flat rows (stride 1, output rows as wide as input rows: detail::flat_rows), where
// each tap's valid window rows form one contiguous run of the image: the run is added in one call
// of `add` (a dispatched axpy: dst[i] += 1 * src[i] over n elements, vectorised for the ISA)
// instead of row by row. The col entries that fall into the padding would land on neighbouring
// rows' pixels, so they are set to zero first: `col` is consumed. Adding those zeros leaves every
// pixel's bits as they are provided no pixel holds -0 (x + 0 == x bitwise for every other x),
// which holds for a zeroed image: a sum that starts from +0 is never -0 when rounding to nearest.
// Then the result is col2im's, bit for bit.
template <class T>
void col2im_flat(const ConvWindow& g, T* col, T* image,
                 void (*add)(std::size_t, T, const T*, T*) noexcept, int64_t ldc = -1) {
  const int64_t L = g.OH * g.OW;
  if (ldc < 0) ldc = L;
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        T* row = col + ((c * g.KH + kh) * g.KW + kw) * ldc;
        int64_t lo, hi;
        detail::valid_range(g.W, g.sw, g.pw, kw * g.dw, g.OW, lo, hi);
        int64_t r0, r1;
        detail::valid_rows(g, kh * g.dh, r0, r1);
        if (r0 >= r1 || lo >= hi) continue;
        if (lo > 0 || hi < g.OW) {
          for (int64_t oh = r0; oh < r1; ++oh) {
            T* src = row + oh * g.OW;
            detail::zero_short(src, lo);
            detail::zero_short(src + hi, g.OW - hi);
          }
        }
        const int64_t off = (c * g.H - g.ph + kh * g.dh) * g.W - g.pw + kw * g.dw;
        const int64_t s = r0 * g.OW + lo, e = (r1 - 1) * g.OW + hi;
        add(static_cast<std::size_t>(e - s), T(1), row + s, image + (off + s));
      }
    }
  }
}

}  // namespace ember::kernels
