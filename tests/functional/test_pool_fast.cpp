// The pooling fast paths (no padding, no dilation) against the general path they replace: the
// same output and input-gradient bits, on odd sizes, overlapping / gapped / ceil_mode windows,
// ties, infinities and NaN, and for 1 and 2 threads. Max pooling with the ReLU applied in its own
// passes (nn::Sequential's ReLU -> max pool) against relu of the pool, likewise.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/functional/pooling.hpp"

namespace F = ember::F;
using ember::Tensor;

namespace {

struct Config {
  ember::Shape shape;  // [N, C, H, W], or [N, C, L] for 1-d
  std::vector<int64_t> kernel, stride;
  bool ceil_mode;
};

// Values from a small set (many ties), with infinities and, if asked, a few NaN.
template <class T>
Tensor<T> input(const ember::Shape& shape, uint64_t seed, bool with_nan) {
  ember::Generator gen(seed);
  Tensor<T> x = ember::rand<T>(shape, &gen).contiguous();
  T* p = x.data();
  for (int64_t i = 0; i < x.numel(); ++i) {
    p[i] = std::floor(p[i] * T(8)) - T(4);
    if (i % 13 == 5) p[i] = -std::numeric_limits<T>::infinity();
    if (i % 17 == 3) p[i] = std::numeric_limits<T>::infinity();
    if (with_nan && i % 11 == 7) p[i] = std::numeric_limits<T>::quiet_NaN();
    if (i % 19 == 2) p[i] = -T(0);
  }
  return x;
}

// Bitwise equal, except that any NaN matches any NaN (which NaN an addition returns depends on
// its operand order, which the compiler may swap when it vectorises).
template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  const Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  for (int64_t i = 0; i < a.numel(); ++i) {
    const T u = ca.data()[i], v = cb.data()[i];
    if (std::isnan(u) || std::isnan(v)) {
      if (!(std::isnan(u) && std::isnan(v))) return false;
    } else if (std::memcmp(&u, &v, sizeof(T)) != 0) {
      return false;
    }
  }
  return true;
}

// Output and input gradient of pool(x) with a fixed random output gradient.
template <class T, class Pool>
std::pair<Tensor<T>, Tensor<T>> run(const Tensor<T>& x0, Pool pool) {
  Tensor<T> x = x0.clone().requires_grad_();
  Tensor<T> y = pool(x);
  ember::Generator gen(7);
  const Tensor<T> gy = ember::randn<T>(y.shape(), &gen);
  y.backward(gy);
  return {y.detach(), x.grad()};
}

template <class T>
void check_config(const Config& c, bool is_max, bool with_nan) {
  const std::size_t nd = c.shape.size() - 2;
  const std::string where =
      ember::detail::concat("shape ", c.shape, " kernel ", c.kernel, " stride ", c.stride);
  CAPTURE(where);
  CAPTURE(c.ceil_mode);
  CAPTURE(is_max);
  CAPTURE(with_nan);
  const Tensor<T> x = input<T>(c.shape, 3 + c.shape.back(), with_nan);
  auto pool = [&](bool fast) {
    return [&c, nd, is_max, fast](const Tensor<T>& t) {
      return is_max ? F::detail::max_pool("max_pool", t, nd, c.kernel, c.stride, 0, 1, c.ceil_mode,
                                          fast)
                    : F::detail::avg_pool("avg_pool", t, nd, c.kernel, c.stride, 0, c.ceil_mode,
                                          true, fast);
    };
  };
  ember::set_num_threads(1);
  const auto general = run<T>(x, pool(false));
  const auto fast1 = run<T>(x, pool(true));
  ember::set_num_threads(2);
  const auto fast2 = run<T>(x, pool(true));
  CHECK(same_bits(fast1.first, general.first));
  CHECK(same_bits(fast1.second, general.second));
  CHECK(same_bits(fast2.first, fast1.first));
  CHECK(same_bits(fast2.second, fast1.second));
}

const std::vector<Config> configs = {
    {{2, 3, 28, 28}, {2, 2}, {2, 2}, false},  // the Fashion-MNIST case
    {{2, 3, 7, 9}, {2, 2}, {2, 2}, false},    // odd sizes: a dropped last row and column
    {{2, 3, 7, 9}, {2, 2}, {2, 2}, true},     // ceil_mode: partial last windows
    {{1, 2, 1, 5}, {1, 2}, {1, 2}, true},
    {{1, 2, 9, 11}, {3, 3}, {3, 3}, false},
    {{1, 2, 10, 11}, {3, 3}, {3, 3}, true},
    {{1, 2, 9, 12}, {3, 3}, {2, 2}, false},  // overlapping windows
    {{1, 2, 9, 12}, {3, 3}, {2, 2}, true},
    {{1, 2, 9, 12}, {2, 3}, {1, 2}, true},
    {{1, 2, 11, 13}, {2, 2}, {3, 4}, false},  // gaps between windows
    {{1, 2, 11, 13}, {2, 2}, {3, 4}, true},
    {{1, 1, 2, 2}, {2, 2}, {2, 2}, false},
    // 2x2 stride 2 (the dispatched kernel): rows around the vector widths, tiling and not
    {{3, 5, 14, 14}, {2, 2}, {2, 2}, false},
    {{1, 3, 6, 32}, {2, 2}, {2, 2}, false},
    {{1, 3, 6, 34}, {2, 2}, {2, 2}, false},
    {{1, 2, 4, 66}, {2, 2}, {2, 2}, false},
    {{1, 2, 5, 35}, {2, 2}, {2, 2}, false},
    {{1, 2, 5, 35}, {2, 2}, {2, 2}, true},
    {{2, 2, 10, 2}, {2, 2}, {2, 2}, false},
    {{1, 2, 1, 7}, {2, 2}, {2, 2}, true},    // no full window: ceil_mode's partial ones only
    {{1, 2, 8, 12}, {2, 2}, {2, 1}, false},  // stride 2 in one dim only: the row loop
    {{1, 1, 5, 5}, {5, 5}, {5, 5}, false},
    {{3, 4, 15}, {2}, {2}, false},  // 1-d
    {{3, 4, 15}, {3}, {2}, true},
    {{3, 4, 16}, {4}, {4}, true},
};

}  // namespace

TEST_CASE_TEMPLATE("max pool fast path gives the general path's bits", T, float, double) {
  for (const Config& c : configs) {
    check_config<T>(c, true, false);
    check_config<T>(c, true, true);
  }
}

TEST_CASE_TEMPLATE("avg pool fast path gives the general path's bits", T, float, double) {
  for (const Config& c : configs) {
    check_config<T>(c, false, false);
    check_config<T>(c, false, true);
  }
}

TEST_CASE_TEMPLATE("max pool fast path: first maximum and first NaN win", T, float, double) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  // One 2x4 plane, two 2x2 windows: {3, 3 / 1, 3} (tie: the first 3 wins) and {1, NaN / NaN, 9}.
  Tensor<T> x = ember::tensor<T>({3, 3, 1, nan, 1, 3, nan, 9}).reshape({1, 1, 2, 4});
  x.requires_grad_();
  Tensor<T> y = F::max_pool2d(x, 2);
  const Tensor<T> yc = y.detach().contiguous();
  CHECK(yc.data()[0] == T(3));
  CHECK(std::isnan(yc.data()[1]));
  y.backward(ember::tensor<T>({10, 20}).reshape({1, 1, 1, 2}));
  const Tensor<T> g = x.grad().contiguous();
  const std::vector<T> expected{10, 0, 0, 20, 0, 0, 0, 0};
  CHECK(std::vector<T>(g.data(), g.data() + 8) == expected);
}

TEST_CASE_TEMPLATE("max pool with ReLU gives relu(max pool)'s bits", T, float, double) {
  for (const Config& c : configs) {
    const std::size_t nd = c.shape.size() - 2;
    for (bool with_nan : {false, true}) {
      for (bool fast : {false, true}) {
        CAPTURE(ember::detail::concat("shape ", c.shape, " kernel ", c.kernel, " stride ", c.stride,
                                      " ceil_mode ", c.ceil_mode, " nan ", with_nan, " fast ",
                                      fast));
        const Tensor<T> x = input<T>(c.shape, 5 + c.shape.back(), with_nan);
        auto pool = [&](const Tensor<T>& t) {
          return F::detail::max_pool("max_pool", t, nd, c.kernel, c.stride, 0, 1, c.ceil_mode,
                                     fast);
        };
        auto fused = [&](const Tensor<T>& t) {
          return F::detail::max_pool("max_pool", t, nd, c.kernel, c.stride, 0, 1, c.ceil_mode, fast,
                                     true);
        };
        ember::set_num_threads(1);
        const auto ref = run<T>(x, [&](const Tensor<T>& t) { return F::relu(pool(t)); });
        const auto one = run<T>(x, fused);
        ember::set_num_threads(2);
        const auto two = run<T>(x, fused);
        CHECK(same_bits(one.first, ref.first));
        CHECK(same_bits(one.second, ref.second));
        CHECK(same_bits(two.first, one.first));
        CHECK(same_bits(two.second, one.second));
      }
    }
  }
}
