// Elementwise kernels (unary math, binary, scalar operand, row-vector broadcast, axpy, scale) on
// every ISA this CPU supports, against references computed here in double with std:: math.
//
// Accuracy bound: float and double results within 4 ulp of the reference (the vector exp is
// <= 2 ulp, xsimd's log/tanh/erfc a few ulp, and sigmoid/silu/gelu add one rounding per step).
// Two documented widenings, each applied only where named:
//  - gelu and gelu_tanh round their inner argument (x/sqrt2, or u = c(x + 0.044715 x^3)) to T
//    before erf/tanh. A relative error d in the argument moves f by kappa(x) d, kappa =
//    |x f'(x) / f(x)| (the condition number; about 2 t^2 for erfc(t) at large t), which is up to
//    2 kappa d / eps ulp. The argument of gelu carries d <= eps (the rounded 1/sqrt2 and one
//    product), that of gelu_tanh d <= 2 eps (four roundings): they get 4 + k kappa ulp with
//    k = 2 and 4. For double the reference rounds its own argument just as much (it is computed
//    in double too), so the allowance doubles.
//  - silu and the gelus pass through subnormal intermediates for very negative x (e^-90 in
//    float), which hold only absolute precision: there an absolute error up to T's smallest
//    normal / 16 also passes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "kernel_test_support.hpp"

using ember::Isa;
using ember::kernels::BinaryOp;
using ember::kernels::UnaryOp;

namespace {

double sigmoid_ref(double x) {
  // The two branches avoid overflow of e^-x; both equal 1 / (1 + e^-x).
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

double gelu_tanh_u(double x) {
  return std::sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x);
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  double lo_f, hi_f, lo_d, hi_d;  // input ranges for float and double
  std::function<double(double)> ref;
  double cond_factor = 0;  // k in 4 + k * kappa ulp (see the header comment)
  bool subnormal_intermediates = false;
};

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases{
      {UnaryOp::exp, "exp", -110, 92, -750, 712, [](double x) { return std::exp(x); }},
      {UnaryOp::log, "log", 0, 1e4, 0, 1e4, [](double x) { return std::log(x); }},
      {UnaryOp::tanh, "tanh", -12, 12, -25, 25, [](double x) { return std::tanh(x); }},
      {UnaryOp::sigmoid, "sigmoid", -110, 110, -760, 760, sigmoid_ref},
      {UnaryOp::relu, "relu", -1e3, 1e3, -1e3, 1e3, [](double x) { return x < 0 ? 0.0 : x; }},
      {UnaryOp::gelu, "gelu", -15, 15, -40, 40,
       [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }, 2, true},
      // 0.5 x (1 + tanh u) == x sigmoid(2u); the sigmoid form has no cancellation for x << 0.
      {UnaryOp::gelu_tanh, "gelu_tanh", -15, 15, -40, 40,
       [](double x) { return x * sigmoid_ref(2 * gelu_tanh_u(x)); }, 4, true},
      {UnaryOp::silu, "silu", -110, 110, -760, 760, [](double x) { return x * sigmoid_ref(x); }, 0,
       true},
      {UnaryOp::neg, "neg", -1e3, 1e3, -1e3, 1e3, [](double x) { return -x; }},
      {UnaryOp::abs, "abs", -1e3, 1e3, -1e3, 1e3, [](double x) { return std::fabs(x); }},
      {UnaryOp::sqrt, "sqrt", 0, 1e4, 0, 1e4, [](double x) { return std::sqrt(x); }},
      {UnaryOp::rsqrt, "rsqrt", 0, 1e4, 0, 1e4, [](double x) { return 1.0 / std::sqrt(x); }},
  };
  return cases;
}

// |x f'(x) / f(x)| by a relative finite difference of the reference.
double condition(const std::function<double(double)>& f, double x) {
  const double fx = f(x);
  if (x == 0 || fx == 0 || !std::isfinite(fx) || !std::isfinite(x)) return 0;
  const double h = 1e-6;
  const double d = (f(x * (1 + h)) - f(x * (1 - h))) / (2 * h * fx);
  return std::isfinite(d) ? std::fabs(d) : 0;
}

template <class T>
void check_unary_values(const UnaryCase& c, const std::vector<T>& x, const std::vector<T>& y) {
  const double tiny = static_cast<double>(std::numeric_limits<T>::min()) / 16;
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ref = c.ref(static_cast<double>(x[i]));
    const double k = c.cond_factor * (sizeof(T) == 8 ? 2 : 1);
    const double allowed = 4 + (k > 0 ? k * condition(c.ref, static_cast<double>(x[i])) : 0);
    const double d = kt::ulps(y[i], ref);
    const bool tiny_ok = c.subnormal_intermediates && std::isfinite(ref) &&
                         std::fabs(static_cast<double>(y[i]) - ref) <= tiny;
    if (!(d <= allowed || tiny_ok)) {
      INFO(std::string(c.name), "(", x[i], ") = ", y[i], ", reference ", ref, ": ", d, " ulp > ",
           allowed);
      CHECK(d <= allowed);
      return;  // one report per case is enough
    }
    if (std::isfinite(d)) worst = std::max(worst, d);
  }
  // EMBER_TEST_REPORT_ULPS=1 prints the worst error seen, for the accuracy table of the docs.
  if (std::getenv("EMBER_TEST_REPORT_ULPS") && x.size() > 1000) {
    std::printf("%-6s %-9s %-6s worst %.2f ulp\n", ember::isa_name(ember::current_isa()), c.name,
                kt::type_name<T>(), worst);
  }
}

template <class T>
void run_unary_case(const UnaryCase& c) {
  const bool f32 = sizeof(T) == 4;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (std::size_t n : kt::sizes()) {
      for (std::size_t off : {0, 1}) {  // off = 1: pointers not aligned to the vector width
        const std::string isa_str = ember::isa_name(isa);
        CAPTURE(isa_str);
        CAPTURE(n);
        CAPTURE(off);
        const std::vector<T> src =
            kt::inputs<T>(n + off, f32 ? c.lo_f : c.lo_d, f32 ? c.hi_f : c.hi_d, n * 31 + off);
        std::vector<T> y(n + off, T(-7));
        ember::kernels::unary<T>(c.op, n, src.data() + off, y.data() + off);
        const std::vector<T> x(src.begin() + off, src.end());
        const std::vector<T> out(y.begin() + off, y.end());
        check_unary_values(c, x, out);
        if (off) CHECK(y[0] == T(-7));  // nothing written before the start
        // In place gives the same bits.
        std::vector<T> inplace = src;
        ember::kernels::unary<T>(c.op, n, inplace.data() + off, inplace.data() + off);
        CHECK(std::equal(inplace.begin() + off, inplace.end(), y.begin() + off,
                         [](T a, T b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }));
      }
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("unary kernels match the double reference on every ISA", T, float, double) {
  kt::IsaRestore restore;
  for (const UnaryCase& c : unary_cases()) {
    const std::string case_name = c.name;
    CAPTURE(case_name);
    run_unary_case<T>(c);
  }
}

TEST_CASE_TEMPLATE("unary special values follow IEEE and PyTorch", T, float, double) {
  kt::IsaRestore restore;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  auto one = [](UnaryOp op, T x) {
    T y = T(0);
    ember::kernels::unary<T>(op, 1, &x, &y);
    return y;
  };
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    CHECK(one(UnaryOp::exp, inf) == inf);
    CHECK(one(UnaryOp::exp, -inf) == T(0));
    CHECK(std::isnan(one(UnaryOp::exp, nan)));
    CHECK(one(UnaryOp::exp, T(1000)) == inf);
    CHECK(one(UnaryOp::exp, T(-1000)) == T(0));
    CHECK(one(UnaryOp::exp, L::denorm_min()) == T(1));
    // e^x just below the normal range is subnormal, not flushed to zero.
    const T sub = one(UnaryOp::exp, sizeof(T) == 4 ? T(-100) : T(-740));
    CHECK(sub > T(0));
    CHECK(sub < L::min());
    CHECK(one(UnaryOp::log, T(0)) == -inf);
    CHECK(one(UnaryOp::log, -T(0)) == -inf);
    CHECK(std::isnan(one(UnaryOp::log, T(-1))));
    CHECK(one(UnaryOp::log, inf) == inf);
    CHECK(std::isnan(one(UnaryOp::log, -inf)));
    CHECK(one(UnaryOp::tanh, inf) == T(1));
    CHECK(one(UnaryOp::tanh, -inf) == T(-1));
    CHECK(one(UnaryOp::tanh, T(1e30)) == T(1));
    CHECK(one(UnaryOp::sigmoid, inf) == T(1));
    CHECK(one(UnaryOp::sigmoid, -inf) == T(0));
    CHECK(one(UnaryOp::sigmoid, T(1e30)) == T(1));
    CHECK(one(UnaryOp::sigmoid, T(-1e30)) == T(0));
    CHECK(std::isnan(one(UnaryOp::sigmoid, nan)));
    CHECK(std::isnan(one(UnaryOp::relu, nan)));  // torch.relu keeps NaN
    CHECK(one(UnaryOp::relu, -inf) == T(0));
    CHECK(one(UnaryOp::gelu, inf) == inf);
    CHECK(one(UnaryOp::gelu, T(-1e30)) == T(0));
    CHECK(one(UnaryOp::gelu_tanh, T(1e30)) == T(1e30));
    CHECK(one(UnaryOp::silu, inf) == inf);
    CHECK(one(UnaryOp::silu, T(-1e30)) == T(0));
    CHECK(std::isnan(one(UnaryOp::sqrt, T(-1))));
    CHECK(one(UnaryOp::rsqrt, T(0)) == inf);
    CHECK(one(UnaryOp::rsqrt, inf) == T(0));
    CHECK(std::isnan(one(UnaryOp::rsqrt, T(-4))));
    CHECK(one(UnaryOp::abs, -inf) == inf);
    CHECK(one(UnaryOp::neg, L::denorm_min()) == -L::denorm_min());
  }
}

namespace {

struct BinaryCase {
  BinaryOp op;
  const char* name;
};
const BinaryCase binary_cases[] = {{BinaryOp::add, "add"},
                                   {BinaryOp::sub, "sub"},
                                   {BinaryOp::mul, "mul"},
                                   {BinaryOp::div, "div"},
                                   {BinaryOp::max, "max"},
                                   {BinaryOp::min, "min"},
                                   {BinaryOp::relu_grad, "relu_grad"}};

double binary_ref(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;
    case BinaryOp::max:  // torch.maximum: NaN if either is NaN
      return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case BinaryOp::min:
      return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case BinaryOp::relu_grad:  // torch threshold_backward(a, b, 0): NaN in b passes a
      return b <= 0 ? 0.0 : a;
  }
  return NAN;
}

// Binary results are correctly rounded: at most 1/2 ulp from the exact value, plus 1/2 for the
// double rounding of a reference that is itself rounded to double.
constexpr double binary_bound = 1.0;

template <class T>
bool check_binary(BinaryOp op, T a, T b, T got) {
  const double ref = binary_ref(op, static_cast<double>(a), static_cast<double>(b));
  const double d = kt::ulps(got, ref);
  if (d <= binary_bound) return true;
  INFO(a, " op ", b, " = ", got, ", reference ", ref, ": ", d, " ulp");
  CHECK(d <= binary_bound);
  return false;
}

}  // namespace

TEST_CASE_TEMPLATE("binary kernels match the double reference on every ISA", T, float, double) {
  kt::IsaRestore restore;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (const BinaryCase& c : binary_cases) {
      for (std::size_t n : kt::sizes()) {
        for (std::size_t off : {0, 1}) {
          const std::string isa_str = ember::isa_name(isa);
          CAPTURE(isa_str);
          const std::string case_name = c.name;
          CAPTURE(case_name);
          CAPTURE(n);
          CAPTURE(off);
          const std::vector<T> a = kt::inputs<T>(n + off, -1e3, 1e3, 2 * n + off);
          // b is shifted so special values meet ordinary ones (inf - x, x / 0, NaN max x, ...).
          std::vector<T> b = kt::inputs<T>(n + off, -1e3, 1e3, 3 * n + off);
          std::rotate(b.begin(), b.begin() + static_cast<std::ptrdiff_t>((n + off) / 2), b.end());
          std::vector<T> y(n + off, T(-7));
          ember::kernels::binary<T>(c.op, n, a.data() + off, b.data() + off, y.data() + off);
          for (std::size_t i = off; i < n + off; ++i) {
            if (!check_binary(c.op, a[i], b[i], y[i])) break;
          }
          // y aliasing a, then b, gives the same bits.
          std::vector<T> ya = a, yb = b;
          ember::kernels::binary<T>(c.op, n, ya.data() + off, b.data() + off, ya.data() + off);
          ember::kernels::binary<T>(c.op, n, a.data() + off, yb.data() + off, yb.data() + off);
          CHECK(kt::same_bits(ya.data() + off, y.data() + off, n));
          CHECK(kt::same_bits(yb.data() + off, y.data() + off, n));

          // A scalar on either side.
          for (T s : {T(2.5), T(-0.0), std::numeric_limits<T>::infinity(),
                      std::numeric_limits<T>::quiet_NaN()}) {
            for (bool first : {false, true}) {
              ember::kernels::binary_scalar<T>(c.op, n, a.data() + off, s, first, y.data() + off);
              for (std::size_t i = off; i < n + off; ++i) {
                if (!(first ? check_binary(c.op, s, a[i], y[i])
                            : check_binary(c.op, a[i], s, y[i]))) {
                  break;
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("binary_rowvec broadcasts a trailing vector over strided rows", T, float,
                   double) {
  kt::IsaRestore restore;
  const std::size_t shapes[][2] = {{0, 5}, {3, 0}, {1, 1}, {4, 7}, {5, 17}, {9, 33}, {64, 1000}};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (const BinaryCase& c : binary_cases) {
      for (const auto& shape : shapes) {
        const std::size_t rows = shape[0], cols = shape[1];
        for (std::size_t pad : {0, 3}) {  // pad > 0: ld > cols, rows start unaligned
          const std::string isa_str = ember::isa_name(isa);
          CAPTURE(isa_str);
          const std::string case_name = c.name;
          CAPTURE(case_name);
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(pad);
          const std::size_t lda = cols + pad, ldy = cols + 2 * pad;
          const std::vector<T> a = kt::inputs<T>(rows * lda + 1, -50, 50, rows * 7 + cols);
          const std::vector<T> v = kt::inputs<T>(cols + 1, -50, 50, cols + 11);
          const T sentinel = T(12345);
          std::vector<T> y(rows * ldy + 1, sentinel);
          ember::kernels::binary_rowvec<T>(c.op, rows, cols, a.data() + 1, lda, v.data() + 1,
                                           y.data() + 1, ldy);
          bool ok = y[0] == sentinel;
          for (std::size_t r = 0; r < rows && ok; ++r) {
            for (std::size_t j = 0; j < cols && ok; ++j) {
              ok = check_binary(c.op, a[1 + r * lda + j], v[1 + j], y[1 + r * ldy + j]);
            }
            for (std::size_t j = cols; j < ldy && ok; ++j) ok = y[1 + r * ldy + j] == sentinel;
          }
          CHECK(ok);
          // In place (y == a, same leading dimension).
          std::vector<T> ip = a;
          ember::kernels::binary_rowvec<T>(c.op, rows, cols, ip.data() + 1, lda, v.data() + 1,
                                           ip.data() + 1, lda);
          for (std::size_t r = 0; r < rows && ok; ++r) {
            ok =
                std::memcmp(ip.data() + 1 + r * lda, y.data() + 1 + r * ldy, cols * sizeof(T)) == 0;
          }
          CHECK(ok);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("axpy and scale match the reference, unaligned and in every ISA", T, float,
                   double) {
  kt::IsaRestore restore;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (std::size_t n : kt::sizes()) {
      const std::string isa_str = ember::isa_name(isa);
      CAPTURE(isa_str);
      CAPTURE(n);
      const std::vector<T> x = kt::inputs<T>(n + 1, -10, 10, n + 5, false);
      const std::vector<T> y0 = kt::inputs<T>(n + 1, -10, 10, n + 6, false);
      std::vector<T> y = y0;
      const T alpha = T(0.37);
      ember::kernels::axpy<T>(n, alpha, x.data() + 1, y.data() + 1);
      bool ok = y[0] == y0[0];
      for (std::size_t i = 1; i <= n && ok; ++i) {
        // One multiply-add: within 1 ulp of |alpha x| + |y| (fused or not).
        const double ref =
            static_cast<double>(y0[i]) + static_cast<double>(alpha) * static_cast<double>(x[i]);
        const double scale = std::fabs(static_cast<double>(y0[i])) +
                             std::fabs(static_cast<double>(alpha) * static_cast<double>(x[i]));
        ok =
            std::fabs(static_cast<double>(y[i]) - ref) <= scale * std::numeric_limits<T>::epsilon();
        CHECK_MESSAGE(ok, "i=", i, " got ", y[i], " ref ", ref);
      }
      CHECK(ok);
      std::vector<T> s = x;
      ember::kernels::scale<T>(n, alpha, s.data() + 1);
      ok = s[0] == x[0];
      for (std::size_t i = 1; i <= n && ok; ++i) {
        ok = kt::ulps(s[i], static_cast<double>(alpha) * static_cast<double>(x[i])) <= 1.0;
      }
      CHECK(ok);
    }
  }
}

TEST_CASE_TEMPLATE("elementwise results are bitwise identical for 1 and 2 threads", T, float,
                   double) {
  kt::IsaRestore restore;
  kt::ThreadRestore threads;
  const std::size_t n = 100003;  // crosses the grain: 2 threads do split it
  const std::vector<T> a = kt::inputs<T>(n, -20, 20, 99);
  const std::vector<T> b = kt::inputs<T>(n, -20, 20, 98);
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    auto run = [&](int nt, auto&& kernel) {
      ember::set_num_threads(nt);
      std::vector<T> y(n, T(0));
      kernel(y);
      return y;
    };
    auto both = [&](auto&& kernel) {
      const std::vector<T> y1 = run(1, kernel);
      const std::vector<T> y2 = run(2, kernel);
      return kt::same_bits(y1, y2);
    };
    for (const UnaryCase& c : unary_cases()) {
      const std::string case_name = c.name;
      CAPTURE(case_name);
      CHECK(
          both([&](std::vector<T>& y) { ember::kernels::unary<T>(c.op, n, a.data(), y.data()); }));
    }
    for (const BinaryCase& c : binary_cases) {
      const std::string case_name = c.name;
      CAPTURE(case_name);
      CHECK(both([&](std::vector<T>& y) {
        ember::kernels::binary<T>(c.op, n, a.data(), b.data(), y.data());
      }));
      CHECK(both([&](std::vector<T>& y) {
        ember::kernels::binary_scalar<T>(c.op, n, a.data(), T(1.5), true, y.data());
      }));
      CHECK(both([&](std::vector<T>& y) {
        ember::kernels::binary_rowvec<T>(c.op, n / 1000, 1000, a.data(), 1000, b.data(), y.data(),
                                         1000);
      }));
    }
    CHECK(both([&](std::vector<T>& y) {
      y = b;
      ember::kernels::axpy<T>(n, T(0.3), a.data(), y.data());
    }));
    CHECK(both([&](std::vector<T>& y) {
      y = a;
      ember::kernels::scale<T>(n, T(0.3), y.data());
    }));
  }
}
