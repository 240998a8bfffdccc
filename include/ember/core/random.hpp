// ember: seedable random numbers. Generator is a 64-bit Mersenne Twister with our own, fully
// specified conversions to uniform and normal values (std:: distributions differ between standard
// libraries), so the same seed gives the same numbers on every platform and run.
#pragma once

#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

#include "ember/core/creation.hpp"
#include "ember/core/tensor_base.hpp"

namespace ember {

class Generator {
 public:
  static constexpr uint64_t default_seed = 67280421310721ULL;  // PyTorch's default seed
  explicit Generator(uint64_t seed = default_seed) { manual_seed(seed); }

  void manual_seed(uint64_t seed) {
    seed_ = seed;
    engine_.seed(seed);
    has_spare_normal_ = false;
  }
  uint64_t initial_seed() const noexcept { return seed_; }

  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1): the top 53 bits (double) or 24 bits (float) of one draw.
  double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  // Standard normal by Box-Muller, one spare kept for the next call.
  double normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    const double u1 = 1.0 - uniform_double();  // (0, 1]: log is finite
    const double u2 = uniform_double();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586476925 * u2;
    spare_normal_ = r * std::sin(theta);
    has_spare_normal_ = true;
    return r * std::cos(theta);
  }
  // Uniform integer in [low, high) (rejection sampling: no modulo bias).
  int64_t integer(int64_t low, int64_t high) {
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t v = next_u64();
    while (v >= limit) v = next_u64();
    return low + static_cast<int64_t>(v % range);
  }

  // Guards the default generator when several threads draw from it.
  std::mutex& mutex() noexcept { return mutex_; }

 private:
  std::mt19937_64 engine_;
  uint64_t seed_ = default_seed;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
  std::mutex mutex_;
};

// The process-wide generator used when no generator is passed.
inline Generator& default_generator() {
  static Generator g;
  return g;
}

// Seeds the default generator (torch.manual_seed).
inline void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(default_generator().mutex());
  default_generator().manual_seed(seed);
}

namespace detail {
template <class T, class F>
Tensor<T> fill_random(const Shape& shape, Generator* gen, F&& draw) {
  Tensor<T> t(shape);
  Generator& g = gen ? *gen : default_generator();
  std::lock_guard<std::mutex> lock(g.mutex());
  T* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = draw(g);
  return t;
}
}  // namespace detail

// Uniform on [0, 1).
template <class T>
Tensor<T> rand(const Shape& shape, Generator* gen = nullptr) {
  static_assert(std::is_floating_point_v<T>, "rand: needs a floating-point type");
  return detail::fill_random<T>(shape, gen, [](Generator& g) {
    if constexpr (std::is_same_v<T, float>)
      return g.uniform_float();
    else
      return g.uniform_double();
  });
}

// Standard normal.
template <class T>
Tensor<T> randn(const Shape& shape, Generator* gen = nullptr) {
  static_assert(std::is_floating_point_v<T>, "randn: needs a floating-point type");
  return detail::fill_random<T>(shape, gen,
                                [](Generator& g) { return static_cast<T>(g.normal()); });
}

// Integers uniform in [low, high).
template <class T = int64_t>
Tensor<T> randint(int64_t low, int64_t high, const Shape& shape, Generator* gen = nullptr) {
  EMBER_CHECK_VALUE(low < high, "randint: expected low < high, got low = ", low,
                    " and high = ", high);
  return detail::fill_random<T>(shape, gen,
                                [=](Generator& g) { return static_cast<T>(g.integer(low, high)); });
}

// 1 with probability p, else 0.
template <class T>
Tensor<T> bernoulli(const Shape& shape, double p, Generator* gen = nullptr) {
  EMBER_CHECK_VALUE(p >= 0.0 && p <= 1.0, "bernoulli: expected 0 <= p <= 1, got ", p);
  return detail::fill_random<T>(shape, gen,
                                [=](Generator& g) { return g.uniform_double() < p ? T(1) : T(0); });
}

// Element i is 1 with probability probs[i].
template <class T>
Tensor<T> bernoulli(const Tensor<T>& probs, Generator* gen = nullptr) {
  probs.check_defined("bernoulli");
  const Tensor<T> p = probs.contiguous();
  for (int64_t i = 0; i < p.numel(); ++i) {
    const T v = p.data()[i];
    EMBER_CHECK_VALUE(v >= T(0) && v <= T(1), "bernoulli: expected 0 <= p <= 1, got ", v,
                      " at flat index ", i);
  }
  int64_t i = 0;
  const T* pp = p.data();
  return detail::fill_random<T>(p.shape(), gen, [&](Generator& g) {
    return g.uniform_double() < static_cast<double>(pp[i++]) ? T(1) : T(0);
  });
}

template <class T>
Tensor<T> rand_like(const Tensor<T>& t, Generator* gen = nullptr) {
  return rand<T>(t.shape(), gen);
}
template <class T>
Tensor<T> randn_like(const Tensor<T>& t, Generator* gen = nullptr) {
  return randn<T>(t.shape(), gen);
}

}  // namespace ember
