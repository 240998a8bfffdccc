#include <doctest/doctest.h>

#include "check.hpp"
#include "ember/core/tensor.hpp"

using ember::Shape;
using ember::Tensor;

TEST_CASE("views share storage; writes through a view are seen by the base") {
  auto x = ember::arange<float>(24.f).view({2, 3, 4});
  const auto v = x.view({6, 4});
  CHECK(v.shares_storage_with(x));
  CHECK(x.view({-1, 8}).shape() == Shape{3, 8});
  v(5, 3) = 100.f;
  CHECK(x(1, 2, 3) == 100.f);
  x.permute({2, 0, 1})(1, 0, 2) = -1.f;
  CHECK(x(0, 2, 1) == -1.f);
  x[1][0][0].fill_(7.f);  // t[i] is a view (select), so fill_ writes into x
  CHECK(x.at({1, 0, 0}) == 7.f);
  CHECK(x(-1, -3, -4) == 7.f);
}

TEST_CASE("view fails when the strides do not allow it; reshape copies then") {
  const auto x = ember::arange<double>(12.0).view({3, 4});
  const auto t = x.t();
  CHECK_THROWS_WITH_AS(t.view({12}),
                       "view: shape [12] is not compatible with the input's size [4, 3] and "
                       "strides [1, 4] (at least one dimension spans two contiguous subspaces); "
                       "use reshape()",
                       ember::shape_error);
  const auto r = t.reshape({12});
  CHECK_FALSE(r.shares_storage_with(x));
  ember_test::check_values(r, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, 0, 0, "reshape copy");
  // A view is still possible when the split dims stay within one contiguous block.
  const auto s = x.slice(1, 0, 4, 2);  // [3, 2], strides [4, 2]
  CHECK(s.view({3, 2, 1}).shares_storage_with(x));
  CHECK(t.view({2, 2, 3}).shares_storage_with(x));  // splitting the first dim of a transpose
  CHECK(x.reshape({2, 6}).shares_storage_with(x));
}

TEST_CASE("flatten, squeeze and unsqueeze") {
  const auto x = ember::zeros<float>({2, 1, 3, 1});
  CHECK(x.flatten().shape() == Shape{6});
  CHECK(x.flatten(1, 2).shape() == Shape{2, 3, 1});
  CHECK(x.squeeze().shape() == Shape{2, 3});
  CHECK(x.squeeze(1).shape() == Shape{2, 3, 1});
  CHECK(x.squeeze(0).shape() == Shape{2, 1, 3, 1});  // size 2: unchanged
  CHECK(x.squeeze(-1).shape() == Shape{2, 1, 3});
  CHECK(x.unsqueeze(0).shape() == Shape{1, 2, 1, 3, 1});
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 1, 3, 1, 1});
  CHECK(ember::scalar_tensor<float>(1).flatten().shape() == Shape{1});
  CHECK(ember::scalar_tensor<float>(1).unsqueeze(0).shape() == Shape{1});
}

TEST_CASE("permute, transpose and t") {
  const auto x = ember::arange<int64_t>(24).view({2, 3, 4});
  const auto p = x.permute({2, 0, -2});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Shape{1, 12, 4});
  CHECK(p(3, 1, 2) == x(1, 2, 3));
  CHECK(x.transpose(0, -1).shape() == Shape{4, 3, 2});
  const auto m = ember::arange<int64_t>(6).view({2, 3});
  CHECK(m.t()(2, 1) == 5);
  CHECK(ember::arange<int64_t>(3).t().shape() == Shape{3});
}

TEST_CASE("slice, narrow and select with negative indices and steps") {
  const auto x = ember::arange<int64_t>(10);
  ember_test::check_values(x.slice(0, -3, 10), {3}, {7, 8, 9}, 0, 0, "x[-3:]");
  ember_test::check_values(x.slice(0, 1, -1, 3), {3}, {1, 4, 7}, 0, 0, "x[1:-1:3]");
  ember_test::check_values(x.slice(0, -100, 100, 4), {3}, {0, 4, 8}, 0, 0, "clamped bounds");
  CHECK(x.slice(0, 5, 2).numel() == 0);
  ember_test::check_values(x.narrow(0, -4, 2), {2}, {6, 7}, 0, 0, "narrow negative start");
  const auto m = ember::arange<int64_t>(12).view({3, 4});
  ember_test::check_values(m.select(1, -1), {3}, {3, 7, 11}, 0, 0, "select(1, -1)");
  ember_test::check_values(m.slice(1, 0, 4, 2).slice(0, -2, 3), {2, 2}, {4, 6, 8, 10}, 0, 0,
                           "slice of a slice");
  CHECK(m.slice(1, 0, 4, 2).storage_offset() == 0);
  CHECK(m.select(0, 2).storage_offset() == 8);
}

TEST_CASE("expand and broadcast_to make stride-0 views") {
  const auto b = ember::tensor<float>({1.f, 2.f, 3.f});
  const auto e = b.expand({4, 3});
  CHECK(e.strides() == Shape{0, 1});
  CHECK(e.shares_storage_with(b));
  CHECK(e(3, 2) == 3.f);
  CHECK(b.view({3, 1}).expand({-1, 2}).shape() == Shape{3, 2});
  CHECK(ember::equal(b.broadcast_to({2, 3}).contiguous(),
                     ember::tensor<float>({{1.f, 2.f, 3.f}, {1.f, 2.f, 3.f}})));
  CHECK_THROWS_WITH_AS(
      b.expand({2, 4}),
      "expand: cannot expand [3] to [2, 4] (dimension 1: size 3 must match 4 or be 1)",
      ember::shape_error);
  CHECK_THROWS_WITH_AS(b.expand({}),
                       "expand: the number of sizes provided (0) must be at least the number of "
                       "dimensions (1); cannot expand [3] to []",
                       ember::shape_error);
}

TEST_CASE("contiguous, clone, to, item and copy_") {
  const auto x = ember::arange<float>(6.f).view({2, 3});
  CHECK(x.contiguous().data() == x.data());  // already contiguous: same memory
  const auto t = x.t();
  const auto c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK_FALSE(c.shares_storage_with(x));
  CHECK(ember::equal(c, t));
  auto k = x.clone();
  k(0, 0) = 42.f;
  CHECK(x(0, 0) == 0.f);
  const auto as_int = ember::tensor<double>({1.9, -2.5}).to<int64_t>();
  ember_test::check_values(as_int, {2}, {1, -2}, 0, 0, "to<int64_t> truncates");
  CHECK(ember::scalar_tensor<double>(2.5).item() == 2.5);
  CHECK(x.select(0, 1).select(0, 2).item() == 5.f);
  auto dst = ember::zeros<float>({3, 2});
  const auto v0 = dst.version();
  dst.copy_(t);
  CHECK(ember::equal(dst, t));
  CHECK(dst.version() == v0 + 1);
  dst.t().copy_(ember::tensor<float>({7.f, 8.f, 9.f}));  // broadcast, through a view
  CHECK(dst(2, 1) == 9.f);
  CHECK(dst(2, 0) == 9.f);
}

TEST_CASE("property: a chain of views and its contiguous copy agree element by element") {
  const auto base = ember::randn<float>({5, 6, 7});
  const auto v =
      base.permute({1, 2, 0}).slice(1, 1, 7, 2).select(2, -2).unsqueeze(1).expand({6, 4, 3});
  const auto c = v.contiguous();
  REQUIRE(c.is_contiguous());
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      for (int64_t k = 0; k < 3; ++k) {
        CHECK(v(i, j, k) == c(i, j, k));
        CHECK(v(i, j, k) == base(3, i, 1 + 2 * k));
      }
    }
  }
  CHECK(ember::equal(v + 1.f, c + 1.f));
}

TEST_CASE("handle semantics and the autograd slot") {
  auto a = ember::ones<float>({2});
  auto b = a;  // a copy of the handle, not of the data
  b(0) = 5.f;
  CHECK(a(0) == 5.f);
  CHECK(a.autograd_meta() == nullptr);
  CHECK(Tensor<float>().defined() == false);
  CHECK_THROWS_WITH_AS(Tensor<float>().sum(), "sum: called on an undefined tensor",
                       ember::runtime_error);
}
