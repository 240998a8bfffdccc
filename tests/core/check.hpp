// Shared assertions for the core tests: compare a tensor with reference values.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ref_case.hpp"

namespace ember_test {

// Shape equal and every value within atol + rtol * |expected| (NaN matches NaN).
template <class T>
void check_values(const ember::Tensor<T>& got, const std::vector<int64_t>& shape,
                  const std::vector<double>& want, double rtol, double atol,
                  const std::string& what) {
  INFO(what);
  REQUIRE(got.shape() == shape);
  const ember::Tensor<T> c = got.contiguous();
  REQUIRE(static_cast<std::size_t>(c.numel()) == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto g = static_cast<double>(c.data()[i]);
    // Exact comparisons are against the reference rounded to T (float inputs are rounded too).
    const double w = static_cast<double>(static_cast<T>(want[i]));
    INFO("element " << i << ": got " << g << ", want " << w);
    if (std::isnan(w)) {
      CHECK(std::isnan(g));
    } else if (std::isinf(w) || (rtol == 0 && atol == 0)) {
      CHECK(g == w);
    } else {
      CHECK(std::fabs(g - w) <= atol + rtol * std::fabs(w));
    }
  }
}

template <class T>
void check_ref(const ember::Tensor<T>& got, const ember_refs::RefArray& want, double rtol,
               double atol, const std::string& what) {
  check_values(got, want.shape, want.data, rtol, atol, what);
}

}  // namespace ember_test
