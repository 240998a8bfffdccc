// Backward rules of matmul, mm and bmm: gradcheck over every torch.matmul case (vector/matrix
// promotion, batched with broadcast batch dims on either side), strided operands, one operand
// without grad, and gradients compared with values worked out by hand.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ember/ember.hpp"

using ember::Shape;
using ember::Tensor;
using Inputs = std::vector<Tensor<double>>;

namespace {

Tensor<double> leaf(const Shape& shape) {
  return ember::rand<double>(shape).mul(2.0).sub(1.0).requires_grad_();
}

// A non-contiguous leaf of `shape`: the transpose of a contiguous tensor (last two dims swapped).
Tensor<double> transposed_leaf(const Shape& shape) {
  Shape base = shape;
  std::swap(base[base.size() - 1], base[base.size() - 2]);
  Tensor<double> t = ember::rand<double>(base).mul(2.0).sub(1.0).transpose(-1, -2);
  REQUIRE(!t.is_contiguous());
  return t.requires_grad_();
}

// A non-contiguous leaf of `shape`: every other element along the last dim of a wider tensor.
Tensor<double> sliced_leaf(const Shape& shape) {
  Shape base = shape;
  base.back() *= 2;
  Tensor<double> t = ember::rand<double>(base).mul(2.0).sub(1.0).slice(-1, 0, base.back(), 2);
  REQUIRE(!t.is_contiguous());
  return t.requires_grad_();
}

void check_matmul(const Tensor<double>& a, const Tensor<double>& b) {
  CAPTURE(a.shape());
  CAPTURE(b.shape());
  const auto r = ember::gradcheck([](const Inputs& in) { return in[0].matmul(in[1]); }, {a, b});
  CHECK_MESSAGE(r.ok, r.message);
}

void check_values(const Tensor<double>& got, const Tensor<double>& want) {
  REQUIRE(got.defined());
  CHECK(got.shape() == want.shape());
  CHECK_MESSAGE(ember::allclose(got, want, 1e-12, 1e-12), "got ", got, "\nwant ", want);
}

}  // namespace

TEST_CASE("matmul: gradcheck of every torch.matmul case") {
  ember::manual_seed(11);
  check_matmul(leaf({4}), leaf({4}));                 // dot
  check_matmul(leaf({3}), leaf({3, 5}));              // vector x matrix
  check_matmul(leaf({4, 3}), leaf({3}));              // matrix x vector
  check_matmul(leaf({2, 3}), leaf({3, 4}));           // matrix x matrix
  check_matmul(leaf({1, 3}), leaf({3, 1}));           // size-1 dims
  check_matmul(leaf({2, 3, 4}), leaf({4, 5}));        // batched x matrix
  check_matmul(leaf({4, 3}), leaf({2, 3, 5}));        // matrix x batched
  check_matmul(leaf({2, 3, 4}), leaf({2, 4, 2}));     // same batch
  check_matmul(leaf({2, 1, 3, 4}), leaf({3, 4, 2}));  // broadcast batch dims on both sides
  check_matmul(leaf({1, 3, 4}), leaf({2, 4, 3}));     // stretched size-1 batch dim
  check_matmul(leaf({4}), leaf({2, 4, 3}));           // vector x batched
  check_matmul(leaf({2, 3, 4}), leaf({4}));           // batched x vector
  check_matmul(leaf({2, 2, 3, 4}), leaf({4}));        // 4-d x vector (batch fold)
}

TEST_CASE("matmul: gradcheck with transposed and sliced operands") {
  ember::manual_seed(12);
  check_matmul(transposed_leaf({3, 4}), leaf({4, 2}));
  check_matmul(leaf({3, 4}), transposed_leaf({4, 2}));
  check_matmul(transposed_leaf({3, 4}), transposed_leaf({4, 2}));
  check_matmul(sliced_leaf({3, 4}), sliced_leaf({4, 3}));
  check_matmul(transposed_leaf({2, 3, 4}), sliced_leaf({4, 2}));
  check_matmul(sliced_leaf({3, 4}), transposed_leaf({2, 4, 3}));
  check_matmul(sliced_leaf({4}), transposed_leaf({4, 3}));
}

TEST_CASE("matmul: only the operand that requires grad is checked and gets a gradient") {
  ember::manual_seed(13);
  const Tensor<double> x = ember::rand<double>({5, 3});  // data: no grad
  Tensor<double> w = transposed_leaf({3, 2});
  const auto r = ember::gradcheck([](const Inputs& in) { return in[0].matmul(in[1]); }, {x, w});
  CHECK_MESSAGE(r.ok, r.message);
  const Tensor<double> y = x.matmul(w);
  REQUIRE(y.grad_fn());
  CHECK(y.grad_fn()->name() == "MatmulBackward");
  CHECK(y.grad_fn()->next_functions()[0] == nullptr);
  CHECK(y.grad_fn()->next_functions()[1] != nullptr);
  // The batched data of a linear layer on [batch, seq, in] (the folded path).
  const Tensor<double> xb = ember::rand<double>({2, 3, 4});
  Tensor<double> wb = leaf({4, 2});
  const auto rb = ember::gradcheck([](const Inputs& in) { return in[0].matmul(in[1]); }, {xb, wb});
  CHECK_MESSAGE(rb.ok, rb.message);
  // And the other way round: only the left operand needs grad.
  Tensor<double> a = leaf({2, 3, 4});
  const Tensor<double> b = ember::rand<double>({4, 2});
  const auto ra = ember::gradcheck([](const Inputs& in) { return in[0].matmul(in[1]); }, {a, b});
  CHECK_MESSAGE(ra.ok, ra.message);
}

TEST_CASE("matmul: gradients equal the hand-computed ones") {
  // 2-d: with g = ones, ga = g @ b^T (row sums of b), gb = a^T @ g (column sums of a).
  Tensor<double> a = ember::tensor<double>({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
  Tensor<double> b = ember::tensor<double>({{5.0, 6.0}, {7.0, 8.0}}).requires_grad_();
  a.matmul(b).sum().backward();
  check_values(a.grad(), ember::tensor<double>({{11.0, 15.0}, {11.0, 15.0}}));
  check_values(b.grad(), ember::tensor<double>({{4.0, 4.0}, {6.0, 6.0}}));

  // Dot product: each vector's gradient is the other one, scaled by g = 2.
  Tensor<double> u = ember::tensor<double>({1.0, -2.0, 3.0}).requires_grad_();
  Tensor<double> v = ember::tensor<double>({4.0, 5.0, -6.0}).requires_grad_();
  u.matmul(v).backward(ember::scalar_tensor(2.0));
  check_values(u.grad(), ember::tensor<double>({8.0, 10.0, -12.0}));
  check_values(v.grad(), ember::tensor<double>({2.0, -4.0, 6.0}));

  // Matrix x vector: y_i = sum_j m_ij v_j; with g = [1, 2]: gm = g v^T, gv = m^T g.
  Tensor<double> m = ember::tensor<double>({{1.0, 0.0, 2.0}, {0.0, 3.0, 1.0}}).requires_grad_();
  Tensor<double> w = ember::tensor<double>({1.0, 2.0, 3.0}).requires_grad_();
  m.matmul(w).backward(ember::tensor<double>({1.0, 2.0}));
  check_values(m.grad(), ember::tensor<double>({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}}));
  check_values(w.grad(), ember::tensor<double>({1.0, 6.0, 4.0}));

  // A 2-d weight shared across a batch: its gradient is summed over the batch.
  // x[2, 1, 2] @ W[2, 1] with g = ones: gW = sum_b x_b^T.
  const Tensor<double> x = ember::tensor<double>({{{1.0, 2.0}}, {{3.0, 5.0}}});
  Tensor<double> W = ember::tensor<double>({{0.5}, {-1.0}}).requires_grad_();
  x.matmul(W).sum().backward();
  check_values(W.grad(), ember::tensor<double>({{4.0}, {7.0}}));

  // The batched operand broadcast against a 2-d left side: ga = sum_b g_b @ b_b^T.
  Tensor<double> l = ember::tensor<double>({{1.0, 1.0}}).requires_grad_();           // [1, 2]
  const Tensor<double> r = ember::tensor<double>({{{1.0}, {2.0}}, {{3.0}, {4.0}}});  // [2, 2, 1]
  l.matmul(r).sum().backward();
  check_values(l.grad(), ember::tensor<double>({{4.0, 6.0}}));
}

TEST_CASE("matmul: a transposed leaf gets its gradient in its own shape") {
  // a = (base)^T with base = [[1, 3], [2, 4]], so a = [[1, 2], [3, 4]] stored transposed.
  Tensor<double> a = ember::tensor<double>({{1.0, 3.0}, {2.0, 4.0}}).t().requires_grad_();
  Tensor<double> b = ember::tensor<double>({{5.0, 6.0}, {7.0, 8.0}}).t().requires_grad_();
  REQUIRE(!a.is_contiguous());
  // b = [[5, 7], [6, 8]]: ga = ones @ b^T = [[12, 14], [12, 14]]; gb = a^T @ ones = [[4, 4], [6,
  // 6]].
  a.matmul(b).sum().backward();
  check_values(a.grad(), ember::tensor<double>({{12.0, 14.0}, {12.0, 14.0}}));
  check_values(b.grad(), ember::tensor<double>({{4.0, 4.0}, {6.0, 6.0}}));
}

TEST_CASE("mm and bmm: gradcheck and node names") {
  ember::manual_seed(14);
  const auto rm = ember::gradcheck([](const Inputs& in) { return ember::mm(in[0], in[1]); },
                                   {transposed_leaf({3, 4}), leaf({4, 2})});
  CHECK_MESSAGE(rm.ok, rm.message);
  const auto rb = ember::gradcheck([](const Inputs& in) { return ember::bmm(in[0], in[1]); },
                                   {leaf({2, 3, 4}), transposed_leaf({2, 4, 3})});
  CHECK_MESSAGE(rb.ok, rb.message);
  Tensor<double> p = leaf({2, 3});
  CHECK(p.mm(leaf({3, 2})).grad_fn()->name() == "MmBackward");
  CHECK(leaf({1, 2, 3}).bmm(leaf({1, 3, 2})).grad_fn()->name() == "BmmBackward");
  CHECK_THROWS_WITH(p.mm(leaf({2, 2})),
                    doctest::Contains("mm: shapes [2, 3] and [2, 2] cannot be multiplied"));
}

TEST_CASE("matmul: changing a saved operand in place is reported at backward") {
  Tensor<double> a = leaf({2, 2});
  Tensor<double> b = ember::rand<double>({2, 2});
  Tensor<double> y = a.matmul(b);
  b.add_(1.0);  // b needs no grad, so this in-place change is allowed, but a's gradient saved b
  CHECK_THROWS_WITH(y.sum().backward(), doctest::Contains("saved by 'matmul' was modified"));
}

TEST_CASE("matmul: no graph without grad, and int64 still multiplies") {
  const Tensor<double> a = ember::rand<double>({2, 2});
  CHECK(!a.matmul(a).requires_grad());
  Tensor<double> c = leaf({2, 2});
  {
    ember::NoGradGuard guard;
    CHECK(!c.matmul(c).requires_grad());
  }
  const Tensor<int64_t> i = ember::tensor<int64_t>({{1, 2}, {3, 4}});
  const Tensor<int64_t> j = i.matmul(i);
  CHECK(j(0, 0) == 7);
  CHECK(j(1, 1) == 22);
}

// Strided operands made inside fn from a leaf (leaf.t(), a slice): needs the view ops to record
// their own backward (views.hpp, another branch); until they do, this case says so and stops.
TEST_CASE("matmul: views of leaves inside fn reach the leaves") {
  ember::manual_seed(15);
  Tensor<double> a = leaf({4, 3});
  Tensor<double> b = leaf({4, 6});
  if (!a.t().requires_grad()) {
    MESSAGE("views do not record a backward in this build yet: case skipped");
    return;
  }
  const auto r = ember::gradcheck(
      [](const Inputs& in) { return in[0].t().matmul(in[1].slice(1, 0, 6, 2)); }, {a, b});
  CHECK_MESSAGE(r.ok, r.message);
  // y = a^T @ b[:, ::2] with g = ones: ga = b[:, ::2] @ ones^T (row sums of the slice, per column
  // of a^T), gb = a @ ones on the even columns and 0 on the odd ones.
  Tensor<double> x = ember::tensor<double>({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
  Tensor<double> w =
      ember::tensor<double>({{1.0, 9.0, 2.0, 9.0}, {3.0, 9.0, 4.0, 9.0}}).requires_grad_();
  x.t().matmul(w.slice(1, 0, 4, 2)).sum().backward();
  check_values(x.grad(), ember::tensor<double>({{3.0, 3.0}, {7.0, 7.0}}));
  check_values(w.grad(), ember::tensor<double>({{3.0, 0.0, 3.0, 0.0}, {7.0, 0.0, 7.0, 0.0}}));
}
