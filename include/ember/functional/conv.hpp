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
// Small-channel direct paths (kernels/conv_direct.hpp; column stride 1), no im2col / im2row:
//   9..16 output channels per group (use_direct): the forward and the weight gradient with the
//     output channels in the vector lanes (LeNet's 6 -> 16 layer);
//   at most 8 output channels per group and 12+ outputs a row (use_rows): output pixels of a row
//     in the lanes (LeNet's 1 -> 6 layer).
//   Their input gradient stays W^T @ gy, and col2im of column stride 1 is col2im_plane (each image
//   row summed in registers over every tap and stored once).
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
// From 16x16 outputs on (use_wino4) the path computes F(4x4, 3x3) instead
// (detail/conv_winograd4.hpp): 4x4 output tiles from 6x6 input tiles, 36 transformed matrices,
// 36 multiplications per 16 outputs instead of 64, the same structure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/functional/conv_args.hpp"
#include "ember/functional/detail/conv_direct.hpp"
#include "ember/functional/detail/conv_geom.hpp"
#include "ember/functional/detail/conv_winograd4.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/im2col.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F {

namespace detail {

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

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias = nullptr) {
  const int64_t K = g.K(), L = g.L(), OCg = g.OCg();
  if (g.depthwise()) {
    depthwise_forward(g, x, w, y);
    if (bias != nullptr) add_bias(g.N, g.OC, L, bias, y);
    return;
  }
  if (use_direct(g)) return direct_forward(g, x, w, y, bias);
  if (use_rows(g)) return rows_forward(g, x, w, y, bias);
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

// col2im with column stride 1 (not flat rows): one col2im_plane call per channel, which sums each
// image row in registers and overwrites the image (no zero fill first). col lies
// kernels::col2im_margin(g) elements into its buffer (col2im_plane's room).
template <class T>
void col2im_rows(const kernels::KernelSet<T>& ks, const kernels::ConvWindow& g, const T* col,
                 T* image) {
  const int64_t L = g.OH * g.OW;
  const kernels::Col2imShape s = kernels::col2im_shape(g);
  for (int64_t c = 0; c < g.C; ++c) {
    ks.col2im_plane(s, col + c * g.KH * g.KW * L, static_cast<std::size_t>(L),
                    image + c * g.H * g.W);
  }
}

// gx[n] = col2im(W^T @ gy[n]) per group.
template <class T>
void conv_backward_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  if (g.depthwise()) return depthwise_backward_input(g, w, gy, gx);
  const int64_t K = g.K(), L = g.L(), OCg = g.OCg();
  const bool direct = g.pointwise();
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  PackedWeights<T> pw(ks, g, w, true);
  const bool flat = kernels::detail::flat_rows(g.win);
  const bool by_rows = !direct && !flat && g.win.sw == 1;
  const int64_t margin = by_rows ? static_cast<int64_t>(kernels::col2im_margin(g.win)) : 0;
  for_each_image(g.N, [&](int64_t lo, int64_t hi) {
    std::vector<T> col_buf(direct ? 0 : static_cast<std::size_t>(g.groups * K * L + 2 * margin));
    T* col = col_buf.data() + margin;
    std::vector<T> scratch(gemm_scratch<T>(K, L, OCg));
    for (int64_t n = lo; n < hi; ++n) {
      T* gxn = gx + n * g.in_size();
      T* c = direct ? gxn : col;
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        ks.gemm_packed(static_cast<std::size_t>(K), static_cast<std::size_t>(L),
                       static_cast<std::size_t>(OCg), T(1), pw.group(gi), false,
                       gy + n * g.out_size() + gi * OCg * L, static_cast<std::size_t>(L), T(0),
                       c + gi * K * L, static_cast<std::size_t>(L), scratch.data());
      }
      if (by_rows) {
        col2im_rows(ks, g.win, col, gxn);
      } else if (!direct) {
        std::fill(gxn, gxn + g.in_size(), T(0));
        if (flat) {
          kernels::col2im_flat(g.win, col, gxn, ks.axpy);
        } else {
          kernels::col2im(g.win, col, gxn);
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
  if (use_direct(g)) return direct_backward_weight(g, x, gy, gw, gb);
  if (use_rows(g)) return rows_backward_weight(g, x, gy, gw, gb);
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
  T* sum = sum_chunks(partial.data(), chunks, wsize);
  for (int64_t oc = 0; oc < g.OC; ++oc) {
    std::copy(sum + oc * Kx, sum + oc * Kx + K, gw + oc * K);
    if (extra > 0) gb[oc] = sum[oc * Kx + K];
  }
  if (gb != nullptr && extra == 0) bias_grad(g.N, g.OC, L, gy, gb);
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
        autograd::record(
            out, "ConvolutionBackward", {input, weight, bias},
            [g, need_x, need_w, need_b,
             sx = need_w ? autograd::save(x, "conv2d") : autograd::SavedTensor<T>(),
             sw = need_x ? autograd::save(w, "conv2d") : autograd::SavedTensor<T>()](
                const Tensor<T>& grad) -> std::vector<Tensor<T>> {
              const Tensor<T> gy = grad.contiguous();
              Tensor<T> gx, gw, gb;
              if (need_x) gx = empty<T>({g.N, g.win.C, g.win.H, g.win.W});
              if (need_w) gw = empty<T>({g.OC, g.Cg(), g.win.KH, g.win.KW});
              if (need_b) gb = empty<T>({g.OC});
              T* gb_data = need_b ? gb.data() : nullptr;
              if (use_winograd(g) && (need_x || need_w)) {
                // One pass for all the gradients asked for.
                wino_backward(g, need_w ? sx.get().data() : nullptr,
                              need_x ? sw.get().data() : nullptr, gy.data(),
                              need_x ? gx.data() : nullptr, need_w ? gw.data() : nullptr, gb_data);
              } else {
                if (need_x) {
                  conv_backward_input(g, sw.get().data(), gy.data(), gx.data());
                }
                if (need_w) {
                  // The bias gradient comes with the weight gradient's GEMMs.
                  conv_backward_weight(g, sx.get().data(), gy.data(), gw.data(), gb_data);
                } else if (need_b) {
                  bias_grad(g.N, g.OC, g.L(), gy.data(), gb_data);
                }
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
