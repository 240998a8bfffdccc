// Backward rules of the joining and index-driven ops (indexing.hpp, index_helpers.hpp): cat,
// stack, split, chunk, gather, scatter, scatter_add, index_select, masked_fill, where, tril, triu.
// gradcheck over shapes, negative dims and non-contiguous inputs, plus hand-computed gradients.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "grad_test.hpp"

using ember::Shape;
using ember::Tensor;
using grad_test::check_grad;
using grad_test::Inputs;
using grad_test::iota_leaf;
using grad_test::leaf;
using grad_test::values;
using Index = Tensor<int64_t>;

TEST_CASE("cat and stack: gradcheck over dims, shapes and strided inputs") {
  const Tensor<double> a = leaf({2, 3}, 1), b = leaf({4, 3}, 2), c = leaf({3, 2}, 3);
  check_grad([](const Inputs& in) { return ember::cat(in, 0); }, {a, b});
  check_grad([](const Inputs& in) { return ember::cat<double>({in[0], in[1].t()}, -1); }, {a, c});
  check_grad(
      [](const Inputs& in) {
        return ember::cat<double>({in[0], in[0].slice(1, 0, 3, 2)}, 1);
      },
      {a});
  // Only some inputs need a gradient.
  check_grad([&](const Inputs& in) { return ember::cat<double>({b.detach(), in[0]}, 0); }, {a});
  check_grad([](const Inputs& in) { return ember::stack(in, 0); }, {a, leaf({2, 3}, 4)});
  check_grad(
      [](const Inputs& in) {
        return ember::stack<double>({in[0], in[1].t()}, -1);
      },
      {a, leaf({3, 2}, 5)});
  check_grad([](const Inputs& in) { return ember::stack<double>({in[0]}, 1); }, {leaf({1, 3}, 6)});
}

TEST_CASE("cat: gradient values by hand, and the node") {
  Tensor<double> a = iota_leaf({1, 2});
  Tensor<double> b = iota_leaf({2, 2});
  const Tensor<double> y = ember::cat<double>({a, b.t()}, 0);
  CHECK(y.grad_fn()->name() == "CatBackward");
  CHECK(values(y) == std::vector<double>{0, 1, 0, 2, 1, 3});
  y.backward(ember::tensor<double>({{1, 2}, {3, 4}, {5, 6}}));
  CHECK(values(a.grad()) == std::vector<double>{1, 2});
  CHECK(values(b.grad()) == std::vector<double>{3, 5, 4, 6});  // transposed back
}

TEST_CASE("split and chunk work through narrow") {
  const Tensor<double> a = leaf({4, 6}, 7);
  check_grad(
      [](const Inputs& in) {
        const auto parts = in[0].chunk(3, -1);  // widths 2, 2, 2
        return ember::cat<double>({parts[2], parts[0]}, 1);
      },
      {a});
  check_grad(
      [](const Inputs& in) {
        const auto parts = in[0].split(std::vector<int64_t>{1, 3}, 0);
        return parts[1].mul(parts[1]);
      },
      {a});
  check_grad([](const Inputs& in) { return in[0].t().split(4, 0)[1]; }, {a});
  // Unused parts get zero; used parts get their slice of g.
  Tensor<double> x = iota_leaf({5});
  const auto parts = ember::split(x, 2);  // [0 1] [2 3] [4]
  REQUIRE(parts.size() == 3);
  ember::cat<double>({parts[2], parts[0]}).backward(ember::tensor<double>({7, 8, 9}));
  CHECK(values(x.grad()) == std::vector<double>{8, 9, 0, 0, 7});
}

TEST_CASE("gather: gradcheck and repeated indices accumulate") {
  const Tensor<double> a = leaf({3, 4}, 8);
  const Index i0 = ember::tensor<int64_t>({{0, 2, 2, 1}, {0, 0, 1, 2}});
  const Index i1 = ember::tensor<int64_t>({{3, 3}, {0, 1}, {2, 2}});
  check_grad([&](const Inputs& in) { return in[0].gather(0, i0); }, {a});
  check_grad([&](const Inputs& in) { return in[0].gather(-1, i1); }, {a});
  check_grad([&](const Inputs& in) { return ember::gather(in[0].t(), 1, i1.slice(1, 0, 2)); },
             {leaf({4, 3}, 9)});
  check_grad([&](const Inputs& in) { return in[0].gather(1, i0.slice(1, 0, 4, 3)); }, {a});

  Tensor<double> x = iota_leaf({2, 3});
  const Tensor<double> y = x.gather(1, ember::tensor<int64_t>({{2, 2, 0}, {1, 1, 1}}));
  CHECK(y.grad_fn()->name() == "GatherBackward");
  CHECK(values(y) == std::vector<double>{2, 2, 0, 4, 4, 4});
  y.backward(ember::tensor<double>({{1, 2, 3}, {4, 5, 6}}));
  CHECK(values(x.grad()) == std::vector<double>{3, 0, 3, 0, 15, 0});
}

TEST_CASE("gather: an index changed in place after the forward is reported in backward") {
  Tensor<double> x = leaf({3}, 10);
  Index idx = ember::tensor<int64_t>({0, 2});
  const Tensor<double> y = x.gather(0, idx);
  idx.fill_(1);
  CHECK_THROWS_WITH_AS(y.backward(ember::ones<double>({2})),
                       doctest::Contains("saved by 'gather' was modified by an in-place operation"),
                       ember::runtime_error);
}

TEST_CASE("scatter (out-of-place): self loses the overwritten positions, src gets g.gather") {
  const Index idx = ember::tensor<int64_t>({{1, 0, 2}, {0, 2, 1}});  // unique per column
  const Tensor<double> self = leaf({3, 3}, 11), src = leaf({2, 3}, 12);
  check_grad([&](const Inputs& in) { return in[0].scatter(0, idx, in[1]); }, {self, src});
  check_grad([&](const Inputs& in) { return in[0].t().scatter(-1, idx.t(), in[1].t()); },
             {self, src});
  // src larger than index: its unread elements get zero.
  check_grad([&](const Inputs& in) { return in[0].scatter(0, idx.slice(1, 0, 2), in[1]); },
             {self, leaf({3, 4}, 13)});
  // Only src requires grad.
  check_grad([&](const Inputs& in) { return self.detach().scatter(1, idx, in[0]); }, {src});

  Tensor<double> s = iota_leaf({2, 3});
  Tensor<double> v = iota_leaf({1, 3});
  const Tensor<double> y = s.scatter(0, ember::tensor<int64_t>({{1, 0}}), v);
  CHECK(y.grad_fn()->name() == "ScatterBackward");
  CHECK(values(y) == std::vector<double>{0, 1, 2, 0, 4, 5});
  y.backward(ember::tensor<double>({{10, 20, 30}, {40, 50, 60}}));
  CHECK(values(s.grad()) == std::vector<double>{10, 0, 30, 0, 50, 60});
  CHECK(values(v.grad()) == std::vector<double>{40, 20, 0});
}

TEST_CASE("scatter_add: self gets g, src gets g.gather; repeated indices are fine") {
  const Index idx = ember::tensor<int64_t>({{1, 1, 0, 1}, {1, 0, 0, 1}});
  const Tensor<double> self = leaf({2, 4}, 14), src = leaf({2, 4}, 15);
  check_grad([&](const Inputs& in) { return in[0].scatter_add(0, idx, in[1]); }, {self, src});
  check_grad([&](const Inputs& in) { return in[0].scatter_add(-1, idx, in[1].t().t()); },
             {self, leaf({3, 5}, 16)});
  check_grad([&](const Inputs& in) { return in[0].t().scatter_add(0, idx.t(), in[1].t()); },
             {self, src});

  Tensor<double> s = iota_leaf({3});
  Tensor<double> v = iota_leaf({4});
  const Tensor<double> y = s.scatter_add(0, ember::tensor<int64_t>({2, 2, 0}), v);
  CHECK(values(y) == std::vector<double>{2, 1, 3});  // [0+2, 1, 2+0+1]
  y.backward(ember::tensor<double>({10, 20, 30}));
  CHECK(values(s.grad()) == std::vector<double>{10, 20, 30});
  CHECK(values(v.grad()) == std::vector<double>{30, 30, 10, 0});
}

TEST_CASE("index_select: negative and repeated indices accumulate") {
  const Tensor<double> a = leaf({4, 3}, 17);
  check_grad(
      [](const Inputs& in) {
        return in[0].index_select(0, ember::tensor<int64_t>({0, -1, 0, 3}));
      },
      {a});
  check_grad(
      [](const Inputs& in) {
        return in[0].index_select(-1, ember::tensor<int64_t>({2, 2}));
      },
      {a});
  check_grad(
      [](const Inputs& in) {
        return in[0].t().index_select(1, ember::tensor<int64_t>({1, 3}));
      },
      {a});
  check_grad(
      [](const Inputs& in) {
        return ember::index_select(in[0], 1, ember::scalar_tensor<int64_t>(2));
      },
      {leaf({2, 3, 2}, 18)});

  Tensor<double> x = iota_leaf({3, 2});
  const Tensor<double> y = x.index_select(0, ember::tensor<int64_t>({2, -1, 0}));
  CHECK(y.grad_fn()->name() == "IndexSelectBackward");
  CHECK(values(y) == std::vector<double>{4, 5, 4, 5, 0, 1});
  y.backward(ember::tensor<double>({{1, 2}, {3, 4}, {5, 6}}));
  CHECK(values(x.grad()) == std::vector<double>{5, 6, 0, 0, 4, 6});
}

TEST_CASE(
    "masked_fill: zero gradient where filled; the mask broadcasts and is not differentiable") {
  const Tensor<double> a = leaf({3, 4}, 19);
  const Tensor<double> mrow = ember::tensor<double>({{1, 0, 0, 1}});
  const Index mfull = ember::tensor<int64_t>({{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 1}});
  check_grad([&](const Inputs& in) { return in[0].masked_fill(mrow, 5.0); }, {a});
  check_grad([&](const Inputs& in) { return in[0].masked_fill(mfull, -1.0); }, {a});
  check_grad([&](const Inputs& in) { return in[0].t().masked_fill(mfull.t(), 0.0); }, {a});

  Tensor<double> x = iota_leaf({2, 2});
  const Tensor<double> y = x.masked_fill(ember::tensor<int64_t>({{0, 1}, {1, 0}}), 9.0);
  CHECK(y.grad_fn()->name() == "MaskedFillBackward");
  CHECK(values(y) == std::vector<double>{0, 9, 9, 3});
  y.backward(ember::tensor<double>({{1, 2}, {3, 4}}));
  CHECK(values(x.grad()) == std::vector<double>{1, 0, 0, 4});

  // A mask that itself requires grad gets none.
  Tensor<double> m = ember::tensor<double>({1, 0}).requires_grad_();
  Tensor<double> z = iota_leaf({2});
  z.masked_fill(m, 1.0).backward(ember::ones<double>({2}));
  CHECK(!m.grad().defined());
  CHECK(values(z.grad()) == std::vector<double>{0, 1});
}

TEST_CASE(
    "where: the gradient goes to a where cond holds, to b elsewhere, summed over broadcasts") {
  const Index cond = ember::tensor<int64_t>({{1, 0, 1}, {0, 0, 1}});
  const Tensor<double> a = leaf({2, 3}, 20), b = leaf({3}, 21);
  check_grad([&](const Inputs& in) { return ember::where(cond, in[0], in[1]); }, {a, b});
  check_grad(
      [&](const Inputs& in) {
        return ember::where(cond.slice(0, 0, 1), in[0].t().t(), in[1].unsqueeze(0));
      },
      {a, b});
  check_grad([&](const Inputs& in) { return ember::where(cond, in[0], in[1]); },
             {leaf({2, 1}, 22), leaf({}, 23)});
  const Tensor<double> fcond = ember::tensor<double>({{0.0}, {2.0}});
  check_grad([&](const Inputs& in) { return ember::where(fcond, in[0].t(), in[1]); },
             {leaf({3, 2}, 24), leaf({2, 3}, 25)});

  Tensor<double> x = iota_leaf({2, 2});
  Tensor<double> y = iota_leaf({2});
  const Tensor<double> w = ember::where(ember::tensor<int64_t>({{1, 0}, {0, 0}}), x, y);
  CHECK(w.grad_fn()->name() == "WhereBackward");
  CHECK(values(w) == std::vector<double>{0, 1, 0, 1});
  w.backward(ember::tensor<double>({{1, 2}, {3, 4}}));
  CHECK(values(x.grad()) == std::vector<double>{1, 0, 0, 0});
  CHECK(values(y.grad()) == std::vector<double>{3, 6});  // [0 + 3, 2 + 4]
}

TEST_CASE("tril and triu: the gradient is the same triangle of g") {
  for (int64_t diag : {-1, 0, 2}) {
    CAPTURE(diag);
    check_grad([&](const Inputs& in) { return in[0].tril(diag); }, {leaf({3, 4}, 26)});
    check_grad([&](const Inputs& in) { return ember::triu(in[0], diag); }, {leaf({2, 3, 4}, 27)});
    check_grad([&](const Inputs& in) { return in[0].transpose(-1, -2).triu(diag); },
               {leaf({2, 4, 3}, 28)});
  }
  Tensor<double> x = iota_leaf({2, 2});
  const Tensor<double> y = x.triu(0);
  CHECK(y.grad_fn()->name() == "TriuBackward");
  y.backward(ember::tensor<double>({{1, 2}, {3, 4}}));
  CHECK(values(x.grad()) == std::vector<double>{1, 2, 0, 4});
  Tensor<double> z = iota_leaf({2, 3});
  z.tril(-1).backward(ember::ones<double>({2, 3}));
  CHECK(values(z.grad()) == std::vector<double>{0, 0, 0, 1, 0, 0});
}

TEST_CASE("one_hot is int64 and outside autograd; int64 index ops work as before") {
  const Index oh = ember::one_hot(ember::tensor<int64_t>({2, 0}), 3);
  CHECK(oh.shape() == Shape{2, 3});
  CHECK(oh(0, 2) == 1);
  CHECK(oh(1, 0) == 1);
  CHECK(!oh.requires_grad());

  const Index i = ember::arange<int64_t>(6).reshape({2, 3});
  CHECK(ember::cat<int64_t>({i, i}, -1)(1, 4) == 4);
  CHECK(ember::stack<int64_t>({i, i}, 0)(1, 1, 2) == 5);
  CHECK(i.gather(1, ember::tensor<int64_t>({{2}, {0}}))(1, 0) == 3);
  CHECK(i.index_select(0, ember::tensor<int64_t>({-1}))(0, 0) == 3);
  CHECK(i.scatter_add(0, ember::tensor<int64_t>({{1, 1, 1}}), i)(1, 2) == 7);
  CHECK(i.masked_fill(ember::tensor<int64_t>({1, 0, 0}), int64_t(-1))(1, 0) == -1);
  CHECK(i.tril(0)(0, 1) == 0);
  CHECK(ember::where(ember::tensor<int64_t>({1, 0, 1}), i, int64_t(9))(0, 1) == 9);
}

TEST_CASE("graph-free paths: no requires_grad, NoGradGuard, and in-place ops") {
  Tensor<double> x = leaf({2, 3}, 29);
  const Index idx = ember::tensor<int64_t>({{1, 0, 1}});
  const Tensor<double> src = ember::ones<double>({1, 3});
  {
    ember::NoGradGuard no_grad;
    CHECK(!ember::cat<double>({x, x}).requires_grad());
    CHECK(!x.gather(0, idx).requires_grad());
    CHECK(!x.masked_fill(idx, 0.0).requires_grad());
    CHECK(!x.tril().requires_grad());
    // In-place ops that call check_inplace keep working on a leaf under NoGradGuard.
    x.scatter_(0, idx, src.mul(2.0));
    x.scatter_add_(0, idx, src);
    x.masked_fill_(ember::tensor<int64_t>({{1, 1, 1}, {0, 0, 0}}), 7.0);
  }
  CHECK(x(0, 0) == 7.0);
  CHECK(x(1, 0) == 3.0);  // 2 scattered, then 1 added
  CHECK(x(1, 2) == 3.0);
  CHECK_THROWS_WITH_AS(
      x.scatter_(0, idx, src),
      doctest::Contains("scatter_: cannot modify in place a tensor that requires grad"),
      ember::runtime_error);
  CHECK_THROWS_AS(x.scatter_add_(0, idx, src), ember::runtime_error);
  CHECK_THROWS_AS(x.masked_fill_(idx, 0.0), ember::runtime_error);
  const Tensor<double> plain = ember::ones<double>({2, 2});
  CHECK(!plain.gather(0, ember::tensor<int64_t>({{0, 1}})).requires_grad());
  CHECK(!plain.index_select(0, ember::tensor<int64_t>({1})).requires_grad());
}
