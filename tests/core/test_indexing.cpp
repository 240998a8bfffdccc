#include <doctest/doctest.h>

#include <string>

#include "check.hpp"
#include "ember/core/tensor.hpp"
#include "refs_indexing.hpp"

using ember::Tensor;

namespace {

template <class T>
void run_indexing_case(const ember_refs::RefCase& c) {
  const std::string op = c.op;
  if (op == "matmul") return;  // test_matmul.cpp
  const std::string what = op + " with params " + ember::detail::concat(c.params);
  const auto x = ember_refs::to_tensor<T>(c.inputs[0]);
  auto check = [&](const auto& got) { ember_test::check_ref(got, c.outputs[0], 0, 0, what); };
  auto index = [&](std::size_t i) { return ember_refs::to_tensor<int64_t>(c.inputs[i]); };
  const int64_t p0 = c.params.empty() ? 0 : c.params[0];
  if (op == "gather") return check(x.gather(p0, index(1)));
  if (op == "scatter") return check(x.scatter(p0, index(1), ember_refs::to_tensor<T>(c.inputs[2])));
  if (op == "scatter_add") {
    // Sums: float rounds each addition, the reference rounds once.
    return ember_test::check_ref(x.scatter_add(p0, index(1), ember_refs::to_tensor<T>(c.inputs[2])),
                                 c.outputs[0], 1e-6, 1e-6, what);
  }
  if (op == "index_select") return check(x.index_select(p0, index(1)));
  if (op == "tril") return check(x.tril(p0));
  if (op == "triu") return check(x.triu(p0));
  if (op == "masked_fill")
    return check(x.masked_fill(ember_refs::to_tensor<T>(c.inputs[1]), T(p0)));
  if (op == "slice") return check(x.slice(p0, c.params[1], c.params[2], c.params[3]));
  if (op == "select") return check(x.select(p0, c.params[1]));
  const auto y = ember_refs::to_tensor<T>(c.inputs[1]);
  if (op == "cat") return check(ember::cat<T>({x, y}, p0));
  if (op == "stack") return check(ember::stack<T>({x, y}, p0));
  FAIL("unknown op " << op);
}

}  // namespace

TEST_CASE_TEMPLATE("indexing ops match PyTorch (generated reference values)", T, float, double,
                   int64_t) {
  for (const auto& c : ember_refs::indexing_cases()) {
    // int64 inputs: only the ops whose reference inputs are integral.
    if constexpr (std::is_same_v<T, int64_t>) {
      if (std::string(c.op) != "tril" && std::string(c.op) != "select") continue;
      bool integral = true;
      for (double v : c.inputs[0].data) integral = integral && v == static_cast<double>(int64_t(v));
      if (!integral) continue;
    }
    run_indexing_case<T>(c);
  }
}

TEST_CASE("int64 tensors: indexing ops on integer data") {
  const auto x = ember::arange<int64_t>(12).view({3, 4});
  ember_test::check_values(x.tril(), {3, 4}, {0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0}, 0, 0, "tril");
  ember_test::check_values(x.index_select(1, ember::tensor<int64_t>({3, -4})), {3, 2},
                           {3, 0, 7, 4, 11, 8}, 0, 0, "index_select with a negative index");
  ember_test::check_values(x.gather(1, ember::tensor<int64_t>({{0}, {2}, {3}})), {3, 1}, {0, 6, 11},
                           0, 0, "gather");
}

TEST_CASE("split and chunk return views that cover the tensor") {
  const auto x = ember::arange<float>(10.f).view({2, 5});
  const auto parts = x.split(2, 1);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].shape() == ember::Shape{2, 2});
  CHECK(parts[2].shape() == ember::Shape{2, 1});
  CHECK(parts[1].shares_storage_with(x));
  ember_test::check_values(parts[1], {2, 2}, {2, 3, 7, 8}, 0, 0, "split piece");
  const auto sized = x.split(std::vector<int64_t>{1, 4}, 1);
  ember_test::check_values(sized[1], {2, 4}, {1, 2, 3, 4, 6, 7, 8, 9}, 0, 0, "split sizes");
  const auto ch = ember::chunk(x, 3, 1);  // 5 / 3 -> chunks of 2, 2, 1
  REQUIRE(ch.size() == 3);
  CHECK(ch[2].shape() == ember::Shape{2, 1});
  CHECK(ember::equal(ember::cat(ch, 1), x));
}

TEST_CASE("one_hot") {
  const auto l = ember::tensor<int64_t>({{0, 2}, {1, 0}});
  ember_test::check_values(ember::one_hot(l), {2, 2, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0}, 0, 0,
                           "inferred classes");
  CHECK(ember::one_hot(l, 5).shape() == ember::Shape{2, 2, 5});
  CHECK_THROWS_WITH_AS(ember::one_hot(l, 2), "one_hot: class value 2 is out of range for 2 classes",
                       ember::index_error);
}

TEST_CASE("masked_fill_ works in place through a broadcast mask and bumps the version") {
  auto x = ember::zeros<double>({2, 3});
  const auto mask = ember::tensor<int64_t>({1, 0, 1});
  const auto v = x.version();
  x.masked_fill_(mask, 9.0);
  CHECK(x.version() == v + 1);
  ember_test::check_values(x, {2, 3}, {9, 0, 9, 9, 0, 9}, 0, 0, "masked_fill_");
}

TEST_CASE("index errors name the op and the offending values") {
  const auto x = ember::zeros<float>({3, 4});
  CHECK_THROWS_WITH_AS(x.gather(1, ember::tensor<int64_t>({{4}})),
                       "gather: index 4 is out of range for dimension 1 of size 4",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(x.gather(1, ember::tensor<int64_t>({-1})),
                       "gather: index tensor must have the same number of dimensions as the input "
                       "(index [1], input [3, 4])",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(x.index_select(0, ember::tensor<int64_t>({3})),
                       "index_select: index 3 is out of range for dimension 0 of size 3",
                       ember::index_error);
  auto y = x.clone();
  CHECK_THROWS_WITH_AS(y.scatter_(0, ember::tensor<int64_t>({{0, 5}}), ember::ones<float>({1, 2})),
                       "scatter_: index 5 is out of range for dimension 0 of size 3",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(ember::cat<float>({x, ember::zeros<float>({2, 3})}, 0),
                       "cat: sizes of tensors must match except in dimension 0; tensor 1 has shape "
                       "[2, 3] but tensor 0 has shape [3, 4]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::stack<float>({x, x.t()}),
                       "stack: expects each tensor to be equal size, but got [3, 4] at entry 0 and "
                       "[4, 3] at entry 1",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(x.masked_fill(ember::ones<float>({2, 3, 4}), 1.f),
                       "masked_fill_: mask of shape [2, 3, 4] cannot be broadcast to the input "
                       "shape [3, 4]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(x.split(std::vector<int64_t>{1, 1}, 0),
                       "split: split sizes [1, 1] sum to 2 but dimension 0 has size 3",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::zeros<float>({3}).tril(),
                       "tril: input tensor must have at least 2 dimensions, got shape [3]",
                       ember::shape_error);
}
