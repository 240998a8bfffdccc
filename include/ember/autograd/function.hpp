// ember: user-defined differentiable functions, like torch.autograd.Function.
//
//   struct Cube : ember::autograd::Function<Cube> {
//     static constexpr const char* name = "Cube";
//     template <class T>
//     static ember::Tensor<T> forward(ember::autograd::Context<T>& ctx, const ember::Tensor<T>& x)
//     {
//       ctx.save_for_backward({x});
//       return x * x * x;
//     }
//     template <class T>
//     static std::vector<ember::Tensor<T>> backward(ember::autograd::Context<T>& ctx,
//                                                   const ember::Tensor<T>& grad) {
//       const auto& x = ctx.saved()[0];
//       return {grad * x * x * T(3)};
//     }
//   };
//   auto y = Cube::apply(x);  // recorded like a built-in op
//
// forward runs without recording; backward returns one gradient per Tensor argument of apply
// (an undefined tensor for "no gradient"), each of that argument's shape.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/autograd/node.hpp"

namespace ember::autograd {

template <class T>
class Context {
 public:
  explicit Context(const char* name) : name_(name) {}

  // Tensors backward needs; an in-place change to one of them before backward is an error.
  void save_for_backward(const std::vector<Tensor<T>>& tensors) {
    saved_.clear();
    for (const auto& t : tensors) saved_.emplace_back(t, name_);
  }
  std::vector<Tensor<T>> saved() const {
    std::vector<Tensor<T>> out;
    for (const auto& s : saved_) out.push_back(s.get());
    return out;
  }
  // Non-tensor values for backward (sizes, flags, scalars).
  std::unordered_map<std::string, double> saved_data;

 private:
  const char* name_;
  std::vector<SavedTensor<T>> saved_;
};

namespace detail {
template <class D, class = void>
struct function_name {
  static constexpr const char* value = "CustomFunction";
};
template <class D>
struct function_name<D, std::void_t<decltype(D::name)>> {
  static constexpr const char* value = D::name;
};

template <class T, class A>
void collect_tensor(std::vector<Tensor<T>>& out, const A& arg) {
  if constexpr (std::is_same_v<std::decay_t<A>, Tensor<T>>) out.push_back(arg);
}
}  // namespace detail

template <class Derived>
struct Function {
  template <class T, class... Args>
  static Tensor<T> apply(const Tensor<T>& first, const Args&... rest) {
    constexpr const char* name = detail::function_name<Derived>::value;
    auto ctx = std::make_shared<Context<T>>(name);
    Tensor<T> out;
    {
      NoGradGuard no_grad;
      out = Derived::forward(*ctx, first, rest...);
    }
    std::vector<Tensor<T>> inputs;
    detail::collect_tensor<T>(inputs, first);
    (detail::collect_tensor<T>(inputs, rest), ...);
    if (needs_grad(inputs)) {
      const std::size_t n = inputs.size();
      record(out, name, inputs, [ctx, n](const Tensor<T>& grad) {
        std::vector<Tensor<T>> grads = Derived::backward(*ctx, grad);
        EMBER_CHECK_STATE(grads.size() == n, "backward: custom function ",
                          detail::function_name<Derived>::value, " returned ", grads.size(),
                          " gradients for ", n, " tensor inputs");
        return grads;
      });
    }
    return out;
  }
};

}  // namespace ember::autograd
