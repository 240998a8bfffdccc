#include <doctest/doctest.h>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "check.hpp"
#include "ember/core/tensor.hpp"
#include "ember/core/xtensor_interop.hpp"

TEST_CASE("to_xtensor is a view onto the tensor's memory, any strides") {
  auto t = ember::arange<float>(6.f).view({2, 3});
  auto x = ember::to_xtensor(t);
  REQUIRE(x.dimension() == 2);
  CHECK(x.shape()[0] == 2);
  CHECK(x.shape()[1] == 3);
  CHECK(x(1, 2) == 5.f);
  x(0, 1) = 42.f;  // writes land in the tensor
  CHECK(t(0, 1) == 42.f);
  CHECK(&x(0, 0) == t.data());
  const auto tt = t.t();
  auto xt_view = ember::to_xtensor(tt);
  CHECK(xt_view(1, 0) == 42.f);
  CHECK(xt_view(2, 1) == 5.f);
  const auto sliced = ember::arange<double>(10.0).slice(0, 1, 10, 3);  // 1, 4, 7
  auto xs = ember::to_xtensor(sliced);
  CHECK(xs(2) == 7.0);
  CHECK(xt::sum(xs)() == 12.0);
}

TEST_CASE("from_xtensor evaluates any xtensor expression into a new tensor") {
  const xt::xarray<double> a = {{1.0, 2.0}, {3.0, 4.0}};
  const auto t = ember::from_xtensor(a * 2.0 + xt::ones<double>({2}));
  static_assert(std::is_same_v<decltype(t), const ember::Tensor<double>>);
  ember_test::check_values(t, {2, 2}, {3, 5, 7, 9}, 0, 0, "expression");
  const xt::xtensor<float, 1> v = xt::arange<float>(4);
  ember_test::check_values(ember::from_xtensor(v), {4}, {0, 1, 2, 3}, 0, 0, "xtensor<float, 1>");
  // Round trip through both directions.
  const auto back = ember::from_xtensor(ember::to_xtensor(t.t()));
  CHECK(ember::equal(back, t.t()));
}

TEST_CASE("from_xtensor_view wraps an xtensor container without copying") {
  xt::xarray<float> a = {{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
  auto t = ember::from_xtensor_view(a);
  CHECK(t.data() == a.data());
  CHECK(t.shape() == ember::Shape{2, 3});
  t.mul_(2.f);
  CHECK(a(1, 2) == 12.f);
  xt::xarray<float> col = xt::xarray<float>::from_shape({2, 1});  // xtensor strides: [1, 0]
  col(0, 0) = 1.f;
  col(1, 0) = 2.f;
  CHECK(ember::from_xtensor_view(col).sum().item() == 3.f);
}
