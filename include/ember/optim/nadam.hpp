// ember::optim::NAdam (Adam with Nesterov momentum, Dozat 2016), PyTorch 2.x's update rule:
//   mu_t = b1 (1 - 0.5 * 0.96^(t psi));  prod_t = prod_{t-1} mu_t
//   g = ±grad + wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   d = sqrt(v / (1 - b2^t)) + eps
//   p -= lr (1 - mu_t) / (1 - prod_t) * g / d + lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / d
// (PyTorch 1.13 multiplied mu_t into the second denominator twice; 2.0 fixed it, as here.)
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct NAdamOptions {
  explicit NAdamOptions(double lr = 2e-3) { o["lr"] = lr; }
  NAdamOptions& betas(double beta1, double beta2) {
    o["beta1"] = beta1;
    o["beta2"] = beta2;
    return *this;
  }
  NAdamOptions& eps(double v) { return set("eps", v); }
  NAdamOptions& weight_decay(double v) { return set("weight_decay", v); }
  NAdamOptions& momentum_decay(double v) { return set("momentum_decay", v); }
  NAdamOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  NAdamOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class NAdam : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  NAdam(std::vector<ParamGroup<T>> groups, const NAdamOptions& options = NAdamOptions())
      : Base("NAdam", detail::merge_options({{"lr", 2e-3},
                                             {"beta1", 0.9},
                                             {"beta2", 0.999},
                                             {"eps", 1e-8},
                                             {"weight_decay", 0.0},
                                             {"momentum_decay", 4e-3},
                                             {"maximize", 0.0}},
                                            options.o)) {
    this->init(std::move(groups));
  }
  NAdam(std::vector<Tensor<T>> params, const NAdamOptions& options = NAdamOptions())
      : NAdam(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad(
        [](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s, const Options& o) {
          const int64_t t = ++s.step;
          const double lr = o.at("lr"), b1 = o.at("beta1"), b2 = o.at("beta2");
          const double psi = o.at("momentum_decay");
          const auto td = static_cast<double>(t);
          const double mu = b1 * (1.0 - 0.5 * std::pow(0.96, td * psi));
          const double mu_next = b1 * (1.0 - 0.5 * std::pow(0.96, (td + 1.0) * psi));
          auto it = s.scalars.emplace("mu_product", 1.0).first;
          const double mu_product = it->second * mu;
          it->second = mu_product;
          const T cg = static_cast<T>(-lr * (1.0 - mu) / (1.0 - mu_product));
          const T cm = static_cast<T>(-lr * mu_next / (1.0 - mu_product * mu_next));
          const T inv_bc2 = static_cast<T>(1.0 / (1.0 - std::pow(b2, td)));
          const T beta1 = static_cast<T>(b1), one_minus_b1 = static_cast<T>(1.0 - b1);
          const T beta2 = static_cast<T>(b2), one_minus_b2 = static_cast<T>(1.0 - b2);
          const T eps = static_cast<T>(o.at("eps")), wd = static_cast<T>(o.at("weight_decay"));
          const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
          T* __restrict pp = p.data();
          const T* __restrict gp = grad.data();
          T* __restrict m = Base::buffer(s, "exp_avg", p).data();
          T* __restrict v = Base::buffer(s, "exp_avg_sq", p).data();
          detail::run_update<T>(p.numel(), [&](auto tag, int64_t i) {
            using V = decltype(tag);
            using detail::load;
            const V pv = load<V>(pp + i);
            const V g = V(sign) * load<V>(gp + i) + V(wd) * pv;
            const V mi = V(beta1) * load<V>(m + i) + V(one_minus_b1) * g;
            const V vi = V(beta2) * load<V>(v + i) + V(one_minus_b2) * g * g;
            detail::store(m + i, mi);
            detail::store(v + i, vi);
            const V d = detail::vsqrt(vi * V(inv_bc2)) + V(eps);
            detail::store(pp + i, pv + (V(cg) * g + V(cm) * mi) / d);
          });
        });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("NAdam", o);
    detail::check_nonnegative("NAdam", o, "eps", "epsilon value");
    detail::check_beta("NAdam", o, "beta1");
    detail::check_beta("NAdam", o, "beta2");
    detail::check_nonnegative("NAdam", o, "weight_decay", "weight_decay value");
    detail::check_nonnegative("NAdam", o, "momentum_decay", "momentum_decay value");
  }
};

}  // namespace ember::optim
