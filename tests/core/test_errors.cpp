// The error texts users see: the op, then the offending values.
#include <doctest/doctest.h>

#include "ember/core/tensor.hpp"

using ember::Shape;

TEST_CASE("shape mismatches throw shape_error naming both shapes") {
  const auto a = ember::zeros<float>({2, 3});
  const auto b = ember::zeros<float>({4});
  CHECK_THROWS_WITH_AS(
      a + b, "add: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(
      ember::where(ember::zeros<float>({5}), a, a),
      "where: shapes [5] and [2, 3] cannot be broadcast together (dimension 1: 5 vs 3)",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(a.view({4, 2}), "view: shape [4, 2] is invalid for input of size 6",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(a.reshape({-1, -1}),
                       "reshape: only one dimension can be inferred, got [-1, -1]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(a.view({-1, 4}), "view: shape [-1, 4] is invalid for input of size 6",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(a.permute({0}), "permute: 1 dims given for a 2-d tensor (dims [0])",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::zeros<float>({2, 2, 2}).t(),
                       "t: expects a tensor with <= 2 dimensions, got 3 (shape [2, 2, 2]); use "
                       "transpose(dim0, dim1)",
                       ember::shape_error);
  auto c = a.clone();
  CHECK_THROWS_WITH_AS(
      c.copy_(ember::zeros<float>({3, 3})),
      "copy_: shapes [2, 3] and [3, 3] cannot be broadcast together (dimension 0: 2 vs 3)",
      ember::shape_error);
}

TEST_CASE("index and dim errors throw index_error with the index and the valid range") {
  const auto a = ember::zeros<float>({3, 5});
  CHECK_THROWS_WITH_AS(a.select(1, 7), "select: index 7 is out of range for dimension 1 of size 5",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(a.select(0, -4),
                       "select: index -4 is out of range for dimension 0 of size 3",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(
      a.sum({2}), "sum: dimension 2 is out of range for a 2-d tensor (expected a dim in [-2, 1])",
      ember::index_error);
  CHECK_THROWS_WITH_AS(
      a.transpose(0, -3),
      "transpose: dimension -3 is out of range for a 2-d tensor (expected a dim in "
      "[-2, 1])",
      ember::index_error);
  CHECK_THROWS_WITH_AS(a(3, 0), "at: index 3 is out of range for dimension 0 of size 3",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(a(0), "at: 1 indices given for a 2-d tensor of shape [3, 5]",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(a.narrow(1, 3, 4),
                       "narrow: start 3 + length 4 exceeds dimension 1 of size 5",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(a.max(2),
                       "max: dimension 2 is out of range for a 2-d tensor (expected a "
                       "dim in [-2, 1])",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(ember::zeros<float>({0}).argmax(0),
                       "argmax: cannot take the max over dimension 0 of size 0 (input shape [0])",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(ember::from_blob<float>(nullptr, {2}), "from_blob: null data for shape [2]",
                       ember::value_error);
}

TEST_CASE("value errors: bad arguments name the op and the value") {
  const auto a = ember::zeros<float>({3, 5});
  CHECK_THROWS_WITH_AS(a.slice(0, 0, 3, 0), "slice: step must be positive, got 0",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(a.sum({1, -1}), "sum: dimension -1 appears more than once in [1, -1]",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(
      a.item(), "item: a tensor with 15 elements cannot be converted to a scalar (shape [3, 5])",
      ember::value_error);
  CHECK_THROWS_WITH_AS(a.clamp(1.f, 0.f), "clamp: min 1 is greater than max 0", ember::value_error);
  CHECK_THROWS_WITH_AS(ember::zeros<float>({-1, 2}),
                       "empty: negative dimension -1 in shape [-1, 2]", ember::value_error);
  CHECK_THROWS_WITH_AS(a.chunk(0), "chunk: number of chunks must be positive, got 0",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(a.flatten(1, 0), "flatten: start_dim 1 comes after end_dim 0",
                       ember::value_error);
}

TEST_CASE("a view that would reach outside its storage is rejected") {
  const auto a = ember::zeros<float>({4});
  CHECK_THROWS_WITH_AS(a.as_strided({3}, {2}, 0),
                       "Tensor: shape [3] with strides [2] and offset 0 reaches outside a storage "
                       "of 4 elements",
                       ember::index_error);
}
