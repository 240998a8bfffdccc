// ember: zero-copy interop with xtensor, the one place of ember/core that includes xtensor (0.24
// flat include paths; newer xtensor moved them into subfolders: change them here only).
//   to_xtensor(t)        an xt::adapt view onto t's memory (any strides); writes go to t.
//   from_xtensor(expr)   a new tensor holding any xtensor expression's values (evaluated once).
//   from_xtensor_view(c) a tensor over an xtensor container's memory, no copy (like from_blob).
#pragma once

#include <cstddef>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xnoalias.hpp>

#include "ember/core/creation.hpp"
#include "ember/core/tensor_base.hpp"

namespace ember {

template <class T>
auto to_xtensor(const Tensor<T>& t) {
  t.check_defined("to_xtensor");
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<std::ptrdiff_t> strides(t.strides().begin(), t.strides().end());
  // xtensor insists the buffer size equals the element count; with gaps between elements (a
  // slice with a step) the strides, not the size, say where each element is.
  const auto n = static_cast<std::size_t>(t.numel());
  return xt::adapt(t.data(), n, xt::no_ownership(), std::move(shape), std::move(strides));
}

template <class E>
auto from_xtensor(const xt::xexpression<E>& expr) {
  using T = std::decay_t<typename E::value_type>;
  const E& e = expr.derived_cast();
  const Shape shape(e.shape().begin(), e.shape().end());
  Tensor<T> t(shape);
  auto view = to_xtensor(t);
  xt::noalias(view) = e;
  return t;
}

// The container must outlive the tensor (and not be resized).
template <class C>
auto from_xtensor_view(C& container) {
  using T = std::decay_t<typename C::value_type>;
  const Shape shape(container.shape().begin(), container.shape().end());
  Shape strides(container.strides().begin(), container.strides().end());
  // xtensor gives size-1 dims stride 0; any value is valid there, so use the dense one.
  const Shape dense = detail::contiguous_strides(shape);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) strides[i] = dense[i];
  }
  return from_blob<T>(container.data(), shape, strides);
}

}  // namespace ember
