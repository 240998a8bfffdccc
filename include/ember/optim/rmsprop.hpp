// ember::optim::RMSprop with PyTorch's update rule (centered, momentum, maximize):
//   g = ±grad + wd p;  sq = alpha sq + (1 - alpha) g^2;  ga = alpha ga + (1 - alpha) g (centered)
//   avg = sqrt(sq - ga^2 (centered)) + eps
//   momentum > 0: buf = momentum buf + g / avg, p -= lr buf;  else p -= lr g / avg
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct RMSpropOptions {
  explicit RMSpropOptions(double lr = 1e-2) { o["lr"] = lr; }
  RMSpropOptions& alpha(double v) { return set("alpha", v); }
  RMSpropOptions& eps(double v) { return set("eps", v); }
  RMSpropOptions& weight_decay(double v) { return set("weight_decay", v); }
  RMSpropOptions& momentum(double v) { return set("momentum", v); }
  RMSpropOptions& centered(bool v) { return set("centered", v ? 1.0 : 0.0); }
  RMSpropOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  RMSpropOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class RMSprop : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  RMSprop(std::vector<ParamGroup<T>> groups, const RMSpropOptions& options = RMSpropOptions())
      : Base("RMSprop", detail::merge_options({{"lr", 1e-2},
                                               {"alpha", 0.99},
                                               {"eps", 1e-8},
                                               {"weight_decay", 0.0},
                                               {"momentum", 0.0},
                                               {"centered", 0.0},
                                               {"maximize", 0.0}},
                                              options.o)) {
    this->init(std::move(groups));
  }
  RMSprop(std::vector<Tensor<T>> params, const RMSpropOptions& options = RMSpropOptions())
      : RMSprop(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad(
        [](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s, const Options& o) {
          ++s.step;
          const T lr = static_cast<T>(o.at("lr")), alpha = static_cast<T>(o.at("alpha"));
          const T eps = static_cast<T>(o.at("eps")), wd = static_cast<T>(o.at("weight_decay"));
          const T mom = static_cast<T>(o.at("momentum"));
          const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
          const bool centered = o.at("centered") != 0.0;
          T* __restrict pp = p.data();
          const T* __restrict gp = grad.data();
          T* __restrict sq = Base::buffer(s, "square_avg", p).data();
          // Unused buffers point at square_avg so that no pointer is null (the loop may read them).
          T* __restrict ga = centered ? Base::buffer(s, "grad_avg", p).data() : sq;
          T* __restrict buf = mom > T(0) ? Base::buffer(s, "momentum_buffer", p).data() : sq;
          const T one_minus_alpha = T(1) - alpha;
          detail::run_update<T>(p.numel(), [&](auto v, int64_t i) {
            using V = decltype(v);
            using detail::load;
            using detail::store;
            const V pv = load<V>(pp + i);
            const V g = V(sign) * load<V>(gp + i) + V(wd) * pv;
            const V s2 = V(alpha) * load<V>(sq + i) + V(one_minus_alpha) * g * g;
            store(sq + i, s2);
            V var = s2;
            if (centered) {
              const V a = V(alpha) * load<V>(ga + i) + V(one_minus_alpha) * g;
              store(ga + i, a);
              var = s2 - a * a;
            }
            const V avg = detail::vsqrt(var) + V(eps);
            if (mom > T(0)) {
              const V b = V(mom) * load<V>(buf + i) + g / avg;
              store(buf + i, b);
              store(pp + i, pv - V(lr) * b);
            } else {
              store(pp + i, pv - V(lr) * g / avg);
            }
          });
        });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("RMSprop", o);
    detail::check_nonnegative("RMSprop", o, "eps", "epsilon value");
    detail::check_nonnegative("RMSprop", o, "momentum", "momentum value");
    detail::check_nonnegative("RMSprop", o, "weight_decay", "weight_decay value");
    detail::check_nonnegative("RMSprop", o, "alpha", "alpha value");
  }
};

}  // namespace ember::optim
