// Shared helpers for the kernel tests: ISA and thread-count guards, ulp distances against a
// double-precision reference, deterministic inputs with special values.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

namespace kt {

// Restores the ISA chosen at start-up when a test case ends.
struct IsaRestore {
  ember::Isa saved = ember::current_isa();
  ~IsaRestore() { ember::set_isa(saved); }
};

// Restores the thread count when a test case ends (2 when the test forced one; 0 is "unset").
struct ThreadRestore {
  int saved = ember::get_num_threads();
  ~ThreadRestore() { ember::set_num_threads(saved); }
};

template <class T>
inline const char* type_name() {
  return sizeof(T) == 4 ? "float" : "double";
}

// Distance from `got` to the exact value `ref` in units in the last place of T at ref: 0 when
// both are NaN or the same infinity; infinite when only one is NaN/inf. Subnormal results count
// in units of the smallest subnormal.
template <class T>
double ulps(T got, double ref) {
  if (std::isnan(ref) || std::isnan(got)) {
    return std::isnan(ref) && std::isnan(got) ? 0.0 : std::numeric_limits<double>::infinity();
  }
  const double g = static_cast<double>(got);
  // ref beyond T's range rounds to infinity in T.
  const double r = static_cast<double>(static_cast<T>(ref));
  if (std::isinf(r) || std::isinf(g)) {
    return g == r ? 0.0 : std::numeric_limits<double>::infinity();
  }
  if (g == ref) return 0.0;
  using L = std::numeric_limits<T>;
  const int e = ref == 0.0 ? L::min_exponent - 1 : std::max(std::ilogb(ref), L::min_exponent - 1);
  const double ulp = std::ldexp(1.0, e - (L::digits - 1));
  return std::fabs(g - ref) / ulp;
}

// Deterministic pseudo-random numbers (no std::rand: the same sequence on every platform).
struct Lcg {
  std::uint64_t s;
  explicit Lcg(std::uint64_t seed) : s(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  double uniform(double lo, double hi) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(s >> 11) * 0x1.0p-53;
  }
};

// Values every elementwise kernel must get right, for T: signed zeros, infinities, NaN, the
// largest finite, overflow and underflow thresholds of exp, subnormals.
template <class T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  std::vector<T> v{T(0),
                   -T(0),
                   T(1),
                   T(-1),
                   L::infinity(),
                   -L::infinity(),
                   L::quiet_NaN(),
                   L::max(),
                   -L::max(),
                   L::min(),
                   -L::min(),
                   L::denorm_min(),
                   -L::denorm_min(),
                   L::min() / T(3),
                   -L::min() / T(5),
                   T(0.5),
                   T(-0.5),
                   T(20),
                   T(-20),
                   T(50),
                   T(-50),
                   T(1e10),
                   T(-1e10),
                   T(1e30),
                   T(-1e30)};
  if constexpr (sizeof(T) == 4) {
    // e^x overflows above 88.72 and is subnormal below -87.34, zero below -103.97.
    for (float x : {88.5f, 88.75f, 89.0f, 100.0f, -87.0f, -87.5f, -90.0f, -100.0f, -103.9f, -104.0f,
                    -110.0f, -200.0f}) {
      v.push_back(x);
    }
  } else {
    for (double x : {709.5, 709.8, 710.0, 800.0, -708.0, -709.0, -720.0, -744.0, -745.0, -746.0,
                     -800.0, -1e5}) {
      v.push_back(x);
    }
  }
  return v;
}

// n values: uniform in [lo, hi], with the special values spliced in at a fixed stride.
template <class T>
std::vector<T> inputs(std::size_t n, double lo, double hi, std::uint64_t seed,
                      bool with_specials = true) {
  Lcg g(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(g.uniform(lo, hi));
  if (with_specials) {
    const std::vector<T> sp = special_values<T>();
    for (std::size_t i = 0; i < sp.size() && i * 7 + 3 < n; ++i) v[i * 7 + 3] = sp[i];
  }
  return v;
}

// Sizes: empty, one, below/at/above every vector width, odd, and one that crosses the threading
// grain (ember splits elementwise work across threads from 32768 elements on).
inline const std::vector<std::size_t>& sizes() {
  static const std::vector<std::size_t> s{0,  1,  2,  3,  5,  7,  8,   9,    15,
                                          16, 17, 31, 33, 63, 65, 257, 70001};
  return s;
}

// Bitwise equality of n elements (memcmp may not see the null data() of an empty vector).
template <class T>
bool same_bits(const T* a, const T* b, std::size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(T)) == 0;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && same_bits(a.data(), b.data(), a.size());
}

}  // namespace kt
