// ember::optim::SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum,
// weight decay and maximize, with PyTorch's update rule:
//   d = ±g + wd * p;  buf = d (first step) or momentum * buf + (1 - dampening) * d;
//   d = nesterov ? d + momentum * buf : buf;  p -= lr * d
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct SGDOptions {
  explicit SGDOptions(double lr) { o["lr"] = lr; }
  SGDOptions& momentum(double v) { return set("momentum", v); }
  SGDOptions& dampening(double v) { return set("dampening", v); }
  SGDOptions& weight_decay(double v) { return set("weight_decay", v); }
  SGDOptions& nesterov(bool v) { return set("nesterov", v ? 1.0 : 0.0); }
  SGDOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  static Options defaults() {
    return {{"lr", 1e-3},          {"momentum", 0.0}, {"dampening", 0.0},
            {"weight_decay", 0.0}, {"nesterov", 0.0}, {"maximize", 0.0}};
  }
  Options o;

 private:
  SGDOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class SGD : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  SGD(std::vector<ParamGroup<T>> groups, const SGDOptions& options) : Base("SGD", merged(options)) {
    this->init(std::move(groups));
  }
  SGD(std::vector<Tensor<T>> params, const SGDOptions& options)
      : SGD(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad([](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s,
                                      const Options& o) {
      const T lr = static_cast<T>(o.at("lr")), mom = static_cast<T>(o.at("momentum"));
      const T damp = static_cast<T>(o.at("dampening")), wd = static_cast<T>(o.at("weight_decay"));
      const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
      const bool nesterov = o.at("nesterov") != 0.0;
      T* __restrict pp = p.data();
      const T* __restrict gp = grad.data();
      const int64_t n = p.numel();
      if (mom == T(0)) {
        detail::run_update<T>(n, [&](auto v, int64_t i) {
          using V = decltype(v);
          using detail::load;
          const V pv = load<V>(pp + i);
          detail::store(pp + i, pv - V(lr) * (V(sign) * load<V>(gp + i) + V(wd) * pv));
        });
        return;
      }
      const bool first = s.buffers.count("momentum_buffer") == 0;
      T* __restrict bp = Base::buffer(s, "momentum_buffer", p).data();
      // PyTorch starts the buffer at d itself (no dampening on the first step).
      const T keep = first ? T(0) : mom, take = first ? T(1) : T(1) - damp;
      detail::run_update<T>(n, [&](auto v, int64_t i) {
        using V = decltype(v);
        using detail::load;
        const V pv = load<V>(pp + i);
        const V d = V(sign) * load<V>(gp + i) + V(wd) * pv;
        const V b = V(keep) * load<V>(bp + i) + V(take) * d;
        detail::store(bp + i, b);
        detail::store(pp + i, pv - V(lr) * (nesterov ? d + V(mom) * b : b));
      });
    });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("SGD", o);
    detail::check_nonnegative("SGD", o, "momentum", "momentum value");
    detail::check_nonnegative("SGD", o, "weight_decay", "weight_decay value");
    EMBER_CHECK_VALUE(
        o.at("nesterov") == 0.0 || (o.at("momentum") > 0.0 && o.at("dampening") == 0.0),
        "SGD: nesterov momentum requires a momentum > 0 and zero dampening (got "
        "momentum ",
        o.at("momentum"), ", dampening ", o.at("dampening"), ")");
  }

 private:
  static Options merged(const SGDOptions& options) {
    Options d = SGDOptions::defaults();
    for (const auto& kv : options.o) d[kv.first] = kv.second;
    return d;
  }
};

}  // namespace ember::optim
