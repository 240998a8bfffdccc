// ember: conv2d's Winograd F(4x4, 3x3) path, and the choice between it and F(2x2, 3x3)
// (conv_winograd.hpp, whose geometry, buffers and drivers it shares). Internal to
// functional/conv.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ember/functional/detail/conv_geom.hpp"
#include "ember/functional/detail/conv_winograd.hpp"
#include "ember/kernels/dispatch.hpp"

namespace ember::F::detail {

// ---- Winograd F(4x4, 3x3) ----
//
// Output tiles of 4x4 read 6x6 input tiles (overlapping by 2). The 1-d F(4, 3) is Toom-Cook with
// the points 0, 1, -1, 2, -2 and infinity (Lavin & Gray): y = A^T [(G g) . (B^T d)] for the 6
// inputs d, the 3 weights g and the 4 outputs y[i] = sum_k g[k] d[i + k]. Column j of A^T holds
// the powers p^0..p^3 of point p (infinity: (0, 0, 0, 1)), row j of G evaluates g at p (infinity:
// its leading coefficient) scaled by the inverse of the product of (p - q) over the other finite
// points q, and B^T holds the matching interpolation coefficients, so that A^T (G g . B^T d) is
// the exact correlation (tests/functional/test_conv_winograd.cpp checks it against a direct 1-d
// correlation, and the 1-d passes below against these matrices):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
//          0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// 36 multiplications per tile and channel pair (direct: 144; F(2x2): 4 tiles of 16 = 64); the
// 2-d transforms are the 1-d ones on rows and then on columns. The backward is the adjoint, as for
// F(2x2): dM = A dY A^T, dV = U^T dM, dX = sum of B dV B^T, dU = sum of dM V^T, dg = G^T dU G.
//
// Layout: blocks of whole tile rows as for F(2x2), but with S = TW + 1 columns per tile row (the
// last a filler); the padded input rows and columns are split by their index mod 4 (planes of S
// columns, kernels wino4_split_rows / wino4_merge_rows), so tile (j, tw) reads plane entries f and
// f + 1 (columns 4 tw .. 4 tw + 5: phases 0..3 at tw, phases 0, 1 at tw + 1) and f, f + S (rows).

constexpr double kWino4BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                   {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
constexpr double kWino4G[6][3] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
constexpr double kWino4AT[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

// G applied to the 3-vector (g0, g1, g2) (kWino4G's rows, factored).
inline void wino4_g(double g0, double g1, double g2, double* t) {
  const double a = g0 + g2, b = g0 * (1.0 / 24) + g2 * (1.0 / 6), c = g1 * (1.0 / 12);
  t[0] = g0 * 0.25;
  t[1] = (a + g1) * (-1.0 / 6);
  t[2] = (a - g1) * (-1.0 / 6);
  t[3] = b + c;
  t[4] = b - c;
  t[5] = g2;
}

// U[xi][oc][c] = (G g[oc][c] G^T)[xi], xi = 6 i + j (computed in double: G's sixths are inexact).
template <class T>
void wino4_weight_transform(const WinoGeom& q, const T* w, T* U) {
  wino_store_planes<T, 36>(q.OC * q.C, U, [&](int64_t p, T* out) {
    const T* g = w + p * 9;
    double t[3][6];  // (G g)^T: t[l][i] = (G g)[i][l]
    for (int l = 0; l < 3; ++l) {
      wino4_g(static_cast<double>(g[l]), static_cast<double>(g[3 + l]),
              static_cast<double>(g[6 + l]), t[l]);
    }
    for (int i = 0; i < 6; ++i) {
      double u[6];
      wino4_g(t[0][i], t[1][i], t[2][i], u);
      for (int j = 0; j < 6; ++j) out[i * 6 + j] = static_cast<T>(u[j]);
    }
  });
}

// gw[oc][c] = G^T dU[.][oc][c] G (the adjoint of wino4_weight_transform); dU[xi] is OC x C, or
// C x OC when transposed.
template <class T>
void wino4_weight_grad_transform(const WinoGeom& q, const T* dU, bool transposed, T* gw) {
  wino_load_planes<T, 36>(q.OC * q.C, dU, [&](int64_t s, const T* du) {
    double t[6][3];  // dU G
    for (int i = 0; i < 6; ++i) {
      for (int l = 0; l < 3; ++l) t[i][l] = 0;
      for (int j = 0; j < 6; ++j) {
        const double u = static_cast<double>(du[i * 6 + j]);
        for (int l = 0; l < 3; ++l) t[i][l] += u * kWino4G[j][l];
      }
    }
    T* g = gw + wino_grad_plane(q, transposed, s) * 9;
    for (int k = 0; k < 3; ++k) {
      for (int l = 0; l < 3; ++l) {
        double sum = 0;
        for (int i = 0; i < 6; ++i) sum += kWino4G[i][k] * t[i][l];
        g[k * 3 + l] = static_cast<T>(sum);
      }
    }
  });
}

// The 1-d 6-point transforms on n elements of separate arrays (restrict: vectorised without
// aliasing checks). bt: B^T (input), at: A^T (output, plus b), a: A (output gradient), b: B
// (input gradient).
template <class T>
void wino4_bt(int64_t n, const T* __restrict d0, const T* __restrict d1, const T* __restrict d2,
              const T* __restrict d3, const T* __restrict d4, const T* __restrict d5,
              T* __restrict o0, T* __restrict o1, T* __restrict o2, T* __restrict o3,
              T* __restrict o4, T* __restrict o5) {
  for (int64_t k = 0; k < n; ++k) {
    const T a = d4[k] - T(4) * d2[k], b = d3[k] - T(4) * d1[k];
    const T c = d4[k] - d2[k], e = T(2) * (d3[k] - d1[k]);
    o0[k] = T(4) * d0[k] - T(5) * d2[k] + d4[k];
    o1[k] = a + b;
    o2[k] = a - b;
    o3[k] = c + e;
    o4[k] = c - e;
    o5[k] = T(4) * d1[k] - T(5) * d3[k] + d5[k];
  }
}
template <class T>
void wino4_at(int64_t n, const T* __restrict m0, const T* __restrict m1, const T* __restrict m2,
              const T* __restrict m3, const T* __restrict m4, const T* __restrict m5, T b,
              T* __restrict o0, T* __restrict o1, T* __restrict o2, T* __restrict o3) {
  for (int64_t k = 0; k < n; ++k) {
    const T s12 = m1[k] + m2[k], d12 = m1[k] - m2[k];
    const T s34 = m3[k] + m4[k], d34 = m3[k] - m4[k];
    o0[k] = m0[k] + s12 + s34 + b;
    o1[k] = d12 + T(2) * d34 + b;
    o2[k] = s12 + T(4) * s34 + b;
    o3[k] = d12 + T(8) * d34 + m5[k] + b;
  }
}
template <class T>
void wino4_a(int64_t n, const T* __restrict y0, const T* __restrict y1, const T* __restrict y2,
             const T* __restrict y3, T* __restrict o0, T* __restrict o1, T* __restrict o2,
             T* __restrict o3, T* __restrict o4, T* __restrict o5) {
  for (int64_t k = 0; k < n; ++k) {
    const T e = y0[k] + y2[k], o = y1[k] + y3[k];
    const T e2 = y0[k] + T(4) * y2[k], o2_ = T(2) * y1[k] + T(8) * y3[k];
    o0[k] = y0[k];
    o1[k] = e + o;
    o2[k] = e - o;
    o3[k] = e2 + o2_;
    o4[k] = e2 - o2_;
    o5[k] = y3[k];
  }
}
template <class T>
void wino4_b(int64_t n, const T* __restrict v0, const T* __restrict v1, const T* __restrict v2,
             const T* __restrict v3, const T* __restrict v4, const T* __restrict v5,
             T* __restrict o0, T* __restrict o1, T* __restrict o2, T* __restrict o3,
             T* __restrict o4, T* __restrict o5) {
  for (int64_t k = 0; k < n; ++k) {
    const T s12 = v1[k] + v2[k], d12 = v2[k] - v1[k];
    const T s34 = v3[k] + v4[k], d34 = v4[k] - v3[k];
    o0[k] = T(4) * v0[k];
    o1[k] = T(4) * d12 + T(2) * d34 + T(4) * v5[k];
    o2[k] = -T(5) * v0[k] - T(4) * s12 - s34;
    o3[k] = -d12 - T(2) * d34 - T(5) * v5[k];
    o4[k] = v0[k] + s12 + s34;
    o5[k] = v5[k];
  }
}

// Per-thread buffers of the F(4x4) transforms: kArrays arrays of (R + 2) S + 2 (zero-initialised;
// slack entries past what a pass writes stay zero).
template <class T>
struct Wino4Rows {
  static constexpr int64_t kArrays = 66;
  int64_t len;
  std::vector<T> data;
  explicit Wino4Rows(const WinoGeom& q)
      : len((q.R + 2) * q.S() + 2), data(static_cast<std::size_t>(kArrays * len), T(0)) {}
  T* at(int64_t i) { return data.data() + i * len; }
};

// The rows a + 4 jj, jj < nj, that lie in [0, H): jj in [ja, jb).
inline void wino4_row_range(int64_t a, int64_t H, int64_t nj, int64_t& ja, int64_t& jb) {
  jb = H - a <= 0 ? 0 : std::min(nj, (H - a + 3) / 4);
  ja = std::min(jb, a >= 0 ? int64_t(0) : (3 - a) / 4);
}

// The tile rows th in [th0, th1) with 4 th + i < OH, counted from th0.
inline int64_t wino4_out_rows(int64_t OH, int64_t i, int64_t th0, int64_t th1) {
  return std::max(int64_t(0), std::min(th1, (OH - i + 3) / 4) - th0);
}

// V[xi][c][f] for the tile rows [r0, r1): f = (r - r0) * S + tw (column TW of each row: finite
// filler). Each padded input row is split by its column mod 4 (P[rp][cp] in 4 rp + cp, per row
// mod 4), then B^T (.) B runs over the whole run of tile rows.
template <class T>
void wino4_input_transform(const WinoGeom& q, const T* x, int64_t r0, int64_t r1, T* V,
                           Wino4Rows<T>& rb) {
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.C * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto us = static_cast<std::size_t>(S), ul = static_cast<std::size_t>(rb.len);
  for (int64_t c = 0; c < q.C; ++c) {  // channel-major: the rows of one plane in order
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* img = x + (n * q.C + c) * q.H * q.W;
      const int64_t rows = th1 - th0, nf = rows * S;
      if (c + 1 < q.C) {
        int64_t lo, hi;
        wino_rows_of(4, th0, th1, q.ph, q.H, true, lo, hi);
        wino_prefetch(img + q.H * q.W + lo * q.W, (hi - lo) * q.W, false);
      }
      // Padded rows m = rp + 4 jj (image row 4 th0 - ph + m) split into P[rp][0..3] at jj S;
      // rows outside the image are zero.
      for (int rp = 0; rp < 4; ++rp) {
        const int64_t a = 4 * th0 - q.ph + rp;
        int64_t ja, jb;
        wino4_row_range(a, q.H, rows + 1, ja, jb);
        for (int cp = 0; cp < 4; ++cp) {
          T* pc = rb.at(4 * rp + cp);
          std::fill(pc, pc + ja * S, T(0));
          std::fill(pc + jb * S, pc + (rows + 1) * S, T(0));
        }
        if (jb > ja) {
          ks.wino4_split_rows(static_cast<std::size_t>(jb - ja), static_cast<std::size_t>(q.W),
                              static_cast<std::size_t>(q.pw), us, img + (a + 4 * ja) * q.W,
                              static_cast<std::size_t>(4 * q.W), rb.at(4 * rp) + ja * S, us, ul);
        }
      }
      // B^T on rows: tile row j's rows 0..5 are P[0..3][f], P[0][f + S], P[1][f + S]; the
      // results per column phase cp in t[cp][a] = 16 + 6 cp + a, at the segment's columns (its
      // last entry, a filler's neighbour, is overwritten by the next segment's first).
      for (int cp = 0; cp < 4; ++cp) {
        T* t = rb.at(16 + 6 * cp) + j0 * S;
        const int64_t L = rb.len;
        wino4_bt(nf + 1, rb.at(cp), rb.at(4 + cp), rb.at(8 + cp), rb.at(12 + cp), rb.at(cp) + S,
                 rb.at(4 + cp) + S, t, t + L, t + 2 * L, t + 3 * L, t + 4 * L, t + 5 * L);
      }
    });
    // B on columns, all the block's tiles at once: tile tw's columns 0..5 are t[0..3][a][f],
    // t[0][a][f + 1], t[1][a][f + 1].
    T* v = V + c * ld;
    for (int a = 0; a < 6; ++a) {
      T* va = v + (a * 6) * plane;
      wino4_bt(ld, rb.at(16 + a), rb.at(22 + a), rb.at(28 + a), rb.at(34 + a), rb.at(16 + a) + 1,
               rb.at(22 + a) + 1, va, va + plane, va + 2 * plane, va + 3 * plane, va + 4 * plane,
               va + 5 * plane);
    }
  }
}

// y = A^T M A (+ bias) for the tile rows [r0, r1), cropped to OH x OW.
template <class T>
void wino4_output_transform(const WinoGeom& q, const T* M, int64_t r0, int64_t r1, const T* bias,
                            T* y, Wino4Rows<T>& rb) {
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.OC * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), us = static_cast<std::size_t>(S),
             ul = static_cast<std::size_t>(rb.len), tw = static_cast<std::size_t>(q.TW);
  for (int64_t oc = 0; oc < q.OC; ++oc) {
    const T* m = M + oc * ld;
    const T b = bias != nullptr ? bias[oc] : T(0);
    // All the block's tiles at once: A^T on rows (per tile column j; r[i][j] in 6 i + j), then
    // on columns (Y[i][j] in 24 + 4 i + j: output row 4 th + i, column 4 tw + j).
    for (int j = 0; j < 6; ++j) {
      wino4_at(ld, m + j * plane, m + (6 + j) * plane, m + (12 + j) * plane, m + (18 + j) * plane,
               m + (24 + j) * plane, m + (30 + j) * plane, T(0), rb.at(j), rb.at(6 + j),
               rb.at(12 + j), rb.at(18 + j));
    }
    for (int i = 0; i < 4; ++i) {
      const int64_t r = 6 * i, o = 24 + 4 * i;
      wino4_at(ld, rb.at(r), rb.at(r + 1), rb.at(r + 2), rb.at(r + 3), rb.at(r + 4), rb.at(r + 5),
               b, rb.at(o), rb.at(o + 1), rb.at(o + 2), rb.at(o + 3));
    }
    // Interleave the column phases into the output rows 4 th + i < OH.
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      T* yo = y + ((n * q.OC + oc) * q.OH + 4 * th0) * q.OW;
      const int64_t t0 = j0 * S;
      if (oc + 1 < q.OC) {
        int64_t lo, hi;
        wino_rows_of(4, th0, th1, 0, q.OH, false, lo, hi);
        wino_prefetch(yo + q.OH * q.OW, (hi - lo) * q.OW, true);
      }
      for (int i = 0; i < 4; ++i) {
        const auto nr = static_cast<std::size_t>(wino4_out_rows(q.OH, i, th0, th1));
        if (nr == 0) continue;
        ks.wino4_merge_rows(false, nr, ow, 0, tw, rb.at(24 + 4 * i) + t0, us, ul, yo + i * q.OW,
                            4 * ow);
      }
    });
  }
}

// dM[xi][oc][f] = (A dY A^T)[xi] for the tile rows [r0, r1) (outside OH x OW dY is zero, so
// column TW of each row is zero: it adds nothing to the weight gradient and the input gradient).
template <class T>
void wino4_grad_output_transform(const WinoGeom& q, const T* gy, int64_t r0, int64_t r1, T* dM,
                                 Wino4Rows<T>& rb) {
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.OC * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), us = static_cast<std::size_t>(S),
             ul = static_cast<std::size_t>(rb.len);
  const int64_t L = rb.len;
  for (int64_t oc = 0; oc < q.OC; ++oc) {
    // Q[i][j] in 4 i + j: rows 4 th + i, columns 4 tw + j of dY (zero outside OH x OW).
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* go = gy + ((n * q.OC + oc) * q.OH + 4 * th0) * q.OW;
      const int64_t t0 = j0 * S, rows = th1 - th0;
      if (oc + 1 < q.OC) {
        int64_t lo, hi;
        wino_rows_of(4, th0, th1, 0, q.OH, false, lo, hi);
        wino_prefetch(go + q.OH * q.OW, (hi - lo) * q.OW, false);
      }
      for (int i = 0; i < 4; ++i) {
        const int64_t nr = wino4_out_rows(q.OH, i, th0, th1);
        const int64_t o = 4 * i;
        if (nr > 0) {
          ks.wino4_split_rows(static_cast<std::size_t>(nr), ow, 0, us, go + i * q.OW, 4 * ow,
                              rb.at(o) + t0, us, ul);
        }
        for (int j = 0; j < 4; ++j) {
          std::fill(rb.at(o + j) + t0 + nr * S, rb.at(o + j) + t0 + rows * S, T(0));
        }
      }
    });
    // A on rows (per column phase j; r[a][j] in 16 + 4 a + j), then A^T on columns.
    for (int j = 0; j < 4; ++j) {
      T* r = rb.at(16 + j);
      wino4_a(ld, rb.at(j), rb.at(4 + j), rb.at(8 + j), rb.at(12 + j), r, r + 4 * L, r + 8 * L,
              r + 12 * L, r + 16 * L, r + 20 * L);
    }
    T* d = dM + oc * ld;
    for (int a = 0; a < 6; ++a) {
      T* da = d + (6 * a) * plane;
      const int64_t r = 16 + 4 * a;
      wino4_a(ld, rb.at(r), rb.at(r + 1), rb.at(r + 2), rb.at(r + 3), da, da + plane,
              da + 2 * plane, da + 3 * plane, da + 4 * plane, da + 5 * plane);
    }
  }
}

// gx += sum over the tiles of the rows [r0, r1) of B dV B^T, padding dropped (dV's column TW of
// each row must be zero). Per block and image, every padded row is summed in a fixed order, then
// added to gx; blocks come in order, so the result does not depend on threads. gx must be zero
// before an image's first block.
template <class T>
void wino4_input_grad_transform(const WinoGeom& q, const T* dV, int64_t r0, int64_t r1, T* gx,
                                Wino4Rows<T>& rb) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.C * ld;
  const auto us = static_cast<std::size_t>(S), ul = static_cast<std::size_t>(rb.len);
  const int64_t L = rb.len;
  for (int64_t c = 0; c < q.C; ++c) {
    const T* v = dV + c * ld;
    // B on rows (per tile column b; w[a][b] in 6 a + b).
    for (int b = 0; b < 6; ++b) {
      T* w = rb.at(b);
      wino4_b(ld, v + b * plane, v + (6 + b) * plane, v + (12 + b) * plane, v + (18 + b) * plane,
              v + (24 + b) * plane, v + (30 + b) * plane, w, w + 6 * L, w + 12 * L, w + 18 * L,
              w + 24 * L, w + 30 * L);
    }
    // B on columns (per tile row a; x[0..5] in 36..41), then per column phase: tile tw's columns
    // 0..5 go to phases 0..3 at tw and phases 0, 1 at tw + 1 (X[a][cp] in 42 + 4 a + cp; phases
    // 2, 3 written directly; column TW of the rows is zero).
    for (int a = 0; a < 6; ++a) {
      T* X = rb.at(42 + 4 * a);
      const int64_t w = 6 * a;
      wino4_b(ld, rb.at(w), rb.at(w + 1), rb.at(w + 2), rb.at(w + 3), rb.at(w + 4), rb.at(w + 5),
              rb.at(36), rb.at(37), X + 2 * L, X + 3 * L, rb.at(40), rb.at(41));
      wino_add_shifted(ld + 1, ld, 1, rb.at(36), rb.at(40), X);
      wino_add_shifted(ld + 1, ld, 1, rb.at(37), rb.at(41), X + L);
    }
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const int64_t rows = th1 - th0, nf = rows * S, off = j0 * S;
      T* img = gx + (n * q.C + c) * q.H * q.W;
      if (c + 1 < q.C) {
        int64_t lo, hi;
        wino_rows_of(4, th0, th1, q.ph, q.H, true, lo, hi);
        wino_prefetch(img + q.H * q.W + lo * q.W, (hi - lo) * q.W, true);
      }
      // Rows: tile row j's rows 0..5 go to phases 0..3 at j and phases 0, 1 at j + 1; the sums
      // of phases 0, 1 per column phase in 4 rp + cp (free again), phases 2, 3 read X directly.
      for (int rp = 0; rp < 2; ++rp) {
        for (int cp = 0; cp < 4; ++cp) {
          wino_add_shifted(nf + S, nf, S, rb.at(42 + 4 * rp + cp) + off,
                           rb.at(42 + 4 * (rp + 4) + cp) + off, rb.at(4 * rp + cp));
        }
      }
      for (int rp = 0; rp < 4; ++rp) {  // padded rows m = rp + 4 jj inside the image
        const int64_t a = 4 * th0 - q.ph + rp;
        int64_t ja, jb;
        wino4_row_range(a, q.H, rp < 2 ? rows + 1 : rows, ja, jb);
        if (jb <= ja) continue;
        const T* src = (rp < 2 ? rb.at(4 * rp) : rb.at(42 + 4 * rp) + off) + ja * S;
        ks.wino4_merge_rows(true, static_cast<std::size_t>(jb - ja), static_cast<std::size_t>(q.W),
                            static_cast<std::size_t>(q.pw), us, src, us, ul,
                            img + (a + 4 * ja) * q.W, static_cast<std::size_t>(4 * q.W));
      }
    });
  }
}

// F(4x4, 3x3) for wino_forward_with / wino_backward_with (conv_winograd.hpp).
struct Wino4 {
  static constexpr int64_t kTile = 4, kNx = 36;
  template <class T>
  using Rows = Wino4Rows<T>;
  template <class T>
  static void weight_transform(const WinoGeom& q, const T* w, T* U) {
    wino4_weight_transform(q, w, U);
  }
  template <class T>
  static void weight_grad_transform(const WinoGeom& q, const T* dU, bool transposed, T* gw) {
    wino4_weight_grad_transform(q, dU, transposed, gw);
  }
  template <class T>
  static void input_transform(const WinoGeom& q, const T* x, int64_t r0, int64_t r1, T* V,
                              Rows<T>& rb) {
    wino4_input_transform(q, x, r0, r1, V, rb);
  }
  template <class T>
  static void output_transform(const WinoGeom& q, const T* M, int64_t r0, int64_t r1, const T* bias,
                               T* y, Rows<T>& rb) {
    wino4_output_transform(q, M, r0, r1, bias, y, rb);
  }
  template <class T>
  static void grad_output_transform(const WinoGeom& q, const T* gy, int64_t r0, int64_t r1, T* dM,
                                    Rows<T>& rb) {
    wino4_grad_output_transform(q, gy, r0, r1, dM, rb);
  }
  template <class T>
  static void input_grad_transform(const WinoGeom& q, const T* dV, int64_t r0, int64_t r1, T* gx,
                                   Rows<T>& rb) {
    wino4_input_grad_transform(q, dV, r0, r1, gx, rb);
  }
};

// ---- the choice between F(4x4) and F(2x2) ----

// F(4x4) needs fewer GEMM flops than F(2x2) (36 per 4x4 tile against 4 x 16, less with partial
// tiles: 0.80x at 14x14, 0.70x at 16x16, 0.63x at 32x32, counting F(4x4)'s filler column), but has
// 36 transformed matrices of weights, of weight gradients and of GEMM calls per block where F(2x2)
// has 16, and longer transforms, which small images do not amortise. Measured (ad-hoc driver,
// forward + backward, F(4x4) / F(2x2) time, 1 thread, best of 3 x 15 runs, pad 1, batch 64 unless
// said; two runs each, load 2.5-3.5; F(2x2) still had a filler column then): 32->64 at 12x12 1.15,
// 14x14 1.04-1.08, 16x16 0.83; 64->64 at 7x7 1.01-1.02, 8x8 (batch 32) 1.37-1.41, 14x14 1.04, 32x32
// (batch 32) 0.68; 16->16 at 16x16 0.94. So F(4x4) from 16x16 outputs on.
constexpr int64_t kWino4MinOutput = 16;

inline bool use_wino4(const ConvGeom& g) {
  return g.win.OH >= kWino4MinOutput && g.win.OW >= kWino4MinOutput;
}

// conv2d's Winograd forward and backward (use_winograd(g)): F(4x4) or F(2x2) by use_wino4.
template <class T>
void wino_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias = nullptr) {
  if (use_wino4(g)) {
    wino_forward_with<Wino4>(g, x, w, y, bias);
  } else {
    wino_forward_with<Wino2>(g, x, w, y, bias);
  }
}
template <class T>
void wino_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  if (use_wino4(g)) {
    wino_backward_with<Wino4>(g, x, w, gy, gx, gw, gb);
  } else {
    wino_backward_with<Wino2>(g, x, w, gy, gx, gw, gb);
  }
}

}  // namespace ember::F::detail
