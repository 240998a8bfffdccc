// The Winograd row splits (even / odd columns of zero-padded rows for F(2x2), the four column
// phases for F(4x4)), F(2x2)'s input tiles and B along the columns, and their adjoints on every ISA
// this CPU supports, bit for bit against a reference written here: widths 1..40 (odd, even and
// around the 16- and 32-column vector steps), padding 0..3, output lengths shorter and longer
// than the padded row, several rows with a stride, unaligned pointers (offset by one element),
// signed zeros, infinities and NaNs with payloads (the merge's NaNs only in the rows it adds to:
// the payload of NaN + NaN depends on the operand order a compiler picks); the merge must touch
// nothing but the row's own columns.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernel_test_support.hpp"

using ember::Isa;

namespace {

template <class T>
bool wino_same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
std::vector<T> wino_input(std::size_t n, std::size_t seed, bool with_nan = true) {
  kt::Lcg rng(seed);
  std::vector<T> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<T>(rng.uniform(-4, 4));
    if (i % 11 == 3) x[i] = -T(0);
    if (i % 13 == 5) x[i] = std::numeric_limits<T>::infinity();
    if (with_nan && i % 17 == 7) {
      x[i] = std::numeric_limits<T>::quiet_NaN();
      if constexpr (sizeof(T) == 4) {
        std::uint32_t u;
        std::memcpy(&u, &x[i], 4);
        u |= static_cast<std::uint32_t>(i + 1) & 0xffffu;
        std::memcpy(&x[i], &u, 4);
      }
    }
  }
  return x;
}

struct WinoRowCase {
  std::size_t rows, W, pad, n, ldx, lde;
};

std::vector<WinoRowCase> wino_cases() {
  std::vector<WinoRowCase> cs;
  for (std::size_t W : {1, 2, 3, 5, 7, 8, 13, 14, 15, 16, 17, 28, 30, 31, 32, 33, 34, 40}) {
    for (std::size_t pad = 0; pad <= 3; ++pad) {
      const std::size_t full = (W + 2 * pad + 1) / 2;  // outputs covering the padded row
      for (std::size_t n : {std::size_t(1), full > 1 ? full - 1 : 1, full, full + 1, full + 17}) {
        cs.push_back({3, W, pad, n, 2 * W + 1, n + 2});
      }
    }
  }
  cs.push_back({0, 5, 1, 4, 10, 4});
  cs.push_back({2, 5, 1, 0, 10, 4});
  return cs;
}

template <class T>
void check_split() {
  kt::IsaRestore restore;
  const T sentinel = T(777.5);
  for (const WinoRowCase& c : wino_cases()) {
    // Offset by one element: no alignment beyond T's.
    const std::vector<T> xs = wino_input<T>(c.rows * c.ldx + 2, c.W * 7 + c.pad);
    const T* x = xs.data() + 1;
    const std::size_t ne = c.rows * c.lde + 2;
    std::vector<T> e_ref(ne, sentinel), o_ref(ne, sentinel);
    for (std::size_t r = 0; r < c.rows; ++r) {
      for (std::size_t k = 0; k < c.n; ++k) {
        for (std::size_t s = 0; s < 2; ++s) {
          const auto col = static_cast<std::int64_t>(2 * k + s) - static_cast<std::int64_t>(c.pad);
          const T v = col >= 0 && col < static_cast<std::int64_t>(c.W)
                          ? x[r * c.ldx + static_cast<std::size_t>(col)]
                          : T(0);
          (s == 0 ? e_ref : o_ref)[1 + r * c.lde + k] = v;
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      std::vector<T> e(ne, sentinel), o(ne, sentinel);
      ember::active_kernels().of<T>().wino_split_rows(c.rows, c.W, c.pad, c.n, x, c.ldx,
                                                      e.data() + 1, o.data() + 1, c.lde);
      CHECK(wino_same_bits(e, e_ref));
      CHECK(wino_same_bits(o, o_ref));
    }
  }
}

template <class T>
void check_merge(bool add) {
  kt::IsaRestore restore;
  for (const WinoRowCase& c : wino_cases()) {
    const std::size_t ne = c.rows * c.lde + 2;
    const std::vector<T> es = wino_input<T>(ne, c.W * 5 + c.pad + 1, false);
    const std::vector<T> os = wino_input<T>(ne, c.W * 3 + c.pad + 2, false);
    // x: values everywhere, including the columns past W (they must stay as they are).
    const std::vector<T> x0 = wino_input<T>(c.rows * c.ldx + 2, c.W + c.pad + 3);
    std::vector<T> x_ref = x0;
    for (std::size_t r = 0; r < c.rows; ++r) {
      for (std::size_t k = 0; k < c.n; ++k) {
        for (std::size_t s = 0; s < 2; ++s) {
          const auto col = static_cast<std::int64_t>(2 * k + s) - static_cast<std::int64_t>(c.pad);
          if (col < 0 || col >= static_cast<std::int64_t>(c.W)) continue;
          T& dst = x_ref[1 + r * c.ldx + static_cast<std::size_t>(col)];
          const T v = (s == 0 ? es : os)[1 + r * c.lde + k];
          dst = add ? dst + v : v;
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      CAPTURE(add);
      std::vector<T> x = x0;
      ember::active_kernels().of<T>().wino_merge_rows(add, c.rows, c.W, c.pad, c.n, es.data() + 1,
                                                      os.data() + 1, c.lde, x.data() + 1, c.ldx);
      CHECK(wino_same_bits(x, x_ref));
    }
  }
}

// F(2x2)'s input tiles: v[(4a + b) * ldv + j * n + k] = (B^T d B)[a][b] from padded rows 2j ..
// 2j + 3 (some of them null: zeros), B^T along the columns first. Inputs with infinities but no
// NaN (inf - inf gives the CPU's default NaN on every path; a NaN operand's payload could depend
// on the operand order a compiler picks).
template <class T>
void check_bt_tiles() {
  kt::IsaRestore restore;
  const T sentinel = T(777.5);
  for (const WinoRowCase& c : wino_cases()) {
    const std::size_t tile_rows = c.rows;
    const std::vector<T> xs =
        wino_input<T>((2 * tile_rows + 2) * c.ldx + 2, c.W * 7 + c.pad, false);
    // Padded rows: every third one zeros (nullptr), the others rows of xs offset by one element.
    std::vector<const T*> rows(2 * tile_rows + 2);
    for (std::size_t m = 0; m < rows.size(); ++m) {
      rows[m] = m % 3 == 1 ? nullptr : xs.data() + 1 + m * c.ldx;
    }
    const std::size_t ldv = tile_rows * c.n + 3, nv = 16 * ldv + 2;
    std::vector<T> v_ref(nv, sentinel);
    auto xv = [&](std::size_t m, std::int64_t col) {
      return rows[m] != nullptr && col >= 0 && col < static_cast<std::int64_t>(c.W)
                 ? rows[m][static_cast<std::size_t>(col)]
                 : T(0);
    };
    for (std::size_t j = 0; j < tile_rows; ++j) {
      for (std::size_t k = 0; k < c.n; ++k) {
        const std::int64_t s = static_cast<std::int64_t>(2 * k) - static_cast<std::int64_t>(c.pad);
        T cb[4][4];  // [padded row i][b]: B^T along the columns
        for (std::size_t i = 0; i < 4; ++i) {
          const std::size_t m = 2 * j + i;
          const T x0 = xv(m, s), x1 = xv(m, s + 1), x2 = xv(m, s + 2), x3 = xv(m, s + 3);
          cb[i][0] = x0 - x2;
          cb[i][1] = x1 + x2;
          cb[i][2] = x2 - x1;
          cb[i][3] = x1 - x3;
        }
        T* o = v_ref.data() + 1 + j * c.n + k;
        for (std::size_t b = 0; b < 4; ++b) {
          o[b * ldv] = cb[0][b] - cb[2][b];
          o[(4 + b) * ldv] = cb[1][b] + cb[2][b];
          o[(8 + b) * ldv] = cb[2][b] - cb[1][b];
          o[(12 + b) * ldv] = cb[1][b] - cb[3][b];
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(tile_rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      std::vector<T> v(nv, sentinel);
      ember::active_kernels().of<T>().wino_bt_tiles(tile_rows, c.W, c.pad, c.n, rows.data(),
                                                    v.data() + 1, ldv);
      CHECK(wino_same_bits(v, v_ref));
    }
  }
}

// Its adjoint, adding into x: finite g (with signed zeros), x with infinities and NaNs (which
// only ever meet a finite addend), columns past W untouched.
template <class T>
void check_b_cols() {
  kt::IsaRestore restore;
  for (const WinoRowCase& c : wino_cases()) {
    const std::size_t ldb = c.rows * c.lde + 3, ng = 4 * ldb + 2;
    kt::Lcg rng(c.W * 5 + c.pad + 1);
    std::vector<T> gs(ng);
    for (std::size_t i = 0; i < ng; ++i) {
      gs[i] = i % 7 == 2 ? -T(0) : static_cast<T>(rng.uniform(-4, 4));
    }
    const std::vector<T> x0 = wino_input<T>(c.rows * c.ldx + 2, c.W + c.pad + 3);
    std::vector<T> x_ref = x0;
    for (std::size_t r = 0; r < c.rows; ++r) {
      const T* g = gs.data() + 1 + r * c.lde;
      auto gv = [&](std::size_t b, std::int64_t k) {
        return k >= 0 && k < static_cast<std::int64_t>(c.n)
                   ? g[b * ldb + static_cast<std::size_t>(k)]
                   : T(0);
      };
      for (std::int64_t k = 0; k <= static_cast<std::int64_t>(c.n); ++k) {
        const T h_prev = (gv(1, k - 1) + gv(2, k - 1)) - gv(0, k - 1);
        const T ev = gv(0, k) + (k == 0 ? T(0) : h_prev);
        const T od = ((gv(1, k) - gv(2, k)) + gv(3, k)) - gv(3, k - 1);
        const std::int64_t col = 2 * k - static_cast<std::int64_t>(c.pad);
        for (std::int64_t s = 0; s < 2; ++s) {
          if (col + s < 0 || col + s >= static_cast<std::int64_t>(c.W)) continue;
          T& dst = x_ref[1 + r * c.ldx + static_cast<std::size_t>(col + s)];
          dst = dst + (s == 0 ? ev : od);
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      std::vector<T> x = x0;
      ember::active_kernels().of<T>().wino_b_cols(c.rows, c.W, c.pad, c.n, gs.data() + 1, c.lde,
                                                  ldb, x.data() + 1, c.ldx);
      CHECK(wino_same_bits(x, x_ref));
    }
  }
}

// F(4x4)'s four column phases: p[j * ldj + r * ldp + k] = x[r * ldx + 4k + j - pad].
std::vector<WinoRowCase> wino4_cases() {
  std::vector<WinoRowCase> cs;
  for (std::size_t W : {1, 2, 3, 4, 5, 7, 8, 13, 14, 15, 16, 17, 31, 32, 33, 66}) {
    for (std::size_t pad = 0; pad <= 3; ++pad) {
      const std::size_t full = (W + 2 * pad + 3) / 4;  // outputs covering the padded row
      for (std::size_t n : {std::size_t(1), full > 1 ? full - 1 : 1, full, full + 1, full + 9}) {
        cs.push_back({3, W, pad, n, 4 * W + 1, n + 2});  // lde: the row stride ldp
      }
    }
  }
  cs.push_back({0, 5, 1, 4, 10, 4});
  cs.push_back({2, 5, 1, 0, 10, 4});
  return cs;
}

template <class T>
void check_split4() {
  kt::IsaRestore restore;
  const T sentinel = T(777.5);
  for (const WinoRowCase& c : wino4_cases()) {
    const std::vector<T> xs = wino_input<T>(c.rows * c.ldx + 2, c.W * 7 + c.pad);
    const T* x = xs.data() + 1;
    const std::size_t ldj = c.rows * c.lde + 3, np = 4 * ldj + 2;
    std::vector<T> p_ref(np, sentinel);
    for (std::size_t r = 0; r < c.rows; ++r) {
      for (std::size_t k = 0; k < c.n; ++k) {
        for (std::size_t j = 0; j < 4; ++j) {
          const auto col = static_cast<std::int64_t>(4 * k + j) - static_cast<std::int64_t>(c.pad);
          p_ref[1 + j * ldj + r * c.lde + k] = col >= 0 && col < static_cast<std::int64_t>(c.W)
                                                   ? x[r * c.ldx + static_cast<std::size_t>(col)]
                                                   : T(0);
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      std::vector<T> p(np, sentinel);
      ember::active_kernels().of<T>().wino4_split_rows(c.rows, c.W, c.pad, c.n, x, c.ldx,
                                                       p.data() + 1, c.lde, ldj);
      CHECK(wino_same_bits(p, p_ref));
    }
  }
}

template <class T>
void check_merge4(bool add) {
  kt::IsaRestore restore;
  for (const WinoRowCase& c : wino4_cases()) {
    const std::size_t ldj = c.rows * c.lde + 3, np = 4 * ldj + 2;
    const std::vector<T> ps = wino_input<T>(np, c.W * 5 + c.pad + 1, false);
    const std::vector<T> x0 = wino_input<T>(c.rows * c.ldx + 2, c.W + c.pad + 3);
    std::vector<T> x_ref = x0;
    for (std::size_t r = 0; r < c.rows; ++r) {
      for (std::size_t k = 0; k < c.n; ++k) {
        for (std::size_t j = 0; j < 4; ++j) {
          const auto col = static_cast<std::int64_t>(4 * k + j) - static_cast<std::int64_t>(c.pad);
          if (col < 0 || col >= static_cast<std::int64_t>(c.W)) continue;
          T& dst = x_ref[1 + r * c.ldx + static_cast<std::size_t>(col)];
          const T v = ps[1 + j * ldj + r * c.lde + k];
          dst = add ? dst + v : v;
        }
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(c.rows);
      CAPTURE(c.W);
      CAPTURE(c.pad);
      CAPTURE(c.n);
      CAPTURE(add);
      std::vector<T> x = x0;
      ember::active_kernels().of<T>().wino4_merge_rows(add, c.rows, c.W, c.pad, c.n, ps.data() + 1,
                                                       c.lde, ldj, x.data() + 1, c.ldx);
      CHECK(wino_same_bits(x, x_ref));
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("wino_split_rows: even / odd columns of padded rows on every ISA", T, float,
                   double) {
  check_split<T>();
}

TEST_CASE_TEMPLATE("wino_merge_rows: the adjoint scatter-add (and store) on every ISA", T, float,
                   double) {
  check_merge<T>(true);
  check_merge<T>(false);
}

TEST_CASE_TEMPLATE("wino_bt_tiles: the input tiles' B^T d B on every ISA", T, float, double) {
  check_bt_tiles<T>();
}

TEST_CASE_TEMPLATE("wino_b_cols: its adjoint, added into the rows, on every ISA", T, float,
                   double) {
  check_b_cols<T>();
}

TEST_CASE_TEMPLATE("wino4_split_rows: the four column phases of padded rows on every ISA", T, float,
                   double) {
  check_split4<T>();
}

TEST_CASE_TEMPLATE("wino4_merge_rows: the adjoint scatter-add (and store) on every ISA", T, float,
                   double) {
  check_merge4<T>(true);
  check_merge4<T>(false);
}
