// Pooling ops against PyTorch (fixtures from tools/gen_conv_refs.py): outputs and input
// gradients, in float and double.
#include <doctest/doctest.h>

#include "conv_fixtures.hpp"
#include "ember/functional/pooling.hpp"

namespace F = ember::F;
using ember::Tensor;

TEST_CASE_TEMPLATE("pooling ops match PyTorch", T, float, double) {
  const auto f = ember::io::SafetensorsFile::open(conv_fixtures::path("pool.safetensors"));
  using Fn = std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&)>;
  const std::vector<std::pair<std::string, Fn>> cases = {
      {"max_pool2d_2", [](auto& x, auto&, auto&) { return F::max_pool2d(x, 2); }},
      {"max_pool2d_3_s2_p1_ceil",
       [](auto& x, auto&, auto&) { return F::max_pool2d(x, 3, 2, 1, 1, true); }},
      {"max_pool2d_dil2", [](auto& x, auto&, auto&) { return F::max_pool2d(x, {2, 3}, 1, 1, 2); }},
      {"max_pool1d_3_s2_p1", [](auto& x, auto&, auto&) { return F::max_pool1d(x, 3, 2, 1); }},
      {"avg_pool2d_3_s2_p1", [](auto& x, auto&, auto&) { return F::avg_pool2d(x, 3, 2, 1); }},
      {"avg_pool2d_3_s2_p1_ceil_nopad",
       [](auto& x, auto&, auto&) { return F::avg_pool2d(x, 3, 2, 1, true, false); }},
      {"avg_pool1d_4_s3_p2_ceil",
       [](auto& x, auto&, auto&) { return F::avg_pool1d(x, 4, 3, 2, true); }},
      {"adaptive_avg_pool2d_3x2",
       [](auto& x, auto&, auto&) { return F::adaptive_avg_pool2d(x, {3, 2}); }},
      {"adaptive_avg_pool2d_5x4_up",
       [](auto& x, auto&, auto&) { return F::adaptive_avg_pool2d(x, {5, 4}); }},
  };
  for (const auto& [name, fn] : cases) conv_fixtures::check_case<T>(f, name, fn);
}
