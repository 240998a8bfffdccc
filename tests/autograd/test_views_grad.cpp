// Backward rules of the views and copies (views.hpp): gradcheck over shapes, negative dims and
// non-contiguous inputs, hand-computed gradients, and the errors of to<U>() and as_strided.
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

TEST_CASE("view, reshape and flatten: gradcheck, view and copy paths") {
  const Tensor<double> a = leaf({2, 3, 4}, 1);
  SUBCASE("view") {
    check_grad([](const Inputs& in) { return in[0].view({4, -1}); }, {a});
    check_grad([](const Inputs& in) { return in[0].view({24}); }, {a});
  }
  SUBCASE("reshape as a view of a contiguous input") {
    check_grad([](const Inputs& in) { return in[0].reshape({3, 8}); }, {a});
  }
  SUBCASE("reshape of a transposed input takes the copy path") {
    check_grad(
        [](const Inputs& in) {
          const Tensor<double> x = in[0].transpose(0, 2);  // [4, 3, 2], not contiguous
          const Tensor<double> y = x.reshape({12, 2});
          CHECK(!y.shares_storage_with(in[0]));
          return y;
        },
        {a});
  }
  SUBCASE("reshape of a strided view that stays a view") {
    check_grad([](const Inputs& in) { return in[0].slice(2, 0, 4, 2).reshape({6, 2}); }, {a});
  }
  SUBCASE("flatten with negative dims, and 0-d") {
    check_grad([](const Inputs& in) { return in[0].flatten(1, -1); }, {a});
    check_grad([](const Inputs& in) { return in[0].flatten(-3, -2); }, {a});
    check_grad([](const Inputs& in) { return in[0].t().flatten(); }, {leaf({3, 2}, 2)});
    check_grad([](const Inputs& in) { return in[0].flatten(); }, {leaf({}, 3)});
  }
}

TEST_CASE("squeeze, unsqueeze, permute, transpose, t: gradcheck") {
  const Tensor<double> a = leaf({2, 1, 3, 1}, 4);
  check_grad([](const Inputs& in) { return in[0].squeeze(); }, {a});
  check_grad([](const Inputs& in) { return in[0].squeeze(1); }, {a});
  check_grad([](const Inputs& in) { return in[0].squeeze(-1); }, {a});
  check_grad([](const Inputs& in) { return in[0].squeeze(0); }, {a});  // size 2: unchanged
  check_grad([](const Inputs& in) { return in[0].unsqueeze(0); }, {a});
  check_grad([](const Inputs& in) { return in[0].unsqueeze(-1); }, {a});
  check_grad([](const Inputs& in) { return in[0].permute({2, 0, 3, 1}); }, {a});
  const Tensor<double> b = leaf({2, 3, 4}, 5);
  check_grad([](const Inputs& in) { return in[0].permute({-1, 0, 1}); }, {b});
  check_grad([](const Inputs& in) { return in[0].transpose(0, -1); }, {b});
  check_grad([](const Inputs& in) { return in[0].transpose(1, 1); }, {b});
  check_grad([](const Inputs& in) { return in[0].t(); }, {leaf({3, 5}, 6)});
  check_grad([](const Inputs& in) { return in[0].t(); }, {leaf({4}, 7)});
  // Non-contiguous input: unsqueeze / squeeze of a transposed view.
  check_grad([](const Inputs& in) { return in[0].transpose(0, 2).unsqueeze(1).squeeze(); }, {b});
  check_grad([](const Inputs& in) { return in[0].permute({2, 0, 1}).transpose(0, 1); }, {b});
}

TEST_CASE("slice, narrow, select, operator[]: gradcheck with steps and negative indices") {
  const Tensor<double> a = leaf({5, 6}, 8);
  check_grad([](const Inputs& in) { return in[0].slice(0, 1, 4); }, {a});
  check_grad([](const Inputs& in) { return in[0].slice(1, -5, 6, 2); }, {a});
  check_grad([](const Inputs& in) { return in[0].slice(-1, 0, 100, 4); }, {a});
  check_grad([](const Inputs& in) { return in[0].slice(0, -2, -1); }, {a});
  check_grad([](const Inputs& in) { return in[0].t().slice(1, 1, 5, 3); }, {a});  // strided input
  check_grad([](const Inputs& in) { return in[0].narrow(1, -4, 3); }, {a});
  check_grad([](const Inputs& in) { return in[0].select(1, -1); }, {a});
  check_grad([](const Inputs& in) { return in[0].select(0, 3); }, {a});
  check_grad([](const Inputs& in) { return in[0][2]; }, {a});
  check_grad([](const Inputs& in) { return in[0].t()[1].slice(0, 0, 5, 2); }, {a});
  check_grad([](const Inputs& in) { return in[0].select(0, 0); }, {leaf({3}, 9)});  // to 0-d
}

TEST_CASE("expand, expand_as, broadcast_to: the gradient is summed back") {
  check_grad([](const Inputs& in) { return in[0].expand({3, 4}); }, {leaf({1, 4}, 10)});
  check_grad([](const Inputs& in) { return in[0].expand({2, 3, -1}); }, {leaf({3, 1}, 11)});
  check_grad([](const Inputs& in) { return in[0].expand({2, 3}); }, {leaf({}, 12)});
  check_grad([](const Inputs& in) { return in[0].broadcast_to({2, 2, 3}); }, {leaf({3}, 13)});
  check_grad(
      [](const Inputs& in) {
        return in[0].t().expand_as(ember::zeros<double>({2, 4, 3}));
      },
      {leaf({3, 1}, 14)});
  check_grad([](const Inputs& in) { return in[0].expand({3, 4}); }, {leaf({3, 4}, 15)});
}

TEST_CASE("contiguous, clone, to<same type>: gradcheck") {
  const Tensor<double> a = leaf({3, 4}, 16);
  check_grad([](const Inputs& in) { return in[0].clone(); }, {a});
  check_grad([](const Inputs& in) { return in[0].t().contiguous(); }, {a});
  check_grad([](const Inputs& in) { return in[0].slice(1, 0, 4, 2).clone(); }, {a});
  check_grad([](const Inputs& in) { return in[0].t().to<double>(); }, {a});
  // contiguous() of a contiguous tensor is the tensor itself (same graph position).
  const Tensor<double> y = a.mul(a);
  CHECK(y.contiguous().grad_fn() == y.grad_fn());
  CHECK(a.t().contiguous().grad_fn()->name() == "CloneBackward");
}

TEST_CASE("as_strided: gradient by storage position, overlapping windows accumulate") {
  // Sliding windows of width 3 over 5 elements: element k appears in min(k+1, 3, 5-k) windows.
  Tensor<double> x = iota_leaf({5});
  const Tensor<double> w = x.as_strided({3, 3}, {1, 1}, x.storage_offset());
  CHECK(values(w) == std::vector<double>{0, 1, 2, 1, 2, 3, 2, 3, 4});
  w.backward(ember::ones<double>({3, 3}));
  CHECK(values(x.grad()) == std::vector<double>{1, 2, 3, 2, 1});

  check_grad([](const Inputs& in) { return in[0].as_strided({3, 3}, {1, 1}, 0); }, {leaf({5}, 17)});
  // On a view with an offset: positions are absolute in the storage, like PyTorch.
  check_grad(
      [](const Inputs& in) {
        const Tensor<double> v = in[0].slice(0, 1, 4);  // offset 4 into a [4, 4] storage
        return v.as_strided({2, 3}, {2, 1}, v.storage_offset() + 1);
      },
      {leaf({4, 4}, 18)});
  // A strided input and a result that reads only its elements (columns 2 and 0 of each row).
  check_grad(
      [](const Inputs& in) {
        const Tensor<double> v = in[0].slice(1, 0, 4, 2);  // columns 0 and 2
        return v.as_strided({2, 2}, {4, -2}, 2);
      },
      {leaf({2, 4}, 19)});
}

TEST_CASE("as_strided: an input with overlapping elements is an error when it needs a gradient") {
  const Tensor<double> x = leaf({1, 3}, 20);
  const Tensor<double> e = x.expand({2, 3});
  CHECK_THROWS_WITH_AS(
      e.as_strided({3}, {1}, 0),
      doctest::Contains("as_strided: cannot compute the gradient of an input whose "
                        "elements overlap in memory (shape [2, 3], strides [0, 1])"),
      ember::value_error);
  // A result reading memory outside the input's elements (columns 1 and 3 here): the gradient of
  // those elements would belong to the tensor that owns them, which ember cannot reach.
  const Tensor<double> w = leaf({2, 4}, 24);
  const Tensor<double> v = w.slice(1, 0, 4, 2);
  CHECK_THROWS_WITH_AS(v.as_strided({2, 4}, {4, 1}, 0),
                       "as_strided: the result (shape [2, 4], strides [4, 1], offset 0) reads "
                       "storage element 1, which is not an element of the input (shape [2, 2], "
                       "strides [4, 2], offset 0), so its gradient would be lost; call as_strided "
                       "on the tensor that owns that memory",
                       ember::value_error);
  CHECK_NOTHROW(w.as_strided({2, 4}, {4, 1}, 0));
  ember::NoGradGuard no_grad;
  CHECK(e.as_strided({3}, {1}, 0).numel() == 3);
  CHECK(v.as_strided({2, 4}, {4, 1}, 0).numel() == 8);
}

TEST_CASE("to<U>(): float <-> double cannot join the graph") {
  Tensor<double> x = leaf({2}, 21);
  CHECK_THROWS_WITH_AS(x.to<float>(),
                       "to: cannot convert a float64 tensor of shape [2] that requires grad to "
                       "float32 while gradients are recorded (the result could not join the "
                       "autograd graph); convert the leaf before requires_grad_(), call detach() "
                       "first, or convert under NoGradGuard",
                       ember::type_error);
  Tensor<float> xf = ember::ones<float>({2}).requires_grad_();
  CHECK_THROWS_AS(xf.to<double>(), ember::type_error);
  CHECK(x.detach().to<float>().dtype() == std::string("float32"));
  // An integer result is not differentiable, as in PyTorch.
  CHECK(!x.to<int64_t>().requires_grad());
  {
    ember::NoGradGuard no_grad;
    const Tensor<float> f = x.to<float>();
    CHECK(!f.requires_grad());
    CHECK(f(1) == static_cast<float>(x(1)));
  }
  // Not requiring grad: converts as before.
  CHECK(ember::tensor<double>({1.5, -2.0}).to<float>()(1) == -2.0f);
}

// ---- hand-computed gradients
// --------------------------------------------------------------------

TEST_CASE("view family: gradient values by hand") {
  SUBCASE("transpose sends g[j][i] to x[i][j]") {
    Tensor<double> x = iota_leaf({2, 3});
    const Tensor<double> y = x.t();
    CHECK(y.grad_fn()->name() == "TransposeBackward");
    y.backward(ember::tensor<double>({{1, 2}, {3, 4}, {5, 6}}));
    CHECK(x.grad().shape() == Shape{2, 3});
    CHECK(values(x.grad()) == std::vector<double>{1, 3, 5, 2, 4, 6});
  }
  SUBCASE("permute applies the inverse permutation") {
    Tensor<double> x = iota_leaf({1, 2, 3});
    const Tensor<double> y = x.permute({2, 0, 1});  // [3, 1, 2]
    y.backward(ember::tensor<double>({{{1, 2}}, {{3, 4}}, {{5, 6}}}));
    CHECK(values(x.grad()) == std::vector<double>{1, 3, 5, 2, 4, 6});
  }
  SUBCASE("slice with a step and a negative start: zeros outside the picked elements") {
    Tensor<double> x = iota_leaf({6});
    const Tensor<double> y = x.slice(0, -5, 6, 2);  // elements 1, 3, 5
    CHECK(values(y) == std::vector<double>{1, 3, 5});
    y.backward(ember::tensor<double>({10, 20, 30}));
    CHECK(values(x.grad()) == std::vector<double>{0, 10, 0, 20, 0, 30});
  }
  SUBCASE("select and operator[] of a transposed view") {
    Tensor<double> x = iota_leaf({2, 3});
    const Tensor<double> y = x.t()[2];  // x[:, 2]
    CHECK(values(y) == std::vector<double>{2, 5});
    y.backward(ember::tensor<double>({7, 8}));
    CHECK(values(x.grad()) == std::vector<double>{0, 0, 7, 0, 0, 8});
  }
  SUBCASE("expand sums over the new and the stretched dims") {
    Tensor<double> x = iota_leaf({3, 1});
    const Tensor<double> y = x.expand({2, 3, 4});
    y.backward(ember::ones<double>({2, 3, 4}));
    CHECK(x.grad().shape() == Shape{3, 1});
    CHECK(values(x.grad()) == std::vector<double>{8, 8, 8});
  }
  SUBCASE("reshape (copy path) and view keep the row-major order") {
    Tensor<double> x = iota_leaf({2, 3});
    const Tensor<double> y = x.t().reshape({6});  // 0 3 1 4 2 5
    CHECK(y.grad_fn()->name() == "ReshapeBackward");
    CHECK(values(y) == std::vector<double>{0, 3, 1, 4, 2, 5});
    y.backward(ember::tensor<double>({10, 11, 12, 13, 14, 15}));
    CHECK(values(x.grad()) == std::vector<double>{10, 12, 14, 11, 13, 15});
    Tensor<double> z = iota_leaf({2, 2});
    const Tensor<double> v = z.view({4}).unsqueeze(0).squeeze(0);
    v.backward(ember::tensor<double>({1, 2, 3, 4}));
    CHECK(values(z.grad()) == std::vector<double>{1, 2, 3, 4});
  }
  SUBCASE("several views of one leaf accumulate") {
    Tensor<double> x = iota_leaf({3});
    const Tensor<double> y = x.select(0, 1).expand({3}).add(x.slice(0, 0, 3));
    y.backward(ember::ones<double>({3}));
    // select(1) is expanded to 3 outputs -> 3 for x[1]; the slice adds 1 to every element.
    CHECK(values(x.grad()) == std::vector<double>{1, 4, 1});
  }
}

TEST_CASE("views record nothing without requires_grad or under NoGradGuard, and int64 works") {
  const Tensor<double> plain = ember::ones<double>({2, 3});
  CHECK(!plain.t().requires_grad());
  CHECK(!plain.reshape({3, 2}).requires_grad());
  Tensor<double> x = leaf({2, 3}, 22);
  {
    ember::NoGradGuard no_grad;
    CHECK(!x.t().requires_grad());
    CHECK(!x.slice(1, 0, 2).requires_grad());
    CHECK(!x.expand({2, 2, 3}).requires_grad());
  }
  CHECK(x.t().requires_grad());
  CHECK(x.slice(1, 0, 2).grad_fn()->name() == "SliceBackward");
  CHECK(x.select(0, 1).grad_fn()->name() == "SelectBackward");
  CHECK(x.expand({2, 2, 3}).grad_fn()->name() == "ExpandBackward");
  CHECK(x.view({6}).grad_fn()->name() == "ViewBackward");
  CHECK(x.unsqueeze(0).grad_fn()->name() == "UnsqueezeBackward");
  CHECK(x.permute({1, 0}).grad_fn()->name() == "PermuteBackward");

  const Tensor<int64_t> i = ember::arange<int64_t>(6).reshape({2, 3});
  CHECK(i.t().contiguous().reshape({6})(1) == 3);
  CHECK(i.slice(1, -2, 3)(1, 0) == 4);
  CHECK(i.expand({2, 2, 3})(1, 1, 2) == 5);
  CHECK(i.unsqueeze(1).squeeze()(1, 1) == 4);
  CHECK(i.to<double>()(1, 2) == 5.0);
  CHECK(i.as_strided({2}, {2}, 1)(1) == 3);
}

TEST_CASE("in-place ops on a leaf that requires grad: allowed under NoGradGuard only") {
  Tensor<double> x = leaf({2, 2}, 23);
  CHECK_THROWS_WITH_AS(
      x.copy_(ember::zeros<double>({2, 2})),
      doctest::Contains("copy_: cannot modify in place a tensor that requires grad"),
      ember::runtime_error);
  CHECK_THROWS_AS(x.t().copy_(ember::zeros<double>({2, 2})), ember::runtime_error);
  {
    ember::NoGradGuard no_grad;
    x.copy_(ember::ones<double>({2}));
    x.t().slice(0, 0, 1).copy_(ember::full<double>({1, 2}, 5.0));  // column 0
  }
  CHECK(values(x.detach()) == std::vector<double>{5, 1, 5, 1});
  // The leaf still works in a graph after the update.
  const Tensor<double> y = x.t();
  y.backward(ember::ones<double>({2, 2}));
  CHECK(values(x.grad()) == std::vector<double>{1, 1, 1, 1});
}
