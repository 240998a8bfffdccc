// The 2x2 stride 2 max pool kernel and its backward on every ISA this CPU supports, bit for bit
// against a reference written here (the general pooling rule: the first tap that is the maximum
// wins, the first NaN tap wins over everything) and against the scalar table: widths around the
// vector widths (7, 14 and 16 outputs per row and their neighbours, rows of up to 8 in pairs),
// strided rows, ties, signed zeros, infinities and NaNs with distinct payloads.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernel_test_support.hpp"

using ember::Isa;

namespace {

struct PoolShape {
  std::size_t rows, cols, ldx_pad, ldy_pad;  // ldx = 2 cols + ldx_pad, ldy = cols + ldy_pad
};
// Up to 8 outputs per row with contiguous output rows take AVX-512's two-rows-per-vector path
// (an odd row count leaves one row to the one-row path); padded output rows do not.
const PoolShape shapes[] = {{1, 1, 0, 0},  {2, 3, 0, 0},  {3, 7, 0, 0},  {14, 14, 0, 0},
                            {7, 7, 0, 0},  {2, 8, 0, 0},  {2, 9, 1, 2},  {3, 15, 0, 0},
                            {3, 16, 0, 0}, {3, 17, 3, 1}, {2, 31, 0, 0}, {2, 32, 1, 0},
                            {2, 33, 0, 5}, {5, 50, 2, 3}, {0, 4, 0, 0},  {4, 0, 0, 0},
                            {9, 1, 0, 0},  {6, 4, 2, 0},  {5, 8, 0, 0},  {4, 5, 1, 1}};

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// A quiet NaN carrying `payload` in its low mantissa bits.
template <class T>
T nan_with(unsigned payload) {
  T v = std::numeric_limits<T>::quiet_NaN();
  if constexpr (sizeof(T) == 4) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    u |= payload & 0xffffu;
    std::memcpy(&v, &u, 4);
  } else {
    std::uint64_t u;
    std::memcpy(&u, &v, 8);
    u |= payload & 0xffffu;
    std::memcpy(&v, &u, 8);
  }
  return v;
}

// Few distinct values (many ties), signed zeros, infinities and, if asked, NaNs with payloads.
template <class T>
std::vector<T> pool_input(std::size_t n, std::size_t seed, bool with_nan) {
  kt::Lcg rng(seed);
  std::vector<T> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.uniform(0, 1);
    x[i] = static_cast<T>(std::floor(u * 6) - 3);
    if (u < 0.05) x[i] = -T(0);
    if (u > 0.95) x[i] = T(0);
    if (i % 13 == 5) x[i] = -std::numeric_limits<T>::infinity();
    if (i % 17 == 3) x[i] = std::numeric_limits<T>::infinity();
    if (with_nan && i % 7 == 2) x[i] = nan_with<T>(static_cast<unsigned>(i + 1));
  }
  return x;
}

// The general rule, tap by tap in window order.
template <class T>
void reference_forward(const PoolShape& s, const T* x, std::size_t ldx, T* y, std::size_t ldy,
                       std::int32_t* at) {
  for (std::size_t r = 0; r < s.rows; ++r) {
    for (std::size_t c = 0; c < s.cols; ++c) {
      const std::size_t taps[4] = {0, 1, ldx, ldx + 1};
      const std::size_t o = 2 * r * ldx + 2 * c;
      std::size_t best = o;
      for (std::size_t t = 1; t < 4; ++t) {
        if (std::isnan(x[best])) break;
        const T v = x[o + taps[t]];
        if (v > x[best] || std::isnan(v)) best = o + taps[t];
      }
      y[r * ldy + c] = x[best];
      at[r * ldy + c] = static_cast<std::int32_t>(best);
    }
  }
}

template <class T>
void check_forward(bool with_nan) {
  kt::IsaRestore restore;
  const T sentinel = T(1234.5);
  for (const PoolShape& s : shapes) {
    const std::size_t ldx = 2 * s.cols + s.ldx_pad, ldy = s.cols + s.ldy_pad;
    const std::vector<T> x = pool_input<T>(2 * s.rows * ldx + 1, s.rows * 31 + s.cols, with_nan);
    std::vector<T> max_ref(s.rows * ldy + 1, sentinel);
    std::vector<std::int32_t> argmax_ref(s.rows * ldy + 1, -7);
    reference_forward<T>(s, x.data(), ldx, max_ref.data(), ldy, argmax_ref.data());
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(s.rows);
      CAPTURE(s.cols);
      CAPTURE(with_nan);
      for (int variant = 0; variant < 4; ++variant) {
        const bool with_at = variant & 1, relu = variant & 2;
        CAPTURE(relu);
        // With relu: ReLU's rule on the maximum (v < 0 becomes +0, NaN and -0.0 stay), argmax -1
        // where v <= 0.
        std::vector<T> y_ref = max_ref;
        std::vector<std::int32_t> at_ref = argmax_ref;
        for (std::size_t r = 0; relu && r < s.rows; ++r) {
          for (std::size_t c = 0; c < s.cols; ++c) {
            const std::size_t o = r * ldy + c;
            if (y_ref[o] <= T(0)) at_ref[o] = -1;
            if (y_ref[o] < T(0)) y_ref[o] = T(0);
          }
        }
        std::vector<T> y(y_ref.size(), sentinel);
        std::vector<std::int32_t> at(at_ref.size(), -7);
        ember::kernels::max_pool2x2<T>(s.rows, s.cols, x.data(), ldx, y.data(), ldy,
                                       with_at ? at.data() : nullptr, relu);
        bool ok = true;
        for (std::size_t i = 0; i < y.size(); ++i) ok = ok && same_bits(y[i], y_ref[i]);
        CHECK(ok);
        if (with_at) {
          CHECK(at == at_ref);
        } else {
          CHECK(at == std::vector<std::int32_t>(at_ref.size(), -7));
        }
      }
    }
  }
}

template <class T>
void check_backward() {
  kt::IsaRestore restore;
  const T sentinel = T(-99.25);
  for (const PoolShape& s : shapes) {
    const std::size_t ldx = 2 * s.cols + s.ldx_pad, ldy = s.cols + s.ldy_pad;
    const std::vector<T> x = pool_input<T>(2 * s.rows * ldx + 1, s.rows * 7 + s.cols, true);
    std::vector<T> y(s.rows * ldy + 1);
    std::vector<std::int32_t> at(s.rows * ldy + 1, -7);
    reference_forward<T>(s, x.data(), ldx, y.data(), ldy, at.data());
    // The output gradient: values with signed zeros and NaN payloads.
    std::vector<T> gy = pool_input<T>(s.rows * ldy + 1, s.cols + 5, true);
    for (std::size_t i = 0; i < gy.size(); i += 5) gy[i] = -T(0);
    // Reference: scatter-add into a zeroed block; the padding columns keep the sentinel.
    std::vector<T> gx_ref(2 * s.rows * ldx + 1, sentinel);
    for (std::size_t r = 0; r < 2 * s.rows; ++r) {
      for (std::size_t c = 0; c < 2 * s.cols; ++c) gx_ref[r * ldx + c] = T(0);
    }
    for (std::size_t r = 0; r < s.rows; ++r) {
      for (std::size_t c = 0; c < s.cols; ++c) {
        gx_ref[static_cast<std::size_t>(at[r * ldy + c])] += gy[r * ldy + c];
      }
    }
    for (Isa isa : ember::available_isas()) {
      ember::set_isa(isa);
      CAPTURE(std::string(ember::isa_name(isa)));
      CAPTURE(s.rows);
      CAPTURE(s.cols);
      std::vector<T> gx(gx_ref.size(), sentinel);
      ember::kernels::max_pool2x2_backward<T>(s.rows, s.cols, gy.data(), at.data(), ldy, gx.data(),
                                              ldx);
      bool ok = true;
      for (std::size_t i = 0; i < gx.size(); ++i) ok = ok && same_bits(gx[i], gx_ref[i]);
      CHECK(ok);
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("max_pool2x2 matches the general rule bit for bit on every ISA", T, float,
                   double) {
  check_forward<T>(false);
  check_forward<T>(true);
}

TEST_CASE_TEMPLATE("max_pool2x2_backward writes every tap, like a scatter into zeros", T, float,
                   double) {
  check_backward<T>();
}
