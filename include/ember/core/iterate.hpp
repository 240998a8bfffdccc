// ember: the strided loop under every elementwise op, reduction and copy. Operands are described
// by per-dim strides over one iteration shape (0 on broadcast dims). Dims of size 1 are dropped
// and adjacent dims that are dense for every operand are merged, so a contiguous tensor becomes
// one long row and a bias broadcast becomes rows x cols. The caller's row function then sees
// (element offsets of each operand at the row start, row length) and picks a kernel by the inner
// strides. Nothing here allocates per element.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ember/core/shape.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::detail {

template <std::size_t N>
struct StridedPlan {
  Shape sizes;                   // coalesced sizes, innermost last; empty means one element
  std::array<Shape, N> strides;  // per operand, same length as sizes
  int64_t inner = 1;             // length of one row (sizes.back())
  std::array<int64_t, N> inner_stride{};
  int64_t rows = 1;  // number of rows (product of the outer sizes)
  int64_t numel = 1;
};

template <std::size_t N>
StridedPlan<N> make_plan(const Shape& shape, const std::array<Shape, N>& strides) {
  StridedPlan<N> p;
  p.numel = numel_of(shape);
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !p.sizes.empty();
    for (std::size_t k = 0; k < N && merge; ++k) {
      merge = p.strides[k].back() == strides[k][d] * shape[d];
    }
    if (merge) {
      p.sizes.back() *= shape[d];
      for (std::size_t k = 0; k < N; ++k) p.strides[k].back() = strides[k][d];
    } else {
      p.sizes.push_back(shape[d]);
      for (std::size_t k = 0; k < N; ++k) p.strides[k].push_back(strides[k][d]);
    }
  }
  if (!p.sizes.empty()) {
    p.inner = p.sizes.back();
    for (std::size_t k = 0; k < N; ++k) p.inner_stride[k] = p.strides[k].back();
  }
  p.rows = p.inner > 0 ? p.numel / p.inner : 0;
  return p;
}

// Calls fn(offsets, n) for rows [row_begin, row_end); offsets[k] is operand k's element offset
// at the row start.
template <std::size_t N, class F>
void for_each_row(const StridedPlan<N>& p, int64_t row_begin, int64_t row_end, F&& fn) {
  if (row_begin >= row_end) return;
  const std::size_t outer = p.sizes.empty() ? 0 : p.sizes.size() - 1;
  // The odometer lives on the stack up to 16 outer dims (reductions call this once per output
  // element); deeper tensors fall back to one heap buffer per call.
  int64_t small[16] = {};
  std::vector<int64_t> big(outer > 16 ? outer : 0, 0);
  int64_t* idx = outer > 16 ? big.data() : small;
  std::array<int64_t, N> off{};
  int64_t r = row_begin;
  for (std::size_t d = outer; d-- > 0;) {
    idx[d] = r % p.sizes[d];
    r /= p.sizes[d];
    for (std::size_t k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    fn(off, p.inner);
    for (std::size_t d = outer; d-- > 0;) {
      for (std::size_t k = 0; k < N; ++k) off[k] += p.strides[k][d];
      if (++idx[d] < p.sizes[d]) break;
      for (std::size_t k = 0; k < N; ++k) off[k] -= p.strides[k][d] * p.sizes[d];
      idx[d] = 0;
    }
  }
}

// Elements below which threading does not pay for an elementwise pass.
inline constexpr int64_t elementwise_grain = 1 << 15;

// parallel_for with the chunk callback's type erased: one indirect call per chunk, and one
// OpenMP region for all of core instead of one per op (a large share of compile time).
using ChunkFn = void (*)(void* ctx, std::size_t lo, std::size_t hi);

inline void parallel_chunks_erased(std::size_t begin, std::size_t end, std::size_t grain,
                                   ChunkFn fn, void* ctx) {
  parallel_for(begin, end, grain, [=](std::size_t lo, std::size_t hi) { fn(ctx, lo, hi); });
}

template <class F>
void parallel_chunks(std::size_t begin, std::size_t end, std::size_t grain, F&& fn) {
  using Fn = std::remove_reference_t<F>;
  parallel_chunks_erased(
      begin, end, grain,
      [](void* ctx, std::size_t lo, std::size_t hi) { (*static_cast<Fn*>(ctx))(lo, hi); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// The row callback with its type erased: one indirect call per row (never per element), so the
// loop and threading machinery below is compiled once per operand count instead of once per op,
// which keeps translation units that use many ops fast to compile.
template <std::size_t N>
using RowFn = void (*)(void* ctx, const std::array<int64_t, N>& off, int64_t n);

template <std::size_t N>
void parallel_rows_erased(const StridedPlan<N>& p, RowFn<N> fn, void* ctx) {
  if (p.numel == 0) return;
  if (p.rows == 1 && p.inner > 2 * elementwise_grain) {
    parallel_chunks(0, static_cast<std::size_t>(p.inner),
                    static_cast<std::size_t>(elementwise_grain),
                    [&](std::size_t lo, std::size_t hi) {
                      std::array<int64_t, N> off{};
                      for (std::size_t k = 0; k < N; ++k) {
                        off[k] = static_cast<int64_t>(lo) * p.inner_stride[k];
                      }
                      fn(ctx, off, static_cast<int64_t>(hi - lo));
                    });
    return;
  }
  const int64_t grain_rows = p.inner >= elementwise_grain ? 1 : elementwise_grain / p.inner;
  parallel_chunks(0, static_cast<std::size_t>(p.rows), static_cast<std::size_t>(grain_rows),
                  [&](std::size_t lo, std::size_t hi) {
                    for_each_row(
                        p, static_cast<int64_t>(lo), static_cast<int64_t>(hi),
                        [&](const std::array<int64_t, N>& off, int64_t n) { fn(ctx, off, n); });
                  });
}

// Runs fn(offsets, n) over every row, in parallel chunks of rows when the tensor is large. A
// single long row (a contiguous tensor) is split into chunks of the row, each reported as its
// own row.
template <std::size_t N, class F>
void parallel_rows(const StridedPlan<N>& p, F&& fn) {
  using Fn = std::remove_reference_t<F>;
  parallel_rows_erased<N>(
      p,
      [](void* ctx, const std::array<int64_t, N>& off, int64_t n) {
        (*static_cast<Fn*>(ctx))(off, n);
      },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

}  // namespace ember::detail
