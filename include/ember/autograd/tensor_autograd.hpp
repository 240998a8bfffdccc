// ember: the autograd members of Tensor<T> (requires_grad_, grad, backward, detach, hooks) and
// autograd::grad().
#pragma once

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/autograd/engine.hpp"
#include "ember/autograd/node.hpp"
#include "ember/core/creation.hpp"

namespace ember {

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool requires) {
  check_defined("requires_grad_");
  EMBER_CHECK_TYPE(std::is_floating_point_v<T> || !requires,
                   "requires_grad_: only floating-point tensors can require gradients, got ",
                   dtype());
  if constexpr (std::is_floating_point_v<T>) {
    auto* m = autograd::meta_of(*this);
    EMBER_CHECK_STATE(!m || !m->grad_fn,
                      "requires_grad_: only leaf tensors can change "
                      "requires_grad; this tensor was computed by ",
                      m ? m->grad_fn->name() : "", " (use detach() to get a leaf)");
    if (!requires && !m) return *this;
    autograd::detail::ensure_meta(*this)->requires_grad = requires;
  }
  return *this;
}

template <class T>
bool Tensor<T>::is_leaf() const noexcept {
  if constexpr (std::is_floating_point_v<T>) {
    auto* m = autograd::meta_of(*this);
    return !m || !m->grad_fn;
  } else {
    return true;
  }
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
  if constexpr (std::is_floating_point_v<T>) {
    if (auto* m = autograd::meta_of(*this)) return m->grad;
  }
  return Tensor<T>();
}

template <class T>
void Tensor<T>::set_grad(const Tensor<T>& g) {
  static_assert(std::is_floating_point_v<T>,
                "set_grad: only floating-point tensors have gradients");
  check_defined("set_grad");
  EMBER_CHECK_SHAPE(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape ", g.shape(),
                    " does not match the tensor's shape ", shape());
  autograd::detail::ensure_meta(*this)->grad = g;
}

template <class T>
std::shared_ptr<autograd::Node<T>> Tensor<T>::grad_fn() const {
  if constexpr (std::is_floating_point_v<T>) {
    if (auto* m = autograd::meta_of(*this)) return m->grad_fn;
  }
  return nullptr;
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
  check_defined("detach");
  return Tensor<T>(storage(), shape(), strides(), storage_offset());
}

template <class T>
void Tensor<T>::backward(const Tensor<T>& gradient, bool retain_graph) const {
  static_assert(std::is_floating_point_v<T>,
                "backward: only floating-point tensors have gradients");
  check_defined("backward");
  EMBER_CHECK_STATE(requires_grad(),
                    "backward: the tensor does not require grad and has no "
                    "grad_fn (did you forget requires_grad_() on an input, or run under "
                    "NoGradGuard?)");
  Tensor<T> seed = gradient;
  if (!seed.defined()) {
    EMBER_CHECK_SHAPE(numel() == 1,
                      "backward: a gradient can be created implicitly only for a "
                      "single-element output; this output has shape ",
                      shape(), " (pass a gradient of that shape)");
    seed = ones_like(*this);
  } else {
    EMBER_CHECK_SHAPE(seed.shape() == shape(), "backward: the gradient has shape ", seed.shape(),
                      " but the output has shape ", shape());
  }
  autograd::detail::run_backward<T>({autograd::detail::gradient_edge(*this)}, {seed}, retain_graph,
                                    nullptr);
}

template <class T>
template <class F>
void Tensor<T>::register_hook(F&& hook) {
  static_assert(std::is_floating_point_v<T>, "register_hook: only floating-point tensors");
  EMBER_CHECK_STATE(requires_grad(),
                    "register_hook: cannot register a hook on a tensor that does "
                    "not require grad");
  autograd::Hook<T> h;
  if constexpr (std::is_void_v<std::invoke_result_t<F, const Tensor<T>&>>) {
    h = [fn = std::forward<F>(hook)](const Tensor<T>& g) {
      fn(g);
      return g;
    };
  } else {
    h = std::forward<F>(hook);
  }
  auto* m = autograd::meta_of(*this);
  if (m->grad_fn) {
    m->grad_fn->pre_hooks().push_back(std::move(h));
  } else {
    m->hooks.push_back(std::move(h));
  }
}

template <class T>
void Tensor<T>::retain_grad() {
  static_assert(std::is_floating_point_v<T>, "retain_grad: only floating-point tensors");
  EMBER_CHECK_STATE(requires_grad(), "retain_grad: the tensor does not require grad");
  auto* m = autograd::meta_of(*this);
  if (!m->grad_fn || m->retains_grad) return;  // leaves keep their gradient anyway
  m->retains_grad = true;
  std::weak_ptr<autograd::Meta<T>> weak =
      std::static_pointer_cast<autograd::Meta<T>>(autograd_meta());
  m->grad_fn->pre_hooks().push_back([weak](const Tensor<T>& g) {
    if (auto meta = weak.lock()) autograd::AccumulateGrad<T>::accumulate(*meta, g.clone());
    return g;
  });
}

namespace autograd {

// Gradients of sum(outputs[i] * grad_outputs[i]) with respect to each input, returned instead of
// accumulated into .grad (PyTorch's torch.autograd.grad). An input that does not influence the
// outputs gets an undefined tensor (allow_unused) or an error.
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs,
                            std::vector<Tensor<T>> grad_outputs = {}, bool retain_graph = false,
                            bool allow_unused = false) {
  EMBER_CHECK_VALUE(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "grad: got ",
                    grad_outputs.size(), " grad_outputs for ", outputs.size(), " outputs");
  std::vector<std::shared_ptr<Node<T>>> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor<T>& out = outputs[i];
    EMBER_CHECK_STATE(out.requires_grad(), "grad: output ", i,
                      " does not require grad and has no grad_fn");
    if (grad_outputs.size() <= i) grad_outputs.resize(i + 1);
    if (!grad_outputs[i].defined()) {
      EMBER_CHECK_SHAPE(out.numel() == 1,
                        "grad: a gradient can be created implicitly only for "
                        "single-element outputs; output ",
                        i, " has shape ", out.shape());
      grad_outputs[i] = ones_like(out);
    } else {
      EMBER_CHECK_SHAPE(grad_outputs[i].shape() == out.shape(), "grad: grad_outputs[", i,
                        "] has shape ", grad_outputs[i].shape(), " but output ", i, " has shape ",
                        out.shape());
    }
    roots.push_back(detail::gradient_edge(out));
  }
  detail::Capture<T> capture;
  std::vector<std::shared_ptr<Node<T>>> keep;  // accumulators made here must outlive the run
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK_STATE(inputs[i].requires_grad(), "grad: input ", i, " does not require grad");
    keep.push_back(detail::gradient_edge(inputs[i]));
    capture.nodes.push_back(keep.back().get());
  }
  capture.results.resize(inputs.size());
  detail::run_backward<T>(roots, grad_outputs, retain_graph, &capture);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK_STATE(allow_unused || capture.results[i].defined(), "grad: input ", i,
                      " was not used to compute the outputs (pass allow_unused = true to get an "
                      "undefined gradient instead)");
  }
  return capture.results;
}

}  // namespace autograd
}  // namespace ember
