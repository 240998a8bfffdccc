// ember: Dropout: zeroes elements with probability p in training mode, identity in eval mode.
#pragma once

#include <string>

#include "ember/functional/dropout.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/module.hpp"

namespace ember::nn {

template <class T = float>
class Dropout : public UnaryModule<T> {
 public:
  // gen: where the masks come from (null: ember's default generator); must outlive the module.
  explicit Dropout(double p = 0.5, Generator* gen = nullptr) : p_(p), gen_(gen) {
    F::detail::check_dropout_p(p, "Dropout");
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return F::dropout(x, p_, this->is_training(), gen_);
  }
  std::string name() const override { return "Dropout"; }
  std::string extra_repr() const override { return "p=" + detail::py_float(p_) + ", inplace=False"; }
  double p() const noexcept { return p_; }

 private:
  double p_;
  Generator* gen_;
};
Dropout()->Dropout<float>;
Dropout(double)->Dropout<float>;
Dropout(double, Generator*)->Dropout<float>;

}  // namespace ember::nn
