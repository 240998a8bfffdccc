#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "ember/core/tensor.hpp"

using ember::Shape;
using ember::Tensor;

namespace {

// Shape against std::vector<int64_t> after the same sequence of operations.
void check_same(const Shape& s, const std::vector<int64_t>& v) {
  REQUIRE(s.size() == v.size());
  CHECK(s.empty() == v.empty());
  for (std::size_t i = 0; i < v.size(); ++i) CHECK(s[i] == v[i]);
  CHECK(s == v);
  CHECK(v == s);
  CHECK(std::vector<int64_t>(s) == v);
  CHECK(Shape(v) == s);
}

}  // namespace

TEST_CASE("Shape behaves like std::vector<int64_t> inline and past the inline capacity") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, Shape::inline_capacity,
                        Shape::inline_capacity + 1, std::size_t{40}}) {
    CAPTURE(n);
    Shape s;
    std::vector<int64_t> v;
    for (std::size_t i = 0; i < n; ++i) {
      s.push_back(static_cast<int64_t>(3 * i + 1));
      v.push_back(static_cast<int64_t>(3 * i + 1));
    }
    check_same(s, v);
    // copy, move, assignment both ways (inline <-> heap)
    Shape c = s;
    check_same(c, v);
    Shape m = std::move(c);
    check_same(m, v);
    CHECK(c.empty());  // NOLINT(bugprone-use-after-move): a moved-from Shape is empty
    Shape small{7, 8};
    small = m;
    check_same(small, v);
    Shape big(50, 2);
    big = m;
    check_same(big, v);
    big = Shape{1, 2, 3};
    check_same(big, {1, 2, 3});
    m = std::move(small);
    check_same(m, v);
    // insert / erase / resize at the front, middle and back
    s.insert(s.begin(), -1);
    v.insert(v.begin(), -1);
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2), 3, 9);
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), 3, 9);
    s.insert(s.end(), {4, 5});
    v.insert(v.end(), {4, 5});
    check_same(s, v);
    s.erase(s.begin() + 1);
    v.erase(v.begin() + 1);
    s.erase(s.begin(), s.begin() + 2);
    v.erase(v.begin(), v.begin() + 2);
    check_same(s, v);
    s.resize(s.size() + 9, 6);
    v.resize(v.size() + 9, 6);
    check_same(s, v);
    s.resize(2);
    v.resize(2);
    check_same(s, v);
    CHECK(s.front() == v.front());
    CHECK(s.back() == v.back());
    s.pop_back();
    v.pop_back();
    check_same(s, v);
  }
}

TEST_CASE("Shape constructors, comparisons and printing") {
  check_same(Shape(3), {0, 0, 0});
  check_same(Shape(2, -1), {-1, -1});
  const std::vector<std::size_t> sizes = {4, 5, 6};
  check_same(Shape(sizes.begin(), sizes.end()), {4, 5, 6});
  check_same(Shape{}, {});
  CHECK(Shape{1, 2} < Shape{1, 3});
  CHECK(Shape{1, 2} < Shape{1, 2, 0});
  CHECK(Shape{2} > Shape{1, 9});
  CHECK(Shape{1, 2} != Shape{1, 2, 3});
  CHECK(Shape{1, 2} <= Shape{1, 2});
  CHECK(ember::detail::concat("shape ", Shape{2, 3}) == "shape [2, 3]");
  // Self-insertion from its own elements.
  Shape s{1, 2, 3, 4, 5, 6};
  s.insert(s.begin() + 1, s.begin(), s.end());
  check_same(s, {1, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6});
}

TEST_CASE("tensors with more dims than Shape keeps inline") {
  const Shape big{1, 2, 1, 2, 1, 2, 1, 2};
  auto x = ember::arange<double>(16.0).view(big);
  CHECK(x.shape() == big);
  CHECK(x.strides() == Shape{16, 8, 8, 4, 4, 2, 2, 1});
  CHECK(x.sum({1, 3, 5, 7}).item() == doctest::Approx(120.0));
  CHECK(x.permute({7, 6, 5, 4, 3, 2, 1, 0}).contiguous().view({-1})(1) == 8.0);
}
