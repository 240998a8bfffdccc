// ember: the geometry of a batched, grouped 2-d convolution and the pieces every conv2d path
// shares (fixed batch chunks, GEMM scratch, bias add and bias gradient). Internal to
// functional/conv.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/im2col.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F::detail {

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

// The batch chunks' partial sums (chunks blocks of `size`, one after another) added into the
// first in chunk order, so the total does not depend on the thread count; returns it.
template <class T>
T* sum_chunks(T* partial, int64_t chunks, int64_t size) {
  for (int64_t ci = 1; ci < chunks; ++ci) {
    kernels::binary<T>(kernels::BinaryOp::add, static_cast<std::size_t>(size), partial,
                       partial + ci * size, partial);
  }
  return partial;
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

}  // namespace ember::F::detail
