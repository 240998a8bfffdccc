// ember::optim::Adamax (Adam with the infinity norm), PyTorch's update rule:
//   g = ±grad + wd p;  m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps)
//   p -= lr / (1 - b1^t) * m / u
#pragma once

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct AdamaxOptions {
  explicit AdamaxOptions(double lr = 2e-3) { o["lr"] = lr; }
  AdamaxOptions& betas(double beta1, double beta2) {
    o["beta1"] = beta1;
    o["beta2"] = beta2;
    return *this;
  }
  AdamaxOptions& eps(double v) { return set("eps", v); }
  AdamaxOptions& weight_decay(double v) { return set("weight_decay", v); }
  AdamaxOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  AdamaxOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class Adamax : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  Adamax(std::vector<ParamGroup<T>> groups, const AdamaxOptions& options = AdamaxOptions())
      : Base("Adamax", detail::merge_options({{"lr", 2e-3},
                                              {"beta1", 0.9},
                                              {"beta2", 0.999},
                                              {"eps", 1e-8},
                                              {"weight_decay", 0.0},
                                              {"maximize", 0.0}},
                                             options.o)) {
    this->init(std::move(groups));
  }
  Adamax(std::vector<Tensor<T>> params, const AdamaxOptions& options = AdamaxOptions())
      : Adamax(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad([](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s,
                                      const Options& o) {
      const int64_t t = ++s.step;
      const double b1 = o.at("beta1");
      const T neg_clr = static_cast<T>(-o.at("lr") / (1.0 - std::pow(b1, static_cast<double>(t))));
      const T beta1 = static_cast<T>(b1), one_minus_b1 = static_cast<T>(1.0 - b1);
      const T beta2 = static_cast<T>(o.at("beta2")), eps = static_cast<T>(o.at("eps"));
      const T wd = static_cast<T>(o.at("weight_decay"));
      const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
      T* __restrict pp = p.data();
      const T* __restrict gp = grad.data();
      T* __restrict m = Base::buffer(s, "exp_avg", p).data();
      T* __restrict u = Base::buffer(s, "exp_inf", p).data();
      detail::run_update<T>(p.numel(), [&](auto v, int64_t i) {
        using V = decltype(v);
        using detail::load;
        const V pv = load<V>(pp + i);
        const V g = V(sign) * load<V>(gp + i) + V(wd) * pv;
        const V mi = V(beta1) * load<V>(m + i) + V(one_minus_b1) * g;
        const V ui = detail::vmax(V(beta2) * load<V>(u + i), detail::vabs(g) + V(eps));
        detail::store(m + i, mi);
        detail::store(u + i, ui);
        detail::store(pp + i, pv + V(neg_clr) * mi / ui);
      });
    });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("Adamax", o);
    detail::check_nonnegative("Adamax", o, "eps", "epsilon value");
    detail::check_beta("Adamax", o, "beta1");
    detail::check_beta("Adamax", o, "beta2");
    detail::check_nonnegative("Adamax", o, "weight_decay", "weight_decay value");
  }
};

}  // namespace ember::optim
