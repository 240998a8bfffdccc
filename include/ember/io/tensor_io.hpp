// ember::io: Tensor <-> safetensors entries. Values are converted to the requested element type
// from F64, F32 or I64 entries (little-endian, as the format stores them; ember targets
// little-endian machines only).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/io/safetensors.hpp"

namespace ember::io {

template <class T>
constexpr Dtype dtype_of() noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return Dtype::F32;
  } else if constexpr (std::is_same_v<T, double>) {
    return Dtype::F64;
  } else {
    static_assert(std::is_same_v<T, int64_t>, "ember tensors are float, double or int64");
    return Dtype::I64;
  }
}

namespace detail {
template <class S, class T>
void convert_into(const std::uint8_t* src, T* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    S v;
    std::memcpy(&v, src + i * sizeof(S), sizeof(S));  // the view is only byte-aligned
    dst[i] = static_cast<T>(v);
  }
}
}  // namespace detail

// A new contiguous Tensor<T> holding the entry's values. `what` names the entry in errors.
template <class T>
Tensor<T> to_tensor(const TensorView& view, const std::string& what = "tensor") {
  Tensor<T> out(Shape(view.shape.begin(), view.shape.end()));
  const auto n = static_cast<std::size_t>(view.numel());
  switch (view.dtype) {
    case Dtype::F32:
      detail::convert_into<float>(view.data, out.data(), n);
      break;
    case Dtype::F64:
      detail::convert_into<double>(view.data, out.data(), n);
      break;
    case Dtype::I64:
      detail::convert_into<int64_t>(view.data, out.data(), n);
      break;
    default:
      fail(error_kind::type, "to_tensor: ", what, " has dtype ", dtype_name(view.dtype),
           "; expected F32, F64 or I64");
  }
  return out;
}

// Adds t (any layout) as an entry of its own element type.
template <class T>
void add_tensor(SafetensorsWriter& writer, const std::string& name, const Tensor<T>& t) {
  const Tensor<T> c = t.contiguous();
  writer.add(name, dtype_of<T>(), std::vector<std::int64_t>(c.shape().begin(), c.shape().end()),
             c.data(), static_cast<std::size_t>(c.numel()) * sizeof(T));
}

}  // namespace ember::io
