// ember::optim: how the fused update loops run. Each optimizer's update is one pass over a
// parameter and its state (read everything once, write once, no temporaries). The pass is split
// across threads in contiguous chunks (every element is independent, so results do not depend on
// the thread count); each chunk runs the update on xsimd batches of the including translation
// unit's architecture, then on scalars for the tail. The same generic kernel body serves both:
//   run_update<T>(n, [&](auto v, int64_t i) { using V = decltype(v); ... load<V>(p + i) ... });
// Why not plain loops: std::sqrt sets errno, which keeps g++ and clang from vectorising them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/parallel.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::optim::detail {

#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
template <class T>
using Batch = T;  // no SIMD on this target: scalars only
#else
template <class T>
using Batch = xsimd::batch<T>;
#endif

template <class V>
inline constexpr bool is_scalar_v = std::is_floating_point_v<V>;

template <class V, class T>
V load(const T* p) {
  if constexpr (is_scalar_v<V>) {
    return *p;
  } else {
    return V::load_unaligned(p);
  }
}
template <class V, class T>
void store(T* p, const V& v) {
  if constexpr (is_scalar_v<V>) {
    *p = v;
  } else {
    v.store_unaligned(p);
  }
}
template <class V>
V vsqrt(const V& x) {
  if constexpr (is_scalar_v<V>) {
    return std::sqrt(x);
  } else {
    return xsimd::sqrt(x);
  }
}
template <class V>
V vmax(const V& a, const V& b) {
  if constexpr (is_scalar_v<V>) {
    return std::max(a, b);
  } else {
    return xsimd::max(a, b);
  }
}
template <class V>
V vabs(const V& x) {
  if constexpr (is_scalar_v<V>) {
    return std::abs(x);
  } else {
    return xsimd::abs(x);
  }
}
// -1, 0 or 1 (0 for zero and NaN), like torch.sign.
template <class V>
V vsign(const V& x) {
  if constexpr (is_scalar_v<V>) {
    return V(x > V(0)) - V(x < V(0));
  } else {
    using T = typename V::value_type;
    return xsimd::select(x > V(T(0)), V(T(1)), V(T(0))) -
           xsimd::select(x < V(T(0)), V(T(1)), V(T(0)));
  }
}

// Below this many elements a parameter is updated by the calling thread alone.
inline constexpr std::size_t update_grain = std::size_t{1} << 16;

// Calls kernel(Batch<T>{}, i) for full batches and kernel(T{}, i) for the tail of every chunk.
template <class T, class K>
void run_update(int64_t n, K&& kernel) {
  ember::parallel_for(0, static_cast<std::size_t>(n), update_grain,
                      [&](std::size_t ulo, std::size_t uhi) {
                        auto i = static_cast<int64_t>(ulo);
                        const auto hi = static_cast<int64_t>(uhi);
                        if constexpr (!is_scalar_v<Batch<T>>) {
                          constexpr auto w = static_cast<int64_t>(Batch<T>::size);
                          for (; i + w <= hi; i += w) kernel(Batch<T>(T(0)), i);
                        }
                        for (; i < hi; ++i) kernel(T(0), i);
                      });
}

}  // namespace ember::optim::detail
