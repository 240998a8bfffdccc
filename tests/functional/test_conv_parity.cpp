// conv1d / conv2d / conv_transpose2d against PyTorch (fixtures from tools/gen_conv_refs.py):
// outputs and gradients with respect to input, weight and bias, in float and double.
#include <doctest/doctest.h>

#include "conv_fixtures.hpp"
#include "ember/functional/conv.hpp"

namespace F = ember::F;
using ember::Tensor;

TEST_CASE_TEMPLATE("conv ops match PyTorch", T, float, double) {
  const auto f = ember::io::SafetensorsFile::open(conv_fixtures::path("conv.safetensors"));
  using Fn = std::function<Tensor<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&)>;
  const std::vector<std::pair<std::string, Fn>> cases = {
      {"conv2d_plain", [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b); }},
      {"conv2d_stride2_pad1", [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b, 2, 1); }},
      {"conv2d_same_even",
       [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b, 1, "same"); }},
      {"conv2d_dil2_groups2",
       [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b, 1, 2, 2, 2); }},
      {"conv2d_depthwise",
       [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b, {2, 1}, 1, 1, 3); }},
      {"conv2d_1x1", [](auto& x, auto& w, auto& b) { return F::conv2d(x, w, b); }},
      {"conv1d_stride2_pad1", [](auto& x, auto& w, auto& b) { return F::conv1d(x, w, b, 2, 1); }},
      {"conv1d_same_dil2_groups3",
       [](auto& x, auto& w, auto& b) { return F::conv1d(x, w, b, 1, "same", 2, 3); }},
      {"conv_transpose2d_plain",
       [](auto& x, auto& w, auto& b) { return F::conv_transpose2d(x, w, b); }},
      {"conv_transpose2d_s2_p1_op1",
       [](auto& x, auto& w, auto& b) { return F::conv_transpose2d(x, w, b, 2, 1, 1); }},
      {"conv_transpose2d_groups2_dil2",
       [](auto& x, auto& w, auto& b) { return F::conv_transpose2d(x, w, b, 1, 1, 0, 2, 2); }},
  };
  for (const auto& [name, fn] : cases) conv_fixtures::check_case<T>(f, name, fn);
}
