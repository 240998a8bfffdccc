// The autograd engine: accumulation, graph freeing, retain_graph, detach, NoGradGuard,
// autograd::grad, hooks, version checks and the error texts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "ember/ember.hpp"

using ember::Tensor;

namespace {
Tensor<double> vec(std::initializer_list<double> v) {
  return ember::tensor<double>(v);
}
}  // namespace

TEST_CASE("gradients of an expression reach every leaf and accumulate across backward calls") {
  Tensor<double> x = vec({1.0, 2.0, 3.0}).requires_grad_();
  Tensor<double> w = vec({0.5, -1.0, 2.0}).requires_grad_();
  Tensor<double> y = x.mul(w).add(x.exp());  // dy/dx = w + exp(x), dy/dw = x
  y.backward(ember::ones_like(y));
  for (int i = 0; i < 3; ++i) {
    CHECK(x.grad()(i) == doctest::Approx(w(i) + std::exp(x(i))));
    CHECK(w.grad()(i) == doctest::Approx(x(i)));
  }
  CHECK(x.is_leaf());
  CHECK(!y.is_leaf());
  CHECK(y.grad_fn()->name() == "AddBackward");
  CHECK(x.grad_fn() == nullptr);

  Tensor<double> z = x.mul(x);  // a second graph: dz/dx = 2x, added to the first gradient
  z.backward(ember::ones_like(z));
  for (int i = 0; i < 3; ++i) {
    CHECK(x.grad()(i) == doctest::Approx(w(i) + std::exp(x(i)) + 2 * x(i)));
  }
}

TEST_CASE("a tensor used twice gets the sum of both gradients") {
  Tensor<double> x = vec({3.0}).requires_grad_();
  Tensor<double> y = x.mul(x).add(x);  // 2x + 1 = 7
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(7.0));
}

TEST_CASE("broadcast operands get gradients of their own shape") {
  Tensor<double> x = ember::ones<double>({2, 3}).requires_grad_();
  Tensor<double> b = vec({1.0, 2.0, 3.0}).requires_grad_();
  Tensor<double> y = x.mul(b);
  y.backward(ember::ones_like(y));
  CHECK(b.grad().shape() == ember::Shape{3});
  CHECK(b.grad()(0) == doctest::Approx(2.0));  // summed over the 2 broadcast rows
  CHECK(x.grad()(1, 2) == doctest::Approx(3.0));
}

TEST_CASE("the graph is freed after backward unless retained") {
  Tensor<double> x = vec({2.0}).requires_grad_();
  Tensor<double> y = x.mul(x);
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  y.backward();  // allowed: the first call kept the graph
  CHECK(x.grad().item() == doctest::Approx(8.0));
  CHECK_THROWS_WITH_AS(y.backward(),
                       "backward: trying to backward through the graph a second time (the saved "
                       "tensors of MulBackward were freed after the first backward); pass "
                       "retain_graph = true to the first backward() to keep them",
                       ember::runtime_error);
}

TEST_CASE("a training-style loop frees every iteration's graph") {
  Tensor<double> w = vec({0.5, -0.25}).requires_grad_();
  std::weak_ptr<ember::autograd::Node<double>> first_graph;
  for (int it = 0; it < 10000; ++it) {
    Tensor<double> loss = w.mul(w).mul(vec({1.0, 2.0}));
    if (it == 0) first_graph = loss.grad_fn();
    loss.backward(ember::ones_like(loss));
    ember::NoGradGuard no_grad;
    w.sub_(w.grad().mul(1e-4));
    w.grad().zero_();
  }
  // Nothing keeps the first iteration's nodes alive (LeakSanitizer checks the rest in CI).
  CHECK(first_graph.expired());
}

TEST_CASE("detach and NoGradGuard stop recording; the guard is per thread") {
  Tensor<double> x = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> d = x.detach();
  CHECK(!d.requires_grad());
  CHECK(d.shares_storage_with(x));
  CHECK(!d.mul(x).grad_fn()->next_functions()[0]);  // the detached side has no edge

  {
    ember::NoGradGuard guard;
    CHECK(!ember::is_grad_enabled());
    CHECK(!x.mul(x).requires_grad());
    bool other_thread_records = false;
    std::thread t([&] { other_thread_records = x.mul(x).requires_grad(); });
    t.join();
    CHECK(other_thread_records);
    {
      ember::EnableGradGuard enable;
      CHECK(x.mul(x).requires_grad());
    }
  }
  CHECK(ember::is_grad_enabled());
  CHECK(x.mul(x).requires_grad());
}

TEST_CASE("autograd::grad returns gradients without touching .grad") {
  Tensor<double> x = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> y = vec({3.0, 4.0}).requires_grad_();
  Tensor<double> unused = vec({0.0}).requires_grad_();
  Tensor<double> z = x.mul(y);
  Tensor<double> h = z.mul(z);  // h = (xy)^2
  auto g = ember::autograd::grad<double>({h}, {x, z}, {ember::ones_like(h)}, true);
  CHECK(g[0](1) == doctest::Approx(2 * 8.0 * 4.0));  // 2 (xy) y
  CHECK(g[1](0) == doctest::Approx(2 * 3.0));        // 2 z
  CHECK(!x.grad().defined());
  CHECK(!y.grad().defined());
  CHECK_THROWS_WITH_AS(ember::autograd::grad<double>({h}, {unused}, {ember::ones_like(h)}, true),
                       "grad: input 0 was not used to compute the outputs (pass allow_unused = "
                       "true to get an undefined gradient instead)",
                       ember::runtime_error);
  auto gu = ember::autograd::grad<double>({h}, {unused}, {ember::ones_like(h)}, true, true);
  CHECK(!gu[0].defined());
}

TEST_CASE("hooks see and may replace gradients; retain_grad keeps a non-leaf's gradient") {
  Tensor<double> x = vec({1.0, 2.0}).requires_grad_();
  x.register_hook([](const Tensor<double>& g) { return g.mul(10.0); });
  Tensor<double> y = x.mul(vec({3.0, 5.0}));
  double seen = 0;
  y.register_hook([&](const Tensor<double>& g) { seen = g(1); });
  y.retain_grad();
  y.backward(vec({1.0, 2.0}));
  CHECK(seen == 2.0);
  CHECK(y.grad()(1) == 2.0);
  CHECK(x.grad()(0) == doctest::Approx(30.0));
  CHECK(x.grad()(1) == doctest::Approx(100.0));
}

TEST_CASE("changing a saved tensor in place makes backward fail with the op and the tensor") {
  Tensor<double> a = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> b = vec({3.0, 4.0});  // does not require grad, but mul saves it for a's gradient
  Tensor<double> y = a.mul(b);
  b.add_(1.0);
  CHECK_THROWS_WITH_AS(y.backward(ember::ones_like(y)),
                       "backward: a tensor of shape [2] saved by 'mul' was modified by an "
                       "in-place operation after it was saved (it is at version 1, expected 0); "
                       "use an out-of-place operation or clone() it before the change",
                       ember::runtime_error);
}

TEST_CASE("bad calls are clear errors") {
  Tensor<double> x = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x.mul(x);
  CHECK_THROWS_WITH_AS(y.backward(),
                       "backward: a gradient can be created implicitly only for a single-element "
                       "output; this output has shape [2] (pass a gradient of that shape)",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(y.backward(vec({1.0, 2.0, 3.0})),
                       "backward: the gradient has shape [3] but the output has shape [2]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(vec({1.0}).backward(),
                       "backward: the tensor does not require grad and has no grad_fn (did you "
                       "forget requires_grad_() on an input, or run under NoGradGuard?)",
                       ember::runtime_error);
  CHECK_THROWS_WITH_AS(x.add_(1.0),
                       "add_: cannot modify in place a tensor that requires grad while gradients "
                       "are recorded (a leaf of shape [2]); use the out-of-place form, or do it "
                       "under NoGradGuard",
                       ember::runtime_error);
  CHECK_THROWS_WITH_AS(y.requires_grad_(false),
                       "requires_grad_: only leaf tensors can change requires_grad; this tensor "
                       "was computed by MulBackward (use detach() to get a leaf)",
                       ember::runtime_error);
  CHECK_THROWS_WITH_AS(ember::autograd::grad<double>({y}, {vec({1.0})}, {ember::ones_like(y)}),
                       "grad: input 0 does not require grad", ember::runtime_error);
  CHECK_THROWS_WITH_AS(ember::zeros<int64_t>({2}).requires_grad_(),
                       "requires_grad_: only floating-point tensors can require gradients, got "
                       "int64",
                       ember::type_error);
  ember::NoGradGuard no_grad;
  CHECK_NOTHROW(x.add_(1.0));  // optimizer-style update
}

TEST_CASE("a leaf adopts an unshared gradient buffer and copies any shared one") {
  // Adopted: the buffer MulBackward makes is held by nothing else, so it becomes x.grad as is.
  Tensor<double> x = vec({1.0, 2.0, 3.0}).requires_grad_();
  const double* seen = nullptr;
  x.register_hook([&seen](const Tensor<double>& g) { seen = g.data(); });
  x.mul(2.0).backward(vec({1.0, 1.0, 1.0}));
  CHECK(x.grad().data() == seen);
  CHECK(x.grad()(0) == 2.0);

  // The caller's gradient reaches both leaves unchanged through AddBackward: neither leaf may
  // alias it or the other one, so later in-place changes stay separate.
  Tensor<double> a = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> b = vec({3.0, 4.0}).requires_grad_();
  Tensor<double> gy = vec({5.0, 6.0});
  a.add(b).backward(gy);
  CHECK(a.grad().data() != gy.data());
  CHECK(b.grad().data() != gy.data());
  CHECK(a.grad().data() != b.grad().data());
  gy.mul_(0.0);
  a.grad().add_(1.0);
  CHECK(a.grad()(0) == 6.0);
  CHECK(b.grad()(0) == 5.0);
  CHECK(gy(0) == 0.0);

  // A hook that keeps the gradient holds its buffer: the leaf gets a copy.
  Tensor<double> c = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> kept;
  c.register_hook([&kept](const Tensor<double>& g) { kept = g; });
  c.mul(3.0).backward(vec({1.0, 1.0}));
  CHECK(c.grad().data() != kept.data());
  kept.mul_(0.0);
  CHECK(c.grad()(1) == 3.0);

  // A gradient that is a view of a bigger buffer is copied, not adopted.
  Tensor<double> d = vec({1.0, 2.0}).requires_grad_();
  Tensor<double> big = vec({1.0, 2.0, 3.0, 4.0});
  ember::autograd::differentiable<double>(
      true, [&] { return d.detach().clone(); },
      [&](Tensor<double>& out) {
        ember::autograd::record(out, "ViewOfBig", {d}, [big](const Tensor<double>&) {
          return std::vector<Tensor<double>>{big.narrow(0, 1, 2)};
        });
      })
      .backward(vec({1.0, 1.0}));
  CHECK(d.grad()(0) == 2.0);
  CHECK(d.grad().storage() != big.storage());

  // With a gradient already there, the new one is added in place.
  Tensor<double> e = vec({1.0}).requires_grad_();
  e.mul(2.0).backward(vec({1.0}));
  const double* first = e.grad().data();
  e.mul(3.0).backward(vec({1.0}));
  CHECK(e.grad().data() == first);
  CHECK(e.grad()(0) == 5.0);
}

TEST_CASE("sum_to's bias fast path gives the bits of the general sum, for 1 and 2 threads") {
  struct Case {
    ember::Shape from, to;
  };
  const Case cases[] = {
      {{5, 7}, {7}},          {{5, 7}, {1, 7}},       {{1, 7}, {7}},          {{3, 4, 5}, {5}},
      {{3, 4, 5}, {4, 5}},    {{3, 4, 5}, {1, 1, 5}}, {{2, 3, 4}, {1, 3, 4}}, {{300, 1000}, {1000}},
      {{37, 129}, {129}},     {{6, 1}, {1}},          {{4, 3, 1}, {3, 1}},    {{4, 3}, {4, 1}},
      {{4, 3, 2}, {4, 1, 2}}, {{2, 2}, {}},           {{0, 5}, {5}},          {{3, 0}, {0}},
  };
  const int before = ember::get_num_threads();
  for (const Case& c : cases) {
    CAPTURE(c.from);
    CAPTURE(c.to);
    const Tensor<float> g = ember::randn<float>(c.from);
    // The general path: sum over the broadcast dims, then reshape.
    const int64_t lead = g.dim() - static_cast<int64_t>(c.to.size());
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < g.dim(); ++d) {
      if (d < lead || (c.to[static_cast<std::size_t>(d - lead)] == 1 && g.size(d) != 1)) {
        dims.push_back(d);
      }
    }
    const Tensor<float> want = g.sum(dims, true).reshape(c.to);
    for (int threads : {1, 2}) {
      ember::set_num_threads(threads);
      const Tensor<float> got = ember::autograd::sum_to(g, c.to);
      REQUIRE(got.shape() == c.to);
      const Tensor<float> gc = got.contiguous(), wc = want.contiguous();
      for (int64_t i = 0; i < wc.numel(); ++i) {
        CHECK(std::memcmp(gc.data() + i, wc.data() + i, sizeof(float)) == 0);
      }
    }
  }
  ember::set_num_threads(before);
  // Through the op: a bias added to a batch gets the column sums.
  Tensor<double> x = ember::randn<double>({9, 17});
  Tensor<double> b = ember::randn<double>({17}).requires_grad_();
  x.add(b).backward(ember::ones_like(x));
  for (int64_t j = 0; j < 17; ++j) CHECK(b.grad()(j) == 9.0);
}

TEST_CASE("wide graphs and ops with many inputs") {
  // More nodes than the engine's first table holds, each leaf reached through several paths.
  std::vector<Tensor<double>> leaves;
  Tensor<double> acc = ember::zeros<double>({3});
  for (int i = 0; i < 300; ++i) {
    leaves.push_back(ember::full<double>({3}, 0.01 * i).requires_grad_());
    acc = acc.add(leaves.back().mul(leaves.back())).add(leaves[static_cast<std::size_t>(i / 2)]);
  }
  acc.sum().backward();
  for (int i = 0; i < 300; ++i) {
    // d/dx of x*x is 2x; leaf j is also added once for each i with i / 2 == j.
    const int extra = (2 * i < 300 ? 1 : 0) + (2 * i + 1 < 300 ? 1 : 0);
    CHECK(leaves[static_cast<std::size_t>(i)].grad()(0) == doctest::Approx(0.02 * i + extra));
  }
  // cat of five inputs: node input shapes past the two kept inline.
  std::vector<Tensor<double>> parts;
  for (int i = 1; i <= 5; ++i) parts.push_back(ember::ones<double>({i, 2}).requires_grad_());
  Tensor<double> y = ember::cat(parts, 0);
  REQUIRE(y.grad_fn()->next_functions().size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(y.grad_fn()->input_shape(i) == ember::Shape{static_cast<int64_t>(i) + 1, 2});
  }
  y.mul(ember::arange<double>(30.0).view({15, 2})).sum().backward();
  CHECK(parts[4].grad()(3, 1) == 27.0);  // row 10 + 3 = 13, column 1: 13 * 2 + 1
}
