// ember: making tensors: empty, zeros, ones, full, arange, linspace, eye, *_like, from_blob and
// nested initializer lists (ember::tensor<float>({{1, 2}, {3, 4}})).
#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>

#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"

namespace ember {

template <class T>
Tensor<T> empty(const Shape& shape) {
  return Tensor<T>(shape);
}

template <class T>
Tensor<T> full(const Shape& shape, T value) {
  Tensor<T> t(shape);
  std::fill_n(t.data(), static_cast<std::size_t>(t.numel()), value);
  return t;
}

template <class T>
Tensor<T> zeros(const Shape& shape) {
  return full<T>(shape, T(0));
}

template <class T>
Tensor<T> ones(const Shape& shape) {
  return full<T>(shape, T(1));
}

template <class T>
Tensor<T> empty_like(const Tensor<T>& t) {
  return empty<T>(t.shape());
}
template <class T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape());
}
template <class T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape());
}
template <class T>
Tensor<T> full_like(const Tensor<T>& t, T value) {
  return full<T>(t.shape(), value);
}

// Values start, start + step, ... below end (above end for a negative step).
template <class T>
Tensor<T> arange(T start, T end, T step = T(1)) {
  EMBER_CHECK_VALUE(step != T(0), "arange: step must be nonzero");
  EMBER_CHECK_VALUE((step > T(0) && end >= start) || (step < T(0) && end <= start),
                    "arange: upper bound ", end, " and lower bound ", start,
                    " are inconsistent with step sign ", step);
  const double n = std::ceil((static_cast<double>(end) - static_cast<double>(start)) /
                             static_cast<double>(step));
  Tensor<T> t({static_cast<int64_t>(n)});
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return t;
}

template <class T>
Tensor<T> arange(T end) {
  return arange<T>(T(0), end, T(1));
}

// steps values evenly spaced from start to end inclusive.
template <class T>
Tensor<T> linspace(T start, T end, int64_t steps) {
  EMBER_CHECK_VALUE(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  Tensor<T> t({steps});
  const double step = steps > 1 ? (static_cast<double>(end) - static_cast<double>(start)) /
                                      static_cast<double>(steps - 1)
                                : 0.0;
  // The second half counts back from end (as PyTorch does) so end is hit exactly.
  const int64_t half = steps == 1 ? 1 : steps / 2;
  for (int64_t i = 0; i < steps; ++i) {
    t.data()[i] =
        i < half
            ? static_cast<T>(static_cast<double>(start) + step * static_cast<double>(i))
            : static_cast<T>(static_cast<double>(end) - step * static_cast<double>(steps - 1 - i));
  }
  return t;
}

template <class T>
Tensor<T> eye(int64_t n, int64_t m = -1) {
  if (m < 0) m = n;
  EMBER_CHECK_VALUE(n >= 0, "eye: n must be non-negative, got ", n);
  Tensor<T> t = zeros<T>({n, m});
  for (int64_t i = 0; i < std::min(n, m); ++i) t.data()[i * m + i] = T(1);
  return t;
}

// A tensor over memory the caller owns and keeps alive: no copy, never freed by ember.
// Strides default to row-major.
template <class T>
Tensor<T> from_blob(T* data, const Shape& shape, const Shape& strides = {}) {
  EMBER_CHECK_VALUE(data != nullptr || detail::numel_of(shape) == 0,
                    "from_blob: null data for shape ", shape);
  detail::check_sizes_nonnegative(shape, "from_blob");
  const Shape st = strides.empty() ? detail::contiguous_strides(shape) : strides;
  EMBER_CHECK_SHAPE(st.size() == shape.size(), "from_blob: shape ", shape, " and strides ", st,
                    " have different lengths");
  int64_t extent = detail::numel_of(shape) > 0 ? 1 : 0;
  for (std::size_t i = 0; i < shape.size() && extent > 0; ++i) {
    EMBER_CHECK_VALUE(st[i] >= 0, "from_blob: negative stride ", st[i], " in ", st);
    extent += (shape[i] - 1) * st[i];
  }
  auto storage = std::make_shared<detail::Storage<T>>(data, static_cast<std::size_t>(extent), true);
  return Tensor<T>(std::move(storage), shape, st, 0);
}

// ---- nested initializer lists ------------------------------------------------------------------

namespace detail {

template <class T, class L>
void nested_shape(const L& list, Shape& shape, std::size_t depth) {
  if (shape.size() <= depth) shape.push_back(static_cast<int64_t>(list.size()));
  EMBER_CHECK_VALUE(shape[depth] == static_cast<int64_t>(list.size()),
                    "tensor: ragged nested list: expected ", shape[depth], " elements at depth ",
                    depth, ", got ", list.size());
  if constexpr (!std::is_arithmetic_v<typename L::value_type>) {
    for (const auto& sub : list) nested_shape<T>(sub, shape, depth + 1);
  }
}

template <class T, class L>
void nested_fill(const L& list, T*& out) {
  for (const auto& e : list) {
    if constexpr (std::is_arithmetic_v<typename L::value_type>) {
      *out++ = static_cast<T>(e);
    } else {
      nested_fill<T>(e, out);
    }
  }
}

template <class T, class L>
Tensor<T> from_nested(const L& list) {
  Shape shape;
  nested_shape<T>(list, shape, 0);
  // An empty inner list leaves deeper depths unseen; they have size 0 implicitly.
  Tensor<T> t(shape);
  T* p = t.data();
  nested_fill<T>(list, p);
  return t;
}

}  // namespace detail

template <class T>
using init_list1 = std::initializer_list<T>;
template <class T>
using init_list2 = std::initializer_list<init_list1<T>>;
template <class T>
using init_list3 = std::initializer_list<init_list2<T>>;
template <class T>
using init_list4 = std::initializer_list<init_list3<T>>;

// A 0-d tensor holding one value.
template <class T>
Tensor<T> scalar_tensor(T value) {
  Tensor<T> t(Shape{});
  *t.data() = value;
  return t;
}

template <class T>
Tensor<T> tensor(init_list1<T> values) {
  return detail::from_nested<T>(values);
}
template <class T>
Tensor<T> tensor(init_list2<T> values) {
  return detail::from_nested<T>(values);
}
template <class T>
Tensor<T> tensor(init_list3<T> values) {
  return detail::from_nested<T>(values);
}
template <class T>
Tensor<T> tensor(init_list4<T> values) {
  return detail::from_nested<T>(values);
}
// A 1-d tensor copied from a vector.
template <class T>
Tensor<T> tensor(const std::vector<T>& values, const Shape& shape = {}) {
  const Shape sh = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  EMBER_CHECK_SHAPE(detail::numel_of(sh) == static_cast<int64_t>(values.size()),
                    "tensor: ", values.size(), " values do not fill shape ", sh);
  Tensor<T> t(sh);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

}  // namespace ember
