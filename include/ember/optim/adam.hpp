// ember::optim::Adam and AdamW, with PyTorch's update rule (amsgrad and maximize included):
//   g = ±grad (+ wd * p for Adam);  p *= 1 - lr * wd (AdamW, decoupled decay)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vmax = max(vmax, v) (amsgrad)
//   p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) { o["lr"] = lr; }
  AdamOptions& betas(double beta1, double beta2) {
    o["beta1"] = beta1;
    o["beta2"] = beta2;
    return *this;
  }
  AdamOptions& eps(double v) { return set("eps", v); }
  AdamOptions& weight_decay(double v) { return set("weight_decay", v); }
  AdamOptions& amsgrad(bool v) { return set("amsgrad", v ? 1.0 : 0.0); }
  AdamOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  AdamOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};
// AdamW's options are Adam's; only the default weight decay differs (0.01).
using AdamWOptions = AdamOptions;

namespace detail {

template <class T, bool Decoupled>
class AdamFamily : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  void step() override {
    this->for_each_param_with_grad(
        [](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s, const Options& o) {
          const double lr = o.at("lr"), b1 = o.at("beta1"), b2 = o.at("beta2");
          const double wd = o.at("weight_decay");
          const int64_t t = ++s.step;
          const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t));
          const double bc2 = 1.0 - std::pow(b2, static_cast<double>(t));
          Coeffs c;
          c.sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
          c.wd = Decoupled ? T(0) : static_cast<T>(wd);
          c.decay = Decoupled ? static_cast<T>(1.0 - lr * wd) : T(1);
          c.b1 = static_cast<T>(b1);
          c.b2 = static_cast<T>(b2);
          c.one_minus_b1 = static_cast<T>(1.0 - b1);
          c.one_minus_b2 = static_cast<T>(1.0 - b2);
          c.inv_bc2_sqrt = static_cast<T>(1.0 / std::sqrt(bc2));
          c.eps = static_cast<T>(o.at("eps"));
          c.step_size = static_cast<T>(lr / bc1);
          T* m = Base::buffer(s, "exp_avg", p).data();
          T* v = Base::buffer(s, "exp_avg_sq", p).data();
          if (o.at("amsgrad") != 0.0) {
            update<true>(p.data(), grad.data(), m, v, Base::buffer(s, "max_exp_avg_sq", p).data(),
                         p.numel(), c);
          } else {
            update<false>(p.data(), grad.data(), m, v, nullptr, p.numel(), c);
          }
        });
  }

 protected:
  AdamFamily(const char* name, Options defaults, const AdamOptions& options)
      : Base(name, merged(std::move(defaults), options)) {}

  void validate(const Options& o) const override {
    const std::string& op = this->name();
    check_lr(op, o);
    check_nonnegative(op, o, "eps", "epsilon value");
    check_beta(op, o, "beta1");
    check_beta(op, o, "beta2");
    check_nonnegative(op, o, "weight_decay", "weight_decay value");
  }

 private:
  struct Coeffs {
    T sign, wd, decay, b1, b2, one_minus_b1, one_minus_b2, inv_bc2_sqrt, eps, step_size;
  };

  template <bool Amsgrad>
  static void update(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                     T* __restrict vmax, int64_t n, const Coeffs& coeffs) {
    const Coeffs c = coeffs;  // by value: stores through p, m, v cannot alias it
    run_update<T>(n, [&](auto tag, int64_t i) {
      using V = decltype(tag);
      const V pv = load<V>(p + i);
      const V gi = V(c.sign) * load<V>(g + i) + V(c.wd) * pv;
      const V mi = V(c.b1) * load<V>(m + i) + V(c.one_minus_b1) * gi;
      V vi = V(c.b2) * load<V>(v + i) + V(c.one_minus_b2) * gi * gi;
      store(m + i, mi);
      store(v + i, vi);
      if constexpr (Amsgrad) {
        vi = vmax_of(load<V>(vmax + i), vi);
        store(vmax + i, vi);
      }
      store(p + i,
            pv * V(c.decay) - V(c.step_size) * mi / (vsqrt(vi) * V(c.inv_bc2_sqrt) + V(c.eps)));
    });
  }

  template <class V>
  static V vmax_of(const V& a, const V& b) {
    return detail::vmax(a, b);
  }

  static Options merged(Options d, const AdamOptions& options) {
    for (const auto& kv : options.o) d[kv.first] = kv.second;
    return d;
  }
};

inline Options adam_defaults(double weight_decay) {
  return {{"lr", 1e-3},
          {"beta1", 0.9},
          {"beta2", 0.999},
          {"eps", 1e-8},
          {"weight_decay", weight_decay},
          {"amsgrad", 0.0},
          {"maximize", 0.0}};
}

}  // namespace detail

template <class T>
class Adam : public detail::AdamFamily<T, false> {
 public:
  Adam(std::vector<ParamGroup<T>> groups, const AdamOptions& options = AdamOptions())
      : detail::AdamFamily<T, false>("Adam", detail::adam_defaults(0.0), options) {
    this->init(std::move(groups));
  }
  Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions())
      : Adam(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}
};

template <class T>
class AdamW : public detail::AdamFamily<T, true> {
 public:
  AdamW(std::vector<ParamGroup<T>> groups, const AdamWOptions& options = AdamWOptions())
      : detail::AdamFamily<T, true>("AdamW", detail::adam_defaults(1e-2), options) {
    this->init(std::move(groups));
  }
  AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options = AdamWOptions())
      : AdamW(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}
};

}  // namespace ember::optim
