// Row softmax, log-softmax and row reductions on every ISA this CPU supports, against references
// computed here in double.
//
// Error bounds (eps = T's machine epsilon; d = x - max(row); S = sum of e^d over the row):
//  - softmax: x - max rounds to T, an error up to |d| eps / 2 in the exponent, i.e. a relative
//    error |d| eps / 2 in e^d; exp adds <= 2 ulp, the final scaling 1 more; the sum of `cols`
//    positive terms in any order is within (cols - 1) eps relative (Higham's gamma bound, the
//    only bound that holds for any summation order). Total, in units of eps times the result:
//    4 + |d| + cols. In ulp that is up to twice as many (an ulp is eps to 2 eps relative).
//  - log-softmax: (x - max) - log S, absolute error <= eps (|d| + |log S| + cols + 4).
//  - sum: |error| <= (cols - 1) eps sum |x|; sum of squares likewise with x^2 (+1 for squaring);
//    max is exact.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernel_test_support.hpp"

using ember::Isa;
using ember::kernels::RowReduce;

namespace {

struct Shape {
  std::size_t rows, cols;
};
// Empty in either direction, single column, widths around the vector widths, long rows, and a
// 300 x 257 matrix that crosses the threading grain.
const Shape shapes[] = {{0, 4},  {3, 0},  {1, 1},  {2, 3},    {5, 8},    {4, 15},
                        {3, 16}, {3, 17}, {7, 33}, {2, 1000}, {300, 257}};

template <class T>
double eps() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

// Rows of inputs, with some rows holding the special cases softmax must handle.
template <class T>
std::vector<T> matrix(std::size_t rows, std::size_t ld, std::size_t seed, double range) {
  std::vector<T> x = kt::inputs<T>(rows * ld + 1, -range, range, seed, false);
  using L = std::numeric_limits<T>;
  if (rows >= 3 && ld >= 3) {
    // Row 0: large magnitudes (a naive exp would overflow). Row 1: -inf entries get probability 0.
    x[1 + 0] = T(1e30);
    x[1 + 1] = T(-1e30);
    x[1 + ld] = -L::infinity();
    x[1 + ld + 2] = -L::infinity();
    x[1 + 2 * ld + 1] = T(80);  // e^80 overflows float without the max subtraction
  }
  return x;
}

template <class T>
void check_softmax(bool log_out) {
  kt::IsaRestore restore;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (const Shape& s : shapes) {
      for (std::size_t pad : {0, 3}) {
        const std::string isa_str = ember::isa_name(isa);
        CAPTURE(isa_str);
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        CAPTURE(pad);
        const std::size_t ldx = s.cols + pad, ldy = s.cols + 2 * pad;
        const std::vector<T> x = matrix<T>(s.rows, ldx, s.rows * 13 + s.cols, 30);
        const T sentinel = T(-12345);
        std::vector<T> y(s.rows * ldy + 1, sentinel);
        // Offset by one element: rows start unaligned.
        if (log_out) {
          ember::kernels::log_softmax_rows<T>(s.rows, s.cols, x.data() + 1, ldx, y.data() + 1, ldy);
        } else {
          ember::kernels::softmax_rows<T>(s.rows, s.cols, x.data() + 1, ldx, y.data() + 1, ldy);
        }
        bool ok = y[0] == sentinel;
        for (std::size_t r = 0; r < s.rows && ok; ++r) {
          const T* in = x.data() + 1 + r * ldx;
          const T* out = y.data() + 1 + r * ldy;
          double mx = -INFINITY;
          for (std::size_t c = 0; c < s.cols; ++c) mx = std::max(mx, static_cast<double>(in[c]));
          double sum = 0;
          for (std::size_t c = 0; c < s.cols; ++c) sum += std::exp(static_cast<double>(in[c]) - mx);
          for (std::size_t c = 0; c < s.cols && ok; ++c) {
            const double d = static_cast<double>(in[c]) - mx;
            const double ref = log_out ? d - std::log(sum) : std::exp(d) / sum;
            const double n = static_cast<double>(s.cols);
            const double tol = log_out
                                   ? eps<T>() * (std::fabs(d) + std::fabs(std::log(sum)) + n + 4)
                                   : 2 * eps<T>() * (4 + std::fabs(d) + n) * std::fabs(ref) +
                                         static_cast<double>(std::numeric_limits<T>::denorm_min());
            ok = std::isinf(ref) || std::isinf(d)
                     ? static_cast<double>(out[c]) == ref
                     : std::fabs(static_cast<double>(out[c]) - ref) <= tol;
            CHECK_MESSAGE(ok, "row ", r, " col ", c, ": x ", in[c], ", got ", out[c],
                          ", reference ", ref);
          }
          for (std::size_t c = s.cols; c < ldy && r + 1 < s.rows && ok; ++c) {
            ok = out[c] == sentinel;  // the gap between rows is not written
          }
        }
        CHECK(ok);
        // In place gives the same bits.
        std::vector<T> ip = x;
        if (log_out) {
          ember::kernels::log_softmax_rows<T>(s.rows, s.cols, ip.data() + 1, ldx, ip.data() + 1,
                                              ldx);
        } else {
          ember::kernels::softmax_rows<T>(s.rows, s.cols, ip.data() + 1, ldx, ip.data() + 1, ldx);
        }
        for (std::size_t r = 0; r < s.rows && ok; ++r) {
          ok =
              std::memcmp(ip.data() + 1 + r * ldx, y.data() + 1 + r * ldy, s.cols * sizeof(T)) == 0;
        }
        CHECK(ok);
      }
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("softmax_rows matches the double reference on every ISA", T, float, double) {
  check_softmax<T>(false);
}

TEST_CASE_TEMPLATE("log_softmax_rows matches the double reference on every ISA", T, float, double) {
  check_softmax<T>(true);
}

TEST_CASE_TEMPLATE("softmax special rows: NaN, +inf, all -inf, huge values", T, float, double) {
  kt::IsaRestore restore;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    auto softmax = [](std::vector<T> x, bool log_out) {
      std::vector<T> y(x.size());
      if (log_out) {
        ember::kernels::log_softmax_rows<T>(1, x.size(), x.data(), x.size(), y.data(), y.size());
      } else {
        ember::kernels::softmax_rows<T>(1, x.size(), x.data(), x.size(), y.data(), y.size());
      }
      return y;
    };
    for (bool lg : {false, true}) {
      CAPTURE(lg);
      // As in PyTorch: a NaN anywhere, a +inf, or a row of -inf gives a row of NaN.
      for (const std::vector<T>& row : {std::vector<T>{1, nan, 2, 3, 4, 5, 6, 7, 8},
                                        std::vector<T>{1, inf, 2}, std::vector<T>(19, -inf)}) {
        for (T v : softmax(row, lg)) CHECK(std::isnan(v));
      }
      // Huge finite values: the largest wins outright.
      const std::vector<T> y = softmax({T(1e30), T(-1e30), L::max(), T(0)}, lg);
      CHECK(y[2] == T(lg ? 0 : 1));
      CHECK(y[0] == (lg ? T(1e30) - L::max() : T(0)));
    }
    CHECK(softmax({T(3)}, false)[0] == T(1));
    CHECK(softmax({T(3)}, true)[0] == T(0));
  }
}

namespace {

// Row reductions (out[r] over row r) or column reductions (out[c] over column c) against a double
// reference, on every ISA, with a row stride and output guards.
template <class T>
void check_reduce(RowReduce op, const char* name, bool by_cols) {
  kt::IsaRestore restore;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (const Shape& s : shapes) {
      const std::string isa_str = ember::isa_name(isa);
      CAPTURE(isa_str);
      CAPTURE(name);
      CAPTURE(by_cols);
      CAPTURE(s.rows);
      CAPTURE(s.cols);
      const std::size_t ldx = s.cols + 3;
      const std::size_t n_out = by_cols ? s.cols : s.rows, n_in = by_cols ? s.rows : s.cols;
      const std::vector<T> x =
          kt::inputs<T>(s.rows * ldx + 1, -100, 100, s.rows + 5 * s.cols, false);
      std::vector<T> out(n_out + 2, T(-7));
      if (by_cols) {
        ember::kernels::reduce_cols<T>(op, s.rows, s.cols, x.data() + 1, ldx, out.data() + 1);
      } else {
        ember::kernels::reduce_rows<T>(op, s.rows, s.cols, x.data() + 1, ldx, out.data() + 1);
      }
      CHECK(out[0] == T(-7));
      CHECK(out[n_out + 1] == T(-7));
      for (std::size_t o = 0; o < n_out; ++o) {
        double ref = op == RowReduce::max ? -INFINITY : 0.0, mag = 0;
        bool nan = false;
        for (std::size_t i = 0; i < n_in; ++i) {
          const double v = static_cast<double>(by_cols ? x[1 + i * ldx + o] : x[1 + o * ldx + i]);
          nan = nan || std::isnan(v);
          if (op == RowReduce::sum) ref += v, mag += std::fabs(v);
          if (op == RowReduce::sumsq) ref += v * v, mag += v * v;
          if (op == RowReduce::max) ref = std::max(ref, v);
        }
        const double got = static_cast<double>(out[1 + o]);
        if (nan) {
          CHECK(std::isnan(got));  // torch.max / sum propagate NaN
        } else if (op == RowReduce::max || std::isinf(ref) || std::isnan(ref)) {
          CHECK((got == ref || (std::isnan(got) && std::isnan(ref))));
        } else {
          const double tol = (static_cast<double>(n_in) + 1) * eps<T>() * mag +
                             static_cast<double>(std::numeric_limits<T>::denorm_min());
          CHECK(std::fabs(got - ref) <= tol);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("reduce_rows sum, max, sum of squares match the reference on every ISA", T,
                   float, double) {
  check_reduce<T>(RowReduce::sum, "sum", false);
  check_reduce<T>(RowReduce::max, "max", false);
  check_reduce<T>(RowReduce::sumsq, "sumsq", false);
}

TEST_CASE_TEMPLATE("reduce_cols sum, max, sum of squares match the reference on every ISA", T,
                   float, double) {
  check_reduce<T>(RowReduce::sum, "sum", true);
  check_reduce<T>(RowReduce::max, "max", true);
  check_reduce<T>(RowReduce::sumsq, "sumsq", true);
}

TEST_CASE_TEMPLATE("reduce_cols: NaN in any row propagates; empty columns give the identity", T,
                   float, double) {
  kt::IsaRestore restore;
  using L = std::numeric_limits<T>;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    // 5 rows x 300 columns (vector blocks and a scalar tail); a NaN in row 3 of some columns.
    const std::size_t rows = 5, cols = 300;
    std::vector<T> x(rows * cols, T(1));
    for (std::size_t c : {0, 17, 129, 299}) x[3 * cols + c] = L::quiet_NaN();
    for (RowReduce op : {RowReduce::sum, RowReduce::max, RowReduce::sumsq}) {
      std::vector<T> out(cols, T(-7));
      ember::kernels::reduce_cols<T>(op, rows, cols, x.data(), cols, out.data());
      for (std::size_t c = 0; c < cols; ++c) {
        CAPTURE(c);
        const bool has_nan = c == 0 || c == 17 || c == 129 || c == 299;
        if (has_nan) {
          CHECK(std::isnan(out[c]));
        } else {
          CHECK(out[c] == (op == RowReduce::max ? T(1) : T(5)));
        }
      }
      std::vector<T> empty(3, T(-7));
      ember::kernels::reduce_cols<T>(op, 0, 3, x.data(), cols, empty.data());
      for (T v : empty) CHECK(v == (op == RowReduce::max ? -L::infinity() : T(0)));
    }
  }
}

TEST_CASE_TEMPLATE("reduce_rows special values", T, float, double) {
  kt::IsaRestore restore;
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    auto reduce = [](RowReduce op, std::vector<T> x) {
      T out = T(-7);
      ember::kernels::reduce_rows<T>(op, 1, x.size(), x.data(), x.size(), &out);
      return out;
    };
    // The NaN sits in each position of a 37-element row: vector body and tail alike.
    for (std::size_t pos = 0; pos < 37; ++pos) {
      std::vector<T> x(37, T(1));
      x[pos] = nan;
      CAPTURE(pos);
      CHECK(std::isnan(reduce(RowReduce::max, x)));
      CHECK(std::isnan(reduce(RowReduce::sum, x)));
    }
    CHECK(reduce(RowReduce::max, {}) == -inf);  // max of an empty row
    CHECK(reduce(RowReduce::sum, {}) == T(0));
    CHECK(reduce(RowReduce::sumsq, {}) == T(0));
    CHECK(reduce(RowReduce::max, {-inf, -inf}) == -inf);
    CHECK(reduce(RowReduce::max, {T(-3), T(-2)}) == T(-2));
    CHECK(std::isnan(reduce(RowReduce::sum, {inf, -inf})));
    CHECK(reduce(RowReduce::sumsq, {L::max(), T(0)}) == inf);
    CHECK(reduce(RowReduce::sum, {L::denorm_min(), L::denorm_min()}) == 2 * L::denorm_min());
  }
}

TEST_CASE_TEMPLATE("softmax and reductions are bitwise identical for 1 and 2 threads", T, float,
                   double) {
  kt::IsaRestore restore;
  kt::ThreadRestore threads;
  const std::size_t rows = 301, cols = 999;  // crosses the grain: 2 threads split the rows
  const std::vector<T> x = kt::inputs<T>(rows * cols, -20, 20, 7);
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    const std::string isa_str = ember::isa_name(isa);
    CAPTURE(isa_str);
    auto run = [&](int nt, int which) {
      ember::set_num_threads(nt);
      std::vector<T> y(rows * cols, T(0));
      switch (which) {
        case 0:
          ember::kernels::softmax_rows<T>(rows, cols, x.data(), cols, y.data(), cols);
          break;
        case 1:
          ember::kernels::log_softmax_rows<T>(rows, cols, x.data(), cols, y.data(), cols);
          break;
        case 2:
        case 3:
        case 4:
          ember::kernels::reduce_rows<T>(static_cast<RowReduce>(which - 2), rows, cols, x.data(),
                                         cols, y.data());
          break;
        default:
          ember::kernels::reduce_cols<T>(static_cast<RowReduce>(which - 5), rows, cols, x.data(),
                                         cols, y.data());
      }
      return y;
    };
    for (int which = 0; which < 8; ++which) {
      CAPTURE(which);
      CHECK(kt::same_bits(run(1, which), run(2, which)));
    }
  }
}
