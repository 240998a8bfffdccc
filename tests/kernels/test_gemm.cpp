// GEMM, strided-batched GEMM and GEMV on every ISA this CPU supports, float and double, against a
// naive double-precision reference written here.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

using ember::Isa;

namespace {

struct IsaRestore {
  Isa saved = ember::current_isa();
  ~IsaRestore() { ember::set_isa(saved); }
};

struct ThreadsRestore {
  int saved = ember::get_num_threads();
  ~ThreadsRestore() { ember::set_num_threads(saved); }
};

template <class T>
constexpr T nan_v = std::numeric_limits<T>::quiet_NaN();
// Written into every C element the call must not touch (padding between rows, after the end).
template <class T>
constexpr T sentinel_v = T(-12345.5);

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// Rounding bound for one element: a k-term dot product accumulated in T has error at most about
// k * eps/2 * sum |a_p * b_p| (the classic gamma_k bound); alpha and beta add a few roundings and
// beta * C contributes |beta * c|. So the tolerance is (k + 4) * eps times the magnitude of the
// terms: a real bound, not a guess, and a wrong index or lost term exceeds it.
template <class T>
void check_close(double got, double want, double magnitude, std::size_t k,
                 const std::string& where) {
  const double tol =
      double(k + 4) * double(std::numeric_limits<T>::epsilon()) * (magnitude + 1e-30);
  if (!(std::fabs(got - want) <= tol)) {
    FAIL_CHECK(where << ": got " << got << ", want " << want << " (tolerance " << tol << ")");
  }
}

struct GemmCase {
  bool ta = false, tb = false;
  std::size_t m = 0, n = 0, k = 0;
  double alpha = 1, beta = 0;
  std::size_t pad = 0;          // extra columns in lda, ldb, ldc
  std::size_t offset = 0;       // elements added to every pointer (1: unaligned)
  bool caller_scratch = false;  // scratch from gemm_scratch_size, else nullptr
};

std::string describe(const GemmCase& g) {
  return std::string(ember::isa_name(ember::current_isa())) + " ta=" + std::to_string(g.ta) +
         " tb=" + std::to_string(g.tb) + " m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) +
         " k=" + std::to_string(g.k) + " alpha=" + std::to_string(g.alpha) +
         " beta=" + std::to_string(g.beta) + " pad=" + std::to_string(g.pad) +
         " offset=" + std::to_string(g.offset) + " scratch=" + std::to_string(g.caller_scratch);
}

// Operands of one GEMM in their stored layout, with leading dimensions and padding.
template <class T>
struct Operands {
  std::size_t lda, ldb, ldc;
  std::vector<T> a, b, c;
  Operands(const GemmCase& g, std::mt19937& rng) {
    const std::size_t a_rows = g.ta ? g.k : g.m, a_cols = g.ta ? g.m : g.k;
    const std::size_t b_rows = g.tb ? g.n : g.k, b_cols = g.tb ? g.k : g.n;
    // At least 1, as BLAS requires, even for empty matrices.
    lda = std::max<std::size_t>(1, a_cols + g.pad);
    ldb = std::max<std::size_t>(1, b_cols + g.pad);
    ldc = std::max<std::size_t>(1, g.n + g.pad);
    a = random_vector<T>(g.offset + a_rows * lda, rng);
    b = random_vector<T>(g.offset + b_rows * ldb, rng);
    c = random_vector<T>(g.offset + g.m * ldc + 3, rng);
    // Padding and the elements before and after C must survive.
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::size_t e = i - g.offset;
      const bool inside = i >= g.offset && e / ldc < g.m && e % ldc < g.n;
      if (!inside) {
        c[i] = sentinel_v<T>;
      } else if (g.beta == 0) {
        c[i] = nan_v<T>;  // beta == 0 must ignore C, NaN included
      }
    }
  }
  double op_a(const GemmCase& g, std::size_t i, std::size_t p) const {
    return g.ta ? a[g.offset + p * lda + i] : a[g.offset + i * lda + p];
  }
  double op_b(const GemmCase& g, std::size_t p, std::size_t j) const {
    return g.tb ? b[g.offset + j * ldb + p] : b[g.offset + p * ldb + j];
  }
};

// Checks C (after) against alpha * op(A) op(B) + beta * C (before), and that nothing else moved.
template <class T>
void check_gemm_result(const GemmCase& g, const Operands<T>& ops, const std::vector<T>& c_before,
                       const std::vector<T>& c_after, const std::string& where) {
  for (std::size_t i = 0; i < c_after.size(); ++i) {
    const std::size_t e = i - g.offset;
    const bool inside = i >= g.offset && e / ops.ldc < g.m && e % ops.ldc < g.n;
    if (!inside && std::memcmp(&c_after[i], &c_before[i], sizeof(T)) != 0) {
      FAIL_CHECK(where << ": element " << i << " outside C was written");
      return;
    }
  }
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < g.n; ++j) {
      double acc = 0, mag = 0;
      for (std::size_t p = 0; p < g.k; ++p) {
        const double t = ops.op_a(g, i, p) * ops.op_b(g, p, j);
        acc += t;
        mag += std::fabs(t);
      }
      const double old = c_before[g.offset + i * ops.ldc + j];
      double want = g.alpha * acc, magnitude = std::fabs(g.alpha) * mag;
      if (g.beta != 0) {
        want += g.beta * old;
        magnitude += std::fabs(g.beta * old);
      }
      const double got = c_after[g.offset + i * ops.ldc + j];
      check_close<T>(got, want, magnitude, g.k,
                     where + " C[" + std::to_string(i) + "," + std::to_string(j) + "]");
    }
  }
}

// The GEMM of g on ops's A and B, into c (laid out as ops.c).
template <class T>
void call_gemm(const GemmCase& g, const Operands<T>& ops, std::vector<T>& c) {
  std::vector<T> scratch;
  T* scratch_ptr = nullptr;
  if (g.caller_scratch) {
    // Exactly the advertised size (plus the offset), so an overrun is a sanitizer error.
    scratch.resize(g.offset + ember::kernels::gemm_scratch_size<T>(g.m, g.n, g.k));
    scratch_ptr = scratch.data() + g.offset;
  }
  ember::kernels::gemm<T>(g.ta, g.tb, g.m, g.n, g.k, T(g.alpha), ops.a.data() + g.offset, ops.lda,
                          ops.b.data() + g.offset, ops.ldb, T(g.beta), c.data() + g.offset, ops.ldc,
                          scratch_ptr);
}

template <class T>
void run_gemm_case(const GemmCase& g, std::mt19937& rng) {
  Operands<T> ops(g, rng);
  const std::vector<T> before = ops.c;
  call_gemm<T>(g, ops, ops.c);
  check_gemm_result<T>(g, ops, before, ops.c, describe(g));
}

const std::pair<double, double> all_alpha_beta[] = {
    {1, 0}, {1, 1}, {1, 0.25}, {0, 0}, {0, 1}, {0, 0.25}, {-0.5, 0}, {-0.5, 1}, {-0.5, 0.25}};

}  // namespace

TEST_CASE_TEMPLATE("gemm: small and edge sizes, all transposes, on every ISA", T, float, double) {
  IsaRestore restore;
  std::mt19937 rng(1234);
  // 0 and 1 in each dimension, odd sizes, sizes around every tile and vector width.
  const std::size_t ms[] = {0, 1, 2, 5, 7, 13, 14, 15, 29};
  const std::size_t ns[] = {0, 1, 3, 4, 8, 17, 32, 33, 50};
  const std::size_t ks[] = {0, 1, 2, 9, 33};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (std::size_t m : ms) {
        for (std::size_t n : ns) {
          for (std::size_t k : ks) {
            GemmCase g;
            g.ta = t & 1;
            g.tb = t & 2;
            g.m = m;
            g.n = n;
            g.k = k;
            // Vary the other parameters with the shape so every combination appears.
            const auto& ab = all_alpha_beta[(m + n + k + t) % 9];
            g.alpha = ab.first;
            g.beta = ab.second;
            g.pad = (m + k) % 3 == 0 ? 3 : 0;
            g.offset = (n + k) % 2;
            g.caller_scratch = (m + n) % 2 == 0;
            run_gemm_case<T>(g, rng);
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm: every alpha/beta, padding, offset and scratch choice", T, float, double) {
  IsaRestore restore;
  std::mt19937 rng(99);
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (const auto& ab : all_alpha_beta) {
        for (std::size_t pad : {0, 5}) {
          for (std::size_t offset : {0, 1}) {
            for (bool caller_scratch : {false, true}) {
              GemmCase g;
              g.ta = t & 1;
              g.tb = t & 2;
              g.m = 31;
              g.n = 37;
              g.k = 23;
              g.alpha = ab.first;
              g.beta = ab.second;
              g.pad = pad;
              g.offset = offset;
              g.caller_scratch = caller_scratch;
              run_gemm_case<T>(g, rng);
            }
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm: shapes crossing the cache blocks (k > KC, m > MC, n > NC)", T, float,
                   double) {
  IsaRestore restore;
  std::mt19937 rng(7);
  // Largest blocks of any ISA (gemm_scratch.hpp): KC <= 512, MC <= 2058, NC <= 512 and B passes
  // of NS <= 2048 columns here.
  struct Shape {
    std::size_t m, n, k;
  };
  // {32, 9, 784} to {13, 31, 67} take the dot-product path when only B is transposed
  // (gemm_dot.hpp): a small C, long K, edge tiles in both dimensions and a K that is no multiple of
  // the vector width. The last two have more than 64 rows, so B is packed (not read in place): by
  // the first sliver's tiles when it is not transposed, full panels and an edge one, over several
  // kc slices and two nc blocks.
  const Shape shapes[] = {{30, 45, 600},  {2060, 9, 3},  {20, 530, 20}, {40, 2100, 3},
                          {47, 70, 290},  {32, 9, 784},  {6, 25, 577},  {13, 31, 67},
                          {70, 100, 600}, {150, 600, 20}};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (const Shape& s : shapes) {
        GemmCase g;
        g.ta = t & 1;
        g.tb = t & 2;
        g.m = s.m;
        g.n = s.n;
        g.k = s.k;
        g.alpha = -0.5;
        g.beta = t % 2 == 0 ? 0.25 : 0.0;
        g.pad = 2;
        g.offset = t / 2;
        g.caller_scratch = t % 2 == 1;
        run_gemm_case<T>(g, rng);
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm: A read in place or packed by its leading dimension", T, float, double) {
  IsaRestore restore;
  std::mt19937 rng(31);
  // The tile reads a non-transposed A in place, unless lda puts more than 4 of a tile's rows in one
  // L1 set: then it packs. lda * sizeof(T) = 8 KiB packs on every ISA; 6 KiB packs with the 14-row
  // AVX-512 tile. Both sides, with edge slivers, edge panels, one and two kc slices; B read in
  // place (up to 64 rows) or packed, by the first sliver's tiles as they run (more rows).
  const std::size_t ms[] = {3, 14, 29, 64, 100, 250};
  const std::size_t ks[] = {20, 300, 515};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (std::size_t m : ms) {
      for (std::size_t k : ks) {
        for (std::size_t lda : {k + 3, 4096 / sizeof(T) * 2, 2048 / sizeof(T) * 3}) {
          GemmCase g;
          g.m = m;
          g.n = m > 64 ? 100 : 40;
          g.k = k;
          g.alpha = 1.5;
          g.beta = m % 2 == 0 ? 0.0 : 1.0;
          g.pad = lda - k;
          g.offset = k % 2;
          run_gemm_case<T>(g, rng);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm_packed: A packed once, products against the reference and gemm", T, float,
                   double) {
  IsaRestore restore;
  std::mt19937 rng(11);
  struct Shape {
    std::size_t m, n, k;
  };
  // Edge slivers, one row or column, K across the kc slices, M across the mc blocks.
  const Shape shapes[] = {{1, 7, 5},     {9, 1, 4},    {13, 17, 9}, {64, 196, 288},
                          {29, 33, 600}, {2060, 9, 3}, {5, 40, 0}};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (const Shape& sh : shapes) {
        GemmCase g;
        g.ta = t & 1;
        g.tb = t & 2;
        g.m = sh.m;
        g.n = sh.n;
        g.k = sh.k;
        g.alpha = t == 3 ? -0.5 : 1.0;
        g.beta = t % 2 == 0 ? 0.0 : 0.25;
        g.pad = t == 1 ? 3 : 0;
        g.offset = t / 2;
        g.caller_scratch = t % 2 == 0;
        Operands<T> ops(g, rng);
        const std::vector<T> before = ops.c;
        // The packed copy is all the product reads of A: poison the original afterwards.
        std::vector<T> packed(ember::kernels::gemm_packed_a_size<T>(g.m, g.k) + 1, nan_v<T>);
        ember::kernels::gemm_pack_a<T>(g.ta, g.m, g.k, ops.a.data() + g.offset, ops.lda,
                                       packed.data());
        std::vector<T> a_saved = ops.a;
        std::fill(ops.a.begin(), ops.a.end(), nan_v<T>);
        std::vector<T> scratch;
        if (g.caller_scratch) scratch.resize(ember::kernels::gemm_scratch_size<T>(g.m, g.n, g.k));
        ember::kernels::gemm_packed<T>(g.m, g.n, g.k, T(g.alpha), packed.data(), g.tb,
                                       ops.b.data() + g.offset, ops.ldb, T(g.beta),
                                       ops.c.data() + g.offset, ops.ldc,
                                       g.caller_scratch ? scratch.data() : nullptr);
        CHECK(std::isnan(double(packed.back())));  // nothing written past the packed size
        ops.a = a_saved;
        check_gemm_result<T>(g, ops, before, ops.c, "gemm_packed " + describe(g));
        // Where gemm packs A itself (a C of two or more rows and columns, not its dot path), the
        // two are bitwise equal.
        if (g.m > 1 && g.n > 1 && g.k > 0 && (g.ta || !g.tb || g.m * g.n > 1024)) {
          std::vector<T> c2 = before;
          ember::kernels::gemm<T>(g.ta, g.tb, g.m, g.n, g.k, T(g.alpha), ops.a.data() + g.offset,
                                  ops.lda, ops.b.data() + g.offset, ops.ldb, T(g.beta),
                                  c2.data() + g.offset, ops.ldc);
          CHECK_MESSAGE(std::memcmp(c2.data(), ops.c.data(), c2.size() * sizeof(T)) == 0,
                        describe(g));
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm: alpha == 0 or k == 0 never reads A and B", T, float, double) {
  IsaRestore restore;
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    std::vector<T> a(6 * 4, nan_v<T>), b(4 * 5, nan_v<T>), c(6 * 5, T(2));
    ember::kernels::gemm<T>(false, false, 6, 5, 4, T(0), a.data(), 4, b.data(), 5, T(0.5), c.data(),
                            5);
    for (T v : c) CHECK(v == T(1));
    ember::kernels::gemm<T>(false, false, 6, 5, 0, T(1), a.data(), 4, b.data(), 5, T(0), c.data(),
                            5);
    for (T v : c) CHECK(v == T(0));
  }
}

TEST_CASE_TEMPLATE("gemm_strided_batched: batch 0, 1 and 3", T, float, double) {
  IsaRestore restore;
  std::mt19937 rng(5);
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (std::size_t batch : {0, 1, 3}) {
        for (bool caller_scratch : {false, true}) {
          GemmCase g;
          g.ta = t & 1;
          g.tb = t & 2;
          g.m = 19;
          g.n = 35;
          g.k = 12;
          g.alpha = 1;
          g.beta = t < 2 ? 0.0 : 0.25;
          g.pad = 1;
          // One Operands per batch entry, laid out back to back with a gap between entries.
          std::vector<Operands<T>> entries;
          for (std::size_t i = 0; i < 3; ++i) entries.emplace_back(g, rng);
          const std::size_t sa = entries[0].a.size() + 7, sb = entries[0].b.size() + 7,
                            sc = entries[0].c.size() + 7;
          std::vector<T> a(3 * sa), b(3 * sb), c(3 * sc, sentinel_v<T>);
          for (std::size_t i = 0; i < 3; ++i) {
            std::copy(entries[i].a.begin(), entries[i].a.end(), a.begin() + i * sa);
            std::copy(entries[i].b.begin(), entries[i].b.end(), b.begin() + i * sb);
            std::copy(entries[i].c.begin(), entries[i].c.end(), c.begin() + i * sc);
          }
          const std::vector<T> c_before = c;
          std::vector<T> scratch(
              caller_scratch ? ember::kernels::gemm_scratch_size<T>(g.m, g.n, g.k) : 0);
          ember::kernels::gemm_strided_batched<T>(g.ta, g.tb, g.m, g.n, g.k, T(g.alpha), a.data(),
                                                  entries[0].lda, sa, b.data(), entries[0].ldb, sb,
                                                  T(g.beta), c.data(), entries[0].ldc, sc, batch,
                                                  caller_scratch ? scratch.data() : nullptr);
          for (std::size_t i = 0; i < 3; ++i) {
            const std::vector<T> before(c_before.begin() + i * sc,
                                        c_before.begin() + i * sc + entries[i].c.size());
            const std::vector<T> after(c.begin() + i * sc,
                                       c.begin() + i * sc + entries[i].c.size());
            const std::string where =
                describe(g) + " batch=" + std::to_string(batch) + " entry=" + std::to_string(i);
            if (i < batch) {
              check_gemm_result<T>(g, entries[i], before, after, where);
            } else {
              CHECK_MESSAGE(
                  std::memcmp(before.data(), after.data(), before.size() * sizeof(T)) == 0,
                  where << ": an entry beyond the batch was written");
            }
          }
          for (std::size_t i = 0; i < 3; ++i) {  // the gaps between entries are untouched
            for (std::size_t e = entries[i].c.size(); e < sc; ++e)
              CHECK(c[i * sc + e] == sentinel_v<T>);
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemv: both orientations, edge sizes, alpha and beta", T, float, double) {
  IsaRestore restore;
  std::mt19937 rng(11);
  struct Shape {
    std::size_t m, n;
  };
  const Shape shapes[] = {{0, 0},  {0, 5},  {5, 0},  {1, 1},   {1, 40},
                          {40, 1}, {7, 33}, {33, 7}, {64, 64}, {300, 517}};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (bool ta : {false, true}) {
      for (const Shape& s : shapes) {
        for (const auto& ab : all_alpha_beta) {
          const std::size_t lda = s.n + 3;
          const std::size_t xs = ta ? s.m : s.n, ys = ta ? s.n : s.m;
          const std::vector<T> a = random_vector<T>(s.m * lda + 1, rng);
          const std::vector<T> x = random_vector<T>(xs + 1, rng);
          std::vector<T> y = random_vector<T>(ys + 2, rng);
          if (ab.second == 0) {
            for (std::size_t i = 0; i < ys; ++i) y[1 + i] = nan_v<T>;
          }
          y[0] = y[ys + 1] = sentinel_v<T>;
          const std::vector<T> y0 = y;
          // Offset by one element: unaligned pointers.
          ember::kernels::gemv<T>(ta, s.m, s.n, T(ab.first), a.data() + 1, lda, x.data() + 1,
                                  T(ab.second), y.data() + 1);
          const std::string where =
              std::string(ember::isa_name(isa)) + " ta=" + std::to_string(ta) +
              " m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
              " alpha=" + std::to_string(ab.first) + " beta=" + std::to_string(ab.second);
          CHECK(y[0] == sentinel_v<T>);
          CHECK(y[ys + 1] == sentinel_v<T>);
          const std::size_t inner = ta ? s.m : s.n;
          for (std::size_t i = 0; i < ys; ++i) {
            double acc = 0, mag = 0;
            for (std::size_t p = 0; p < inner; ++p) {
              const double av = ta ? a[1 + p * lda + i] : a[1 + i * lda + p];
              acc += av * double(x[1 + p]);
              mag += std::fabs(av * double(x[1 + p]));
            }
            double want = ab.first * acc, magnitude = std::fabs(ab.first) * mag;
            if (ab.second != 0) {
              want += ab.second * double(y0[1 + i]);
              magnitude += std::fabs(ab.second * double(y0[1 + i]));
            }
            check_close<T>(y[1 + i], want, magnitude, inner,
                           where + " y[" + std::to_string(i) + "]");
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("gemm scratch size: zero for empty products, covers every ISA", T, float,
                   double) {
  using ember::kernels::gemm_scratch_size;
  CHECK(gemm_scratch_size<T>(0, 10, 10) == 0);
  CHECK(gemm_scratch_size<T>(10, 0, 10) == 0);
  CHECK(gemm_scratch_size<T>(10, 10, 0) == 0);
  // Grows with the problem only up to the cache blocks: a huge K or M costs no more than one block.
  CHECK(gemm_scratch_size<T>(64, 64, 100000) == gemm_scratch_size<T>(64, 64, 512));
  CHECK(gemm_scratch_size<T>(100000, 64, 64) == gemm_scratch_size<T>(8192, 64, 64));
  // The caller-scratch cases above allocate exactly this many elements, so the sanitizer build
  // proves it suffices for every ISA's blocking.
  CHECK(gemm_scratch_size<T>(1, 1, 1) > 0);
}

TEST_CASE_TEMPLATE("gemm: 1 to 5 threads, rows split or packed blocks shared", T, float, double) {
  IsaRestore restore;
  ThreadsRestore threads;
  std::mt19937 rng(5);
  // With up to 4 threads, each may take a share of C's rows and pack its own copy of B, or all
  // share the packed blocks (whichever costs fewer tiles with the ISA's tile; 5 threads always
  // share). On every ISA the shapes take both ways at 2, 3 and 4 threads: one over two mc blocks
  // (M > MC), one over two kc slices, one with B read in place and an edge panel (by 1 thread; more
  // share). 1 thread's result is checked against the reference, the others bitwise against it.
  struct Shape {
    std::size_t m, n, k;
  };
  const Shape shapes[] = {{150, 70, 60}, {2100, 20, 30}, {70, 100, 520}, {40, 75, 300}};
  // A first team of 5 threads: LLVM 14's OpenMP runtime (the clang CI build) leaks its thread
  // table when a team grows past 4 threads after a smaller one, and LeakSanitizer reports it (a
  // plain OpenMP program with teams of 1 to 5 threads does the same; 5 first does not).
  ember::set_num_threads(5);
  ember::parallel_for(0, 5, 1, [](std::size_t, std::size_t) {});
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      for (const Shape& sh : shapes) {
        GemmCase g;
        g.ta = t & 1;
        g.tb = t & 2;
        g.m = sh.m;
        g.n = sh.n;
        g.k = sh.k;
        g.alpha = 0.75;
        g.beta = t % 2 == 0 ? 0.0 : 0.5;
        g.pad = t;
        g.offset = t / 2;
        g.caller_scratch = t % 2 == 0;
        Operands<T> ops(g, rng);
        const std::vector<T> before = ops.c;
        std::vector<T> one;
        for (int nt = 1; nt <= 5; ++nt) {
          ember::set_num_threads(nt);
          std::vector<T> c = before;
          call_gemm<T>(g, ops, c);
          if (nt == 1) {
            check_gemm_result<T>(g, ops, before, c, describe(g));
            one = c;
          } else {
            CHECK_MESSAGE(std::memcmp(one.data(), c.data(), c.size() * sizeof(T)) == 0,
                          describe(g) << " threads=" << nt);
          }
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("1 and 2 threads give bitwise identical results", T, float, double) {
  IsaRestore restore;
  ThreadsRestore threads;
  std::mt19937 rng(3);
  // Big enough that every split point (row slivers, B panels, gemv rows and column blocks) is used
  // by two threads: each thread gets far more than the parallel-work threshold.
  const std::size_t m = 301, n = 283, k = 600;
  const std::vector<T> a = random_vector<T>(m * k, rng), b = random_vector<T>(k * n, rng);
  const std::vector<T> c0 = random_vector<T>(m * n, rng);
  const std::vector<T> x = random_vector<T>(2000, rng), g = random_vector<T>(2000 * 1000, rng);
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      std::vector<T> c1 = c0, c2 = c0;
      ember::set_num_threads(1);
      ember::kernels::gemm<T>(ta, tb, m, n, k, T(0.75), a.data(), ta ? m : k, b.data(), tb ? k : n,
                              T(0.5), c1.data(), n);
      ember::set_num_threads(2);
      ember::kernels::gemm<T>(ta, tb, m, n, k, T(0.75), a.data(), ta ? m : k, b.data(), tb ? k : n,
                              T(0.5), c2.data(), n);
      CHECK_MESSAGE(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(T)) == 0,
                    ember::isa_name(isa) << " ta=" << ta << " tb=" << tb);
    }
    for (const auto& shape :
         {std::array<std::size_t, 3>{30, 9, 5001}, {64, 128, 3136}, {301, 96, 300}}) {
      // A times B^T: the dot-product path (small C, long K) split over row tiles; then few B
      // panels, where 1 and 2 threads may split the panels or the A slivers (whichever shares the
      // tiles more evenly: Linear(3136, 128) at batch 64, and a tall narrow product).
      const std::size_t fm = shape[0], fn = shape[1], fk = shape[2];
      std::vector<T> c1(fm * fn, T(1)), c2(fm * fn, T(1));
      ember::set_num_threads(1);
      ember::kernels::gemm<T>(false, true, fm, fn, fk, T(1), g.data(), fk, g.data() + fm * fk, fk,
                              T(0.5), c1.data(), fn);
      ember::set_num_threads(2);
      ember::kernels::gemm<T>(false, true, fm, fn, fk, T(1), g.data(), fk, g.data() + fm * fk, fk,
                              T(0.5), c2.data(), fn);
      CHECK_MESSAGE(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(T)) == 0,
                    ember::isa_name(isa) << " " << fm << "x" << fn << "x" << fk);
    }
    for (bool ta : {false, true}) {
      // gemv over a 2000 x 1000 matrix (or its transpose), and the one-row GEMM path.
      std::vector<T> y1(2 * 2000, T(0)), y2(2 * 2000, T(0));
      ember::set_num_threads(1);
      ember::kernels::gemv<T>(ta, 2000, 1000, T(1), g.data(), 1000, x.data(), T(0), y1.data());
      ember::kernels::gemm<T>(false, !ta, 1, 2000, 1000, T(1), x.data(), 1000, g.data(),
                              ta ? 2000 : 1000, T(0), y1.data() + 2000, 1);
      ember::set_num_threads(2);
      ember::kernels::gemv<T>(ta, 2000, 1000, T(1), g.data(), 1000, x.data(), T(0), y2.data());
      ember::kernels::gemm<T>(false, !ta, 1, 2000, 1000, T(1), x.data(), 1000, g.data(),
                              ta ? 2000 : 1000, T(0), y2.data() + 2000, 1);
      CHECK_MESSAGE(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(T)) == 0,
                    ember::isa_name(isa) << " gemv ta=" << ta);
    }
  }
}
