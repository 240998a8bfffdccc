// ember: conv2d's Winograd F(2x2, 3x3) path (see functional/conv.hpp's header comment), and the
// geometry, buffers and forward / backward drivers it shares with F(4x4, 3x3)
// (conv_winograd4.hpp). Internal to functional/conv.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ember/functional/detail/conv_geom.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F::detail {

// ---- Winograd F(2x2, 3x3): 3x3, stride 1, dilation 1, groups 1 ----
//
// Output tiles of 2x2 read 4x4 input tiles (overlapping by 2; zero outside the input). Per tile
// position xi of the 4x4 transformed domain (16 of them):
//   U[xi] = (G g G^T)[xi]   (OC x C, once per call)     V[xi] = (B^T d B)[xi]   (C x tiles)
//   M[xi] = U[xi] V[xi]     (16 GEMMs)                  y     = A^T M A, cropped, plus bias
// with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
// A^T = [1 1 1 0; 0 1 -1 -1]: 16 multiplications per tile and channel pair instead of 36, and the
// transforms are only adds, subtractions and halvings. The backward is the adjoint of that map:
//   dM = A dY A^T (partial tiles zero-extended)   dV[xi] = U[xi]^T dM[xi]
//   dX = sum over tiles of B dV B^T (padding dropped)   dU[xi] = sum of dM[xi] V[xi]^T
//   dg = G^T dU G
// Tiles are processed in blocks of whole tile rows (a tile row: one image, one th, all TW tiles),
// so the transformed block (16 x (C + OC) x columns) stays in L2. Each tile row has TW columns in
// the transformed matrices. The input tiles are transformed by the kernel wino_bt_tiles, and the
// input gradient's last step (B along the columns) by wino_b_cols: both read the overlapping
// 4-column windows of the padded rows. Everything else is 1-d passes over the whole block
// (wino_at / wino_a / wino_b: vectorised loops).
// Forward blocks run in parallel; the backward's blocks go in order within fixed batch chunks.

// Winograd needs enough channels for its GEMMs to dominate the transforms. Measured (batch 64,
// 14x14, 1 thread, Winograd / im2col time): 8 -> 8 1.49, 12 -> 12 0.72, 16 -> 16 0.80; see
// benchmarks/results/conv.md.
constexpr int64_t kWinoMinChannels = 16;
// Bytes of transformed data (V and M) per block. F(4x4) (36 matrices instead of 16) takes twice
// that: fewer, longer GEMM calls per block and fewer per-block passes over the 36 weight (and
// weight gradient) matrices. Measured at 1 thread, F(4x4) forward + backward, blocks of 512 KiB /
// 1 MiB / 2 MiB: ResNet 64->64 32x32 batch 32 48.6 / 44.4 / 40.2-41.7 ms, 32->64 16x16 batch 64
// 15.9 / 14.4 / 13.5-14.1 ms, 128->128 16x16 batch 32 65.6 / 52.8-53.7 / 47.6-49.0 ms (3 and 4
// MiB: no better, measured under a higher load).
constexpr int64_t kWinoBlockBytes = 1024 * 1024;
constexpr int64_t kWino4BlockBytes = 2 * kWinoBlockBytes;

inline bool use_winograd(const ConvGeom& g) {
  const auto& w = g.win;
  return g.groups == 1 && w.KH == 3 && w.KW == 3 && w.sh == 1 && w.sw == 1 && w.dh == 1 &&
         w.dw == 1 && w.C >= kWinoMinChannels && g.OC >= kWinoMinChannels;
}

struct WinoGeom {
  int64_t N, C, OC, H, W, OH, OW, ph, pw;
  int64_t TH, TW;  // tiles per column / row
  int64_t R;       // tile rows per block
  int64_t m;       // output tile size
  // m: the output tile size (2 for F(2x2, 3x3), 4 for F(4x4, 3x3)); (m + 2)^2 transformed
  // matrices.
  template <class T>
  static WinoGeom make(const ConvGeom& g, int64_t m = 2) {
    const auto& w = g.win;
    WinoGeom q{
        g.N, w.C, g.OC, w.H, w.W, w.OH, w.OW, w.ph, w.pw, (w.OH + m - 1) / m, (w.OW + m - 1) / m,
        1,   m};
    const int64_t per_row =
        (m + 2) * (m + 2) * (q.C + q.OC) * q.S() * static_cast<int64_t>(sizeof(T));
    q.R = std::max<int64_t>(1, (m == 4 ? kWino4BlockBytes : kWinoBlockBytes) / per_row);
    // Fewer rows (down to three quarters) if that makes the block's columns R S a multiple of 32,
    // and so of every ISA's GEMM panel width: no partly empty last panel in the 3 x (m + 2)^2
    // GEMMs of a block. Measured with F(2x2)'s former filler column (Fashion-MNIST conv2, 14x14,
    // S = 8), R 21 -> 20: forward + backward at 1 thread 12.7-13.2 -> 12.3-12.6 ms.
    for (int64_t r = q.R; 4 * r >= 3 * q.R; --r) {
      if (r * q.S() % 32 == 0) {
        q.R = r;
        break;
      }
    }
    return q;
  }
  int64_t rows() const { return N * TH; }  // tile rows of the batch
  // Columns per tile row in the transformed matrices: the TW tiles, and for F(4x4) one filler
  // column, so that its transforms are single passes over all of a block's tiles (see
  // wino4_input_transform).
  int64_t S() const { return m == 2 ? TW : TW + 1; }
};

// Staging of the weight transforms: chunks of kWinoPlaneChunk planes in parallel, each through a
// buffer of NX rows, so that the NX strided streams (planes apart: a multiple of 4 KiB for the
// usual channel counts, they conflict in L1; about 150 cycles per plane, Fashion-MNIST conv2
// 100 us a call, serial) become NX short contiguous copies.
constexpr int64_t kWinoPlaneChunk = 64;

// Calls fn(p0, np) for the chunks [p0, p0 + np) of [0, planes), in parallel.
template <class F>
void wino_plane_chunks(int64_t planes, F&& fn) {
  const auto chunks = static_cast<std::size_t>((planes + kWinoPlaneChunk - 1) / kWinoPlaneChunk);
  parallel_for(0, chunks, 8, [&](std::size_t lo, std::size_t hi) {
    for (auto ch = static_cast<int64_t>(lo); ch < static_cast<int64_t>(hi); ++ch) {
      const int64_t p0 = ch * kWinoPlaneChunk;
      fn(p0, std::min(kWinoPlaneChunk, planes - p0));
    }
  });
}

// Calls fn(p, u) for every plane p < planes (u: NX values to fill) and stores u[xi] at
// U[xi * planes + p].
template <class T, int64_t NX, class F>
void wino_store_planes(int64_t planes, T* U, F&& fn) {
  wino_plane_chunks(planes, [&](int64_t p0, int64_t np) {
    T buf[NX][kWinoPlaneChunk];
    for (int64_t j = 0; j < np; ++j) {
      T u[NX];
      fn(p0 + j, u);
      for (int64_t xi = 0; xi < NX; ++xi) buf[xi][j] = u[xi];
    }
    for (int64_t xi = 0; xi < NX; ++xi) std::copy(buf[xi], buf[xi] + np, U + xi * planes + p0);
  });
}

// The converse: calls fn(s, u) for every s < planes with u[xi] = dU[xi * planes + s].
template <class T, int64_t NX, class F>
void wino_load_planes(int64_t planes, const T* dU, F&& fn) {
  wino_plane_chunks(planes, [&](int64_t s0, int64_t ns) {
    T buf[NX][kWinoPlaneChunk];
    for (int64_t xi = 0; xi < NX; ++xi) {
      std::copy(dU + xi * planes + s0, dU + xi * planes + s0 + ns, buf[xi]);
    }
    for (int64_t j = 0; j < ns; ++j) {
      T u[NX];
      for (int64_t xi = 0; xi < NX; ++xi) u[xi] = buf[xi][j];
      fn(s0 + j, static_cast<const T*>(u));
    }
  });
}

// The plane of gw (oc * C + c) that entry s of a dU plane holds: s itself, or s = c * OC + oc when
// dU is transposed.
inline int64_t wino_grad_plane(const WinoGeom& q, bool transposed, int64_t s) {
  return transposed ? (s % q.OC) * q.C + s / q.OC : s;
}

// U[xi][oc][c] = (G g[oc][c] G^T)[xi].
template <class T>
void wino_weight_transform(const WinoGeom& q, const T* w, T* U) {
  const T h = T(0.5);
  wino_store_planes<T, 16>(q.OC * q.C, U, [&](int64_t p, T* u) {
    const T* g = w + p * 9;
    T t[4][3];  // G g
    for (int j = 0; j < 3; ++j) {
      t[0][j] = g[j];
      t[1][j] = h * (g[j] + g[3 + j] + g[6 + j]);
      t[2][j] = h * (g[j] - g[3 + j] + g[6 + j]);
      t[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; ++i) {
      u[i * 4] = t[i][0];
      u[i * 4 + 1] = h * (t[i][0] + t[i][1] + t[i][2]);
      u[i * 4 + 2] = h * (t[i][0] - t[i][1] + t[i][2]);
      u[i * 4 + 3] = t[i][2];
    }
  });
}

// gw[oc][c] = G^T dU[.][oc][c] G (the adjoint of wino_weight_transform); dU[xi] is OC x C, or
// C x OC when transposed.
template <class T>
void wino_weight_grad_transform(const WinoGeom& q, const T* dU, bool transposed, T* gw) {
  const T h = T(0.5);
  wino_load_planes<T, 16>(q.OC * q.C, dU, [&](int64_t s, const T* u) {
    T t[4][3];  // dU G
    for (int i = 0; i < 4; ++i) {
      const T u0 = u[i * 4], u1 = u[i * 4 + 1], u2 = u[i * 4 + 2], u3 = u[i * 4 + 3];
      t[i][0] = u0 + h * (u1 + u2);
      t[i][1] = h * (u1 - u2);
      t[i][2] = h * (u1 + u2) + u3;
    }
    T* g = gw + wino_grad_plane(q, transposed, s) * 9;
    for (int j = 0; j < 3; ++j) {
      g[j] = t[0][j] + h * (t[1][j] + t[2][j]);
      g[3 + j] = h * (t[1][j] - t[2][j]);
      g[6 + j] = h * (t[1][j] + t[2][j]) + t[3][j];
    }
  });
}

// The 1-d 4-point transforms, on n elements of separate arrays (restrict: vectorised without
// aliasing checks). at: A^T (output, plus b), a: A (output gradient), b: B (input gradient).
template <class T>
void wino_at(int64_t n, const T* __restrict m0, const T* __restrict m1, const T* __restrict m2,
             const T* __restrict m3, T b, T* __restrict o0, T* __restrict o1) {
  for (int64_t k = 0; k < n; ++k) {
    o0[k] = m0[k] + m1[k] + m2[k] + b;
    o1[k] = m1[k] - m2[k] - m3[k] + b;
  }
}
template <class T>
void wino_a(int64_t n, const T* __restrict y0, const T* __restrict y1, T* __restrict o0,
            T* __restrict o1, T* __restrict o2, T* __restrict o3) {
  for (int64_t k = 0; k < n; ++k) {
    o0[k] = y0[k];
    o1[k] = y0[k] + y1[k];
    o2[k] = y0[k] - y1[k];
    o3[k] = -y1[k];
  }
}
template <class T>
void wino_b(int64_t n, const T* __restrict d0, const T* __restrict d1, const T* __restrict d2,
            const T* __restrict d3, T* __restrict o0, T* __restrict o1, T* __restrict o2,
            T* __restrict o3) {
  for (int64_t k = 0; k < n; ++k) {
    o0[k] = d0[k];
    o1[k] = d1[k] - d2[k] + d3[k];
    o2[k] = d1[k] + d2[k] - d0[k];
    o3[k] = -d3[k];
  }
}

// Per-thread buffers of the transforms: 24 arrays of (R + 2) S + 2 (zero-initialised; slack
// entries past what a pass writes stay zero).
template <class T>
struct WinoRows {
  int64_t len;
  std::vector<T> data;
  std::vector<const T*> rows;  // a block's padded input rows (wino_input_transform)
  explicit WinoRows(const WinoGeom& q)
      : len((q.R + 2) * q.S() + 2),
        data(static_cast<std::size_t>(24 * len), T(0)),
        rows(static_cast<std::size_t>(2 * q.R + 2)) {}
  T* at(int64_t i) { return data.data() + i * len; }
};

// The rows a + 2 jj, jj < nj, that lie in [0, H): jj in [ja, jb).
inline void wino_row_range(int64_t a, int64_t H, int64_t nj, int64_t& ja, int64_t& jb) {
  jb = H - a <= 0 ? 0 : std::min(nj, (H - a + 1) / 2);
  ja = std::min(jb, a >= 0 ? int64_t(0) : (1 - a) / 2);
}

// out[f] = a[f] + b[f - shift] (b's term only for f >= shift, a's only for f < na), f < n;
// needs shift <= na <= n.
template <class T>
void wino_add_shifted(int64_t n, int64_t na, int64_t shift, const T* __restrict a,
                      const T* __restrict b, T* __restrict out) {
  const int64_t lo = std::min(shift, n), hi = std::max(lo, std::min(na, n));
  for (int64_t f = 0; f < lo; ++f) out[f] = a[f];
  for (int64_t f = lo; f < hi; ++f) out[f] = a[f] + b[f - shift];
  for (int64_t f = hi; f < n; ++f) out[f] = b[f - shift];
}

// Calls fn(n, th0, th1, j0) for each image's run of the tile rows [r0, r1): tile rows th0..th1-1
// of image n, at row j0 of the block.
template <class F>
void wino_segments(const WinoGeom& q, int64_t r0, int64_t r1, F&& fn) {
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / q.TH, th0 = r % q.TH, th1 = std::min(q.TH, th0 + (r1 - r));
    fn(n, th0, th1, r - r0);
    r += th1 - th0;
  }
}

// Prefetches the n elements at p (for writing when write). The transforms prefetch the next
// channel's rows of the big tensors (x, y, their gradients) while they work on the current one:
// otherwise every row's first load waits on L3 or memory (measured: 4% of the ResNet 64->64 32x32
// forward + backward with F(4x4); F(2x2) at 14x14: see wino_input_transform).
template <class T>
inline void wino_prefetch(const T* p, int64_t n, bool write) {
  const char* b = reinterpret_cast<const char*>(p);
  const int64_t bytes = n * static_cast<int64_t>(sizeof(T));
  for (int64_t o = 0; o < bytes; o += 64) {
    if (write) {
      __builtin_prefetch(b + o, 1, 3);
    } else {
      __builtin_prefetch(b + o, 0, 3);
    }
  }
}

// The image rows [lo, hi) that the tile rows [th0, th1) of F(m x m) read (input: rows m th - ph
// .. m th - ph + m + 1) or write (output: rows m th .. m th + m - 1), clamped to [0, H).
inline void wino_rows_of(int64_t m, int64_t th0, int64_t th1, int64_t ph, int64_t H, bool input,
                         int64_t& lo, int64_t& hi) {
  lo = std::max<int64_t>(0, m * th0 - (input ? ph : 0));
  hi = std::min<int64_t>(H, m * th1 + (input ? 2 - ph : 0));
  hi = std::max(lo, hi);
}

// V[xi][c][f] for the tile rows [r0, r1): f = (r - r0) * TW + tw, by the kernel wino_bt_tiles
// per image run of tile rows (tile row j reads padded rows 2j .. 2j + 3).
template <class T>
void wino_input_transform(const WinoGeom& q, const T* x, int64_t r0, int64_t r1, T* V,
                          WinoRows<T>& rb) {
  const int64_t TW = q.TW, ld = (r1 - r0) * TW, plane = q.C * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const T** rows = rb.rows.data();
  for (int64_t c = 0; c < q.C; ++c) {  // channel-major: the rows of one plane in order
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* img = x + (n * q.C + c) * q.H * q.W;
      if (c + 1 < q.C) {  // the next channel's rows, while this one's are transformed
        int64_t lo, hi;
        wino_rows_of(2, th0, th1, q.ph, q.H, true, lo, hi);
        wino_prefetch(img + q.H * q.W + lo * q.W, (hi - lo) * q.W, false);
      }
      // Padded row m is image row 2 th0 - ph + m, zeros outside the image.
      for (int64_t m = 0; m < 2 * (th1 - th0) + 2; ++m) {
        const int64_t h = 2 * th0 - q.ph + m;
        rows[m] = h >= 0 && h < q.H ? img + h * q.W : nullptr;
      }
      ks.wino_bt_tiles(static_cast<std::size_t>(th1 - th0), static_cast<std::size_t>(q.W),
                       static_cast<std::size_t>(q.pw), static_cast<std::size_t>(TW), rows,
                       V + c * ld + j0 * TW, static_cast<std::size_t>(plane));
    });
  }
}

// y = A^T M A (+ bias) for the tile rows [r0, r1), cropped to OH x OW.
template <class T>
void wino_output_transform(const WinoGeom& q, const T* M, int64_t r0, int64_t r1, const T* bias,
                           T* y, WinoRows<T>& rb) {
  const int64_t TW = q.TW, ld = (r1 - r0) * TW, plane = q.OC * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), tw = static_cast<std::size_t>(TW);
  T* y00 = rb.at(0);
  T* y01 = rb.at(1);
  T* y10 = rb.at(2);
  T* y11 = rb.at(3);
  for (int64_t oc = 0; oc < q.OC; ++oc) {
    const T* m = M + oc * ld;
    const T b = bias != nullptr ? bias[oc] : T(0);
    // All the block's tiles at once: A^T on rows (u, per column j), then on columns.
    for (int j = 0; j < 4; ++j) {
      wino_at(ld, m + j * plane, m + (4 + j) * plane, m + (8 + j) * plane, m + (12 + j) * plane,
              T(0), rb.at(4 + j), rb.at(8 + j));
    }
    wino_at(ld, rb.at(4), rb.at(5), rb.at(6), rb.at(7), b, y00, y01);
    wino_at(ld, rb.at(8), rb.at(9), rb.at(10), rb.at(11), b, y10, y11);
    // Interleave: output rows 2 th from y00 / y01, rows 2 th + 1 < OH from y10 / y11.
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      T* yo = y + ((n * q.OC + oc) * q.OH + 2 * th0) * q.OW;
      const int64_t t0 = j0 * TW;
      if (oc + 1 < q.OC) {
        int64_t lo, hi;
        wino_rows_of(2, th0, th1, 0, q.OH, false, lo, hi);
        wino_prefetch(yo + q.OH * q.OW, (hi - lo) * q.OW, true);
      }
      const int64_t odd = std::max(int64_t(0), std::min(th1, q.OH / 2) - th0);
      ks.wino_merge_rows(false, static_cast<std::size_t>(th1 - th0), ow, 0, tw, y00 + t0, y01 + t0,
                         tw, yo, 2 * ow);
      ks.wino_merge_rows(false, static_cast<std::size_t>(odd), ow, 0, tw, y10 + t0, y11 + t0, tw,
                         yo + q.OW, 2 * ow);
    });
  }
}

// dM[xi][oc][f] = (A dY A^T)[xi] for the tile rows [r0, r1) (dY zero outside OH x OW).
template <class T>
void wino_grad_output_transform(const WinoGeom& q, const T* gy, int64_t r0, int64_t r1, T* dM,
                                WinoRows<T>& rb) {
  const int64_t TW = q.TW, ld = (r1 - r0) * TW, plane = q.OC * ld;
  T* a0 = rb.at(0);  // row 2 th, even / odd columns, then row 2 th + 1
  T* b0 = rb.at(1);
  T* a1 = rb.at(2);
  T* b1 = rb.at(3);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), us = static_cast<std::size_t>(TW);
  for (int64_t oc = 0; oc < q.OC; ++oc) {
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* go = gy + ((n * q.OC + oc) * q.OH + 2 * th0) * q.OW;
      const int64_t t0 = j0 * TW, rows = th1 - th0;
      if (oc + 1 < q.OC) {
        int64_t lo, hi;
        wino_rows_of(2, th0, th1, 0, q.OH, false, lo, hi);
        wino_prefetch(go + q.OH * q.OW, (hi - lo) * q.OW, false);
      }
      ks.wino_split_rows(static_cast<std::size_t>(rows), ow, 0, us, go, 2 * ow, a0 + t0, b0 + t0,
                         us);
      // Rows 2 th + 1 < OH: th < OH / 2; the others are zero.
      const int64_t odd = std::max(int64_t(0), std::min(th1, q.OH / 2) - th0);
      ks.wino_split_rows(static_cast<std::size_t>(odd), ow, 0, us, go + q.OW, 2 * ow, a1 + t0,
                         b1 + t0, us);
      std::fill(a1 + t0 + odd * TW, a1 + t0 + rows * TW, T(0));
      std::fill(b1 + t0 + odd * TW, b1 + t0 + rows * TW, T(0));
    });
    // A on rows (per column parity), then A^T on columns.
    wino_a(ld, a0, a1, rb.at(4), rb.at(5), rb.at(6), rb.at(7));
    wino_a(ld, b0, b1, rb.at(8), rb.at(9), rb.at(10), rb.at(11));
    T* d = dM + oc * ld;
    for (int i = 0; i < 4; ++i) {
      T* di = d + (i * 4) * plane;
      wino_a(ld, rb.at(4 + i), rb.at(8 + i), di, di + plane, di + 2 * plane, di + 3 * plane);
    }
  }
}

// gx += sum over the tiles of the rows [r0, r1) of B dV B^T, padding dropped: B on the rows over
// the whole block, the rows of a run of tile rows summed into padded rows (E[b] even, O[b] odd,
// as in wino_input_transform), then B on the columns of each padded row, added to gx (kernel
// wino_b_cols). Per block and image, every padded row is summed in a fixed order, then added to
// gx; blocks come in order, so the result does not depend on threads. gx must be zero before an
// image's first block.
template <class T>
void wino_input_grad_transform(const WinoGeom& q, const T* dV, int64_t r0, int64_t r1, T* gx,
                               WinoRows<T>& rb) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t TW = q.TW, ld = (r1 - r0) * TW, plane = q.C * ld;
  const auto ldb = static_cast<std::size_t>(rb.len);
  for (int64_t c = 0; c < q.C; ++c) {
    const T* v = dV + c * ld;
    // Tile row i of column b into 8 + 4 b + i.
    for (int b = 0; b < 4; ++b) {
      wino_b(ld, v + b * plane, v + (4 + b) * plane, v + (8 + b) * plane, v + (12 + b) * plane,
             rb.at(8 + 4 * b), rb.at(9 + 4 * b), rb.at(10 + 4 * b), rb.at(11 + 4 * b));
    }
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const int64_t rows = th1 - th0, nf = rows * TW, off = j0 * TW;
      T* img = gx + (n * q.C + c) * q.H * q.W;
      if (c + 1 < q.C) {
        int64_t lo, hi;
        wino_rows_of(2, th0, th1, q.ph, q.H, true, lo, hi);
        wino_prefetch(img + q.H * q.W + lo * q.W, (hi - lo) * q.W, true);
      }
      // Tile row j's rows 0..3 are padded rows 2j .. 2j + 3: E[f], O[f], E[f + TW], O[f + TW].
      for (int b = 0; b < 4; ++b) {
        for (int rp = 0; rp < 2; ++rp) {
          wino_add_shifted(nf + TW, nf, TW, rb.at(8 + 4 * b + rp) + off,
                           rb.at(10 + 4 * b + rp) + off, rb.at(4 * rp + b));
        }
      }
      for (int rp = 0; rp < 2; ++rp) {  // padded rows m = rp + 2 jj inside the image
        const int64_t a = 2 * th0 - q.ph + rp;
        int64_t ja, jb;
        wino_row_range(a, q.H, rows + 1, ja, jb);
        if (jb <= ja) continue;
        ks.wino_b_cols(static_cast<std::size_t>(jb - ja), static_cast<std::size_t>(q.W),
                       static_cast<std::size_t>(q.pw), static_cast<std::size_t>(TW),
                       rb.at(4 * rp) + ja * TW, static_cast<std::size_t>(TW), ldb,
                       img + (a + 2 * ja) * q.W, static_cast<std::size_t>(2 * q.W));
      }
    });
  }
}

// A per-thread transformed block (V or M), left uninitialised: every pass writes all of a
// block's columns (F(4x4)'s filler columns included) before any pass reads them. Also the GEMM
// scratch (no zero fill needed: the GEMM writes its packed panels before reading them).
template <class T>
struct WinoBuffer {
  std::unique_ptr<T[]> p;
  explicit WinoBuffer(int64_t n) : p(new T[static_cast<std::size_t>(n)]) {}
  T* data() { return p.get(); }
};

// U[xi] (or U[xi]^T) packed for gemm_packed, one per xi < nx (16 for F(2x2), 36 for F(4x4)).
template <class T>
struct WinoPacked {
  std::size_t stride = 0;
  std::vector<T> data;
  WinoPacked() = default;
  WinoPacked(const kernels::KernelSet<T>& ks, const WinoGeom& q, const T* U, bool transposed,
             int64_t nx = 16) {
    const auto m = static_cast<std::size_t>(transposed ? q.C : q.OC);
    const auto k = static_cast<std::size_t>(transposed ? q.OC : q.C);
    stride = kernels::gemm_packed_a_size<T>(m, k);
    data.resize(static_cast<std::size_t>(nx) * stride);
    parallel_for(0, static_cast<std::size_t>(nx), 8, [&](std::size_t lo, std::size_t hi) {
      for (auto xi = static_cast<int64_t>(lo); xi < static_cast<int64_t>(hi); ++xi) {
        ks.gemm_pack_a(transposed, m, k, U + xi * q.OC * q.C, static_cast<std::size_t>(q.C),
                       at(xi));
      }
    });
  }
  const T* at(int64_t xi) const { return data.data() + static_cast<std::size_t>(xi) * stride; }
  T* at(int64_t xi) { return data.data() + static_cast<std::size_t>(xi) * stride; }
};

// F(2x2, 3x3) for the drivers below: tile size, number of transformed matrices, the per-thread
// row buffers and the transforms. conv_winograd4.hpp's Wino4 is the same for F(4x4, 3x3).
struct Wino2 {
  static constexpr int64_t kTile = 2, kNx = 16;
  template <class T>
  using Rows = WinoRows<T>;
  template <class T>
  static void weight_transform(const WinoGeom& q, const T* w, T* U) {
    wino_weight_transform(q, w, U);
  }
  template <class T>
  static void weight_grad_transform(const WinoGeom& q, const T* dU, bool transposed, T* gw) {
    wino_weight_grad_transform(q, dU, transposed, gw);
  }
  template <class T>
  static void input_transform(const WinoGeom& q, const T* x, int64_t r0, int64_t r1, T* V,
                              Rows<T>& rb) {
    wino_input_transform(q, x, r0, r1, V, rb);
  }
  template <class T>
  static void output_transform(const WinoGeom& q, const T* M, int64_t r0, int64_t r1, const T* bias,
                               T* y, Rows<T>& rb) {
    wino_output_transform(q, M, r0, r1, bias, y, rb);
  }
  template <class T>
  static void grad_output_transform(const WinoGeom& q, const T* gy, int64_t r0, int64_t r1, T* dM,
                                    Rows<T>& rb) {
    wino_grad_output_transform(q, gy, r0, r1, dM, rb);
  }
  template <class T>
  static void input_grad_transform(const WinoGeom& q, const T* dV, int64_t r0, int64_t r1, T* gx,
                                   Rows<T>& rb) {
    wino_input_grad_transform(q, dV, r0, r1, gx, rb);
  }
};

// The forward of algorithm A (Wino2 or Wino4): blocks of tile rows in parallel, each computed by
// one thread (the result does not depend on the split).
template <class A, class T>
void wino_forward_with(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias) {
  constexpr int64_t nx = A::kNx;
  const WinoGeom q = WinoGeom::make<T>(g, A::kTile);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  WinoBuffer<T> U(nx * q.OC * q.C);
  A::weight_transform(q, w, U.data());
  const WinoPacked<T> pu(ks, q, U.data(), false, nx);
  const int64_t blocks = (q.rows() + q.R - 1) / q.R, tmax = q.R * q.S();
  parallel_for(0, static_cast<std::size_t>(blocks), 1, [&](std::size_t lo, std::size_t hi) {
    WinoBuffer<T> V(nx * q.C * tmax);
    WinoBuffer<T> M(nx * q.OC * tmax);
    WinoBuffer<T> scratch(static_cast<int64_t>(gemm_scratch<T>(q.OC, tmax, q.C)));
    typename A::template Rows<T> rb(q);
    for (auto b = static_cast<int64_t>(lo); b < static_cast<int64_t>(hi); ++b) {
      const int64_t r0 = b * q.R, r1 = std::min(q.rows(), r0 + q.R), t = (r1 - r0) * q.S();
      A::input_transform(q, x, r0, r1, V.data(), rb);
      for (int64_t xi = 0; xi < nx; ++xi) {
        ks.gemm_packed(static_cast<std::size_t>(q.OC), static_cast<std::size_t>(t),
                       static_cast<std::size_t>(q.C), T(1), pu.at(xi), false,
                       V.data() + xi * q.C * t, static_cast<std::size_t>(t), T(0),
                       M.data() + xi * q.OC * t, static_cast<std::size_t>(t), scratch.data());
      }
      A::output_transform(q, M.data(), r0, r1, bias, y, rb);
    }
  });
}

// The backward of algorithm A: any of gx (needs w), gw (needs x), gb (may be null). The batch is
// split into kBatchChunks fixed chunks of images (in parallel); each chunk's tile rows go in
// blocks, in order: dM from gy, then dU += dM V^T (V from x), then dX from U^T dM. The chunks' dU
// are added in chunk order, so the result does not depend on the thread count.
template <class A, class T>
void wino_backward_with(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw,
                        T* gb) {
  constexpr int64_t nx = A::kNx;
  const WinoGeom q = WinoGeom::make<T>(g, A::kTile);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t usize = nx * q.OC * q.C, tmax = q.R * q.S();
  WinoPacked<T> pu;  // U[xi]^T, for the input gradient
  if (gx != nullptr) {
    WinoBuffer<T> U(usize);
    A::weight_transform(q, w, U.data());
    pu = WinoPacked<T>(ks, q, U.data(), true, nx);
  }
  const int64_t chunks = std::min<int64_t>(q.N, kBatchChunks);
  if (chunks == 0) {  // an empty batch
    if (gw != nullptr) std::fill(gw, gw + q.OC * q.C * 9, T(0));
    if (gb != nullptr) std::fill(gb, gb + q.OC, T(0));
    return;
  }
  const bool dut = q.C < q.OC;  // dU stored transposed ([xi][c][oc])
  // Each chunk's first block writes its dU with beta = 0 (no zero fill).
  WinoBuffer<T> dU(gw != nullptr ? chunks * usize : 0);
  parallel_for(0, static_cast<std::size_t>(chunks), 1, [&](std::size_t clo, std::size_t chi) {
    WinoBuffer<T> V(nx * q.C * tmax);
    WinoBuffer<T> M(nx * q.OC * tmax);
    WinoBuffer<T> scratch(static_cast<int64_t>(
        std::max({gemm_scratch<T>(q.C, tmax, q.OC), gemm_scratch<T>(q.OC, q.C, tmax),
                  gemm_scratch<T>(q.C, q.OC, tmax)})));
    typename A::template Rows<T> rb(q);
    for (auto ci = static_cast<int64_t>(clo); ci < static_cast<int64_t>(chi); ++ci) {
      const int64_t n0 = q.N * ci / chunks, n1 = q.N * (ci + 1) / chunks;
      if (gx != nullptr) {
        std::fill(gx + n0 * q.C * q.H * q.W, gx + n1 * q.C * q.H * q.W, T(0));
      }
      T* du = gw != nullptr ? dU.data() + ci * usize : nullptr;
      if (du != nullptr && q.TH == 0) std::fill(du, du + usize, T(0));  // no blocks: no output
      for (int64_t r0 = n0 * q.TH; r0 < n1 * q.TH; r0 += q.R) {
        const int64_t r1 = std::min(n1 * q.TH, r0 + q.R), t = (r1 - r0) * q.S();
        const auto st = static_cast<std::size_t>(t);
        A::grad_output_transform(q, gy, r0, r1, M.data(), rb);
        if (du != nullptr) {
          A::input_transform(q, x, r0, r1, V.data(), rb);
          const T beta = r0 == n0 * q.TH ? T(0) : T(1);
          for (int64_t xi = 0; xi < nx; ++xi) {
            const T* dm = M.data() + xi * q.OC * t;
            const T* v = V.data() + xi * q.C * t;
            // The GEMM packs its first operand with a transpose: the smaller of dM and V.
            const bool tr = dut;
            kernels::gemm<T>(false, true, static_cast<std::size_t>(tr ? q.C : q.OC),
                             static_cast<std::size_t>(tr ? q.OC : q.C), st, T(1), tr ? v : dm, st,
                             tr ? dm : v, st, beta, du + xi * q.OC * q.C,
                             static_cast<std::size_t>(tr ? q.OC : q.C), scratch.data());
          }
        }
        if (gx != nullptr) {
          for (int64_t xi = 0; xi < nx; ++xi) {
            ks.gemm_packed(static_cast<std::size_t>(q.C), st, static_cast<std::size_t>(q.OC), T(1),
                           pu.at(xi), false, M.data() + xi * q.OC * t, st, T(0),
                           V.data() + xi * q.C * t, st, scratch.data());
          }
          A::input_grad_transform(q, V.data(), r0, r1, gx, rb);
        }
      }
    }
  });
  if (gw != nullptr) {
    T* sum = sum_chunks(dU.data(), chunks, usize);
    A::weight_grad_transform(q, sum, dut, gw);
  }
  if (gb != nullptr) bias_grad(q.N, q.OC, q.OH * q.OW, gy, gb);
}

}  // namespace ember::F::detail
