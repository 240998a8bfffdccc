// ember: shapes, strides and broadcasting rules (PyTorch semantics, signed int64 sizes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ember/error.hpp"

namespace ember {

// Sizes and strides are signed like PyTorch's, so -1 can mean "infer" and dims can wrap.
using Shape = std::vector<int64_t>;

namespace detail {

inline int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Row-major strides of a dense tensor (size-1 dims get the stride they would have if they grew).
inline Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t acc = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    st[i] = acc;
    acc *= shape[i] > 1 ? shape[i] : 1;
  }
  return st;
}

// Whether shape/strides describe a dense row-major block (size-1 dims may have any stride).
inline bool is_contiguous_layout(const Shape& shape, const Shape& strides) {
  int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

// Wraps a possibly negative dim into [0, ndim); ndim 0 accepts dims -1 and 0 like PyTorch.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = ndim > 0 ? ndim : 1;
  EMBER_CHECK_INDEX(dim >= -n && dim < n, op, ": dimension ", dim, " is out of range for a ", ndim,
                    "-d tensor (expected a dim in [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

// Sorted, wrapped, duplicate-free list of dims; empty input means every dim.
inline std::vector<int64_t> wrap_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                      const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(static_cast<std::size_t>(ndim > 0 ? ndim : 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    EMBER_CHECK_VALUE(!seen[static_cast<std::size_t>(w)], op, ": dimension ", d,
                      " appears more than once in ", dims);
    seen[static_cast<std::size_t>(w)] = true;
  }
  for (int64_t d = 0; d < static_cast<int64_t>(seen.size()); ++d) {
    if (seen[static_cast<std::size_t>(d)] && d < ndim) out.push_back(d);
  }
  return out;
}

inline void check_sizes_nonnegative(const Shape& shape, const char* op) {
  for (int64_t s : shape) {
    EMBER_CHECK_VALUE(s >= 0, op, ": negative dimension ", s, " in shape ", shape);
  }
}

// Resolves one -1 in a requested shape for a tensor of numel elements (view/reshape).
inline Shape infer_size(const Shape& requested, int64_t numel, const char* op) {
  Shape out = requested;
  int64_t known = 1;
  int64_t infer_at = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK_SHAPE(infer_at < 0, op, ": only one dimension can be inferred, got ", requested);
      infer_at = static_cast<int64_t>(i);
    } else {
      EMBER_CHECK_VALUE(out[i] >= 0, op, ": invalid size ", out[i], " in shape ", requested);
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    EMBER_CHECK_SHAPE(known != 0 && numel % known == 0, op, ": shape ", requested,
                      " is invalid for input of size ", numel);
    out[static_cast<std::size_t>(infer_at)] = numel / known;
  } else {
    EMBER_CHECK_SHAPE(known == numel, op, ": shape ", requested, " is invalid for input of size ",
                      numel);
  }
  return out;
}

// NumPy broadcasting: align trailing dims; each pair must match or contain a 1.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    EMBER_CHECK_SHAPE(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                      " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides that read a tensor of (shape, strides) as if it had shape `to` (0 on broadcast dims).
// The caller has checked that shape broadcasts to `to`.
inline Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to) {
  Shape out(to.size(), 0);
  const std::size_t lead = to.size() - shape.size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out[lead + i] = shape[i] == 1 ? 0 : strides[i];
  }
  return out;
}

}  // namespace detail
}  // namespace ember
