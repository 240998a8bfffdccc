// ember: conv2d's small-channel direct paths (see functional/conv.hpp's header comment): forward
// and weight gradient without im2col / im2row, by the kernels of kernels/conv_direct.hpp. Internal
// to functional/conv.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ember/functional/detail/conv_geom.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F::detail {

// ---- direct: output channels in the vector lanes (kernels/conv_direct.hpp) ----

// Few output channels per group (one 16-wide block, at least half full) and column stride 1: the
// forward and the weight gradient read the input in place, no im2col / im2row, and every
// multiply-add uses a whole vector (the GEMMs of im2col's path had 16-row products whose register
// tiles were half empty, and the layout passes cost about as much as the products).
inline bool use_direct(const ConvGeom& g) {
  return !g.depthwise() && !g.pointwise() && g.win.sw == 1 && g.OCg() > 8 &&
         g.OCg() <= static_cast<int64_t>(kernels::kDirectOcBlock);
}

// The images as the direct kernels read them: in place when unpadded, else copied into a
// zero-bordered buffer (per thread; the border is zeroed once, the interior rewritten per image).
// With a margin (the few-channel kernels' vector loads), always copied, with `margin` readable
// elements after the last plane.
struct DirectInput {
  int64_t Hp = 0, Wp = 0, margin = 0;
  bool copy = false;
  explicit DirectInput(const ConvGeom& g, int64_t margin_ = 0) : margin(margin_) {
    const auto& w = g.win;
    Hp = (w.OH - 1) * w.sh + (w.KH - 1) * w.dh + 1;
    Wp = (w.OW - 1) + (w.KW - 1) * w.dw + 1;
    copy = margin > 0 || w.ph > 0 || w.pw > 0 || Hp > w.H || Wp > w.W;
    if (!copy) {
      Hp = w.H;
      Wp = w.W;
    }
  }
  std::size_t buffer_size(const ConvGeom& g) const {
    return copy ? static_cast<std::size_t>(g.win.C * Hp * Wp + margin) : 0;
  }
  template <class T>
  const T* image(const ConvGeom& g, const T* xn, T* buf) const {
    if (!copy) return xn;
    const auto& w = g.win;
    const int64_t rows = std::min(w.H, Hp - w.ph), cols = std::min(w.W, Wp - w.pw);
    for (int64_t c = 0; c < w.C; ++c) {
      for (int64_t ih = 0; ih < rows; ++ih) {
        const T* src = xn + (c * w.H + ih) * w.W;
        std::copy(src, src + cols, buf + (c * Hp + ih + w.ph) * Wp + w.pw);
      }
    }
    return buf;
  }
  // Calls fn(n, gi, xg) for the images [n0, n1) and their groups, xg: group gi's planes of image n
  // as the kernels read them. buf: this thread's buffer_size(g) elements, zeroed once.
  template <class T, class F>
  void each_group(const ConvGeom& g, const T* x, int64_t n0, int64_t n1, T* buf, F&& fn) const {
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = image(g, x + n * g.in_size(), buf);
      for (int64_t gi = 0; gi < g.groups; ++gi) fn(n, gi, xn + gi * g.Cg() * Hp * Wp);
    }
  }
  kernels::DirectConvShape shape(const ConvGeom& g) const {
    const auto& w = g.win;
    kernels::DirectConvShape s;
    s.C = static_cast<std::size_t>(g.Cg());
    s.KH = static_cast<std::size_t>(w.KH);
    s.KW = static_cast<std::size_t>(w.KW);
    s.sh = static_cast<std::size_t>(w.sh);
    s.dh = static_cast<std::size_t>(w.dh);
    s.dw = static_cast<std::size_t>(w.dw);
    s.OH = static_cast<std::size_t>(w.OH);
    s.OW = static_cast<std::size_t>(w.OW);
    s.ldx = static_cast<std::size_t>(Wp);
    s.ldp = static_cast<std::size_t>(Hp * Wp);
    s.OC = static_cast<std::size_t>(g.OCg());
    return s;
  }
};

inline int64_t direct_ocp(const ConvGeom& g) {
  const auto blk = static_cast<int64_t>(kernels::kDirectOcBlock);
  return (g.OCg() + blk - 1) / blk * blk;
}

// At most kRowsMaxOc output channels per group, rows of 12+ outputs, column stride 1: the
// few-channel kernels (output pixels of a row in the vector lanes), no im2col; LeNet's first
// layer (1 -> 6, 28 wide) spent most of its time in im2col and in GEMMs of 6 rows.
inline bool use_rows(const ConvGeom& g) {
  return !g.depthwise() && !g.pointwise() && g.win.sw == 1 && g.win.OW >= 12 &&
         g.OCg() <= static_cast<int64_t>(kernels::kRowsMaxOc);
}

template <class T>
void rows_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t K = g.K(), OCg = g.OCg(), L = g.L();
  const DirectInput in(g, static_cast<int64_t>(kernels::kRowsMargin));
  const kernels::DirectConvShape s = in.shape(g);
  for_each_image(g.N, [&](int64_t lo, int64_t hi) {
    std::vector<T> buf(in.buffer_size(g), T(0));
    in.each_group(g, x, lo, hi, buf.data(), [&](int64_t n, int64_t gi, const T* xg) {
      ks.conv_rows_forward(s, xg, w + gi * OCg * K, bias != nullptr ? bias + gi * OCg : nullptr,
                           y + n * g.out_size() + gi * OCg * L, static_cast<std::size_t>(L));
    });
  });
}

// gw by the few-channel kernel, sums per fixed batch chunk added in chunk order; gb by bias_grad.
template <class T>
void rows_backward_weight(const ConvGeom& g, const T* x, const T* gy, T* gw, T* gb) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t K = g.K(), OCg = g.OCg(), L = g.L();
  const int64_t wsize = g.OC * K;
  const int64_t chunks = std::min<int64_t>(g.N, kBatchChunks);
  std::vector<T> partial(static_cast<std::size_t>(chunks * wsize), T(0));
  const DirectInput in(g, static_cast<int64_t>(kernels::kRowsMargin));
  const kernels::DirectConvShape s = in.shape(g);
  parallel_for(0, static_cast<std::size_t>(chunks), 1, [&](std::size_t clo, std::size_t chi) {
    std::vector<T> buf(in.buffer_size(g), T(0));
    for (auto ci = static_cast<int64_t>(clo); ci < static_cast<int64_t>(chi); ++ci) {
      T* part = partial.data() + ci * wsize;
      const int64_t n0 = g.N * ci / chunks, n1 = g.N * (ci + 1) / chunks;
      in.each_group(g, x, n0, n1, buf.data(), [&](int64_t n, int64_t gi, const T* xg) {
        ks.conv_rows_wgrad(s, xg, gy + n * g.out_size() + gi * OCg * L, static_cast<std::size_t>(L),
                           part + gi * OCg * K);
      });
    }
  });
  T* sum = sum_chunks(partial.data(), chunks, wsize);
  std::copy(sum, sum + wsize, gw);
  if (gb != nullptr) bias_grad(g.N, g.OC, L, gy, gb);
}

// y = conv(x, w) + bias by the direct kernel, images in parallel.
template <class T>
void direct_forward(const ConvGeom& g, const T* x, const T* w, T* y, const T* bias) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t K = g.K(), OCg = g.OCg(), L = g.L(), ocp = direct_ocp(g);
  // Weights per group as [K][OCp], the bias as OCp entries; zeros past OCg.
  std::vector<T> wt(static_cast<std::size_t>(g.groups * K * ocp), T(0));
  std::vector<T> bt(bias != nullptr ? static_cast<std::size_t>(g.groups * ocp) : 0, T(0));
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    for (int64_t oc = 0; oc < OCg; ++oc) {
      const T* src = w + (gi * OCg + oc) * K;
      for (int64_t k = 0; k < K; ++k)
        wt[static_cast<std::size_t>((gi * K + k) * ocp + oc)] = src[k];
      if (bias != nullptr) bt[static_cast<std::size_t>(gi * ocp + oc)] = bias[gi * OCg + oc];
    }
  }
  const DirectInput in(g);
  const kernels::DirectConvShape s = in.shape(g);
  for_each_image(g.N, [&](int64_t lo, int64_t hi) {
    std::vector<T> buf(in.buffer_size(g), T(0));
    in.each_group(g, x, lo, hi, buf.data(), [&](int64_t n, int64_t gi, const T* xg) {
      ks.conv_direct_forward(s, xg, wt.data() + gi * K * ocp,
                             bias != nullptr ? bt.data() + gi * ocp : nullptr,
                             y + n * g.out_size() + gi * OCg * L, static_cast<std::size_t>(L));
    });
  });
}

// gw (and gb, if given) by the direct kernel: sums per fixed batch chunk, added in chunk order.
template <class T>
void direct_backward_weight(const ConvGeom& g, const T* x, const T* gy, T* gw, T* gb) {
  const kernels::KernelSet<T>& ks = active_kernels().of<T>();
  const int64_t K = g.K(), OCg = g.OCg(), L = g.L(), ocp = direct_ocp(g);
  const int64_t per_group = (K + 1) * ocp;  // [K][OCp] weights, then OCp bias sums
  const int64_t wsize = g.groups * per_group;
  const int64_t chunks = std::min<int64_t>(g.N, kBatchChunks);
  std::vector<T> partial(static_cast<std::size_t>(chunks * wsize), T(0));
  const DirectInput in(g);
  const kernels::DirectConvShape s = in.shape(g);
  parallel_for(0, static_cast<std::size_t>(chunks), 1, [&](std::size_t clo, std::size_t chi) {
    std::vector<T> buf(in.buffer_size(g), T(0));
    std::vector<T> scratch(static_cast<std::size_t>(L) * kernels::kDirectOcBlock);
    for (auto ci = static_cast<int64_t>(clo); ci < static_cast<int64_t>(chi); ++ci) {
      T* part = partial.data() + ci * wsize;
      const int64_t n0 = g.N * ci / chunks, n1 = g.N * (ci + 1) / chunks;
      in.each_group(g, x, n0, n1, buf.data(), [&](int64_t n, int64_t gi, const T* xg) {
        T* pg = part + gi * per_group;
        ks.conv_direct_wgrad(s, xg, gy + n * g.out_size() + gi * OCg * L,
                             static_cast<std::size_t>(L), pg,
                             gb != nullptr ? pg + K * ocp : nullptr, scratch.data());
      });
    }
  });
  T* sum = sum_chunks(partial.data(), chunks, wsize);
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    const T* pg = sum + gi * per_group;
    for (int64_t oc = 0; oc < OCg; ++oc) {
      T* dst = gw + (gi * OCg + oc) * K;
      for (int64_t k = 0; k < K; ++k) dst[k] = pg[k * ocp + oc];
      if (gb != nullptr) gb[gi * OCg + oc] = pg[K * ocp + oc];
    }
  }
}

}  // namespace ember::F::detail
