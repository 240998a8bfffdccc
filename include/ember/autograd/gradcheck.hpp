// ember: gradcheck — compares the gradients autograd computes with central finite differences,
// in double precision, element by element. Public API: use it to test ops you add yourself.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/autograd/tensor_autograd.hpp"
#include "ember/core/random.hpp"

namespace ember {

struct GradcheckResult {
  bool ok = true;
  std::string message;  // empty when ok; otherwise names the worst element
  double max_abs_error = 0;
};

namespace detail {

// Offsets (from data()) of every element of t, in row-major index order.
inline std::vector<int64_t> element_offsets(const Shape& shape, const Shape& strides) {
  std::vector<int64_t> out;
  const int64_t n = numel_of(shape);
  out.reserve(static_cast<std::size_t>(n));
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) off += idx[d] * strides[d];
    out.push_back(off);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] > 0) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
  }
  return idx;
}

// Records one comparison: keeps the largest error, and the failure that most exceeds its
// tolerance (a NaN counts as the worst), described by describe(os).
template <class Describe>
void record_check(GradcheckResult& r, double& worst_excess, double err, double tol,
                  Describe&& describe) {
  r.max_abs_error = std::max(r.max_abs_error, err);
  if (!(err > tol || std::isnan(err))) return;
  const double excess = std::isnan(err) ? 1e300 : err - tol;
  if (!r.ok && excess <= worst_excess) return;
  worst_excess = excess;
  r.ok = false;
  std::ostringstream os;
  os.precision(6);
  describe(os);
  os << " (abs error " << err << ", allowed " << tol << ")";
  r.message = os.str();
}

// gradcheck's fast mode: for each checked input, v^T J u from one backward against
// v^T (f(x + eps u) - f(x - eps u)) / 2eps, with u and v uniform in [-1, 1] from a fixed seed.
template <class F>
GradcheckResult gradcheck_fast(F& fn, const std::vector<Tensor<double>>& inputs,
                               const std::vector<std::size_t>& checked,
                               const std::vector<Tensor<double>>& diff_inputs,
                               const Tensor<double>& out, double eps, double atol, double rtol) {
  Generator gen(20261123);
  auto uniform = [&gen] { return 2 * gen.uniform_double() - 1; };
  Tensor<double> v = zeros<double>(out.shape());
  for (int64_t j = 0; j < v.numel(); ++j) v.data()[j] = uniform();
  const auto grads = autograd::grad<double>({out}, diff_inputs, {v}, /*retain_graph=*/false,
                                            /*allow_unused=*/true);
  NoGradGuard no_grad;
  GradcheckResult result;
  double worst_excess = 0;
  for (std::size_t c = 0; c < checked.size(); ++c) {
    const Tensor<double>& x = diff_inputs[c];
    const auto offs = element_offsets(x.shape(), x.strides());
    std::vector<double> u(offs.size()), saved(offs.size());
    double analytic = 0;
    const auto goffs = grads[c].defined() ? element_offsets(grads[c].shape(), grads[c].strides())
                                          : std::vector<int64_t>();
    for (std::size_t e = 0; e < offs.size(); ++e) {
      u[e] = uniform();
      saved[e] = x.data()[offs[e]];
      if (!goffs.empty()) analytic += grads[c].data()[goffs[e]] * u[e];
    }
    auto shifted = [&](double step) {
      for (std::size_t e = 0; e < offs.size(); ++e) x.data()[offs[e]] = saved[e] + step * u[e];
      return fn(inputs).clone();  // clone: fn may return a view of x
    };
    const Tensor<double> plus = shifted(eps), minus = shifted(-eps);
    for (std::size_t e = 0; e < offs.size(); ++e) x.data()[offs[e]] = saved[e];
    double numeric = 0;
    for (int64_t j = 0; j < v.numel(); ++j) {
      numeric += v.data()[j] * (plus.data()[j] - minus.data()[j]) / (2 * eps);
    }
    record_check(result, worst_excess, std::abs(analytic - numeric),
                 atol + rtol * std::abs(numeric), [&](std::ostream& os) {
                   os << "gradcheck (fast mode): mismatch for input " << checked[c]
                      << ": v^T J u analytic " << analytic << ", numeric " << numeric;
                 });
  }
  return result;
}

}  // namespace detail

// fn maps the inputs to one output tensor. Every input that requires grad is checked: the
// analytic Jacobian (one backward per output element) against (f(x + eps) - f(x - eps)) / 2eps.
// An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
//
// fast_mode (PyTorch's gradcheck(fast_mode=True)) checks one random projection v^T J u per input
// instead: two forwards and one backward per input, rather than two forwards per input element
// and one backward per output element. A wrong gradient escapes it only if its error is
// orthogonal to the random u and v, or small next to the whole projection (the rtol term), so
// use it where the Jacobian is too large to build and each element is checked some other way.
template <class F>
GradcheckResult gradcheck(F&& fn, const std::vector<Tensor<double>>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3, bool fast_mode = false) {
  std::vector<std::size_t> checked;
  std::vector<Tensor<double>> diff_inputs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    for (std::size_t d = 0; d < inputs[i].shape().size(); ++d) {
      EMBER_CHECK_VALUE(inputs[i].strides()[d] != 0 || inputs[i].shape()[d] <= 1,
                        "gradcheck: input ", i, " has overlapping memory (stride 0 in dim ", d,
                        "); pass a contiguous() copy");
    }
    checked.push_back(i);
    diff_inputs.push_back(inputs[i]);
  }
  EMBER_CHECK_VALUE(!checked.empty(), "gradcheck: no input requires grad");

  // Analytic Jacobians: jac[c][in_elem * nout + out_elem].
  Tensor<double> out = fn(inputs);
  EMBER_CHECK_STATE(out.requires_grad(), "gradcheck: the output does not require grad");
  if (fast_mode) {
    return detail::gradcheck_fast(fn, inputs, checked, diff_inputs, out, eps, atol, rtol);
  }
  const int64_t nout = out.numel();
  std::vector<std::vector<double>> analytic(checked.size());
  for (std::size_t c = 0; c < checked.size(); ++c) {
    analytic[c].assign(static_cast<std::size_t>(diff_inputs[c].numel() * nout), 0.0);
  }
  for (int64_t j = 0; j < nout; ++j) {
    Tensor<double> seed = zeros<double>(out.shape());
    seed.data()[j] = 1.0;
    auto grads = autograd::grad<double>({out}, diff_inputs, {seed}, /*retain_graph=*/true,
                                        /*allow_unused=*/true);
    for (std::size_t c = 0; c < checked.size(); ++c) {
      if (!grads[c].defined()) continue;
      const auto offs = detail::element_offsets(grads[c].shape(), grads[c].strides());
      for (std::size_t e = 0; e < offs.size(); ++e) {
        analytic[c][e * static_cast<std::size_t>(nout) + static_cast<std::size_t>(j)] =
            grads[c].data()[offs[e]];
      }
    }
  }

  // Numeric Jacobians, perturbing each element in place (no graph is recorded).
  NoGradGuard no_grad;
  GradcheckResult result;
  double worst_excess = 0;
  for (std::size_t c = 0; c < checked.size(); ++c) {
    const Tensor<double>& x = diff_inputs[c];
    const auto offs = detail::element_offsets(x.shape(), x.strides());
    for (std::size_t e = 0; e < offs.size(); ++e) {
      double* p = x.data() + offs[e];
      const double saved = *p;
      *p = saved + eps;
      const Tensor<double> plus = fn(inputs).clone();  // clone: fn may return a view of x
      *p = saved - eps;
      const Tensor<double> minus = fn(inputs).clone();
      *p = saved;
      for (int64_t j = 0; j < nout; ++j) {
        const double numeric = (plus.data()[j] - minus.data()[j]) / (2 * eps);
        const double a =
            analytic[c][e * static_cast<std::size_t>(nout) + static_cast<std::size_t>(j)];
        detail::record_check(
            result, worst_excess, std::abs(a - numeric), atol + rtol * std::abs(numeric),
            [&](std::ostream& os) {
              os << "gradcheck: Jacobian mismatch for input " << checked[c] << " element "
                 << detail::concat(detail::unravel(static_cast<int64_t>(e), x.shape()))
                 << " and output element " << detail::concat(detail::unravel(j, out.shape()))
                 << ": analytic " << a << ", numeric " << numeric;
            });
      }
    }
  }
  return result;
}

}  // namespace ember
