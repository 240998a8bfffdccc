// ember::optim::Adagrad with PyTorch's update rule:
//   g = ±grad + wd p;  sum += g^2;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)
// The sum starts at initial_accumulator_value.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct AdagradOptions {
  explicit AdagradOptions(double lr = 1e-2) { o["lr"] = lr; }
  AdagradOptions& lr_decay(double v) { return set("lr_decay", v); }
  AdagradOptions& weight_decay(double v) { return set("weight_decay", v); }
  AdagradOptions& initial_accumulator_value(double v) {
    return set("initial_accumulator_value", v);
  }
  AdagradOptions& eps(double v) { return set("eps", v); }
  AdagradOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  AdagradOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class Adagrad : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  Adagrad(std::vector<ParamGroup<T>> groups, const AdagradOptions& options = AdagradOptions())
      : Base("Adagrad", detail::merge_options({{"lr", 1e-2},
                                               {"lr_decay", 0.0},
                                               {"weight_decay", 0.0},
                                               {"initial_accumulator_value", 0.0},
                                               {"eps", 1e-10},
                                               {"maximize", 0.0}},
                                              options.o)) {
    this->init(std::move(groups));
  }
  Adagrad(std::vector<Tensor<T>> params, const AdagradOptions& options = AdagradOptions())
      : Adagrad(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad(
        [](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s, const Options& o) {
          const int64_t t = ++s.step;
          const double clr = o.at("lr") / (1.0 + static_cast<double>(t - 1) * o.at("lr_decay"));
          const T neg_clr = static_cast<T>(-clr), eps = static_cast<T>(o.at("eps"));
          const T wd = static_cast<T>(o.at("weight_decay"));
          const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
          T* __restrict pp = p.data();
          const T* __restrict gp = grad.data();
          T* __restrict sum =
              Base::buffer(s, "sum", p, static_cast<T>(o.at("initial_accumulator_value"))).data();
          detail::run_update<T>(p.numel(), [&](auto v, int64_t i) {
            using V = decltype(v);
            using detail::load;
            const V pv = load<V>(pp + i);
            const V g = V(sign) * load<V>(gp + i) + V(wd) * pv;
            const V acc = load<V>(sum + i) + g * g;
            detail::store(sum + i, acc);
            detail::store(pp + i, pv + V(neg_clr) * g / (detail::vsqrt(acc) + V(eps)));
          });
        });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("Adagrad", o);
    detail::check_nonnegative("Adagrad", o, "lr_decay", "lr_decay value");
    detail::check_nonnegative("Adagrad", o, "weight_decay", "weight_decay value");
    detail::check_nonnegative("Adagrad", o, "initial_accumulator_value",
                              "initial_accumulator_value");
    detail::check_nonnegative("Adagrad", o, "eps", "epsilon value");
  }
};

}  // namespace ember::optim
