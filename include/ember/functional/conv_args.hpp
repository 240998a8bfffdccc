// ember: the argument types of the convolution and pooling functions (stride, padding, ...), and
// their validation. An Ints is one value for every spatial dim or one per dim, like PyTorch's
// ExpandingArray: F::conv2d(x, w, b, /*stride=*/2) or F::conv2d(x, w, b, {2, 1}).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/error.hpp"

namespace ember::F {

struct Ints {
  std::vector<int64_t> values;
  Ints(int64_t v) : values{v} {}  // NOLINT(google-explicit-constructor): PyTorch-style shorthand
  Ints(std::initializer_list<int64_t> v) : values(v) {}
  Ints(std::vector<int64_t> v) : values(std::move(v)) {}  // NOLINT

  // The values for `n` spatial dims; `what` names the argument in the error.
  std::vector<int64_t> expand(std::size_t n, const std::string& who, const char* what) const {
    EMBER_CHECK_VALUE(values.size() == 1 || values.size() == n, who, ": ", what, " must have 1 or ",
                      n, " values, got ", values);
    return values.size() == 1 ? std::vector<int64_t>(n, values[0]) : values;
  }
};

// Convolution padding: numbers, or "same" (output as large as the input, stride 1 only) or
// "valid" (no padding).
struct ConvPadding {
  Ints values = 0;
  std::string mode;  // empty for explicit values
  // A template so that a literal 0 is a number, not a null const char*.
  template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
  ConvPadding(I v) : values(static_cast<int64_t>(v)) {}  // NOLINT
  ConvPadding(std::initializer_list<int64_t> v) : values(v) {}
  ConvPadding(std::vector<int64_t> v) : values(std::move(v)) {}  // NOLINT
  ConvPadding(const char* m) : mode(m) {}                        // NOLINT
  ConvPadding(std::string m) : mode(std::move(m)) {}             // NOLINT
};

namespace detail {

inline void check_positive(const std::vector<int64_t>& v, const std::string& who, const char* what) {
  for (int64_t x : v) {
    EMBER_CHECK_VALUE(x > 0, who, ": ", what, " must be positive, got ", v);
  }
}

inline void check_non_negative(const std::vector<int64_t>& v, const std::string& who,
                               const char* what) {
  for (int64_t x : v) {
    EMBER_CHECK_VALUE(x >= 0, who, ": ", what, " must be non-negative, got ", v);
  }
}

}  // namespace detail
}  // namespace ember::F
