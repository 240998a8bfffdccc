// ember: the autograd graph: nodes (one per recorded op), the per-tensor Meta, saved tensors, and
// record(), which ops call right after computing their forward result.
//
// Every node has exactly one output (ops that return several tensors, like split, return views
// that each get their own node), so the gradient flowing into a node is the gradient of the one
// tensor it made. A node's next edges point at the nodes of its inputs; a leaf that requires grad
// is reached through its AccumulateGrad node, which adds into leaf.grad().
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/core/autograd_meta.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/error.hpp"

namespace ember::autograd {

// A gradient hook: sees the gradient of a tensor and returns it, possibly changed.
template <class T>
using Hook = std::function<Tensor<T>(const Tensor<T>&)>;

namespace detail {

// The input shapes of a node: two inline (every built-in op with up to two tensor inputs records
// without a heap allocation for them), more on the heap.
class InputShapes {
 public:
  InputShapes() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): Node's constructor takes a std::vector<Shape>.
  InputShapes(std::vector<Shape> shapes) {
    for (Shape& s : shapes) push_back(std::move(s));
  }
  void reserve(std::size_t n) {
    if (n > inline_n) more_.reserve(n - inline_n);
  }
  void push_back(Shape s) {
    if (n_ < inline_n) {
      first_[n_] = std::move(s);
    } else {
      more_.push_back(std::move(s));
    }
    ++n_;
  }
  std::size_t size() const noexcept { return n_; }
  const Shape& operator[](std::size_t i) const noexcept {
    return i < inline_n ? first_[i] : more_[i - inline_n];
  }

 private:
  static constexpr std::size_t inline_n = 2;
  Shape first_[inline_n];
  std::vector<Shape> more_;
  std::size_t n_ = 0;
};

}  // namespace detail

template <class T>
class Node {
 public:
  Node(std::string name, std::vector<std::shared_ptr<Node>> next, detail::InputShapes input_shapes,
       Shape output_shape)
      : name_(std::move(name)),
        next_(std::move(next)),
        input_shapes_(std::move(input_shapes)),
        output_shape_(std::move(output_shape)) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // "MulBackward", "AccumulateGrad", or a custom function's name.
  const std::string& name() const noexcept { return name_; }
  // One entry per input of the op; null where that input needs no gradient.
  const std::vector<std::shared_ptr<Node>>& next_functions() const noexcept { return next_; }
  const Shape& input_shape(std::size_t i) const { return input_shapes_[i]; }
  const Shape& output_shape() const noexcept { return output_shape_; }

  // The gradient of the output -> the gradients of the inputs (one per next function; an
  // undefined tensor means zero).
  virtual std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) = 0;
  // Frees what backward needs (saved tensors) once the graph is no longer retained.
  virtual void release() {}

  // Hooks run on the incoming gradient before apply (tensor hooks of the op's output).
  std::vector<Hook<T>>& pre_hooks() noexcept { return pre_hooks_; }

  // Whether this is a leaf's AccumulateGrad (the engine treats those specially).
  bool is_accumulator() const noexcept { return is_accumulator_; }

 protected:
  bool is_accumulator_ = false;

 private:
  std::string name_;
  std::vector<std::shared_ptr<Node>> next_;
  detail::InputShapes input_shapes_;
  Shape output_shape_;
  std::vector<Hook<T>> pre_hooks_;
};

template <class T>
class AccumulateGrad;

// Autograd state of one tensor (shared by all copies of its handle).
template <class T>
struct Meta : ::ember::detail::AutogradMeta {
  Tensor<T> grad;
  std::shared_ptr<Node<T>> grad_fn;                // null for leaves
  std::shared_ptr<AccumulateGrad<T>> accumulator;  // leaves only, made on first use
  std::vector<Hook<T>> hooks;                      // leaves: run by AccumulateGrad
  bool retains_grad = false;                       // non-leaves: keep .grad (retain_grad())
};

template <class T>
Meta<T>* meta_of(const Tensor<T>& t) noexcept {
  return static_cast<Meta<T>*>(t.autograd_meta().get());
}

// Sums gradients arriving for a leaf into leaf.grad(), after the leaf's hooks.
template <class T>
class AccumulateGrad final : public Node<T> {
 public:
  AccumulateGrad(std::weak_ptr<Meta<T>> leaf, Shape shape)
      : Node<T>("AccumulateGrad", {}, {}, std::move(shape)), leaf_(std::move(leaf)) {
    this->is_accumulator_ = true;
  }

  std::vector<Tensor<T>> apply(const Tensor<T>& grad) override {
    std::shared_ptr<Meta<T>> meta = leaf_.lock();
    if (!meta) return {};  // the leaf is gone: nobody can read its gradient
    accumulate(*meta, run_hooks(*meta, grad));
    return {};
  }

  // The engine's entry: it hands over its own reference to the gradient, so that a buffer nothing
  // else holds can become leaf.grad() without a copy.
  void apply_owned(Tensor<T> grad) {
    std::shared_ptr<Meta<T>> meta = leaf_.lock();
    if (!meta) return;
    accumulate(*meta, run_hooks(*meta, std::move(grad)));
  }

  static Tensor<T> run_hooks(const Meta<T>& meta, Tensor<T> grad) {
    for (const Hook<T>& h : meta.hooks) grad = h(grad);
    return grad;
  }

  // grad is adopted when nothing else holds its memory (this is the only handle to an owned,
  // dense buffer of exactly its size); otherwise copied, so that later in-place updates of
  // leaf.grad() never write into another tensor. Pass an rvalue to make adoption possible.
  static void accumulate(Meta<T>& meta, Tensor<T> grad) {
    if (!grad.defined()) return;
    if (!meta.grad.defined()) {
      const bool unique = grad.storage().use_count() == 1 && grad.storage()->owns_memory() &&
                          grad.is_contiguous() && grad.storage_offset() == 0 &&
                          static_cast<int64_t>(grad.storage()->size()) == grad.numel();
      meta.grad = unique ? std::move(grad) : grad.clone();
    } else {
      meta.grad.add_(grad);
    }
  }

  std::shared_ptr<Meta<T>> leaf() const { return leaf_.lock(); }

 private:
  std::weak_ptr<Meta<T>> leaf_;
};

// A tensor kept for backward: its values (no autograd state, so no reference cycle) and the
// version it had, so that a later in-place change is reported instead of giving a wrong gradient.
template <class T>
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor<T>& t, const char* op) : op_(op) {
    if (!t.defined()) return;
    data_ = Tensor<T>(t.storage(), t.shape(), t.strides(), t.storage_offset());
    version_ = t.version();
  }

  const Tensor<T>& get() const {
    EMBER_CHECK_STATE(
        !data_.defined() || data_.version() == version_, "backward: a tensor of shape ",
        data_.shape(), " saved by '", op_,
        "' was modified by an in-place operation after it was saved (it is at version ",
        data_.version(), ", expected ", version_,
        "); use an out-of-place operation or clone() it before the change");
    return data_;
  }

 private:
  Tensor<T> data_;
  uint64_t version_ = 0;
  const char* op_ = "";
};

// A node whose backward is a callable: (const Tensor<T>& grad) -> std::vector<Tensor<T>>.
template <class T, class F>
class FunctionNode final : public Node<T> {
 public:
  FunctionNode(std::string name, std::vector<std::shared_ptr<Node<T>>> next,
               detail::InputShapes input_shapes, Shape output_shape, F fn)
      : Node<T>(std::move(name), std::move(next), std::move(input_shapes), std::move(output_shape)),
        fn_(std::move(fn)) {}

  std::vector<Tensor<T>> apply(const Tensor<T>& grad) override {
    EMBER_CHECK_STATE(fn_.has_value(),
                      "backward: trying to backward through the graph a second "
                      "time (the saved tensors of ",
                      this->name(),
                      " were freed after the first backward); pass retain_graph = true to the "
                      "first backward() to keep them");
    return (*fn_)(grad);
  }
  void release() override { fn_.reset(); }

 private:
  std::optional<F> fn_;
};

namespace detail {

template <class T>
std::shared_ptr<Meta<T>> ensure_meta(Tensor<T>& t) {
  if (auto* m = meta_of(t)) return std::static_pointer_cast<Meta<T>>(t.autograd_meta());
  auto m = std::make_shared<Meta<T>>();
  t.set_autograd_meta(m);
  return m;
}

// The node a gradient for `t` flows into: its grad_fn, its AccumulateGrad, or null.
template <class T>
std::shared_ptr<Node<T>> gradient_edge(const Tensor<T>& t) {
  Meta<T>* m = meta_of(t);
  if (!m || !m->requires_grad) return nullptr;
  if (m->grad_fn) return m->grad_fn;
  if (!m->accumulator) {
    auto shared = std::static_pointer_cast<Meta<T>>(t.autograd_meta());
    m->accumulator = std::make_shared<AccumulateGrad<T>>(shared, t.shape());
  }
  return m->accumulator;
}

}  // namespace detail

// Whether an op on these inputs must record a node.
template <class T, class... Ts>
bool needs_grad(const Tensor<T>& first, const Ts&... rest) noexcept {
  if constexpr (!std::is_floating_point_v<T>) {
    return false;
  } else {
    return is_grad_enabled() && (first.requires_grad() || ... || rest.requires_grad());
  }
}
template <class T>
bool needs_grad(const std::vector<Tensor<T>>& inputs) noexcept {
  if constexpr (!std::is_floating_point_v<T>) {
    return false;
  } else {
    if (!is_grad_enabled()) return false;
    for (const auto& t : inputs) {
      if (t.requires_grad()) return true;
    }
    return false;
  }
}

// Makes `out` the result of a recorded op `name` of `inputs`, whose backward is `fn`.
// Call only when needs_grad(inputs...) is true.
namespace detail {

template <class T, class F>
void record_range(Tensor<T>& out, std::string name, const Tensor<T>* first, std::size_t n, F&& fn) {
  std::vector<std::shared_ptr<Node<T>>> next;
  InputShapes shapes;
  next.reserve(n);
  shapes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    next.push_back(gradient_edge(first[i]));
    shapes.push_back(first[i].shape());
  }
  auto meta = std::make_shared<Meta<T>>();
  meta->requires_grad = true;
  meta->grad_fn = std::make_shared<FunctionNode<T, std::decay_t<F>>>(
      std::move(name), std::move(next), std::move(shapes), out.shape(), std::forward<F>(fn));
  out.set_autograd_meta(std::move(meta));
}

}  // namespace detail

template <class T, class F>
void record(Tensor<T>& out, std::string name, const std::vector<Tensor<T>>& inputs, F&& fn) {
  detail::record_range(out, std::move(name), inputs.data(), inputs.size(), std::forward<F>(fn));
}

template <class T, class F>
void record(Tensor<T>& out, std::string name, std::initializer_list<Tensor<T>> inputs, F&& fn) {
  detail::record_range(out, std::move(name), inputs.begin(), inputs.size(), std::forward<F>(fn));
}

// Saves `t` for backward (see SavedTensor).
template <class T>
SavedTensor<T> save(const Tensor<T>& t, const char* op) {
  return SavedTensor<T>(t, op);
}

}  // namespace ember::autograd
