// ember: F::max_pool1d/2d, F::avg_pool1d/2d, F::adaptive_avg_pool2d — differentiable, PyTorch's
// semantics (ceil_mode, dilation, count_include_pad, unbatched inputs). Direct loops, one (image,
// channel) plane per task, so results do not depend on the thread count. 1-d pools are 2-d pools
// with H = 1.
//
// Fast paths (float/double, no padding, no dilation: every window lies inside the plane except
// the partial ones ceil_mode adds at the end): a whole output row is swept once per window tap
// (i, j) with branch-free updates the compiler vectorises, and kernel 2 stride 2 gets its own
// unrolled loop. Max pooling 2x2 with stride 2 (in both dims) goes to the dispatched per-ISA kernel
// (kernels/pool.hpp) a whole plane per call, and when its windows tile the plane its backward
// writes the input gradient directly (no zero fill, no scatter). They give the general path's
// results bit for bit (average: the same taps summed in the same order; max: the same
// first-maximum / first-NaN argmax; a NaN output may be another of the window's NaNs); max
// pooling keeps its argmax as int32 offsets within the plane (half the memory of int64).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/functional/conv_args.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F {

namespace detail {

// One pooling window sweep over an [H, W] plane.
struct PoolGeom {
  int64_t planes = 0, H = 0, W = 0, OH = 0, OW = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

// PyTorch's pooling_output_shape: floor or ceil, and in ceil mode the last window must start
// inside the input or its left padding.
inline int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d,
                             bool ceil_mode) {
  const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

template <class F>
void for_each_plane(int64_t planes, F&& fn) {
  parallel_for(0, static_cast<std::size_t>(planes), 4, [&](std::size_t lo, std::size_t hi) {
    for (auto p = static_cast<int64_t>(lo); p < static_cast<int64_t>(hi); ++p) fn(p);
  });
}

// Resolves kernel/stride/padding/dilation for `nd` spatial dims of a 3-d or 4-d (or 1-d pools:
// 2-d or 3-d) input and checks them; returns the geometry of the equivalent 2-d pool.
template <class T>
PoolGeom pool_geom(const std::string& who, const Tensor<T>& x, std::size_t nd, const Ints& kernel,
                   const Ints& stride, const Ints& padding, const Ints& dilation, bool ceil_mode,
                   bool pad_vs_dilated_kernel) {
  const auto dims = static_cast<int64_t>(nd);
  EMBER_CHECK_SHAPE(x.defined() && (x.dim() == dims + 1 || x.dim() == dims + 2), who,
                    ": expected a ", dims + 1, "-d or ", dims + 2, "-d input ",
                    nd == 1 ? "[N, C, L]" : "[N, C, H, W]", ", got ",
                    x.defined() ? x.shape() : Shape{});
  std::vector<int64_t> k = kernel.expand(nd, who, "kernel_size");
  std::vector<int64_t> s = stride.values.empty() ? k : stride.expand(nd, who, "stride");
  std::vector<int64_t> p = padding.expand(nd, who, "padding");
  std::vector<int64_t> d = dilation.expand(nd, who, "dilation");
  check_positive(k, who, "kernel_size");
  check_positive(s, who, "stride");
  check_positive(d, who, "dilation");
  check_non_negative(p, who, "padding");
  for (std::size_t i = 0; i < nd; ++i) {
    const int64_t eff = pad_vs_dilated_kernel ? ((k[i] - 1) * d[i] + 1) : k[i];
    EMBER_CHECK_VALUE(p[i] <= eff / 2, who, ": padding ", p,
                      " should be at most half of the (effective) kernel size ", k);
  }
  if (nd == 1) {  // the 2-d problem with H = 1
    k.insert(k.begin(), 1);
    s.insert(s.begin(), 1);
    p.insert(p.begin(), 0);
    d.insert(d.begin(), 1);
  }
  PoolGeom g;
  g.H = nd == 1 ? 1 : x.size(-2);
  g.W = x.size(-1);
  g.planes = x.numel() / std::max<int64_t>(1, g.H * g.W);
  if (g.H * g.W == 0) g.planes = 0;
  g.kh = k[0];
  g.kw = k[1];
  g.sh = s[0];
  g.sw = s[1];
  g.ph = p[0];
  g.pw = p[1];
  g.dh = d[0];
  g.dw = d[1];
  g.OH = pool_out_size(g.H, g.kh, g.sh, g.ph, g.dh, ceil_mode);
  g.OW = pool_out_size(g.W, g.kw, g.sw, g.pw, g.dw, ceil_mode);
  EMBER_CHECK_SHAPE(g.OH > 0 && g.OW > 0, who, ": input of shape ", x.shape(),
                    " is too small for kernel_size ", kernel.values, " (output size ",
                    nd == 1 ? std::vector<int64_t>{g.OW} : std::vector<int64_t>{g.OH, g.OW}, ")");
  return g;
}

template <class T>
Shape pooled_shape(const Tensor<T>& x, std::size_t nd, const PoolGeom& g) {
  Shape s = x.shape();
  s.back() = g.OW;
  if (nd == 2) s[s.size() - 2] = g.OH;
  return s;
}

// The general sweep for one max-pool output: the first maximum in window order wins, and the first
// NaN wins over everything (PyTorch). at = -1 when the window holds no input element.
template <class T>
void max_window(const T* plane, const PoolGeom& g, int64_t oh, int64_t ow, T& best, int64_t& at) {
  best = -std::numeric_limits<T>::infinity();
  at = -1;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t ih = oh * g.sh - g.ph + i * g.dh;
    if (ih < 0 || ih >= g.H) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t iw = ow * g.sw - g.pw + j * g.dw;
      if (iw < 0 || iw >= g.W) continue;
      const T v = plane[ih * g.W + iw];
      if (at < 0 || v > best || std::isnan(v)) {  // NaN wins, like PyTorch
        best = v;
        at = ih * g.W + iw;
        if (std::isnan(v)) break;
      }
    }
    if (at >= 0 && std::isnan(best)) break;
  }
}

// The fast paths apply: floating point, no padding, no dilation, plane offsets fit in int32.
template <class T>
bool pool_fast_ok(const PoolGeom& g) {
  return std::is_floating_point_v<T> && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 &&
         g.H * g.W <= std::numeric_limits<int32_t>::max();
}

// Outputs whose window lies entirely inside [0, in) (no padding): the rest are ceil_mode's.
inline int64_t full_windows(int64_t in, int64_t k, int64_t s, int64_t out) {
  return in < k ? 0 : std::min(out, (in - k) / s + 1);
}

// The fast max pool runs in two branch-free passes that GCC and Clang vectorise: the maximum
// (NaN if any tap is NaN), then the argmax as the first tap that equals it (or is NaN). This is
// the general path's rule: the first maximum wins, and the first NaN wins over everything.
template <class T>
inline T max_nan(T m, T v) {
  return ((v > m) | (v != v)) ? v : m;
}
template <class T>
inline int32_t is_argmax(T v, T m) {
  return (v == m) | (v != v);
}

// Max pool of the full windows of output row oh (owf of them), no padding or dilation; at: where
// the argmax goes, or null when no backward needs it.
template <class T>
void max_row_fast(const T* plane, const PoolGeom& g, int64_t oh, int64_t owf, T* __restrict y,
                  int32_t* __restrict at) {
  const int64_t ih0 = oh * g.sh;
  const int64_t W = g.W;
  if (g.kh == 2 && g.kw == 2 && g.sw == 2) {
    const T* __restrict r0 = plane + ih0 * W;
    const T* __restrict r1 = r0 + W;
    const auto base = static_cast<int32_t>(ih0 * W);
    const auto w = static_cast<int32_t>(W);
    if (at == nullptr) {
      for (int64_t ow = 0; ow < owf; ++ow) {
        y[ow] = max_nan(max_nan(max_nan(r0[2 * ow], r0[2 * ow + 1]), r1[2 * ow]), r1[2 * ow + 1]);
      }
      return;
    }
    for (int64_t ow = 0; ow < owf; ++ow) {
      const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      const T m = max_nan(max_nan(max_nan(a, b), c), d);
      // The first of a, b, c, d that is the maximum, without branches (also in the scalar tail):
      // a ? 0 : b ? 1 : c ? w : w + 1.
      const int32_t na = 1 - is_argmax(a, m), nb = 1 - is_argmax(b, m);
      const int32_t nc = 1 - is_argmax(c, m);
      const int32_t off = na * (1 - nb + nb * (w + nc));
      y[ow] = m;
      at[ow] = base + 2 * static_cast<int32_t>(ow) + off;
    }
    return;
  }
  const int64_t sw = g.sw;
  const T* row0 = plane + ih0 * W;
  for (int64_t ow = 0; ow < owf; ++ow) y[ow] = row0[ow * sw];
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = (i == 0 ? 1 : 0); j < g.kw; ++j) {
      const T* __restrict r = plane + (ih0 + i) * W + j;
      for (int64_t ow = 0; ow < owf; ++ow) y[ow] = max_nan(y[ow], r[ow * sw]);
    }
  }
  if (at == nullptr) return;
  // Taps from last to first, so that the first tap that is the maximum has the last word.
  for (int64_t t = g.kh * g.kw - 1; t >= 0; --t) {
    const int64_t i = t / g.kw, j = t % g.kw;
    const T* __restrict r = plane + (ih0 + i) * W + j;
    const auto base = static_cast<int32_t>((ih0 + i) * W + j);
    const auto step = static_cast<int32_t>(sw);
    if (t == g.kh * g.kw - 1) {
      for (int64_t ow = 0; ow < owf; ++ow) at[ow] = base + static_cast<int32_t>(ow) * step;
    } else {
      for (int64_t ow = 0; ow < owf; ++ow) {
        at[ow] = is_argmax(r[ow * sw], y[ow]) ? base + static_cast<int32_t>(ow) * step : at[ow];
      }
    }
  }
}

// Where a max pool keeps each output's argmax (flat offset within its plane): int32 on the fast
// path, int64 on the general one; -1 for an empty window.
struct PoolArgmax {
  std::unique_ptr<int32_t[]> i32;  // not zero-filled: the forward writes every entry
  std::vector<int64_t> i64;
};

// The 2x2 stride 2 pool of float or double: a dispatched kernel (kernels/pool.hpp) does its full
// windows, several rows per call.
template <class T>
bool pool_2x2_kernel_ok(const PoolGeom& g) {
  return (std::is_same_v<T, float> || std::is_same_v<T, double>)&&g.kh == 2 && g.kw == 2 &&
         g.sh == 2 && g.sw == 2;
}

// Scatters the output gradient to the argmax positions, plane by plane in output order.
template <class T, class I>
void max_pool_scatter(const PoolGeom& g, const T* pg, const I* pi, T* px) {
  const int64_t per_plane = g.OH * g.OW;
  for_each_plane(g.planes, [&](int64_t p) {
    T* plane = px + p * g.H * g.W;
    const I* idx = pi + p * per_plane;
    const T* gp = pg + p * per_plane;
    for (int64_t o = 0; o < per_plane; ++o) {
      if (idx[o] >= 0) plane[idx[o]] += gp[o];
    }
  });
}

// The backward of the 2x2 stride 2 kernel when its windows tile the planes (H = 2 OH, W = 2 OW):
// writes all of px, the values max_pool_scatter adds to a zeroed buffer.
template <class T>
void max_pool2x2_backward_planes(const PoolGeom& g, const T* pg, const int32_t* pi, T* px) {
  const int64_t per_plane = g.OH * g.OW;
  for_each_plane(g.planes, [&](int64_t p) {
    kernels::max_pool2x2_backward<T>(static_cast<std::size_t>(g.OH), static_cast<std::size_t>(g.OW),
                                     pg + p * per_plane, pi + p * per_plane,
                                     static_cast<std::size_t>(g.OW), px + p * g.H * g.W,
                                     static_cast<std::size_t>(g.W));
  });
}

// Applies ReLU to one plane's pooled outputs (with_relu below): v < 0 becomes 0, NaN and -0.0
// stay (ReLU's rule); where v <= 0 (ReLU's gradient is zero) the argmax becomes -1, which both
// backward paths skip, so no tap gets a gradient.
template <class T, class I>
void relu_pooled(int64_t n, T* y, I* at) {
  if (at != nullptr) {  // branch-free loops: vectorised
    for (int64_t o = 0; o < n; ++o) at[o] = y[o] <= T(0) ? I(-1) : at[o];
  }
  for (int64_t o = 0; o < n; ++o) y[o] = y[o] < T(0) ? T(0) : y[o];
}

// allow_fast = false forces the general path (tests compare the two). with_relu: relu(max pool),
// the same values and gradients as F::relu of the pool, in the pool's passes (nn::Sequential
// runs ReLU -> max pool so, see nn/container.hpp).
template <class T>
Tensor<T> max_pool(const std::string& who, const Tensor<T>& input, std::size_t nd,
                   const Ints& kernel, const Ints& stride, const Ints& padding,
                   const Ints& dilation, bool ceil_mode, bool allow_fast = true,
                   bool with_relu = false) {
  const PoolGeom g = pool_geom(who, input, nd, kernel, stride, padding, dilation, ceil_mode, true);
  const Tensor<T> x = input.contiguous();
  const bool fast = allow_fast && pool_fast_ok<T>(g);
  // Flat index (within its plane) of each output's maximum: the backward routes gradients there.
  // Only kept when a backward will read it.
  const bool keep_argmax = autograd::needs_grad(input);
  auto argmax = std::make_shared<PoolArgmax>();
  const auto n_out = static_cast<std::size_t>(keep_argmax ? g.planes * g.OH * g.OW : 0);
  if (fast) {
    argmax->i32.reset(new int32_t[n_out]);
  } else {
    argmax->i64.resize(n_out);
  }
  return autograd::differentiable<T>(
      autograd::needs_grad(input),
      [&] {
        Tensor<T> y = empty<T>(pooled_shape(input, nd, g));
        const T* px = x.data();
        T* py = y.data();
        if (fast) {
          const int64_t ohf = full_windows(g.H, g.kh, g.sh, g.OH);
          const int64_t owf = full_windows(g.W, g.kw, g.sw, g.OW);
          int32_t* pi = keep_argmax ? argmax->i32.get() : nullptr;
          const bool k2x2 = pool_2x2_kernel_ok<T>(g);
          // The 2x2 kernel applies the ReLU itself when it writes every output of the plane.
          const bool kernel_relu = with_relu && k2x2 && ohf == g.OH && owf == g.OW;
          for_each_plane(g.planes, [&](int64_t p) {
            const T* plane = px + p * g.H * g.W;
            if (k2x2 && ohf > 0 && owf > 0) {
              const int64_t o = p * g.OH * g.OW;
              kernels::max_pool2x2<T>(static_cast<std::size_t>(ohf), static_cast<std::size_t>(owf),
                                      plane, static_cast<std::size_t>(g.W), py + o,
                                      static_cast<std::size_t>(g.OW), pi ? pi + o : nullptr,
                                      kernel_relu);
            }
            for (int64_t oh = 0; oh < g.OH; ++oh) {
              const int64_t o = (p * g.OH + oh) * g.OW;
              const int64_t ow0 = oh < ohf ? owf : 0;
              if (oh < ohf && !k2x2) {
                max_row_fast(plane, g, oh, owf, py + o, pi ? pi + o : nullptr);
              }
              for (int64_t ow = ow0; ow < g.OW; ++ow) {  // ceil_mode's partial windows
                int64_t at = -1;
                max_window(plane, g, oh, ow, py[o + ow], at);
                if (pi) pi[o + ow] = static_cast<int32_t>(at);
              }
            }
            if (with_relu && !kernel_relu) {
              const int64_t o = p * g.OH * g.OW;
              relu_pooled(g.OH * g.OW, py + o, pi ? pi + o : nullptr);
            }
          });
        } else {
          int64_t* pi = keep_argmax ? argmax->i64.data() : nullptr;
          for_each_plane(g.planes, [&](int64_t p) {
            const T* plane = px + p * g.H * g.W;
            for (int64_t oh = 0; oh < g.OH; ++oh) {
              for (int64_t ow = 0; ow < g.OW; ++ow) {
                const int64_t o = (p * g.OH + oh) * g.OW + ow;
                int64_t at = -1;
                max_window(plane, g, oh, ow, py[o], at);
                if (pi) pi[o] = at;
              }
            }
            if (with_relu) {
              const int64_t o = p * g.OH * g.OW;
              relu_pooled(g.OH * g.OW, py + o, pi ? pi + o : nullptr);
            }
          });
        }
        return y;
      },
      [&](Tensor<T>& out) {
        autograd::record(
            out, nd == 1 ? "MaxPool1DBackward" : "MaxPool2DBackward", {input},
            [g, argmax, fast, shape = input.shape()](const Tensor<T>& grad) {
              const Tensor<T> gy = grad.contiguous();
              // Windows that tile the whole plane: the kernel writes every element.
              if (fast && pool_2x2_kernel_ok<T>(g) && g.H == 2 * g.OH && g.W == 2 * g.OW) {
                Tensor<T> gx = empty<T>(shape);
                max_pool2x2_backward_planes(g, gy.data(), argmax->i32.get(), gx.data());
                return std::vector<Tensor<T>>{gx};
              }
              Tensor<T> gx = zeros<T>(shape);
              if (fast) {
                max_pool_scatter(g, gy.data(), argmax->i32.get(), gx.data());
              } else {
                max_pool_scatter(g, gy.data(), argmax->i64.data(), gx.data());
              }
              return std::vector<Tensor<T>>{gx};
            });
      });
}

// Window [start, end) of an average pool along one dim, and its divisor part.
struct AvgSpan {
  int64_t lo, hi, padded;
};
inline AvgSpan avg_span(int64_t o, int64_t s, int64_t p, int64_t k, int64_t in) {
  int64_t lo = o * s - p;
  int64_t hi = std::min(lo + k, in + p);
  const int64_t padded = hi - lo;
  lo = std::max<int64_t>(lo, 0);
  hi = std::min(hi, in);
  return {lo, hi, padded};
}

// Average pool (window sums in tap order, starting from 0) of the full windows of output row oh:
// no padding, so the divisor is kh * kw.
template <class T>
void avg_row_fast(const T* plane, const PoolGeom& g, int64_t oh, int64_t owf, T* __restrict y) {
  const int64_t ih0 = oh * g.sh;
  const int64_t W = g.W;
  const auto count = static_cast<T>(g.kh * g.kw);
  if (g.kh == 2 && g.kw == 2 && g.sw == 2) {
    const T* __restrict r0 = plane + ih0 * W;
    const T* __restrict r1 = r0 + W;
    for (int64_t ow = 0; ow < owf; ++ow) {
      T acc = 0;
      acc += r0[2 * ow];
      acc += r0[2 * ow + 1];
      acc += r1[2 * ow];
      acc += r1[2 * ow + 1];
      y[ow] = acc / count;
    }
    return;
  }
  const int64_t sw = g.sw;
  for (int64_t ow = 0; ow < owf; ++ow) y[ow] = T(0);
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const T* __restrict r = plane + (ih0 + i) * W + j;
      for (int64_t ow = 0; ow < owf; ++ow) y[ow] += r[ow * sw];
    }
  }
  for (int64_t ow = 0; ow < owf; ++ow) y[ow] /= count;
}

// Backward of avg_row_fast for non-overlapping windows (kh <= sh, kw <= sw): each input element
// gets at most one contribution, added to the zeroed gradient like the general path does.
template <class T>
void avg_row_fast_backward(T* plane, const PoolGeom& g, int64_t oh, int64_t owf,
                           const T* __restrict gy) {
  const int64_t ih0 = oh * g.sh;
  const auto count = static_cast<T>(g.kh * g.kw);
  const int64_t sw = g.sw;
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      T* __restrict r = plane + (ih0 + i) * g.W + j;
      for (int64_t ow = 0; ow < owf; ++ow) r[ow * sw] += gy[ow] / count;
    }
  }
}

// allow_fast = false forces the general path (tests compare the two).
template <class T>
Tensor<T> avg_pool(const std::string& who, const Tensor<T>& input, std::size_t nd,
                   const Ints& kernel, const Ints& stride, const Ints& padding, bool ceil_mode,
                   bool count_include_pad, bool allow_fast = true) {
  const PoolGeom g = pool_geom(who, input, nd, kernel, stride, padding, Ints(1), ceil_mode, false);
  const Tensor<T> x = input.contiguous();
  const bool fast = allow_fast && pool_fast_ok<T>(g);
  const bool fast_backward = fast && g.kh <= g.sh && g.kw <= g.sw;
  // The full windows the fast paths handle (rows [0, ohf), columns [0, owf)); none otherwise.
  const int64_t ohf = fast ? full_windows(g.H, g.kh, g.sh, g.OH) : 0;
  const int64_t owf = fast ? full_windows(g.W, g.kw, g.sw, g.OW) : 0;
  // Visits each output's window: fn(output index, plane offset of row ih, lo/hi of iw, 1/divisor).
  // skip_full: leave out the full windows (the fast path did them).
  auto sweep = [g, count_include_pad, ohf, owf](int64_t p, bool skip_full, auto&& fn) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const AvgSpan h = avg_span(oh, g.sh, g.ph, g.kh, g.H);
      for (int64_t ow = (skip_full && oh < ohf) ? owf : 0; ow < g.OW; ++ow) {
        const AvgSpan w = avg_span(ow, g.sw, g.pw, g.kw, g.W);
        const int64_t count =
            count_include_pad ? h.padded * w.padded : (h.hi - h.lo) * (w.hi - w.lo);
        fn((p * g.OH + oh) * g.OW + ow, h, w, count);
      }
    }
  };
  return autograd::differentiable<T>(
      autograd::needs_grad(input),
      [&] {
        Tensor<T> y = empty<T>(pooled_shape(input, nd, g));
        const T* px = x.data();
        T* py = y.data();
        for_each_plane(g.planes, [&](int64_t p) {
          const T* plane = px + p * g.H * g.W;
          if (fast) {
            for (int64_t oh = 0; oh < ohf; ++oh) {
              avg_row_fast(plane, g, oh, owf, py + (p * g.OH + oh) * g.OW);
            }
          }
          sweep(p, fast, [&](int64_t o, const AvgSpan& h, const AvgSpan& w, int64_t count) {
            T acc = 0;
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              for (int64_t iw = w.lo; iw < w.hi; ++iw) acc += plane[ih * g.W + iw];
            }
            py[o] = count > 0 ? acc / static_cast<T>(count) : T(0);
          });
        });
        return y;
      },
      [&](Tensor<T>& out) {
        autograd::record(
            out, nd == 1 ? "AvgPool1DBackward" : "AvgPool2DBackward", {input},
            [g, sweep, fast_backward, ohf, owf, shape = input.shape()](const Tensor<T>& grad) {
              const Tensor<T> gy = grad.contiguous();
              Tensor<T> gx = zeros<T>(shape);
              const T* pg = gy.data();
              T* px = gx.data();
              for_each_plane(g.planes, [&](int64_t p) {
                T* plane = px + p * g.H * g.W;
                if (fast_backward) {
                  for (int64_t oh = 0; oh < ohf; ++oh) {
                    avg_row_fast_backward(plane, g, oh, owf, pg + (p * g.OH + oh) * g.OW);
                  }
                }
                sweep(p, fast_backward,
                      [&](int64_t o, const AvgSpan& h, const AvgSpan& w, int64_t count) {
                        if (count <= 0) return;
                        const T v = pg[o] / static_cast<T>(count);
                        for (int64_t ih = h.lo; ih < h.hi; ++ih) {
                          for (int64_t iw = w.lo; iw < w.hi; ++iw) plane[ih * g.W + iw] += v;
                        }
                      });
              });
              return std::vector<Tensor<T>>{gx};
            });
      });
}

}  // namespace detail

// max_pool2d(input [N, C, H, W] or [C, H, W]); stride defaults to kernel_size.
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& input, const Ints& kernel_size,
                     const Ints& stride = std::vector<int64_t>{}, const Ints& padding = 0,
                     const Ints& dilation = 1, bool ceil_mode = false,
                     const std::string& who = "max_pool2d") {
  return detail::max_pool(who, input, 2, kernel_size, stride, padding, dilation, ceil_mode);
}

// max_pool1d(input [N, C, L] or [C, L]); stride defaults to kernel_size.
template <class T>
Tensor<T> max_pool1d(const Tensor<T>& input, const Ints& kernel_size,
                     const Ints& stride = std::vector<int64_t>{}, const Ints& padding = 0,
                     const Ints& dilation = 1, bool ceil_mode = false,
                     const std::string& who = "max_pool1d") {
  return detail::max_pool(who, input, 1, kernel_size, stride, padding, dilation, ceil_mode);
}

// avg_pool2d(input [N, C, H, W] or [C, H, W]); stride defaults to kernel_size.
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& input, const Ints& kernel_size,
                     const Ints& stride = std::vector<int64_t>{}, const Ints& padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true,
                     const std::string& who = "avg_pool2d") {
  return detail::avg_pool(who, input, 2, kernel_size, stride, padding, ceil_mode,
                          count_include_pad);
}

// avg_pool1d(input [N, C, L] or [C, L]); stride defaults to kernel_size.
template <class T>
Tensor<T> avg_pool1d(const Tensor<T>& input, const Ints& kernel_size,
                     const Ints& stride = std::vector<int64_t>{}, const Ints& padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true,
                     const std::string& who = "avg_pool1d") {
  return detail::avg_pool(who, input, 1, kernel_size, stride, padding, ceil_mode,
                          count_include_pad);
}

// adaptive_avg_pool2d(input [N, C, H, W] or [C, H, W], output_size [OH, OW]): output cell i
// averages input rows [floor(i * H / OH), ceil((i + 1) * H / OH)), likewise for columns.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& input, const Ints& output_size,
                              const std::string& who = "adaptive_avg_pool2d") {
  EMBER_CHECK_SHAPE(input.defined() && (input.dim() == 3 || input.dim() == 4), who,
                    ": expected a 3-d or 4-d input [N, C, H, W], got ",
                    input.defined() ? input.shape() : Shape{});
  const std::vector<int64_t> os = output_size.expand(2, who, "output_size");
  detail::check_positive(os, who, "output_size");
  const int64_t H = input.size(-2), W = input.size(-1), OH = os[0], OW = os[1];
  EMBER_CHECK_SHAPE(H > 0 && W > 0, who, ": expected non-empty spatial dims, got input ",
                    input.shape());
  const int64_t planes = input.numel() / (H * W);
  Shape out_shape = input.shape();
  out_shape[out_shape.size() - 2] = OH;
  out_shape.back() = OW;
  const Tensor<T> x = input.contiguous();
  auto sweep = [=](int64_t p, auto&& fn) {
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        fn((p * OH + oh) * OW + ow, h0, h1, w0, w1);
      }
    }
  };
  return autograd::differentiable<T>(
      autograd::needs_grad(input),
      [&] {
        Tensor<T> y = empty<T>(out_shape);
        const T* px = x.data();
        T* py = y.data();
        detail::for_each_plane(planes, [&](int64_t p) {
          const T* plane = px + p * H * W;
          sweep(p, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
            T acc = 0;
            for (int64_t ih = h0; ih < h1; ++ih) {
              for (int64_t iw = w0; iw < w1; ++iw) acc += plane[ih * W + iw];
            }
            py[o] = acc / static_cast<T>((h1 - h0) * (w1 - w0));
          });
        });
        return y;
      },
      [&](Tensor<T>& out) {
        autograd::record(out, "AdaptiveAvgPool2DBackward", {input},
                         [planes, H, W, sweep, shape = input.shape()](const Tensor<T>& grad) {
                           const Tensor<T> gy = grad.contiguous();
                           Tensor<T> gx = zeros<T>(shape);
                           const T* pg = gy.data();
                           T* px = gx.data();
                           detail::for_each_plane(planes, [&](int64_t p) {
                             T* plane = px + p * H * W;
                             sweep(p,
                                   [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                                     const T v = pg[o] / static_cast<T>((h1 - h0) * (w1 - w0));
                                     for (int64_t ih = h0; ih < h1; ++ih) {
                                       for (int64_t iw = w0; iw < w1; ++iw) plane[ih * W + iw] += v;
                                     }
                                   });
                           });
                           return std::vector<Tensor<T>>{gx};
                         });
      });
}

}  // namespace ember::F
