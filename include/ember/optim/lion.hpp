// ember::optim::Lion (EvoLved Sign Momentum, Chen et al. 2023; not in torch.optim): the update of
// the paper's reference implementation (google/automl lion_pytorch.py):
//   p *= 1 - lr wd;  p -= lr sign(b1 m + (1 - b1) g);  m = b2 m + (1 - b2) g
#pragma once

#include <utility>
#include <vector>

#include "ember/optim/optimizer.hpp"
#include "ember/optim/update_loop.hpp"

namespace ember::optim {

struct LionOptions {
  explicit LionOptions(double lr = 1e-4) { o["lr"] = lr; }
  LionOptions& betas(double beta1, double beta2) {
    o["beta1"] = beta1;
    o["beta2"] = beta2;
    return *this;
  }
  LionOptions& weight_decay(double v) { return set("weight_decay", v); }
  LionOptions& maximize(bool v) { return set("maximize", v ? 1.0 : 0.0); }
  Options o;

 private:
  LionOptions& set(const char* k, double v) {
    o[k] = v;
    return *this;
  }
};

template <class T>
class Lion : public Optimizer<T> {
  using Base = Optimizer<T>;

 public:
  Lion(std::vector<ParamGroup<T>> groups, const LionOptions& options = LionOptions())
      : Base("Lion", detail::merge_options({{"lr", 1e-4},
                                            {"beta1", 0.9},
                                            {"beta2", 0.99},
                                            {"weight_decay", 0.0},
                                            {"maximize", 0.0}},
                                           options.o)) {
    this->init(std::move(groups));
  }
  Lion(std::vector<Tensor<T>> params, const LionOptions& options = LionOptions())
      : Lion(std::vector<ParamGroup<T>>{ParamGroup<T>(std::move(params))}, options) {}

  void step() override {
    this->for_each_param_with_grad([](Tensor<T>& p, const Tensor<T>& grad, ParamState<T>& s,
                                      const Options& o) {
      ++s.step;
      const double lr = o.at("lr"), b1 = o.at("beta1"), b2 = o.at("beta2");
      const T decay = static_cast<T>(1.0 - lr * o.at("weight_decay")), step = static_cast<T>(lr);
      const T beta1 = static_cast<T>(b1), one_minus_b1 = static_cast<T>(1.0 - b1);
      const T beta2 = static_cast<T>(b2), one_minus_b2 = static_cast<T>(1.0 - b2);
      const T sign = o.at("maximize") != 0.0 ? T(-1) : T(1);
      T* __restrict pp = p.data();
      const T* __restrict gp = grad.data();
      T* __restrict m = Base::buffer(s, "exp_avg", p).data();
      detail::run_update<T>(p.numel(), [&](auto v, int64_t i) {
        using V = decltype(v);
        using detail::load;
        const V g = V(sign) * load<V>(gp + i);
        const V mv = load<V>(m + i);
        const V c = V(beta1) * mv + V(one_minus_b1) * g;
        detail::store(pp + i, load<V>(pp + i) * V(decay) - V(step) * detail::vsign(c));
        detail::store(m + i, V(beta2) * mv + V(one_minus_b2) * g);
      });
    });
  }

 protected:
  void validate(const Options& o) const override {
    detail::check_lr("Lion", o);
    detail::check_beta("Lion", o, "beta1");
    detail::check_beta("Lion", o, "beta2");
    detail::check_nonnegative("Lion", o, "weight_decay", "weight_decay value");
  }
};

}  // namespace ember::optim
