// ember::io: the element types of the file formats, named as safetensors names them.
//
// The file readers work on raw bytes plus a dtype and a shape, so they do not depend on Tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ember::io {

enum class Dtype : std::uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

inline constexpr Dtype all_dtypes[] = {Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16,
                                       Dtype::I64, Dtype::I32, Dtype::I16, Dtype::I8,
                                       Dtype::U8,  Dtype::BOOL};

// Bytes per element.
constexpr std::size_t dtype_size(Dtype d) noexcept {
  switch (d) {
    case Dtype::F64:
    case Dtype::I64:
      return 8;
    case Dtype::F32:
    case Dtype::I32:
      return 4;
    case Dtype::F16:
    case Dtype::BF16:
    case Dtype::I16:
      return 2;
    case Dtype::I8:
    case Dtype::U8:
    case Dtype::BOOL:
      return 1;
  }
  return 0;
}

// The safetensors spelling: "F32", "BF16", "BOOL", ...
constexpr const char* dtype_name(Dtype d) noexcept {
  switch (d) {
    case Dtype::F64:
      return "F64";
    case Dtype::F32:
      return "F32";
    case Dtype::F16:
      return "F16";
    case Dtype::BF16:
      return "BF16";
    case Dtype::I64:
      return "I64";
    case Dtype::I32:
      return "I32";
    case Dtype::I16:
      return "I16";
    case Dtype::I8:
      return "I8";
    case Dtype::U8:
      return "U8";
    case Dtype::BOOL:
      return "BOOL";
  }
  return "?";
}

// Parses a safetensors dtype name; false when the name is not one of ours.
inline bool dtype_from_name(std::string_view name, Dtype& out) noexcept {
  for (Dtype d : all_dtypes) {
    if (name == dtype_name(d)) {
      out = d;
      return true;
    }
  }
  return false;
}

}  // namespace ember::io
