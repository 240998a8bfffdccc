// ember: F::conv1d, F::conv2d, F::conv_transpose2d — differentiable, PyTorch's semantics.
//
// conv2d is im2col + GEMM per image (images in parallel; each image's result is computed by one
// thread in a fixed order, so results do not depend on the thread count). The weights are packed
// once per call for the GEMM's register tile (gemm_pack_a) and read in place by every image's
// product (gemm_packed). The bias is one more term of the GEMM's sum: im2col's column matrix gets
// a row of ones and the weight matrix the bias as its last column. Fast paths: a 1x1, stride-1,
// unpadded conv is a plain GEMM on the input (no im2col); a depthwise conv (one input channel per
// group) is a direct loop. The backward is hand-written beside the forward:
//   grad_input  = col2im(W^T @ grad_out)           per image
//   grad_weight = sum over images of grad_out @ col^T, summed over a fixed split of the batch
//                 (with few channels this is GEMM's dot-product path: no packing; with at most 64
//                 output channels per group and 32+ columns, grad_out @ im2row(x), whose row
//                 matrix the GEMM reads in place instead of transposing col into packed panels)
//   grad_bias   = grad_out summed over batch and positions (in the grad_weight GEMM, as the
//                 column of the row of ones, where that adds no column panel)
// conv_transpose2d is the adjoint of conv2d and reuses the same three pieces.
//
// conv2d's Winograd path (use_winograd: 3x3, stride 1, dilation 1, groups 1, any padding, at
// least kWinoMinChannels input and output channels) computes F(2x2, 3x3): 2x2 output tiles from
// overlapping 4x4 input tiles, 16 multiplications per tile and channel pair instead of 36. The
// weights are transformed once per call (U = G g G^T, 16 matrices OC x C, packed for the GEMM),
// the inputs per block of tile rows (V = B^T d B, 16 matrices C x tiles); M = U V is 16 GEMMs and
// the output A^T M A plus the bias. The backward is the exact adjoint of that linear map, fused
// in one pass over fixed batch chunks: dM = A dY A^T; dU += dM V^T (summed in chunk order,
// then dg = G^T dU G); dV = U^T dM, scattered back as B dV B^T (padding dropped). The transforms
// are separable 1-d passes over a whole block (vectorised); a block's matrices stay in L2.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/functional/conv_args.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/im2col.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F {

namespace detail {

// A batched, grouped 2-d convolution: N images of win.C channels -> OC channels.
struct ConvGeom {
  int64_t N = 0, OC = 0, groups = 1;
  kernels::ConvWindow win{};

  int64_t Cg() const { return win.C / groups; }
  int64_t OCg() const { return OC / groups; }
  int64_t K() const { return Cg() * win.KH * win.KW; }  // GEMM depth per group
  int64_t L() const { return win.OH * win.OW; }
  int64_t in_size() const { return win.C * win.H * win.W; }  // one image
  int64_t out_size() const { return OC * L(); }
  bool pointwise() const {  // a 1x1 conv that reads every pixel once: the input is its own col
    const auto& w = win;
    return w.KH == 1 && w.KW == 1 && w.sh == 1 && w.sw == 1 && w.ph == 0 && w.pw == 0 &&
           w.OH == w.H && w.OW == w.W;
  }
  bool depthwise() const { return groups == win.C && groups > 1; }
};

// Batch items are split into at most this many fixed chunks for sums over the batch (the weight
// gradient): the same chunks for every thread count, summed in chunk order.
constexpr int64_t kBatchChunks = 8;

template <class T>
std::size_t gemm_scratch(int64_t m, int64_t n, int64_t k) {
  return kernels::gemm_scratch_size<T>(static_cast<std::size_t>(m), static_cast<std::size_t>(n),
                                       static_cast<std::size_t>(k));
}

// Images [lo, hi) in parallel, one image per task.
template <class F>
void for_each_image(int64_t n, F&& fn) {
  parallel_for(0, static_cast<std::size_t>(n), 1, [&](std::size_t lo, std::size_t hi) {
    fn(static_cast<int64_t>(lo), static_cast<int64_t>(hi));
  });
}

// ---- bias ----

// y[n, oc, :] += b[oc]; rows in parallel, each a vector loop.
template <class T>
void add_bias(int64_t N, int64_t C, int64_t L, const T* b, T* y) {
  const auto rows = static_cast<std::size_t>(N * C);
  parallel_for(0, rows, static_cast<std::size_t>(16384 / (L + 1) + 1),
               [&](std::size_t lo, std::size_t hi) {
                 for (std::size_t r = lo; r < hi; ++r) {
                   T* row = y + static_cast<int64_t>(r) * L;
                   kernels::binary_scalar<T>(kernels::BinaryOp::add, static_cast<std::size_t>(L),
                                             row, b[static_cast<int64_t>(r) % C], false, row);
                 }
               });
}

// gb[c] = sum of gy[:, c, :]: each row (n, c) summed by the vector row reduction, then the rows of
// one channel added in batch order.
template <class T>
void bias_grad(int64_t N, int64_t C, int64_t L, const T* gy, T* gb) {
  if (N == 0) {  // an empty batch
    std::fill(gb, gb + C, T(0));
    return;
  }
  std::vector<T> sums(static_cast<std::size_t>(N * C));
  kernels::reduce_rows<T>(kernels::RowReduce::sum, static_cast<std::size_t>(N * C),
                          static_cast<std::size_t>(L), gy, static_cast<std::size_t>(L),
                          sums.data());
  for (int64_t c = 0; c < C; ++c) gb[c] = sums[static_cast<std::size_t>(c)];
  for (int64_t n = 1; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) gb[c] += sums[static_cast<std::size_t>(n * C + c)];
  }
}

// ---- depthwise: direct loops (each output channel reads one input channel) ----

template <class T>
void depthwise_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  const auto& c = g.win;
  const int64_t mult = g.OC / c.C;
  parallel_for(0, static_cast<std::size_t>(g.N * g.OC), 4, [&](std::size_t lo, std::size_t hi) {
    for (auto p = static_cast<int64_t>(lo); p < static_cast<int64_t>(hi); ++p) {
      const int64_t n = p / g.OC, oc = p % g.OC;
      const T* img = x + (n * c.C + oc / mult) * c.H * c.W;
      const T* ker = w + oc * c.KH * c.KW;
      T* out = y + p * g.L();
      for (int64_t oh = 0; oh < c.OH; ++oh) {
        for (int64_t ow = 0; ow < c.OW; ++ow) {
          T acc = 0;
          for (int64_t kh = 0; kh < c.KH; ++kh) {
            const int64_t ih = oh * c.sh - c.ph + kh * c.dh;
            if (ih < 0 || ih >= c.H) continue;
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const int64_t iw = ow * c.sw - c.pw + kw * c.dw;
              if (iw < 0 || iw >= c.W) continue;
              acc += ker[kh * c.KW + kw] * img[ih * c.W + iw];
            }
          }
          out[oh * c.OW + ow] = acc;
        }
      }
    }
  });
}

// grad_input: each input plane gathers from its `mult` output planes, in a fixed order.
template <class T>
void depthwise_backward_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  const auto& c = g.win;
  const int64_t mult = g.OC / c.C;
  parallel_for(0, static_cast<std::size_t>(g.N * c.C), 4, [&](std::size_t lo, std::size_t hi) {
    for (auto p = static_cast<int64_t>(lo); p < static_cast<int64_t>(hi); ++p) {
      const int64_t n = p / c.C, ch = p % c.C;
      T* img = gx + p * c.H * c.W;
      std::fill(img, img + c.H * c.W, T(0));
      for (int64_t m = 0; m < mult; ++m) {
        const int64_t oc = ch * mult + m;
        const T* ker = w + oc * c.KH * c.KW;
        const T* go = gy + (n * g.OC + oc) * g.L();
        for (int64_t oh = 0; oh < c.OH; ++oh) {
          for (int64_t kh = 0; kh < c.KH; ++kh) {
            const int64_t ih = oh * c.sh - c.ph + kh * c.dh;
            if (ih < 0 || ih >= c.H) continue;
            for (int64_t kw = 0; kw < c.KW; ++kw) {
              const T k = ker[kh * c.KW + kw];
              for (int64_t ow = 0; ow < c.OW; ++ow) {
                const int64_t iw = ow * c.sw - c.pw + kw * c.dw;
                if (iw < 0 || iw >= c.W) continue;
                img[ih * c.W + iw] += k * go[oh * c.OW + ow];
              }
            }
          }
        }
      }
    }
  });
}

// grad_weight: each output channel sums over the batch in order.
template <class T>
void depthwise_backward_weight(const ConvGeom& g, const T* x, const T* gy, T* gw) {
  const auto& c = g.win;
  const int64_t mult = g.OC / c.C;
  parallel_for(0, static_cast<std::size_t>(g.OC), 1, [&](std::size_t lo, std::size_t hi) {
    for (auto oc = static_cast<int64_t>(lo); oc < static_cast<int64_t>(hi); ++oc) {
      T* ker = gw + oc * c.KH * c.KW;
      for (int64_t kh = 0; kh < c.KH; ++kh) {
        for (int64_t kw = 0; kw < c.KW; ++kw) {
          T acc = 0;
          for (int64_t n = 0; n < g.N; ++n) {
            const T* img = x + (n * c.C + oc / mult) * c.H * c.W;
            const T* go = gy + (n * g.OC + oc) * g.L();
            for (int64_t oh = 0; oh < c.OH; ++oh) {
              const int64_t ih = oh * c.sh - c.ph + kh * c.dh;
              if (ih < 0 || ih >= c.H) continue;
              for (int64_t ow = 0; ow < c.OW; ++ow) {
                const int64_t iw = ow * c.sw - c.pw + kw * c.dw;
                if (iw < 0 || iw >= c.W) continue;
                acc += go[oh * c.OW + ow] * img[ih * c.W + iw];
              }
            }
          }
          ker[kh * c.KW + kw] = acc;
        }
      }
    }
  });
}

// ---- general: im2col + GEMM ----

// The weights of every group packed once for the GEMM's register tile (gemm_pack_a): op(W_g) is
// W_g (OCg x K) for the forward, W_g^T (K x OCg) for the input gradient. Every image's GEMM then
// reads them in place instead of packing them again.
template <class T>
struct PackedWeights {
  std::size_t stride = 0;  // elements per group
  std::vector<T> data;
  // w: groups blocks of OCg rows of K + extra weights.
  PackedWeights(const kernels::KernelSet<T>& ks, const ConvGeom& g, const T* w, bool transposed,
                int64_t extra = 0) {
    const int64_t K = g.K() + extra, OCg = g.OCg();
    const auto m = static_cast<std::size_t>(transposed ? K : OCg);
    const auto k = static_cast<std::size_t>(transposed ? OCg : K);
    stride = kernels::gemm_packed_a_size<T>(m, k);
    data.resize(stride * static_cast<std::size_t>(g.groups));
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      ks.gemm_pack_a(transposed, m, k, w + gi * OCg * K, static_cast<std::size_t>(K), group(gi));
    }
  }
  T* group(int64_t gi) { return data.data() + static_cast<std::size_t>(gi) * stride; }
};

// The bias as one more term of the GEMM's sum: each group's column block gets a row of ones after
// its K rows, and each weight row the bias (forward) or the bias gradient (backward) as column K.
// Needs im2col's column matrix (not the pointwise and depthwise paths).
inline bool bias_in_gemm(const ConvGeom& g) {
  return !g.pointwise() && !g.depthwise();
}

// A per-thread column buffer for one image: groups blocks of K + extra rows, the extra (ones) row
// set here once; im2col_groups never writes it.
template <class T>
std::vector<T> make_col(const ConvGeom& g, int64_t extra) {
  const int64_t K = g.K(), L = g.L(), Kx = K + extra;
  std::vector<T> col(static_cast<std::size_t>(g.groups * Kx * L));
  if (extra > 0) {
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      std::fill(col.begin() + (gi * Kx + K) * L, col.begin() + (gi * Kx + K + 1) * L, T(1));
    }
  }
  return col;
}

// im2col of one image into a make_col buffer.
template <class T>
void im2col_groups(const ConvGeom& g, const T* xn, T* col, int64_t extra) {
  if (extra == 0) {
    kernels::im2col(g.win, xn, col);
    return;
  }
  kernels::ConvWindow sub = g.win;
  sub.C = g.Cg();
  const int64_t Kx = g.K() + extra, L = g.L();
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    kernels::im2col(sub, xn + gi * sub.C * sub.H * sub.W, col + gi * Kx * L);
  }
}

// The weight gradient's B operand as im2row's row matrix (L x Kx per group) instead of the column
// matrix transposed: with few output channels per group the GEMM reads it in place (the
// column matrix would be transposed into packed panels, about as costly as the products here).
// Not where the column matrix takes GEMM's dot-product path (few columns of the result: Kx < 32,
// a single-channel 5x5 layer), which needs no packing either.
inline bool weight_grad_by_rows(const ConvGeom& g, int64_t Kx) {
  return g.OCg() > 1 && g.OCg() <= 64 && Kx >= 32;
}

// make_col's buffer for im2row: groups blocks of L rows of K + extra entries, the extra (ones)
// column set here once.
template <class T>
std::vector<T> make_rows(const ConvGeom& g, int64_t extra) {
  const int64_t K = g.K(), L = g.L(), Kx = K + extra;
  std::vector<T> rows(static_cast<std::size_t>(g.groups * Kx * L));
  if (extra > 0) {
    for (int64_t r = 0; r < g.groups * L; ++r) rows[static_cast<std::size_t>(r * Kx + K)] = T(1);
  }
  return rows;
}

// im2row of one image into a make_rows buffer.
template <class T>
void im2row_groups(const ConvGeom& g, const T* xn, T* rows, int64_t extra) {
  kernels::ConvWindow sub = g.win;
  sub.C = g.Cg();
  const int64_t Kx = g.K() + extra, L = g.L();
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    kernels::im2row(sub, xn + gi * sub.C * sub.H * sub.W, rows + gi * Kx * L, Kx);
  }
}

// y[n] = W @ col(x[n]) per group, plus bias[oc] on every row when bias is given.
template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias = nullptr) {
  const int64_t K = g.K(), L = g.L(), OCg = g.OCg();
  if (g.depthwise()) {
    depthwise_forward(g, x, w, y);
    if (bias != nullptr) add_bias(g.N, g.OC, L, bias, y);
    return;
  }
  const bool direct = g.pointwise();
  const int64_t extra = bias != nullptr && bias_in_gemm(g) ? 1 : 0, Kx = K + extra;
  // One table for the packing and the products (its packed layout is its own).
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  std::vector<T> wb;  // [W_g | b_g] per group
  if (extra > 0) {
    wb.resize(static_cast<std::size_t>(g.OC * Kx));
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      std::copy(w + oc * K, w + (oc + 1) * K, wb.begin() + oc * Kx);
      wb[static_cast<std::size_t>(oc * Kx + K)] = bias[oc];
    }
  }
  PackedWeights<T> pw(ks, g, extra > 0 ? wb.data() : w, false, extra);
  for_each_image(g.N, [&](int64_t lo, int64_t hi) {
    std::vector<T> col = direct ? std::vector<T>() : make_col<T>(g, extra);
    std::vector<T> scratch(gemm_scratch<T>(OCg, L, Kx));
    for (int64_t n = lo; n < hi; ++n) {
      const T* xn = x + n * g.in_size();
      const T* b = xn;
      if (!direct) {
        im2col_groups(g, xn, col.data(), extra);
        b = col.data();
      }
      T* yn = y + n * g.out_size();
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        ks.gemm_packed(static_cast<std::size_t>(OCg), static_cast<std::size_t>(L),
                       static_cast<std::size_t>(Kx), T(1), pw.group(gi), false, b + gi * Kx * L,
                       static_cast<std::size_t>(L), T(0), yn + gi * OCg * L,
                       static_cast<std::size_t>(L), scratch.data());
      }
      if (bias != nullptr && extra == 0) {
        for (int64_t oc = 0; oc < g.OC; ++oc) {
          T* row = yn + oc * L;
          ks.binary_scalar(kernels::BinaryOp::add, static_cast<std::size_t>(L), row, bias[oc],
                           false, row);
        }
      }
    }
  });
}

// gx[n] = col2im(W^T @ gy[n]) per group.
template <class T>
void conv_backward_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  if (g.depthwise()) return depthwise_backward_input(g, w, gy, gx);
  const int64_t K = g.K(), L = g.L(), OCg = g.OCg();
  const bool direct = g.pointwise();
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  PackedWeights<T> pw(ks, g, w, true);
  for_each_image(g.N, [&](int64_t lo, int64_t hi) {
    std::vector<T> col(direct ? 0 : static_cast<std::size_t>(g.groups * K * L));
    std::vector<T> scratch(gemm_scratch<T>(K, L, OCg));
    for (int64_t n = lo; n < hi; ++n) {
      T* gxn = gx + n * g.in_size();
      T* c = direct ? gxn : col.data();
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        ks.gemm_packed(static_cast<std::size_t>(K), static_cast<std::size_t>(L),
                       static_cast<std::size_t>(OCg), T(1), pw.group(gi), false,
                       gy + n * g.out_size() + gi * OCg * L, static_cast<std::size_t>(L), T(0),
                       c + gi * K * L, static_cast<std::size_t>(L), scratch.data());
      }
      if (!direct) {
        std::fill(gxn, gxn + g.in_size(), T(0));
        if (kernels::detail::flat_rows(g.win)) {
          kernels::col2im_flat(g.win, col.data(), gxn, ks.axpy);
        } else {
          kernels::col2im(g.win, col.data(), gxn);
        }
      }
    }
  });
}

// gw = sum over n of gy[n] @ col(x[n])^T per group; partial sums per fixed batch chunk, then
// added in chunk order. With gb, also the bias gradient: in the same GEMMs (col's row of ones,
// bias_in_gemm) or, where there is no column matrix, by bias_grad.
template <class T>
void conv_backward_weight(const ConvGeom& g, const T* x, const T* gy, T* gw, T* gb = nullptr) {
  if (g.depthwise()) {
    depthwise_backward_weight(g, x, gy, gw);
    if (gb != nullptr) bias_grad(g.N, g.OC, g.L(), gy, gb);
    return;
  }
  if (g.N == 0) {  // an empty batch: no terms
    std::fill(gw, gw + g.OC * g.K(), T(0));
    if (gb != nullptr) std::fill(gb, gb + g.OC, T(0));
    return;
  }
  const int64_t K = g.K(), L = g.L(), OCg = g.OCg();
  const bool direct = g.pointwise();
  // The bias column only where it fits in the GEMM's last column panel (16 or 32 wide): a whole
  // extra panel (K = 288: 9 panels, 289: 10) costs more than bias_grad's pass over gy.
  const int64_t extra = gb != nullptr && bias_in_gemm(g) && K % 16 != 0 ? 1 : 0, Kx = K + extra;
  const int64_t wsize = g.OC * Kx;
  const int64_t chunks = std::min<int64_t>(g.N, kBatchChunks);
  const bool by_rows = !direct && weight_grad_by_rows(g, Kx);
  std::vector<T> partial(static_cast<std::size_t>(chunks * wsize));
  parallel_for(0, static_cast<std::size_t>(chunks), 1, [&](std::size_t clo, std::size_t chi) {
    std::vector<T> col = direct    ? std::vector<T>()
                         : by_rows ? make_rows<T>(g, extra)
                                   : make_col<T>(g, extra);
    std::vector<T> scratch(gemm_scratch<T>(OCg, Kx, L));
    for (auto ci = static_cast<int64_t>(clo); ci < static_cast<int64_t>(chi); ++ci) {
      T* part = partial.data() + ci * wsize;
      const int64_t n0 = g.N * ci / chunks, n1 = g.N * (ci + 1) / chunks;
      for (int64_t n = n0; n < n1; ++n) {
        const T* xn = x + n * g.in_size();
        const T* b = xn;
        if (by_rows) {
          im2row_groups(g, xn, col.data(), extra);
          b = col.data();
        } else if (!direct) {
          im2col_groups(g, xn, col.data(), extra);
          b = col.data();
        }
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          // by rows: gy[n] @ rows (B read in place); else gy[n] @ col^T.
          kernels::gemm<T>(false, !by_rows, OCg, Kx, L, T(1), gy + n * g.out_size() + gi * OCg * L,
                           L, b + gi * Kx * L, by_rows ? Kx : L, n == n0 ? T(0) : T(1),
                           part + gi * OCg * Kx, Kx, scratch.data());
        }
      }
    }
  });
  // Chunks in order; then the weight rows (and the bias column) out of the [OC, Kx] sums.
  T* sum = partial.data();
  for (int64_t ci = 1; ci < chunks; ++ci) {
    kernels::binary<T>(kernels::BinaryOp::add, static_cast<std::size_t>(wsize), sum,
                       partial.data() + ci * wsize, sum);
  }
  for (int64_t oc = 0; oc < g.OC; ++oc) {
    std::copy(sum + oc * Kx, sum + oc * Kx + K, gw + oc * K);
    if (extra > 0) gb[oc] = sum[oc * Kx + K];
  }
  if (gb != nullptr && extra == 0) bias_grad(g.N, g.OC, L, gy, gb);
}

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
// so the transformed block (16 x (C + OC) x columns) stays in L2. Each tile row has S = TW + 1
// columns in the transformed matrices (the last a filler), which makes every transform a set of
// 1-d passes over the whole block (wino_bt / wino_at / wino_a / wino_b: vectorised loops).
// Forward blocks run in parallel; the backward's blocks go in order within fixed batch chunks.

// Winograd needs enough channels for its GEMMs to dominate the transforms. Measured (batch 64,
// 14x14, 1 thread, Winograd / im2col time): 8 -> 8 1.49, 12 -> 12 0.72, 16 -> 16 0.80; see
// benchmarks/results/conv.md.
constexpr int64_t kWinoMinChannels = 16;
// Bytes of transformed data (V and M) per block.
constexpr int64_t kWinoBlockBytes = 1024 * 1024;

inline bool use_winograd(const ConvGeom& g) {
  const auto& w = g.win;
  return g.groups == 1 && w.KH == 3 && w.KW == 3 && w.sh == 1 && w.sw == 1 && w.dh == 1 &&
         w.dw == 1 && w.C >= kWinoMinChannels && g.OC >= kWinoMinChannels;
}

struct WinoGeom {
  int64_t N, C, OC, H, W, OH, OW, ph, pw;
  int64_t TH, TW;  // tiles per column / row
  int64_t R;       // tile rows per block
  template <class T>
  static WinoGeom make(const ConvGeom& g) {
    const auto& w = g.win;
    WinoGeom q{g.N, w.C, g.OC, w.H, w.W, w.OH, w.OW, w.ph, w.pw, (w.OH + 1) / 2, (w.OW + 1) / 2, 1};
    const int64_t per_row = 16 * (q.C + q.OC) * (q.TW + 1) * static_cast<int64_t>(sizeof(T));
    q.R = std::max<int64_t>(1, kWinoBlockBytes / per_row);
    return q;
  }
  int64_t rows() const { return N * TH; }  // tile rows of the batch
  // Columns per tile row in the transformed matrices: TW tiles and one filler column, so that a
  // block's transforms are single passes over all its tiles (see wino_input_transform).
  int64_t S() const { return TW + 1; }
};

// U[xi][oc][c] = (G g[oc][c] G^T)[xi].
template <class T>
void wino_weight_transform(const WinoGeom& q, const T* w, T* U) {
  const int64_t plane = q.OC * q.C;
  const T h = T(0.5);
  for (int64_t p = 0; p < plane; ++p) {
    const T* g = w + p * 9;
    T t[4][3];  // G g
    for (int j = 0; j < 3; ++j) {
      t[0][j] = g[j];
      t[1][j] = h * (g[j] + g[3 + j] + g[6 + j]);
      t[2][j] = h * (g[j] - g[3 + j] + g[6 + j]);
      t[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; ++i) {
      T* u = U + (i * 4) * plane + p;
      u[0] = t[i][0];
      u[plane] = h * (t[i][0] + t[i][1] + t[i][2]);
      u[2 * plane] = h * (t[i][0] - t[i][1] + t[i][2]);
      u[3 * plane] = t[i][2];
    }
  }
}

// gw[oc][c] = G^T dU[.][oc][c] G (the adjoint of wino_weight_transform); dU[xi] is OC x C, or
// C x OC when transposed.
template <class T>
void wino_weight_grad_transform(const WinoGeom& q, const T* dU, bool transposed, T* gw) {
  const int64_t plane = q.OC * q.C;
  const T h = T(0.5);
  for (int64_t p = 0; p < plane; ++p) {
    T t[4][3];  // dU G
    const int64_t src = transposed ? (p % q.C) * q.OC + p / q.C : p;
    for (int i = 0; i < 4; ++i) {
      const T* u = dU + (i * 4) * plane + src;
      const T u0 = u[0], u1 = u[plane], u2 = u[2 * plane], u3 = u[3 * plane];
      t[i][0] = u0 + h * (u1 + u2);
      t[i][1] = h * (u1 - u2);
      t[i][2] = h * (u1 + u2) + u3;
    }
    T* g = gw + p * 9;
    for (int j = 0; j < 3; ++j) {
      g[j] = t[0][j] + h * (t[1][j] + t[2][j]);
      g[3 + j] = h * (t[1][j] - t[2][j]);
      g[6 + j] = h * (t[1][j] + t[2][j]) + t[3][j];
    }
  }
}

// The 1-d 4-point transforms, on n elements of separate arrays (restrict: vectorised without
// aliasing checks). bt: B^T (input), at: A^T (output, plus b), a: A (output gradient), b: B
// (input gradient).
template <class T>
void wino_bt(int64_t n, const T* __restrict d0, const T* __restrict d1, const T* __restrict d2,
             const T* __restrict d3, T* __restrict o0, T* __restrict o1, T* __restrict o2,
             T* __restrict o3) {
  for (int64_t k = 0; k < n; ++k) {
    o0[k] = d0[k] - d2[k];
    o1[k] = d1[k] + d2[k];
    o2[k] = d2[k] - d1[k];
    o3[k] = d1[k] - d3[k];
  }
}
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
  explicit WinoRows(const WinoGeom& q)
      : len((q.R + 2) * q.S() + 2), data(static_cast<std::size_t>(24 * len), T(0)) {}
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

// V[xi][c][f] for the tile rows [r0, r1): f = (r - r0) * S + tw (column TW of each row: finite
// filler). Each input row is split once into even / odd rows and columns (planes of S columns),
// then B^T (.) B runs over the whole run of tile rows: tile (j, tw) reads plane entries f,
// f + 1, f + S, f + S + 1 with f = j S + tw.
template <class T>
void wino_input_transform(const WinoGeom& q, const T* x, int64_t r0, int64_t r1, T* V,
                          WinoRows<T>& rb) {
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.C * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  T* p[4] = {rb.at(0), rb.at(1), rb.at(2), rb.at(3)};  // [row parity][column parity]
  for (int64_t c = 0; c < q.C; ++c) {  // channel-major: the rows of one plane in order
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* img = x + (n * q.C + c) * q.H * q.W;
      const int64_t rows = th1 - th0, nf = rows * S;
      // Padded rows m = rp + 2 jj (image row 2 th0 - ph + m) split into p[2 rp], p[2 rp + 1]
      // at jj S; rows outside the image are zero.
      for (int rp = 0; rp < 2; ++rp) {
        const int64_t a = 2 * th0 - q.ph + rp;
        int64_t ja, jb;
        wino_row_range(a, q.H, rows + 1, ja, jb);
        T* e = p[rp * 2];
        T* o = p[rp * 2 + 1];
        std::fill(e, e + ja * S, T(0));
        std::fill(o, o + ja * S, T(0));
        std::fill(e + jb * S, e + (rows + 1) * S, T(0));
        std::fill(o + jb * S, o + (rows + 1) * S, T(0));
        if (jb > ja) {
          ks.wino_split_rows(static_cast<std::size_t>(jb - ja), static_cast<std::size_t>(q.W),
                             static_cast<std::size_t>(q.pw), static_cast<std::size_t>(S),
                             img + (a + 2 * ja) * q.W, static_cast<std::size_t>(2 * q.W),
                             e + ja * S, o + ja * S, static_cast<std::size_t>(S));
        }
      }
      // B^T on rows: rows 2j, 2j + 1, 2j + 2, 2j + 3 are even[f], odd[f], even[f + S], odd[f + S].
      T* t[8];
      for (int i = 0; i < 8; ++i) t[i] = rb.at(4 + i);  // [column parity][a]
      for (int cp = 0; cp < 2; ++cp) {
        wino_bt(nf + 1, p[cp], p[2 + cp], p[cp] + S, p[2 + cp] + S, t[cp * 4], t[cp * 4 + 1],
                t[cp * 4 + 2], t[cp * 4 + 3]);
      }
      // B on columns: columns 2 tw .. 2 tw + 3 are even[f], odd[f], even[f + 1], odd[f + 1].
      T* v = V + c * ld + j0 * S;
      for (int a = 0; a < 4; ++a) {
        T* va = v + (a * 4) * plane;
        wino_bt(nf, t[a], t[4 + a], t[a] + 1, t[4 + a] + 1, va, va + plane, va + 2 * plane,
                va + 3 * plane);
      }
    });
  }
}

// y = A^T M A (+ bias) for the tile rows [r0, r1), cropped to OH x OW.
template <class T>
void wino_output_transform(const WinoGeom& q, const T* M, int64_t r0, int64_t r1, const T* bias,
                           T* y, WinoRows<T>& rb) {
  const int64_t S = q.S(), TW = q.TW, ld = (r1 - r0) * S, plane = q.OC * ld;
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), us = static_cast<std::size_t>(S),
             tw = static_cast<std::size_t>(TW);
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
      const int64_t t0 = j0 * S;
      const int64_t odd = std::max(int64_t(0), std::min(th1, q.OH / 2) - th0);
      ks.wino_merge_rows(false, static_cast<std::size_t>(th1 - th0), ow, 0, tw, y00 + t0, y01 + t0,
                         us, yo, 2 * ow);
      ks.wino_merge_rows(false, static_cast<std::size_t>(odd), ow, 0, tw, y10 + t0, y11 + t0, us,
                         yo + q.OW, 2 * ow);
    });
  }
}

// dM[xi][oc][f] = (A dY A^T)[xi] for the tile rows [r0, r1) (outside OH x OW dY is zero, so
// column TW of each row is zero: it adds nothing to the weight gradient and the input gradient).
template <class T>
void wino_grad_output_transform(const WinoGeom& q, const T* gy, int64_t r0, int64_t r1, T* dM,
                                WinoRows<T>& rb) {
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.OC * ld;
  T* a0 = rb.at(0);  // row 2 th, even / odd columns, then row 2 th + 1
  T* b0 = rb.at(1);
  T* a1 = rb.at(2);
  T* b1 = rb.at(3);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const auto ow = static_cast<std::size_t>(q.OW), us = static_cast<std::size_t>(S);
  for (int64_t oc = 0; oc < q.OC; ++oc) {
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const T* go = gy + ((n * q.OC + oc) * q.OH + 2 * th0) * q.OW;
      const int64_t t0 = j0 * S, rows = th1 - th0;
      ks.wino_split_rows(static_cast<std::size_t>(rows), ow, 0, us, go, 2 * ow, a0 + t0, b0 + t0,
                         us);
      // Rows 2 th + 1 < OH: th < OH / 2; the others are zero.
      const int64_t odd = std::max(int64_t(0), std::min(th1, q.OH / 2) - th0);
      ks.wino_split_rows(static_cast<std::size_t>(odd), ow, 0, us, go + q.OW, 2 * ow, a1 + t0,
                         b1 + t0, us);
      std::fill(a1 + t0 + odd * S, a1 + t0 + rows * S, T(0));
      std::fill(b1 + t0 + odd * S, b1 + t0 + rows * S, T(0));
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

// gx += sum over the tiles of the rows [r0, r1) of B dV B^T, padding dropped (dV's column TW of
// each row must be zero). Per block and image, every padded row is summed in a fixed order, then
// added to gx; blocks come in order, so the result does not depend on threads. gx must be zero
// before an image's first block.
template <class T>
void wino_input_grad_transform(const WinoGeom& q, const T* dV, int64_t r0, int64_t r1, T* gx,
                               WinoRows<T>& rb) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t S = q.S(), ld = (r1 - r0) * S, plane = q.C * ld;
  for (int64_t c = 0; c < q.C; ++c) {
    const T* v = dV + c * ld;
    // All the block's tiles at once: B on rows (w[i][j] in 8 + 4 i + j), then on columns (tile
    // column j of row i in 4 i + j).
    for (int j = 0; j < 4; ++j) {
      wino_b(ld, v + j * plane, v + (4 + j) * plane, v + (8 + j) * plane, v + (12 + j) * plane,
             rb.at(8 + j), rb.at(12 + j), rb.at(16 + j), rb.at(20 + j));
    }
    for (int i = 0; i < 4; ++i) {
      const int64_t w0 = 8 + 4 * i;
      wino_b(ld, rb.at(w0), rb.at(w0 + 1), rb.at(w0 + 2), rb.at(w0 + 3), rb.at(4 * i),
             rb.at(4 * i + 1), rb.at(4 * i + 2), rb.at(4 * i + 3));
    }
    // Columns: tile tw's columns 0..3 go to even[f], odd[f], even[f + 1], odd[f + 1]
    // (x[i][cp] in 16 + 2 i + cp, per row i of the tile; column TW of the rows is zero).
    for (int i = 0; i < 4; ++i) {
      wino_add_shifted(ld + 1, ld, 1, rb.at(4 * i), rb.at(4 * i + 2), rb.at(16 + 2 * i));
      wino_add_shifted(ld + 1, ld, 1, rb.at(4 * i + 1), rb.at(4 * i + 3), rb.at(17 + 2 * i));
    }
    wino_segments(q, r0, r1, [&](int64_t n, int64_t th0, int64_t th1, int64_t j0) {
      const int64_t rows = th1 - th0, nf = rows * S, off = j0 * S;
      T* img = gx + (n * q.C + c) * q.H * q.W;
      // Rows: tile row j's rows 0..3 go to even[j], odd[j], even[j + 1], odd[j + 1] (padded rows
      // 2j .. 2j + 3); sums per [row parity][column parity] in 8..11 (free again).
      for (int rp = 0; rp < 2; ++rp) {
        for (int cp = 0; cp < 2; ++cp) {
          wino_add_shifted(nf + S, nf, S, rb.at(16 + 2 * rp + cp) + off,
                           rb.at(16 + 2 * (rp + 2) + cp) + off, rb.at(8 + 2 * rp + cp));
        }
      }
      for (int rp = 0; rp < 2; ++rp) {  // padded rows m = rp + 2 jj inside the image
        const int64_t a = 2 * th0 - q.ph + rp;
        int64_t ja, jb;
        wino_row_range(a, q.H, rows + 1, ja, jb);
        if (jb <= ja) continue;
        ks.wino_merge_rows(true, static_cast<std::size_t>(jb - ja), static_cast<std::size_t>(q.W),
                           static_cast<std::size_t>(q.pw), static_cast<std::size_t>(S),
                           rb.at(8 + 2 * rp) + ja * S, rb.at(9 + 2 * rp) + ja * S,
                           static_cast<std::size_t>(S), img + (a + 2 * ja) * q.W,
                           static_cast<std::size_t>(2 * q.W));
      }
    });
  }
}

// A per-thread transformed block (V or M), left uninitialised: every pass writes all of a
// block's columns (filler columns included) before any pass reads them. Also the GEMM scratch
// (no zero fill needed: the GEMM writes its packed panels before reading them).
template <class T>
struct WinoBuffer {
  std::unique_ptr<T[]> p;
  explicit WinoBuffer(int64_t n) : p(new T[static_cast<std::size_t>(n)]) {}
  T* data() { return p.get(); }
};

// U[xi] (or U[xi]^T) packed for gemm_packed, one per xi.
template <class T>
struct WinoPacked {
  std::size_t stride = 0;
  std::vector<T> data;
  WinoPacked() = default;
  WinoPacked(const kernels::KernelSet<T>& ks, const WinoGeom& q, const T* U, bool transposed) {
    const auto m = static_cast<std::size_t>(transposed ? q.C : q.OC);
    const auto k = static_cast<std::size_t>(transposed ? q.OC : q.C);
    stride = kernels::gemm_packed_a_size<T>(m, k);
    data.resize(16 * stride);
    for (int64_t xi = 0; xi < 16; ++xi) {
      ks.gemm_pack_a(transposed, m, k, U + xi * q.OC * q.C, static_cast<std::size_t>(q.C), at(xi));
    }
  }
  const T* at(int64_t xi) const { return data.data() + static_cast<std::size_t>(xi) * stride; }
  T* at(int64_t xi) { return data.data() + static_cast<std::size_t>(xi) * stride; }
};

// The forward on the Winograd path (use_winograd(g)): blocks of tile rows in parallel, each
// computed by one thread (the result does not depend on the split).
template <class T>
void wino_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias = nullptr) {
  const WinoGeom q = WinoGeom::make<T>(g);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  std::vector<T> U(static_cast<std::size_t>(16 * q.OC * q.C));
  wino_weight_transform(q, w, U.data());
  const WinoPacked<T> pu(ks, q, U.data(), false);
  const int64_t blocks = (q.rows() + q.R - 1) / q.R, tmax = q.R * q.S();
  parallel_for(0, static_cast<std::size_t>(blocks), 1, [&](std::size_t lo, std::size_t hi) {
    WinoBuffer<T> V(16 * q.C * tmax);
    WinoBuffer<T> M(16 * q.OC * tmax);
    WinoBuffer<T> scratch(static_cast<int64_t>(gemm_scratch<T>(q.OC, tmax, q.C)));
    WinoRows<T> rb(q);
    for (auto b = static_cast<int64_t>(lo); b < static_cast<int64_t>(hi); ++b) {
      const int64_t r0 = b * q.R, r1 = std::min(q.rows(), r0 + q.R), t = (r1 - r0) * q.S();
      wino_input_transform(q, x, r0, r1, V.data(), rb);
      for (int64_t xi = 0; xi < 16; ++xi) {
        ks.gemm_packed(static_cast<std::size_t>(q.OC), static_cast<std::size_t>(t),
                       static_cast<std::size_t>(q.C), T(1), pu.at(xi), false,
                       V.data() + xi * q.C * t, static_cast<std::size_t>(t), T(0),
                       M.data() + xi * q.OC * t, static_cast<std::size_t>(t), scratch.data());
      }
      wino_output_transform(q, M.data(), r0, r1, bias, y, rb);
    }
  });
}

// The backward on the Winograd path: any of gx (needs w), gw (needs x), gb (may be null). The
// batch is split into kBatchChunks fixed chunks of images (in parallel); each chunk's tile rows
// go in blocks, in order: dM from gy, then dU += dM V^T (V from x), then dX from U^T dM. The
// chunks' dU are added in chunk order, so the result does not depend on the thread count.
template <class T>
void wino_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const WinoGeom q = WinoGeom::make<T>(g);
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t usize = 16 * q.OC * q.C, tmax = q.R * q.S();
  WinoPacked<T> pu;  // U[xi]^T, for the input gradient
  if (gx != nullptr) {
    std::vector<T> U(static_cast<std::size_t>(usize));
    wino_weight_transform(q, w, U.data());
    pu = WinoPacked<T>(ks, q, U.data(), true);
  }
  const int64_t chunks = std::min<int64_t>(q.N, kBatchChunks);
  if (chunks == 0) {  // an empty batch
    if (gw != nullptr) std::fill(gw, gw + q.OC * q.C * 9, T(0));
    if (gb != nullptr) std::fill(gb, gb + q.OC, T(0));
    return;
  }
  const bool dut = q.C < q.OC;  // dU stored transposed ([xi][c][oc])
  std::vector<T> dU(gw != nullptr ? static_cast<std::size_t>(chunks * usize) : 0);
  parallel_for(0, static_cast<std::size_t>(chunks), 1, [&](std::size_t clo, std::size_t chi) {
    WinoBuffer<T> V(16 * q.C * tmax);
    WinoBuffer<T> M(16 * q.OC * tmax);
    WinoBuffer<T> scratch(static_cast<int64_t>(
        std::max({gemm_scratch<T>(q.C, tmax, q.OC), gemm_scratch<T>(q.OC, q.C, tmax),
                  gemm_scratch<T>(q.C, q.OC, tmax)})));
    WinoRows<T> rb(q);
    for (auto ci = static_cast<int64_t>(clo); ci < static_cast<int64_t>(chi); ++ci) {
      const int64_t n0 = q.N * ci / chunks, n1 = q.N * (ci + 1) / chunks;
      if (gx != nullptr) {
        std::fill(gx + n0 * q.C * q.H * q.W, gx + n1 * q.C * q.H * q.W, T(0));
      }
      T* du = gw != nullptr ? dU.data() + ci * usize : nullptr;
      for (int64_t r0 = n0 * q.TH; r0 < n1 * q.TH; r0 += q.R) {
        const int64_t r1 = std::min(n1 * q.TH, r0 + q.R), t = (r1 - r0) * q.S();
        const auto st = static_cast<std::size_t>(t);
        wino_grad_output_transform(q, gy, r0, r1, M.data(), rb);
        if (du != nullptr) {
          wino_input_transform(q, x, r0, r1, V.data(), rb);
          const T beta = r0 == n0 * q.TH ? T(0) : T(1);
          for (int64_t xi = 0; xi < 16; ++xi) {
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
          for (int64_t xi = 0; xi < 16; ++xi) {
            ks.gemm_packed(static_cast<std::size_t>(q.C), st, static_cast<std::size_t>(q.OC), T(1),
                           pu.at(xi), false, M.data() + xi * q.OC * t, st, T(0),
                           V.data() + xi * q.C * t, st, scratch.data());
          }
          wino_input_grad_transform(q, V.data(), r0, r1, gx, rb);
        }
      }
    }
  });
  if (gw != nullptr) {
    T* sum = dU.data();
    for (int64_t ci = 1; ci < chunks; ++ci) {
      kernels::binary<T>(kernels::BinaryOp::add, static_cast<std::size_t>(usize), sum,
                         dU.data() + ci * usize, sum);
    }
    wino_weight_grad_transform(q, sum, dut, gw);
  }
  if (gb != nullptr) bias_grad(q.N, q.OC, q.OH * q.OW, gy, gb);
}

// ---- argument checks and output sizes ----

// "[N, 3, H, W]" for 2 spatial dims, "[N, 3, L]" for 1.
inline std::string expected_shape(int64_t channels, std::size_t spatial) {
  return std::string("[N, ") + std::to_string(channels) + (spatial == 1 ? ", L]" : ", H, W]");
}

// Resolved spatial arguments of one conv call.
struct ConvParams {
  std::vector<int64_t> stride, pad_before, pad_after, dilation;
};

inline ConvParams conv_params(const std::string& who, std::size_t nd,
                              const std::vector<int64_t>& kernel, const Ints& stride,
                              const ConvPadding& padding, const Ints& dilation) {
  ConvParams p;
  p.stride = stride.expand(nd, who, "stride");
  p.dilation = dilation.expand(nd, who, "dilation");
  check_positive(p.stride, who, "stride");
  check_positive(p.dilation, who, "dilation");
  if (padding.mode.empty()) {
    p.pad_before = padding.values.expand(nd, who, "padding");
    check_non_negative(p.pad_before, who, "padding");
    p.pad_after = p.pad_before;
  } else if (padding.mode == "valid") {
    p.pad_before.assign(nd, 0);
    p.pad_after.assign(nd, 0);
  } else if (padding.mode == "same") {
    for (int64_t s : p.stride) {
      EMBER_CHECK_VALUE(s == 1, who, ": padding='same' is not supported for strided convolutions",
                        " (stride ", p.stride, ")");
    }
    // PyTorch puts the odd extra element of the total padding after (bottom / right).
    for (std::size_t d = 0; d < nd; ++d) {
      const int64_t total = p.dilation[d] * (kernel[d] - 1);
      p.pad_before.push_back(total / 2);
      p.pad_after.push_back(total - total / 2);
    }
  } else {
    fail(error_kind::value, who, ": padding must be a number, 'same' or 'valid', got '",
         padding.mode, "'");
  }
  return p;
}

// Checks input/weight/bias of a conv whose input has `channels` channels and `nd` spatial dims,
// and returns the output's spatial size. `input_spatial` and `kernel` are per spatial dim.
inline std::vector<int64_t> conv_out_size(const std::string& who, const ConvParams& p,
                                          const std::vector<int64_t>& input_spatial,
                                          const std::vector<int64_t>& kernel) {
  std::vector<int64_t> padded, dilated, out;
  for (std::size_t d = 0; d < kernel.size(); ++d) {
    padded.push_back(input_spatial[d] + p.pad_before[d] + p.pad_after[d]);
    dilated.push_back(p.dilation[d] * (kernel[d] - 1) + 1);
  }
  for (std::size_t d = 0; d < kernel.size(); ++d) {
    EMBER_CHECK_SHAPE(dilated[d] <= padded[d], who, ": kernel size ", dilated,
                      " (with dilation) is larger than the padded input size ", padded);
    out.push_back((padded[d] - dilated[d]) / p.stride[d] + 1);
  }
  return out;
}

template <class T>
void check_conv_tensors(const std::string& who, const Tensor<T>& input, const Tensor<T>& weight,
                        const Tensor<T>& bias, std::size_t nd, int64_t groups, bool transposed) {
  EMBER_CHECK_VALUE(input.defined() && weight.defined(), who, ": input and weight must be defined");
  EMBER_CHECK_VALUE(groups > 0, who, ": groups must be positive, got ", groups);
  EMBER_CHECK_SHAPE(weight.dim() == static_cast<int64_t>(nd) + 2, who, ": expected a ", nd + 2,
                    "-d weight, got shape ", weight.shape());
  const int64_t in_ch = transposed ? weight.size(0) : weight.size(1) * groups;
  const int64_t out_ch = transposed ? weight.size(1) * groups : weight.size(0);
  EMBER_CHECK_VALUE(weight.size(0) % groups == 0, who, ": groups (", groups,
                    ") must divide the weight's first dim; weight shape ", weight.shape());
  // Batched [N, C, ...] or unbatched [C, ...].
  const auto batched = static_cast<int64_t>(nd) + 2;
  const bool dims_ok = input.dim() == batched || input.dim() == batched - 1;
  EMBER_CHECK_SHAPE(dims_ok && input.size(input.dim() == batched ? 1 : 0) == in_ch, who,
                    ": expected input of shape ", expected_shape(in_ch, nd), ", got ",
                    input.shape());
  if (bias.defined()) {
    EMBER_CHECK_SHAPE(bias.dim() == 1 && bias.size(0) == out_ch, who, ": expected bias of shape [",
                      out_ch, "], got ", bias.shape());
  }
}

// Geometry for a conv2d on 4-d contiguous tensors (1-d convs come in with H = 1).
inline ConvGeom make_geom(const Shape& x, const Shape& w, int64_t groups, const ConvParams& p,
                          const std::vector<int64_t>& out) {
  ConvGeom g;
  g.N = x[0];
  g.OC = w[0];
  g.groups = groups;
  g.win = kernels::ConvWindow{x[1],
                              x[2],
                              x[3],
                              w[2],
                              w[3],
                              p.stride[0],
                              p.stride[1],
                              p.pad_before[0],
                              p.pad_before[1],
                              p.dilation[0],
                              p.dilation[1],
                              out[0],
                              out[1]};
  return g;
}

// conv2d on 4-d tensors with resolved params; records the backward.
template <class T>
Tensor<T> conv2d_impl(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                      const ConvParams& p, int64_t groups, const std::vector<int64_t>& out_hw) {
  const ConvGeom g = make_geom(input.shape(), weight.shape(), groups, p, out_hw);
  const bool has_bias = bias.defined();
  Tensor<T> x = input.contiguous(), w = weight.contiguous();
  return autograd::differentiable<T>(
      autograd::needs_grad(input, weight, bias),
      [&] {
        Tensor<T> y = empty<T>({g.N, g.OC, g.win.OH, g.win.OW});
        Tensor<T> b = has_bias ? bias.contiguous() : Tensor<T>();
        if (use_winograd(g)) {
          wino_forward(g, x.data(), w.data(), y.data(), has_bias ? b.data() : nullptr);
        } else {
          conv_forward(g, x.data(), w.data(), y.data(), has_bias ? b.data() : nullptr);
        }
        return y;
      },
      [&](Tensor<T>& out) {
        const bool need_x = input.requires_grad(), need_w = weight.requires_grad(),
                   need_b = has_bias && bias.requires_grad();
        autograd::record(out, "ConvolutionBackward", {input, weight, bias},
                         [g, need_x, need_w, need_b,
                          sx = need_w ? autograd::save(x, "conv2d") : autograd::SavedTensor<T>(),
                          sw = need_x ? autograd::save(w, "conv2d") : autograd::SavedTensor<T>()](
                             const Tensor<T>& grad) -> std::vector<Tensor<T>> {
                           const Tensor<T> gy = grad.contiguous();
                           Tensor<T> gx, gw, gb;
                           if (use_winograd(g)) {
                             if (need_x) gx = empty<T>({g.N, g.win.C, g.win.H, g.win.W});
                             if (need_w) gw = empty<T>({g.OC, g.Cg(), g.win.KH, g.win.KW});
                             if (need_b) gb = empty<T>({g.OC});
                             if (need_x || need_w) {
                               wino_backward(g, need_w ? sx.get().data() : nullptr,
                                             need_x ? sw.get().data() : nullptr, gy.data(),
                                             need_x ? gx.data() : nullptr,
                                             need_w ? gw.data() : nullptr,
                                             need_b ? gb.data() : nullptr);
                             } else if (need_b) {
                               bias_grad(g.N, g.OC, g.L(), gy.data(), gb.data());
                             }
                             return {gx, gw, gb};
                           }
                           if (need_x) {
                             gx = empty<T>({g.N, g.win.C, g.win.H, g.win.W});
                             conv_backward_input(g, sw.get().data(), gy.data(), gx.data());
                           }
                           if (need_b) gb = empty<T>({g.OC});
                           if (need_w) {
                             // The bias gradient comes with the weight gradient's GEMMs.
                             gw = empty<T>({g.OC, g.Cg(), g.win.KH, g.win.KW});
                             conv_backward_weight(g, sx.get().data(), gy.data(), gw.data(),
                                                  need_b ? gb.data() : nullptr);
                           } else if (need_b) {
                             bias_grad(g.N, g.OC, g.L(), gy.data(), gb.data());
                           }
                           return {gx, gw, gb};
                         });
      });
}

// Adds a batch dim to an unbatched input (PyTorch accepts [C, ...] as a batch of one).
template <class T>
bool unbatched(const Tensor<T>& input, std::size_t nd) {
  return input.defined() && input.dim() == static_cast<int64_t>(nd) + 1;
}

}  // namespace detail

// conv2d(input [N, C, H, W], weight [OC, C / groups, KH, KW], bias [OC] or undefined).
// `who` names the caller in error messages (modules pass their own description).
template <class T>
Tensor<T> conv2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = {},
                 const Ints& stride = 1, const ConvPadding& padding = 0, const Ints& dilation = 1,
                 int64_t groups = 1, const std::string& who = "conv2d") {
  detail::check_conv_tensors(who, input, weight, bias, 2, groups, false);
  if (detail::unbatched(input, 2)) {
    return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, who)
        .squeeze(0);
  }
  const std::vector<int64_t> kernel{weight.size(2), weight.size(3)};
  const detail::ConvParams p = detail::conv_params(who, 2, kernel, stride, padding, dilation);
  const std::vector<int64_t> out =
      detail::conv_out_size(who, p, {input.size(2), input.size(3)}, kernel);
  return detail::conv2d_impl(input, weight, bias, p, groups, out);
}

// conv1d(input [N, C, L], weight [OC, C / groups, K], bias [OC] or undefined): conv2d with H = 1.
template <class T>
Tensor<T> conv1d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = {},
                 const Ints& stride = 1, const ConvPadding& padding = 0, const Ints& dilation = 1,
                 int64_t groups = 1, const std::string& who = "conv1d") {
  detail::check_conv_tensors(who, input, weight, bias, 1, groups, false);
  if (detail::unbatched(input, 1)) {
    return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, who)
        .squeeze(0);
  }
  const std::vector<int64_t> kernel{weight.size(2)};
  detail::ConvParams p = detail::conv_params(who, 1, kernel, stride, padding, dilation);
  const std::vector<int64_t> out = detail::conv_out_size(who, p, {input.size(2)}, kernel);
  // The H axis of the 2-d problem: size 1, kernel 1, no padding.
  p.stride.insert(p.stride.begin(), 1);
  p.dilation.insert(p.dilation.begin(), 1);
  p.pad_before.insert(p.pad_before.begin(), 0);
  p.pad_after.insert(p.pad_after.begin(), 0);
  return detail::conv2d_impl(input.unsqueeze(2), weight.unsqueeze(2), bias, p, groups, {1, out[0]})
      .squeeze(2);
}

// conv_transpose2d(input [N, C, H, W], weight [C, OC / groups, KH, KW], bias [OC] or undefined):
// the gradient of conv2d with respect to its input. Output size per dim:
// (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& input, const Tensor<T>& weight,
                           const Tensor<T>& bias = {}, const Ints& stride = 1,
                           const Ints& padding = 0, const Ints& output_padding = 0,
                           int64_t groups = 1, const Ints& dilation = 1,
                           const std::string& who = "conv_transpose2d") {
  detail::check_conv_tensors(who, input, weight, bias, 2, groups, true);
  if (detail::unbatched(input, 2)) {
    return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding,
                            groups, dilation, who)
        .squeeze(0);
  }
  detail::ConvParams p;
  p.stride = stride.expand(2, who, "stride");
  p.dilation = dilation.expand(2, who, "dilation");
  p.pad_before = padding.expand(2, who, "padding");
  p.pad_after = p.pad_before;
  const std::vector<int64_t> opad = output_padding.expand(2, who, "output_padding");
  detail::check_positive(p.stride, who, "stride");
  detail::check_positive(p.dilation, who, "dilation");
  detail::check_non_negative(p.pad_before, who, "padding");
  detail::check_non_negative(opad, who, "output_padding");
  std::vector<int64_t> out;
  for (std::size_t d = 0; d < 2; ++d) {
    EMBER_CHECK_VALUE(opad[d] < p.stride[d] || opad[d] < p.dilation[d], who, ": output_padding ",
                      opad, " must be smaller than either stride ", p.stride, " or dilation ",
                      p.dilation);
    const int64_t k = weight.size(static_cast<int64_t>(d) + 2);
    out.push_back((input.size(static_cast<int64_t>(d) + 2) - 1) * p.stride[d] -
                  2 * p.pad_before[d] + p.dilation[d] * (k - 1) + opad[d] + 1);
  }
  EMBER_CHECK_SHAPE(out[0] > 0 && out[1] > 0, who, ": input of shape ", input.shape(),
                    " gives an empty output of size ", out);
  // The conv this is the adjoint of: input `out` with OC channels -> output `input` with C.
  const int64_t C = weight.size(0), OC = weight.size(1) * groups;
  detail::ConvGeom g;
  g.N = input.size(0);
  g.OC = C;
  g.groups = groups;
  g.win = kernels::ConvWindow{
      OC,           out[0],          out[1],          weight.size(2), weight.size(3), p.stride[0],
      p.stride[1],  p.pad_before[0], p.pad_before[1], p.dilation[0],  p.dilation[1],  input.size(2),
      input.size(3)};
  const bool has_bias = bias.defined();
  Tensor<T> x = input.contiguous(), w = weight.contiguous();
  return autograd::differentiable<T>(
      autograd::needs_grad(input, weight, bias),
      [&] {
        Tensor<T> y = empty<T>({g.N, OC, out[0], out[1]});
        detail::conv_backward_input(g, w.data(), x.data(), y.data());
        if (has_bias) {
          Tensor<T> b = bias.contiguous();
          detail::add_bias(g.N, OC, out[0] * out[1], b.data(), y.data());
        }
        return y;
      },
      [&](Tensor<T>& result) {
        const bool need_x = input.requires_grad(), need_w = weight.requires_grad(),
                   need_b = has_bias && bias.requires_grad();
        autograd::record(
            result, "ConvolutionBackward", {input, weight, bias},
            [g, need_x, need_w, need_b,
             sx = need_w ? autograd::save(x, "conv_transpose2d") : autograd::SavedTensor<T>(),
             sw = need_x ? autograd::save(w, "conv_transpose2d") : autograd::SavedTensor<T>()](
                const Tensor<T>& grad) -> std::vector<Tensor<T>> {
              const Tensor<T> gy = grad.contiguous();
              Tensor<T> gx, gw, gb;
              if (need_x) {
                gx = empty<T>({g.N, g.OC, g.win.OH, g.win.OW});
                detail::conv_forward(g, gy.data(), sw.get().data(), gx.data());
              }
              if (need_w) {
                gw = empty<T>({g.OC, g.Cg(), g.win.KH, g.win.KW});
                detail::conv_backward_weight(g, gy.data(), sx.get().data(), gw.data());
              }
              if (need_b) {
                gb = empty<T>({g.win.C});
                detail::bias_grad(g.N, g.win.C, g.win.H * g.win.W, gy.data(), gb.data());
              }
              return {gx, gw, gb};
            });
      });
}

}  // namespace ember::F
