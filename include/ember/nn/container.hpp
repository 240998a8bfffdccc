// ember: the containers Sequential (a chain of unary modules), ModuleList and ModuleDict. Their
// children are registered under PyTorch's names ("0", "1", ... or the given keys), so parameter
// names and state-dict keys read like PyTorch's ("features.0.weight").
//
//   auto net = std::make_shared<nn::Sequential<>>(nn::Linear(784, 128), nn::ReLU(),
//                                                 nn::Linear(128, 10));
//   Tensor<float> y = net->forward(x);
//
// Sequential runs a ReLU that is directly followed by a max pool (MaxPool1d / MaxPool2d, any
// options) after the pool instead of before it: ReLU is monotone, so max_pool(relu(x)) and
// relu(max_pool(x)) are the same values, and the gradients are the same too (where the window's
// maximum is positive both pick the same first-maximum tap; elsewhere the ReLU zeroes it; a NaN is
// the first NaN tap either way). Only the sign of a zero output can differ (a window whose
// maximum is -0.0). The pool applies the ReLU to its outputs as it writes them (forward_relu), so
// the pair costs one pass forward and one backward.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "ember/nn/activation.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/pooling.hpp"

namespace ember::nn {

namespace detail {
template <class M>
struct is_shared_ptr : std::false_type {};
template <class M>
struct is_shared_ptr<std::shared_ptr<M>> : std::true_type {};

template <class M>
auto to_holder(M&& m) {
  using D = std::decay_t<M>;
  if constexpr (is_shared_ptr<D>::value) {
    return D(std::forward<M>(m));
  } else {
    return std::make_shared<D>(std::forward<M>(m));
  }
}
template <class M>
struct module_type {
  using type = std::decay_t<M>;
};
template <class M>
struct module_type<std::shared_ptr<M>> {
  using type = M;
};
template <class M>
using value_type_of = typename module_type<std::decay_t<M>>::type::value_type;
}  // namespace detail

template <class T = float>
class Sequential : public UnaryModule<T> {
 public:
  Sequential() = default;
  // Each argument is a shared_ptr to a unary module or a unary module value (moved in).
  template <class M, class... Ms,
            class = std::enable_if_t<!std::is_same_v<std::decay_t<M>, Sequential>>>
  explicit Sequential(M&& first, Ms&&... rest) {
    push_back(std::forward<M>(first));
    (push_back(std::forward<Ms>(rest)), ...);
  }

  // Appends under the next index as its name.
  template <class M>
  void push_back(M&& m) {
    push_back(std::to_string(modules_.size()), std::forward<M>(m));
  }
  // Appends under a chosen name (PyTorch's Sequential(OrderedDict(...))).
  template <class M>
  void push_back(const std::string& key, M&& m) {
    auto holder = detail::to_holder(std::forward<M>(m));
    using Held = typename decltype(holder)::element_type;
    static_assert(std::is_base_of_v<UnaryModule<T>, Held>,
                  "Sequential: every element must be a UnaryModule of the same type");
    this->register_module(key, holder);
    modules_.push_back(holder);
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = x;
    for (std::size_t i = 0; i < modules_.size(); ++i) {
      if (i + 1 < modules_.size() && relu_then_max_pool(i)) {
        y = max_pool_relu(*modules_[i + 1], y);  // see the top of this file
        ++i;
      } else {
        y = modules_[i]->forward(y);
      }
    }
    return y;
  }

  std::size_t size() const noexcept { return modules_.size(); }
  bool empty() const noexcept { return modules_.empty(); }
  const std::shared_ptr<UnaryModule<T>>& operator[](std::size_t i) const { return at(i); }
  const std::shared_ptr<UnaryModule<T>>& at(std::size_t i) const {
    EMBER_CHECK_INDEX(i < modules_.size(), "Sequential: index ", i, " is out of range for ",
                      modules_.size(), " modules");
    return modules_[i];
  }
  // The i-th module as its concrete type (nullptr if it is not an M).
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    return std::dynamic_pointer_cast<M>(at(i));
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

  std::string name() const override { return "Sequential"; }

 private:
  // Exactly nn::ReLU at i and a max pool at i + 1 (not subclasses, whose forward may differ).
  bool relu_then_max_pool(std::size_t i) const {
    const std::type_info& a = typeid(*modules_[i]);
    const std::type_info& b = typeid(*modules_[i + 1]);
    return a == typeid(ReLU<T>) && (b == typeid(MaxPool2d<T>) || b == typeid(MaxPool1d<T>));
  }

  static Tensor<T> max_pool_relu(UnaryModule<T>& pool, const Tensor<T>& x) {
    if (auto* p2 = dynamic_cast<MaxPool2d<T>*>(&pool)) return p2->forward_relu(x);
    return static_cast<MaxPool1d<T>&>(pool).forward_relu(x);
  }

  std::vector<std::shared_ptr<UnaryModule<T>>> modules_;
};

template <class M, class... Ms>
Sequential(M&&, Ms&&...) -> Sequential<detail::value_type_of<M>>;

template <class T = float>
class ModuleList : public Module<T> {
 public:
  ModuleList() = default;
  template <class M, class... Ms,
            class = std::enable_if_t<!std::is_same_v<std::decay_t<M>, ModuleList>>>
  explicit ModuleList(M&& first, Ms&&... rest) {
    push_back(std::forward<M>(first));
    (push_back(std::forward<Ms>(rest)), ...);
  }

  template <class M>
  void push_back(M&& m) {
    auto holder = detail::to_holder(std::forward<M>(m));
    this->register_module(std::to_string(modules_.size()), holder);
    modules_.push_back(holder);
  }

  std::size_t size() const noexcept { return modules_.size(); }
  bool empty() const noexcept { return modules_.empty(); }
  const std::shared_ptr<Module<T>>& operator[](std::size_t i) const { return at(i); }
  const std::shared_ptr<Module<T>>& at(std::size_t i) const {
    EMBER_CHECK_INDEX(i < modules_.size(), "ModuleList: index ", i, " is out of range for ",
                      modules_.size(), " modules");
    return modules_[i];
  }
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    return std::dynamic_pointer_cast<M>(at(i));
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

  std::string name() const override { return "ModuleList"; }

 private:
  std::vector<std::shared_ptr<Module<T>>> modules_;
};

template <class M, class... Ms>
ModuleList(M&&, Ms&&...) -> ModuleList<detail::value_type_of<M>>;

template <class T = float>
class ModuleDict : public Module<T> {
 public:
  ModuleDict() = default;

  template <class M>
  void insert(const std::string& key, M&& m) {
    auto holder = detail::to_holder(std::forward<M>(m));
    this->register_module(key, holder);
    modules_.insert(key, holder);
  }

  std::size_t size() const noexcept { return modules_.size(); }
  bool contains(const std::string& key) const { return modules_.contains(key); }
  std::vector<std::string> keys() const { return modules_.keys(); }
  const std::shared_ptr<Module<T>>& operator[](const std::string& key) const { return at(key); }
  const std::shared_ptr<Module<T>>& at(const std::string& key) const {
    const auto* m = modules_.find(key);
    EMBER_CHECK_INDEX(m != nullptr, "ModuleDict: no module named '", key, "'");
    return *m;
  }
  template <class M>
  std::shared_ptr<M> at(const std::string& key) const {
    return std::dynamic_pointer_cast<M>(at(key));
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

  std::string name() const override { return "ModuleDict"; }

 private:
  OrderedDict<std::shared_ptr<Module<T>>> modules_;
};

}  // namespace ember::nn
