// ember: nn::init, PyTorch's parameter initialisers (same distributions, ember's generator).
// Every function fills the tensor in place without recording a gradient and returns it; values
// are drawn from the given Generator or, when it is null, from ember's default generator
// (ember::manual_seed).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::nn::init {

// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is the
// negative slope of leaky_relu.
inline double calculate_gain(const std::string& nonlinearity, double param = 0.01) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d" ||
      nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu") return 3.0 / 4.0;
  fail(error_kind::value, "calculate_gain: unsupported nonlinearity '", nonlinearity, "'");
}

struct Fans {
  int64_t fan_in;
  int64_t fan_out;
};

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (PyTorch's rule).
template <class T>
Fans calculate_fan_in_and_fan_out(const Tensor<T>& t) {
  EMBER_CHECK_VALUE(t.dim() >= 2,
                    "init: fan in and fan out can not be computed for a tensor with "
                    "fewer than 2 dimensions (shape ",
                    t.shape(), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace detail {
// Writes values drawn in row-major order into t (which may be a strided view).
template <class T>
Tensor<T>& assign(Tensor<T>& t, const Tensor<T>& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}
template <class T>
int64_t fan_for(const Tensor<T>& t, const std::string& mode, const char* op) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  if (mode == "fan_in") return f.fan_in;
  if (mode == "fan_out") return f.fan_out;
  fail(error_kind::value, op, ": mode must be \"fan_in\" or \"fan_out\", got \"", mode, "\"");
}
}  // namespace detail

// U(a, b).
template <class T>
Tensor<T>& uniform_(Tensor<T>& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr) {
  t.check_defined("uniform_");
  EMBER_CHECK_VALUE(a <= b, "uniform_: expected a <= b, got a = ", a, " and b = ", b);
  Tensor<T> u = ember::detail::fill_random<T>(t.shape(), gen, [&](Generator& g) {
    return static_cast<T>(a + (b - a) * g.uniform_double());
  });
  return detail::assign(t, u);
}

// N(mean, std^2).
template <class T>
Tensor<T>& normal_(Tensor<T>& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr) {
  t.check_defined("normal_");
  EMBER_CHECK_VALUE(std >= 0, "normal_: expected std >= 0, got ", std);
  Tensor<T> n = ember::detail::fill_random<T>(
      t.shape(), gen, [&](Generator& g) { return static_cast<T>(mean + std * g.normal()); });
  return detail::assign(t, n);
}

template <class T>
Tensor<T>& constant_(Tensor<T>& t, double value) {
  t.check_defined("constant_");
  NoGradGuard no_grad;
  t.fill_(static_cast<T>(value));
  return t;
}
template <class T>
Tensor<T>& ones_(Tensor<T>& t) {
  return constant_(t, 1.0);
}
template <class T>
Tensor<T>& zeros_(Tensor<T>& t) {
  return constant_(t, 0.0);
}

// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
Tensor<T>& xavier_uniform_(Tensor<T>& t, double gain = 1.0, Generator* gen = nullptr) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(t, -a, a, gen);
}

// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
Tensor<T>& xavier_normal_(Tensor<T>& t, double gain = 1.0, Generator* gen = nullptr) {
  const Fans f = calculate_fan_in_and_fan_out(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out));
  return normal_(t, 0.0, std, gen);
}

// U(-bound, bound) with bound = gain(nonlinearity, a) * sqrt(3 / fan).
template <class T>
Tensor<T>& kaiming_uniform_(Tensor<T>& t, double a = 0.0, const std::string& mode = "fan_in",
                            const std::string& nonlinearity = "leaky_relu",
                            Generator* gen = nullptr) {
  const int64_t fan = detail::fan_for(t, mode, "kaiming_uniform_");
  if (fan == 0) return t;  // PyTorch warns and leaves an empty tensor alone
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound, gen);
}

// N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan).
template <class T>
Tensor<T>& kaiming_normal_(Tensor<T>& t, double a = 0.0, const std::string& mode = "fan_in",
                           const std::string& nonlinearity = "leaky_relu",
                           Generator* gen = nullptr) {
  const int64_t fan = detail::fan_for(t, mode, "kaiming_normal_");
  if (fan == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
  return normal_(t, 0.0, std, gen);
}

// N(mean, std^2) truncated to [a, b], by rejection (the same distribution as PyTorch's
// inverse-CDF method).
template <class T>
Tensor<T>& trunc_normal_(Tensor<T>& t, double mean = 0.0, double std = 1.0, double a = -2.0,
                         double b = 2.0, Generator* gen = nullptr) {
  t.check_defined("trunc_normal_");
  EMBER_CHECK_VALUE(a < b && std > 0, "trunc_normal_: expected a < b and std > 0, got a = ", a,
                    ", b = ", b, ", std = ", std);
  // A window far in a tail would make rejection slow; PyTorch's method is inaccurate there too.
  const double za = (a - mean) / std, zb = (b - mean) / std;
  const double mass = 0.5 * (std::erf(zb / std::sqrt(2.0)) - std::erf(za / std::sqrt(2.0)));
  EMBER_CHECK_VALUE(mass > 1e-6, "trunc_normal_: [a, b] = [", a, ", ", b,
                    "] holds too little of N(", mean, ", ", std, "^2)");
  Tensor<T> n = ember::detail::fill_random<T>(t.shape(), gen, [&](Generator& g) {
    for (;;) {
      const double v = mean + std * g.normal();
      if (v >= a && v <= b) return static_cast<T>(v);
    }
  });
  return detail::assign(t, n);
}

// A (semi-)orthogonal matrix: the Q of the QR decomposition of a normal matrix, signs fixed by
// R's diagonal, times gain. Tensors of more than 2 dims are viewed as [size(0), rest].
template <class T>
Tensor<T>& orthogonal_(Tensor<T>& t, double gain = 1.0, Generator* gen = nullptr) {
  t.check_defined("orthogonal_");
  EMBER_CHECK_VALUE(t.dim() >= 2,
                    "orthogonal_: only tensors with 2 or more dimensions are "
                    "supported (shape ",
                    t.shape(), ")");
  if (t.numel() == 0) return t;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  const bool tr = rows < cols;
  const int64_t m = tr ? cols : rows, n = tr ? rows : cols;  // m >= n: orthonormalise n columns
  Tensor<double> a = randn<double>({rows, cols}, gen);
  // Column j of the m x n matrix: a(i, j) or, transposed, a(j, i).
  std::vector<double> q(static_cast<std::size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) q[static_cast<std::size_t>(i * n + j)] = tr ? a(j, i) : a(i, j);
  // Modified Gram-Schmidt twice ("twice is enough") for orthogonality to rounding level. The
  // diagonal of R is the norm before normalising, positive, so Q needs no sign fix.
  for (int64_t j = 0; j < n; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < m; ++i)
          dot += q[static_cast<std::size_t>(i * n + k)] * q[static_cast<std::size_t>(i * n + j)];
        for (int64_t i = 0; i < m; ++i)
          q[static_cast<std::size_t>(i * n + j)] -= dot * q[static_cast<std::size_t>(i * n + k)];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i)
      norm += q[static_cast<std::size_t>(i * n + j)] * q[static_cast<std::size_t>(i * n + j)];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < m; ++i) q[static_cast<std::size_t>(i * n + j)] /= norm;
  }
  Tensor<T> out({rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out(r, c) = static_cast<T>(gain * (tr ? q[static_cast<std::size_t>(c * n + r)]
                                            : q[static_cast<std::size_t>(r * n + c)]));
  return detail::assign(t, out.reshape(t.shape()));
}

}  // namespace ember::nn::init
