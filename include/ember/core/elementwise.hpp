// ember: elementwise math with NumPy broadcasting, in-place variants and scalar operands.
// Rows that are dense for every operand go to the dispatched kernels (kernels::unary, binary,
// binary_scalar, binary_rowvec) for float and double; everything else runs a strided loop whose
// per-element function is a lambda the compiler inlines (no virtual call, no allocation).
#pragma once

#include <cmath>
#include <type_traits>

#include "ember/autograd/index_helpers.hpp"
#include "ember/autograd/record.hpp"
#include "ember/core/creation.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"
#include "ember/kernels/dispatch.hpp"

namespace ember {

namespace detail {

template <class T>
inline constexpr bool has_kernels_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

// No dispatched kernel for this op: the strided loop does all the work.
struct no_kernel_t {};

// out = f(x), same shape. KOp is kernels::UnaryOp or no_kernel_t.
template <class T, class KOp, class F>
void unary_into(const Tensor<T>& out, const Tensor<T>& x, KOp kop, F f) {
  const auto plan = make_plan<2>(out.shape(), {out.strides(), x.strides()});
  T* o = out.data();
  const T* xp = x.data();
  parallel_rows(plan, [&](const std::array<int64_t, 2>& off, int64_t n) {
    T* op = o + off[0];
    const T* ip = xp + off[1];
    if constexpr (has_kernels_v<T> && std::is_same_v<KOp, kernels::UnaryOp>) {
      if (plan.inner_stride[0] == 1 && plan.inner_stride[1] == 1) {
        kernels::unary<T>(kop, static_cast<std::size_t>(n), ip, op);
        return;
      }
    }
    (void)kop;
    const int64_t so = plan.inner_stride[0], si = plan.inner_stride[1];
    for (int64_t i = 0; i < n; ++i) op[i * so] = f(ip[i * si]);
  });
}

// out = f(a, b) where a and b are already expanded to out's shape (stride 0 on broadcast dims).
template <class T, class R, class KOp, class F>
void binary_into(const Tensor<R>& out, const Tensor<T>& a, const Tensor<T>& b, KOp kop, F f) {
  const auto plan = make_plan<3>(out.shape(), {out.strides(), a.strides(), b.strides()});
  R* o = out.data();
  const T* ap = a.data();
  const T* bp = b.data();
  if constexpr (has_kernels_v<T> && std::is_same_v<R, T> &&
                std::is_same_v<KOp, kernels::BinaryOp>) {
    // Bias broadcast: dense rows of a, one dense vector b repeated on every row.
    if (plan.sizes.size() == 2 && plan.inner_stride[0] == 1 && plan.inner_stride[1] == 1 &&
        plan.inner_stride[2] == 1 && plan.strides[2][0] == 0 && plan.strides[0][0] >= plan.inner &&
        plan.strides[1][0] >= plan.inner) {
      const int64_t cols = plan.inner;
      const int64_t grain = std::max<int64_t>(1, elementwise_grain / std::max<int64_t>(cols, 1));
      detail::parallel_chunks(
          0, static_cast<std::size_t>(plan.rows), static_cast<std::size_t>(grain),
          [&](std::size_t lo, std::size_t hi) {
            const auto r0 = static_cast<int64_t>(lo);
            kernels::binary_rowvec<T>(
                kop, hi - lo, static_cast<std::size_t>(cols), ap + r0 * plan.strides[1][0],
                static_cast<std::size_t>(plan.strides[1][0]), bp, o + r0 * plan.strides[0][0],
                static_cast<std::size_t>(plan.strides[0][0]));
          });
      return;
    }
  }
  parallel_rows(plan, [&](const std::array<int64_t, 3>& off, int64_t n) {
    R* op = o + off[0];
    const T* x = ap + off[1];
    const T* y = bp + off[2];
    const int64_t so = plan.inner_stride[0], sa = plan.inner_stride[1], sb = plan.inner_stride[2];
    if constexpr (has_kernels_v<T> && std::is_same_v<R, T> &&
                  std::is_same_v<KOp, kernels::BinaryOp>) {
      const auto un = static_cast<std::size_t>(n);
      if (so == 1 && sa == 1 && sb == 1) return kernels::binary<T>(kop, un, x, y, op);
      if (so == 1 && sa == 1 && sb == 0)
        return kernels::binary_scalar<T>(kop, un, x, *y, false, op);
      if (so == 1 && sa == 0 && sb == 1) return kernels::binary_scalar<T>(kop, un, y, *x, true, op);
    }
    (void)kop;
    // Dense rows (and a scalar on either side) get unit-stride loops the compiler can vectorise:
    // comparisons, maximum, pow, ... and int64 land here.
    if (so == 1 && sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; ++i) op[i] = f(x[i], y[i]);
    } else if (so == 1 && sa == 1 && sb == 0) {
      const T s = *y;
      for (int64_t i = 0; i < n; ++i) op[i] = f(x[i], s);
    } else if (so == 1 && sa == 0 && sb == 1) {
      const T s = *x;
      for (int64_t i = 0; i < n; ++i) op[i] = f(s, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) op[i * so] = f(x[i * sa], y[i * sb]);
    }
  });
}

template <class T, class R, class KOp, class F>
Tensor<R> binary_op(const Tensor<T>& a, const Tensor<T>& b, const char* name, KOp kop, F f) {
  a.check_defined(name);
  b.check_defined(name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor<R> out(shape);
  // Operands already of the result's shape are used as they are (no view to build).
  if (a.shape() == shape && b.shape() == shape) {
    binary_into<T, R>(out, a, b, kop, f);
  } else if (a.shape() == shape) {
    binary_into<T, R>(out, a, b.expand(shape), kop, f);
  } else {
    binary_into<T, R>(out, a.expand(shape), b.expand(shape), kop, f);
  }
  return out;
}

template <class T, class KOp, class F>
void binary_inplace(Tensor<T>& self, const Tensor<T>& b, const char* name, KOp kop, F f) {
  self.check_defined(name);
  autograd::check_inplace(self, name);
  b.check_defined(name);
  const Shape shape = broadcast_shapes(self.shape(), b.shape(), name);
  EMBER_CHECK_SHAPE(shape == self.shape(), name, ": output with shape ", self.shape(),
                    " doesn't match the broadcast shape ", shape);
  binary_into<T, T>(self, self, b.expand(shape), kop, f);
  self.bump_version();
}

template <class T, class KOp, class F>
Tensor<T> unary_op(const Tensor<T>& x, const char* name, KOp kop, F f) {
  x.check_defined(name);
  Tensor<T> out(x.shape());
  unary_into(out, x, kop, f);
  return out;
}

template <class T, class KOp, class F>
void unary_inplace(Tensor<T>& x, const char* name, KOp kop, F f) {
  x.check_defined(name);
  autograd::check_inplace(x, name);
  unary_into(x, x, kop, f);
  x.bump_version();
}

// A 0-d tensor holding s, for scalar operands: it broadcasts with stride 0 everywhere.
template <class T>
Tensor<T> scalar_operand(T s) {
  return scalar_tensor<T>(s);
}

template <class T>
T pow_scalar(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    // Negative exponents truncate toward zero like integer division; overflow wraps (computed
    // unsigned, so it is defined behaviour).
    if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 ? -1 : 1) : 0);
    uint64_t r = 1, base = static_cast<uint64_t>(a);
    for (uint64_t e = static_cast<uint64_t>(b); e > 0; e >>= 1) {
      if (e & 1) r *= base;
      if (e > 1) base *= base;
    }
    return static_cast<T>(r);
  } else {
    return std::pow(a, b);
  }
}

template <class T>
T sigmoid_scalar(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

}  // namespace detail

// ---- binary ops: tensor-tensor, tensor-scalar, in-place
// ------------------------------------------

#define EMBER_DETAIL_BINARY(method, kind_op, expr, Backward)                                 \
  template <class T>                                                                         \
  Tensor<T> Tensor<T>::method(const Tensor& o) const {                                       \
    return autograd::differentiable<T>(                                                      \
        autograd::needs_grad(*this, o),                                                      \
        [&] {                                                                                \
          return detail::binary_op<T, T>(*this, o, #method, detail::kop_or_none<T>(kind_op), \
                                         [](T a, T b) { return expr; });                     \
        },                                                                                   \
        [&](auto& out) { detail::Backward::record(out, *this, o); });                        \
  }                                                                                          \
  template <class T>                                                                         \
  Tensor<T> Tensor<T>::method(T s) const {                                                   \
    return method(detail::scalar_operand<T>(s));                                             \
  }                                                                                          \
  template <class T>                                                                         \
  Tensor<T>& Tensor<T>::method##_(const Tensor& o) {                                         \
    detail::binary_inplace<T>(*this, o, #method "_", detail::kop_or_none<T>(kind_op),        \
                              [](T a, T b) { return expr; });                                \
    return *this;                                                                            \
  }                                                                                          \
  template <class T>                                                                         \
  Tensor<T>& Tensor<T>::method##_(T s) {                                                     \
    return method##_(detail::scalar_operand<T>(s));                                          \
  }

namespace detail {

// Backward rules of the binary ops: gradients are summed back over broadcast dims (sum_to), and
// only computed for the inputs that need them.
struct AddBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    autograd::record(
        out, "AddBackward", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{autograd::sum_to(g, sa), autograd::sum_to(g, sb)};
        });
  }
};
struct SubBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    autograd::record(out, "SubBackward", {a, b},
                     [sa = a.shape(), sb = b.shape(), nb = b.requires_grad()](const Tensor<T>& g) {
                       return std::vector<Tensor<T>>{
                           autograd::sum_to(g, sa),
                           nb ? autograd::sum_to(g.neg(), sb) : Tensor<T>()};
                     });
  }
};
struct MulBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    const bool na = a.requires_grad(), nb = b.requires_grad();
    autograd::record(out, "MulBackward", {a, b},
                     [sa = na ? autograd::save(b, "mul") : autograd::SavedTensor<T>(),
                      sb = nb ? autograd::save(a, "mul") : autograd::SavedTensor<T>(), na, nb,
                      shape_a = a.shape(), shape_b = b.shape()](const Tensor<T>& g) {
                       return std::vector<Tensor<T>>{
                           na ? autograd::sum_to(g.mul(sa.get()), shape_a) : Tensor<T>(),
                           nb ? autograd::sum_to(g.mul(sb.get()), shape_b) : Tensor<T>()};
                     });
  }
};
struct DivBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    const bool na = a.requires_grad(), nb = b.requires_grad();
    // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2 = -out/b.
    autograd::record(out, "DivBackward", {a, b},
                     [sb = autograd::save(b, "div"),
                      so = nb ? autograd::save(out, "div") : autograd::SavedTensor<T>(), na, nb,
                      shape_a = a.shape(), shape_b = b.shape()](const Tensor<T>& g) {
                       const Tensor<T> gb = g.div(sb.get());
                       return std::vector<Tensor<T>>{
                           na ? autograd::sum_to(gb, shape_a) : Tensor<T>(),
                           nb ? autograd::sum_to(gb.mul(so.get()).neg(), shape_b) : Tensor<T>()};
                     });
  }
};
struct PowBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    const bool na = a.requires_grad(), nb = b.requires_grad();
    // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log(a), taken as 0 where a == 0 and b >= 0 (PyTorch).
    autograd::record(out, "PowBackward", {a, b},
                     [sa = autograd::save(a, "pow"), sb = autograd::save(b, "pow"),
                      so = nb ? autograd::save(out, "pow") : autograd::SavedTensor<T>(), na, nb,
                      shape_a = a.shape(), shape_b = b.shape()](const Tensor<T>& g) {
                       const Tensor<T>& x = sa.get();
                       const Tensor<T>& e = sb.get();
                       Tensor<T> ga, gb;
                       if (na) ga = autograd::sum_to(g.mul(e).mul(x.pow(e.sub(T(1)))), shape_a);
                       if (nb) {
                         const Tensor<T> lg = x.log().mul(so.get());
                         const Tensor<T> zero_base = x.eq(T(0)).mul(e.ge(T(0)));
                         gb = autograd::sum_to(g.mul(lg.masked_fill(zero_base, T(0))), shape_b);
                       }
                       return std::vector<Tensor<T>>{ga, gb};
                     });
  }
};
// maximum/minimum: the gradient goes to the larger (smaller) input; ties split it evenly.
template <bool IsMax>
struct ExtremumBackward {
  template <class T>
  static void record(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b) {
    autograd::record(out, IsMax ? "MaximumBackward" : "MinimumBackward", {a, b},
                     [sa = autograd::save(a, IsMax ? "maximum" : "minimum"),
                      sb = autograd::save(b, IsMax ? "maximum" : "minimum"), shape_a = a.shape(),
                      shape_b = b.shape()](const Tensor<T>& g) {
                       const Tensor<T>& x = sa.get();
                       const Tensor<T>& y = sb.get();
                       const Tensor<T> wins = IsMax ? x.gt(y) : x.lt(y);
                       const Tensor<T> ties = x.eq(y).mul(T(0.5));
                       const Tensor<T> wa = wins.add(ties);
                       const Tensor<T> wb = wa.neg().add(T(1));
                       return std::vector<Tensor<T>>{autograd::sum_to(g.mul(wa), shape_a),
                                                     autograd::sum_to(g.mul(wb), shape_b)};
                     });
  }
};

// Maps a kernel op to itself for float/double and to no_kernel_t for int64.
template <class T, class Op>
auto kop_or_none(Op op) {
  if constexpr (has_kernels_v<T>) {
    return op;
  } else {
    (void)op;
    return no_kernel_t{};
  }
}
}  // namespace detail

EMBER_DETAIL_BINARY(add, kernels::BinaryOp::add, a + b, AddBackward)
EMBER_DETAIL_BINARY(sub, kernels::BinaryOp::sub, a - b, SubBackward)
EMBER_DETAIL_BINARY(mul, kernels::BinaryOp::mul, a* b, MulBackward)
EMBER_DETAIL_BINARY(div, kernels::BinaryOp::div, a / b, DivBackward)
EMBER_DETAIL_BINARY(pow, detail::no_kernel_t{}, detail::pow_scalar(a, b), PowBackward)
#undef EMBER_DETAIL_BINARY

template <class T>
Tensor<T> Tensor<T>::maximum(const Tensor& o) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, o),
      [&] {
        // NaN propagates like PyTorch (the kernel's max would drop it), so no kernel here.
        return detail::binary_op<T, T>(*this, o, "maximum", detail::no_kernel_t{}, [](T a, T b) {
          return a != a ? a : (b != b ? b : (a > b ? a : b));
        });
      },
      [&](auto& out) { detail::ExtremumBackward<true>::record(out, *this, o); });
}
template <class T>
Tensor<T> Tensor<T>::minimum(const Tensor& o) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, o),
      [&] {
        return detail::binary_op<T, T>(*this, o, "minimum", detail::no_kernel_t{}, [](T a, T b) {
          return a != a ? a : (b != b ? b : (a < b ? a : b));
        });
      },
      [&](auto& out) { detail::ExtremumBackward<false>::record(out, *this, o); });
}

// ---- comparisons and logical ops (1 / 0 in the same element type) -------------------------------

#define EMBER_DETAIL_COMPARE(method, expr)                                         \
  template <class T>                                                               \
  Tensor<T> Tensor<T>::method(const Tensor& o) const {                             \
    return detail::binary_op<T, T>(*this, o, #method, detail::no_kernel_t{},       \
                                   [](T a, T b) { return (expr) ? T(1) : T(0); }); \
  }
EMBER_DETAIL_COMPARE(eq, a == b)
EMBER_DETAIL_COMPARE(ne, a != b)
EMBER_DETAIL_COMPARE(lt, a < b)
EMBER_DETAIL_COMPARE(le, a <= b)
EMBER_DETAIL_COMPARE(gt, a > b)
EMBER_DETAIL_COMPARE(ge, a >= b)
EMBER_DETAIL_COMPARE(logical_and, a != T(0) && b != T(0))
EMBER_DETAIL_COMPARE(logical_or, a != T(0) || b != T(0))
EMBER_DETAIL_COMPARE(logical_xor, (a != T(0)) != (b != T(0)))
#undef EMBER_DETAIL_COMPARE

#define EMBER_DETAIL_COMPARE_SCALAR(method)      \
  template <class T>                             \
  Tensor<T> Tensor<T>::method(T s) const {       \
    return method(detail::scalar_operand<T>(s)); \
  }
EMBER_DETAIL_COMPARE_SCALAR(eq)
EMBER_DETAIL_COMPARE_SCALAR(ne)
EMBER_DETAIL_COMPARE_SCALAR(lt)
EMBER_DETAIL_COMPARE_SCALAR(le)
EMBER_DETAIL_COMPARE_SCALAR(gt)
EMBER_DETAIL_COMPARE_SCALAR(ge)
#undef EMBER_DETAIL_COMPARE_SCALAR

template <class T>
Tensor<T> Tensor<T>::logical_not() const {
  return detail::unary_op(*this, "logical_not", detail::no_kernel_t{},
                          [](T a) { return a == T(0) ? T(1) : T(0); });
}

// ---- unary ops ----------------------------------------------------------------------------------

namespace detail {

// ReLU's gradient in one pass: g where out > 0, else 0 (PyTorch's threshold_backward, so a NaN
// output passes g and a NaN g is dropped where out <= 0).
template <class T>
Tensor<T> relu_backward(const Tensor<T>& g, const Tensor<T>& out) {
  return binary_op<T, T>(g, out, "relu_backward", kop_or_none<T>(kernels::BinaryOp::relu_grad),
                         [](T a, T b) { return b <= T(0) ? T(0) : a; });
}

// Backward rules of the unary ops: grad(x, out, g) -> the gradient for x. `out` is saved only by
// the rules whose derivative is cheapest from the result (exp, sqrt, tanh, ...).
template <bool SavesInput, bool SavesOutput, class Rule>
struct UnaryBackward {
  template <class T>
  static void record(const char* name, const char* op, Tensor<T>& out, const Tensor<T>& x) {
    autograd::record(out, name, {x},
                     [sx = SavesInput ? autograd::save(x, op) : autograd::SavedTensor<T>(),
                      so = SavesOutput ? autograd::save(out, op)
                                       : autograd::SavedTensor<T>()](const Tensor<T>& g) {
                       return std::vector<Tensor<T>>{Rule::grad(sx.get(), so.get(), g)};
                     });
  }
};
#define EMBER_DETAIL_UNARY_RULE(Name, in, outp, expr)                                     \
  struct Name##Rule {                                                                     \
    template <class T>                                                                    \
    static Tensor<T> grad(const Tensor<T>& x, const Tensor<T>& out, const Tensor<T>& g) { \
      (void)x;                                                                            \
      (void)out;                                                                          \
      (void)g;                                                                            \
      return expr;                                                                        \
    }                                                                                     \
  };                                                                                      \
  using Name##Backward = UnaryBackward<in, outp, Name##Rule>;
EMBER_DETAIL_UNARY_RULE(Neg, false, false, g.neg())
EMBER_DETAIL_UNARY_RULE(Abs, true, false, g.mul(x.sign()))
EMBER_DETAIL_UNARY_RULE(Relu, false, true, relu_backward(g, out))
EMBER_DETAIL_UNARY_RULE(Sign, false, false, Tensor<T>())  // zero almost everywhere
EMBER_DETAIL_UNARY_RULE(Exp, false, true, g.mul(out))
EMBER_DETAIL_UNARY_RULE(Log, true, false, g.div(x))
EMBER_DETAIL_UNARY_RULE(Sqrt, false, true, g.div(out.mul(T(2))))
EMBER_DETAIL_UNARY_RULE(Rsqrt, false, true, g.mul(out.mul(out).mul(out)).mul(T(-0.5)))
EMBER_DETAIL_UNARY_RULE(Tanh, false, true, g.mul(out.mul(out).neg().add(T(1))))
EMBER_DETAIL_UNARY_RULE(Sigmoid, false, true, g.mul(out.mul(out.neg().add(T(1)))))
#undef EMBER_DETAIL_UNARY_RULE

}  // namespace detail

// float_only: the op is rejected at compile time, with a clear message, on int64 tensors.
#define EMBER_DETAIL_UNARY(method, kop, expr, Name, float_only)                  \
  template <class T>                                                             \
  Tensor<T> Tensor<T>::method() const {                                          \
    static_assert(!(float_only) || std::is_floating_point_v<T>,                  \
                  #method " needs a floating-point tensor");                     \
    return autograd::differentiable<T>(                                          \
        autograd::needs_grad(*this),                                             \
        [&] {                                                                    \
          return detail::unary_op(*this, #method, detail::kop_or_none<T>(kop),   \
                                  [](T a) { return expr; });                     \
        },                                                                       \
        [&](auto& out) {                                                         \
          detail::Name##Backward::record(#Name "Backward", #method, out, *this); \
        });                                                                      \
  }                                                                              \
  template <class T>                                                             \
  Tensor<T>& Tensor<T>::method##_() {                                            \
    static_assert(!(float_only) || std::is_floating_point_v<T>,                  \
                  #method "_ needs a floating-point tensor");                    \
    detail::unary_inplace(*this, #method "_", detail::kop_or_none<T>(kop),       \
                          [](T a) { return expr; });                             \
    return *this;                                                                \
  }

EMBER_DETAIL_UNARY(neg, kernels::UnaryOp::neg, -a, Neg, false)
// The expressions are the strided path's; they give the kernels' bits (relu keeps NaN and -0.0,
// abs(-0.0) is +0.0).
EMBER_DETAIL_UNARY(abs, kernels::UnaryOp::abs, std::abs(a), Abs, false)
EMBER_DETAIL_UNARY(relu, kernels::UnaryOp::relu, a < T(0) ? T(0) : a, Relu, false)
EMBER_DETAIL_UNARY(sign, detail::no_kernel_t{}, a > T(0) ? T(1) : (a < T(0) ? T(-1) : a), Sign,
                   false)
EMBER_DETAIL_UNARY(exp, kernels::UnaryOp::exp, std::exp(a), Exp, true)
EMBER_DETAIL_UNARY(log, kernels::UnaryOp::log, std::log(a), Log, true)
EMBER_DETAIL_UNARY(sqrt, kernels::UnaryOp::sqrt, std::sqrt(a), Sqrt, true)
EMBER_DETAIL_UNARY(rsqrt, kernels::UnaryOp::rsqrt, T(1) / std::sqrt(a), Rsqrt, true)
EMBER_DETAIL_UNARY(tanh, kernels::UnaryOp::tanh, std::tanh(a), Tanh, true)
EMBER_DETAIL_UNARY(sigmoid, kernels::UnaryOp::sigmoid, detail::sigmoid_scalar(a), Sigmoid, true)
#undef EMBER_DETAIL_UNARY

namespace detail {
// clamp passes the gradient where the input lies inside [lo, hi] (bounds included, like PyTorch).
template <class T>
void record_clamp(Tensor<T>& out, const Tensor<T>& x, T lo, T hi, bool has_lo, bool has_hi) {
  autograd::record(out, "ClampBackward", {x},
                   [sx = autograd::save(x, "clamp"), lo, hi, has_lo, has_hi](const Tensor<T>& g) {
                     Tensor<T> pass = ones_like(g);
                     if (has_lo) pass = pass.mul(sx.get().ge(lo));
                     if (has_hi) pass = pass.mul(sx.get().le(hi));
                     return std::vector<Tensor<T>>{g.mul(pass)};
                   });
}
}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::clamp(T lo, T hi) const {
  EMBER_CHECK_VALUE(!(lo > hi), "clamp: min ", lo, " is greater than max ", hi);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        return detail::unary_op(*this, "clamp", detail::no_kernel_t{},
                                [=](T a) { return a < lo ? lo : (a > hi ? hi : a); });
      },
      [&](auto& out) { detail::record_clamp(out, *this, lo, hi, true, true); });
}
template <class T>
Tensor<T> Tensor<T>::clamp_min(T lo) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        return detail::unary_op(*this, "clamp_min", detail::no_kernel_t{},
                                [=](T a) { return a < lo ? lo : a; });
      },
      [&](auto& out) { detail::record_clamp(out, *this, lo, lo, true, false); });
}
template <class T>
Tensor<T> Tensor<T>::clamp_max(T hi) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        return detail::unary_op(*this, "clamp_max", detail::no_kernel_t{},
                                [=](T a) { return a > hi ? hi : a; });
      },
      [&](auto& out) { detail::record_clamp(out, *this, hi, hi, false, true); });
}
template <class T>
Tensor<T>& Tensor<T>::clamp_(T lo, T hi) {
  EMBER_CHECK_VALUE(!(lo > hi), "clamp_: min ", lo, " is greater than max ", hi);
  detail::unary_inplace(*this, "clamp_", detail::no_kernel_t{},
                        [=](T a) { return a < lo ? lo : (a > hi ? hi : a); });
  return *this;
}
template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  detail::unary_inplace(*this, "fill_", detail::no_kernel_t{}, [=](T) { return value; });
  return *this;
}

// ---- free functions and operators (scalars on either side)
// ----------------------------------------

template <class S>
using enable_if_scalar_t = std::enable_if_t<std::is_arithmetic_v<S>, int>;

#define EMBER_DETAIL_OPERATOR(op, method)                          \
  template <class T>                                               \
  Tensor<T> operator op(const Tensor<T>& a, const Tensor<T>& b) {  \
    return a.method(b);                                            \
  }                                                                \
  template <class T, class S, enable_if_scalar_t<S> = 0>           \
  Tensor<T> operator op(const Tensor<T>& a, S s) {                 \
    return a.method(static_cast<T>(s));                            \
  }                                                                \
  template <class T, class S, enable_if_scalar_t<S> = 0>           \
  Tensor<T> operator op(S s, const Tensor<T>& b) {                 \
    return detail::scalar_operand<T>(static_cast<T>(s)).method(b); \
  }
EMBER_DETAIL_OPERATOR(+, add)
EMBER_DETAIL_OPERATOR(-, sub)
EMBER_DETAIL_OPERATOR(*, mul)
EMBER_DETAIL_OPERATOR(/, div)
EMBER_DETAIL_OPERATOR(==, eq)
EMBER_DETAIL_OPERATOR(!=, ne)
EMBER_DETAIL_OPERATOR(<, lt)
EMBER_DETAIL_OPERATOR(<=, le)
EMBER_DETAIL_OPERATOR(>, gt)
EMBER_DETAIL_OPERATOR(>=, ge)
#undef EMBER_DETAIL_OPERATOR

#define EMBER_DETAIL_COMPOUND(op, method)                    \
  template <class T>                                         \
  Tensor<T>& operator op(Tensor<T>& a, const Tensor<T>& b) { \
    return a.method(b);                                      \
  }                                                          \
  template <class T, class S, enable_if_scalar_t<S> = 0>     \
  Tensor<T>& operator op(Tensor<T>& a, S s) {                \
    return a.method(static_cast<T>(s));                      \
  }
EMBER_DETAIL_COMPOUND(+=, add_)
EMBER_DETAIL_COMPOUND(-=, sub_)
EMBER_DETAIL_COMPOUND(*=, mul_)
EMBER_DETAIL_COMPOUND(/=, div_)
#undef EMBER_DETAIL_COMPOUND

template <class T>
Tensor<T> operator-(const Tensor<T>& a) {
  return a.neg();
}

#define EMBER_DETAIL_FREE_BINARY(name)                           \
  template <class T>                                             \
  Tensor<T> name(const Tensor<T>& a, const Tensor<T>& b) {       \
    return a.name(b);                                            \
  }                                                              \
  template <class T, class S, enable_if_scalar_t<S> = 0>         \
  Tensor<T> name(const Tensor<T>& a, S s) {                      \
    return a.name(static_cast<T>(s));                            \
  }                                                              \
  template <class T, class S, enable_if_scalar_t<S> = 0>         \
  Tensor<T> name(S s, const Tensor<T>& b) {                      \
    return detail::scalar_operand<T>(static_cast<T>(s)).name(b); \
  }
EMBER_DETAIL_FREE_BINARY(add)
EMBER_DETAIL_FREE_BINARY(sub)
EMBER_DETAIL_FREE_BINARY(mul)
EMBER_DETAIL_FREE_BINARY(div)
EMBER_DETAIL_FREE_BINARY(pow)
EMBER_DETAIL_FREE_BINARY(eq)
EMBER_DETAIL_FREE_BINARY(ne)
EMBER_DETAIL_FREE_BINARY(lt)
EMBER_DETAIL_FREE_BINARY(le)
EMBER_DETAIL_FREE_BINARY(gt)
EMBER_DETAIL_FREE_BINARY(ge)
#undef EMBER_DETAIL_FREE_BINARY

template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return a.maximum(b);
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return a.minimum(b);
}
template <class T>
Tensor<T> logical_and(const Tensor<T>& a, const Tensor<T>& b) {
  return a.logical_and(b);
}
template <class T>
Tensor<T> logical_or(const Tensor<T>& a, const Tensor<T>& b) {
  return a.logical_or(b);
}
template <class T>
Tensor<T> logical_xor(const Tensor<T>& a, const Tensor<T>& b) {
  return a.logical_xor(b);
}
template <class T>
Tensor<T> logical_not(const Tensor<T>& a) {
  return a.logical_not();
}

#define EMBER_DETAIL_FREE_UNARY(name)  \
  template <class T>                   \
  Tensor<T> name(const Tensor<T>& a) { \
    return a.name();                   \
  }
EMBER_DETAIL_FREE_UNARY(neg)
EMBER_DETAIL_FREE_UNARY(abs)
EMBER_DETAIL_FREE_UNARY(exp)
EMBER_DETAIL_FREE_UNARY(log)
EMBER_DETAIL_FREE_UNARY(sqrt)
EMBER_DETAIL_FREE_UNARY(rsqrt)
EMBER_DETAIL_FREE_UNARY(tanh)
EMBER_DETAIL_FREE_UNARY(sigmoid)
EMBER_DETAIL_FREE_UNARY(relu)
EMBER_DETAIL_FREE_UNARY(sign)
#undef EMBER_DETAIL_FREE_UNARY

template <class T>
Tensor<T> clamp(const Tensor<T>& a, T lo, T hi) {
  return a.clamp(lo, hi);
}

// where(cond, a, b): a where cond is nonzero, else b; all three broadcast together.
namespace detail {
template <class T, class M>
Tensor<T> where_forward(const Tensor<M>& cond, const Tensor<T>& a, const Tensor<T>& b);
}  // namespace detail

template <class T, class M>
Tensor<T> where(const Tensor<M>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  return autograd::differentiable<T>(
      autograd::needs_grad(a, b), [&] { return detail::where_forward(cond, a, b); },
      [&](auto& out) { detail::WhereBackward::record(out, cond, a, b); });
}

namespace detail {
template <class T, class M>
Tensor<T> where_forward(const Tensor<M>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  cond.check_defined("where");
  a.check_defined("where");
  b.check_defined("where");
  const Shape shape = detail::broadcast_shapes(
      detail::broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor<T> out(shape);
  const Tensor<M> c = cond.expand(shape);
  const Tensor<T> x = a.expand(shape), y = b.expand(shape);
  const auto plan =
      detail::make_plan<4>(shape, {out.strides(), c.strides(), x.strides(), y.strides()});
  T* o = out.data();
  const M* cp = c.data();
  const T* xp = x.data();
  const T* yp = y.data();
  detail::parallel_rows(plan, [&](const std::array<int64_t, 4>& off, int64_t n) {
    const auto& s = plan.inner_stride;
    for (int64_t i = 0; i < n; ++i) {
      o[off[0] + i * s[0]] =
          cp[off[1] + i * s[1]] != M(0) ? xp[off[2] + i * s[2]] : yp[off[3] + i * s[3]];
    }
  });
  return out;
}
}  // namespace detail
template <class T, class M, class S, enable_if_scalar_t<S> = 0>
Tensor<T> where(const Tensor<M>& cond, const Tensor<T>& a, S b) {
  return where(cond, a, detail::scalar_operand<T>(static_cast<T>(b)));
}
template <class T, class M, class S, enable_if_scalar_t<S> = 0>
Tensor<T> where(const Tensor<M>& cond, S a, const Tensor<T>& b) {
  return where(cond, detail::scalar_operand<T>(static_cast<T>(a)), b);
}

}  // namespace ember
