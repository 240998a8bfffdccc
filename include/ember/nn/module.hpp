// ember: nn::Module, the base of every layer: registration of parameters, buffers and child
// modules; PyTorch's traversal order and dotted names; train/eval; zero_grad; state dicts; repr.
//
// Modules are held by std::shared_ptr (like the torch C++ frontend's holders, without Impl
// classes). A layer registers its tensors once and keeps its own handle to them:
//
//   template <class T = float>
//   struct Scale : nn::UnaryModule<T> {
//     Tensor<T> w = this->register_parameter("w", ones<T>({3}));
//     Tensor<T> forward(const Tensor<T>& x) override { return x.mul(w); }
//     std::string name() const override { return "Scale"; }
//   };
//
// load_state_dict copies values INTO the registered tensors, so those handles stay valid.
// Float <-> double: build the same architecture as Module<double> and load the converted state:
//   nn::Linear<double> d(784, 10);
//   d.load_state_dict(nn::convert_state<double>(f.state_dict()));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::nn {

// An insertion-ordered map from names to values (PyTorch's OrderedDict).
template <class V>
class OrderedDict {
 public:
  using Item = std::pair<std::string, V>;

  // Adds a new key (value_error if it exists already).
  V& insert(const std::string& key, V value) {
    EMBER_CHECK_VALUE(index_.count(key) == 0, "OrderedDict: key '", key, "' already exists");
    index_.emplace(key, items_.size());
    items_.emplace_back(key, std::move(value));
    return items_.back().second;
  }
  // Adds or replaces.
  V& insert_or_assign(const std::string& key, V value) {
    if (V* v = find(key)) return *v = std::move(value);
    return insert(key, std::move(value));
  }
  V* find(const std::string& key) {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  const V* find(const std::string& key) const {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  V& operator[](const std::string& key) { return at(key); }
  const V& operator[](const std::string& key) const { return at(key); }
  V& at(const std::string& key) {
    V* v = find(key);
    EMBER_CHECK_INDEX(v != nullptr, "OrderedDict: no key '", key, "'");
    return *v;
  }
  const V& at(const std::string& key) const {
    const V* v = find(key);
    EMBER_CHECK_INDEX(v != nullptr, "OrderedDict: no key '", key, "'");
    return *v;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    k.reserve(items_.size());
    for (const auto& it : items_) k.push_back(it.first);
    return k;
  }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
  std::map<std::string, std::size_t> index_;
};

// A state-dict entry: a floating tensor of the module's type, or an int64 buffer
// (BatchNorm's num_batches_tracked).
template <class T>
using StateValue = std::variant<Tensor<T>, Tensor<int64_t>>;
template <class T>
using StateDict = OrderedDict<StateValue<T>>;

// The shape of either alternative.
template <class T>
const Shape& state_shape(const StateValue<T>& v) {
  return std::visit([](const auto& t) -> const Shape& { return t.shape(); }, v);
}

// Converts every floating tensor of a state dict to U (int64 buffers are copied as they are).
template <class U, class T>
StateDict<U> convert_state(const StateDict<T>& in) {
  StateDict<U> out;
  for (const auto& [key, value] : in) {
    if (const auto* f = std::get_if<Tensor<T>>(&value)) {
      out.insert(key, f->detach().template to<U>());
    } else {
      out.insert(key, std::get<Tensor<int64_t>>(value).clone());
    }
  }
  return out;
}

// What a non-strict load_state_dict skipped.
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

template <class T = float>
class Module {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "ember::nn::Module supports float and double");

 public:
  using value_type = T;
  using Buffer = StateValue<T>;

  Module() = default;
  virtual ~Module() = default;
  // Registered tensors are shared handles: a copy would alias them silently, so modules move only.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // The class name used by the repr ("Linear").
  virtual std::string name() const { return "Module"; }
  // The text inside the parentheses of the repr, like PyTorch's extra_repr().
  virtual std::string extra_repr() const { return ""; }

  // ---- registration ---------------------------------------------------------------------------
  Tensor<T>& register_parameter(const std::string& n, Tensor<T> t, bool requires_grad = true) {
    check_new_name(n, "register_parameter");
    t.check_defined("register_parameter");
    t.requires_grad_(requires_grad);
    return params_.insert(n, std::move(t));
  }
  template <class B>
  Tensor<B>& register_buffer(const std::string& n, Tensor<B> t) {
    static_assert(std::is_same_v<B, T> || std::is_same_v<B, int64_t>,
                  "register_buffer: buffers are of the module's type or int64");
    check_new_name(n, "register_buffer");
    t.check_defined("register_buffer");
    return std::get<Tensor<B>>(buffers_.insert(n, Buffer(std::move(t))));
  }
  template <class M>
  std::shared_ptr<M> register_module(const std::string& n, std::shared_ptr<M> m) {
    static_assert(std::is_base_of_v<Module<T>, M>,
                  "register_module: the child must be a Module of the same type");
    check_new_name(n, "register_module");
    EMBER_CHECK_VALUE(m != nullptr, "register_module: module '", n, "' is null");
    children_.insert(n, m);
    return m;
  }

  // ---- traversal (PyTorch's order and names) -------------------------------------------------
  // Parameters of this module, then of each child in registration order, depth first. A tensor
  // registered twice (shared weights) is listed once.
  std::vector<std::pair<std::string, Tensor<T>>> named_parameters(bool recurse = true) const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    std::vector<const void*> seen;
    for_each_module(recurse, [&](const std::string& prefix, const Module& m) {
      for (const auto& [k, p] : m.params_) {
        const void* id = p.autograd_meta() ? static_cast<const void*>(p.autograd_meta().get())
                                           : static_cast<const void*>(p.data());
        bool dup = false;
        for (const void* s : seen) dup = dup || s == id;
        if (dup) continue;
        seen.push_back(id);
        out.emplace_back(join(prefix, k), p);
      }
    });
    return out;
  }
  std::vector<Tensor<T>> parameters(bool recurse = true) const {
    std::vector<Tensor<T>> out;
    for (auto& np : named_parameters(recurse)) out.push_back(np.second);
    return out;
  }
  std::vector<std::pair<std::string, Buffer>> named_buffers(bool recurse = true) const {
    std::vector<std::pair<std::string, Buffer>> out;
    for_each_module(recurse, [&](const std::string& prefix, const Module& m) {
      for (const auto& [k, b] : m.buffers_) out.emplace_back(join(prefix, k), b);
    });
    return out;
  }
  std::vector<Buffer> buffers(bool recurse = true) const {
    std::vector<Buffer> out;
    for (auto& nb : named_buffers(recurse)) out.push_back(nb.second);
    return out;
  }
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const {
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
    for (const auto& [k, c] : children_) out.emplace_back(k, c);
    return out;
  }
  std::vector<std::shared_ptr<Module>> children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& [k, c] : children_) out.push_back(c);
    return out;
  }
  // This module (name "") and every descendant, pre-order; a module reached twice is listed once.
  // The root is returned through a non-owning pointer: keep the module alive while using it.
  std::vector<std::pair<std::string, Module*>> named_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    collect_modules("", this, out);
    return out;
  }
  std::vector<Module*> modules() {
    std::vector<Module*> out;
    for (auto& nm : named_modules()) out.push_back(nm.second);
    return out;
  }

  // Direct access to this module's own entries.
  const OrderedDict<Tensor<T>>& own_parameters() const noexcept { return params_; }
  const OrderedDict<Buffer>& own_buffers() const noexcept { return buffers_; }

  // ---- modes ---------------------------------------------------------------------------------
  virtual void train(bool on = true) {
    training_ = on;
    for (auto& [k, c] : children_) c->train(on);
  }
  void eval() { train(false); }
  bool is_training() const noexcept { return training_; }

  // set_to_none: drop the gradients (the default, like PyTorch 2); otherwise fill them with 0.
  void zero_grad(bool set_to_none = true) {
    NoGradGuard no_grad;
    for (auto& p : parameters()) {
      Tensor<T> g = p.grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor<T>());
      } else {
        g.zero_();
      }
    }
  }

  // fn(module) on every child (recursively) and then on this module, like PyTorch.
  void apply(const std::function<void(Module&)>& fn) {
    for (auto& [k, c] : children_) c->apply(fn);
    fn(*this);
  }

  // ---- state dicts ---------------------------------------------------------------------------
  // Each module's parameters, then its buffers, then its children's entries, with dotted names.
  // The tensors are detached handles to the module's memory (no copy).
  StateDict<T> state_dict() const {
    StateDict<T> out;
    append_state("", out);
    return out;
  }

  // Copies every entry into the matching registered tensor. A shape or dtype mismatch is always
  // an error; missing and unexpected keys are errors when strict. One error lists every problem.
  LoadResult load_state_dict(const StateDict<T>& dict, bool strict = true) {
    const StateDict<T> own = state_dict();
    LoadResult result;
    std::vector<std::string> mismatched;
    for (const auto& [key, dst] : own) {
      const StateValue<T>* src = dict.find(key);
      if (!src) {
        result.missing_keys.push_back(key);
        continue;
      }
      if (src->index() != dst.index()) {
        mismatched.push_back(ember::detail::concat(key, ": checkpoint dtype ", dtype_of(*src),
                                            ", model dtype ", dtype_of(dst)));
      } else if (state_shape<T>(*src) != state_shape<T>(dst)) {
        mismatched.push_back(ember::detail::concat(key, ": checkpoint shape ", state_shape<T>(*src),
                                            ", model shape ", state_shape<T>(dst)));
      }
    }
    for (const auto& [key, v] : dict) {
      if (!own.contains(key)) result.unexpected_keys.push_back(key);
    }
    const bool key_errors =
        strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty());
    if (key_errors || !mismatched.empty()) {
      std::ostringstream os;
      os << "load_state_dict: error(s) loading state_dict for " << name() << ":";
      if (strict && !result.missing_keys.empty())
        os << "\n  missing key(s): " << quoted(result.missing_keys);
      if (strict && !result.unexpected_keys.empty())
        os << "\n  unexpected key(s): " << quoted(result.unexpected_keys);
      for (const auto& m : mismatched) os << "\n  mismatch for " << m;
      fail(error_kind::value, os.str());
    }
    NoGradGuard no_grad;
    for (const auto& [key, dst] : own) {
      const StateValue<T>* src = dict.find(key);
      if (!src) continue;
      std::visit(
          [&](const auto& d) {
            using D = std::decay_t<decltype(d)>;
            D target = d;
            target.copy_(std::get<D>(*src));
          },
          dst);
    }
    return result;
  }

  // ---- printing ------------------------------------------------------------------------------
  // PyTorch's repr: Name(extra) or, with children, one "(name): child" line each, indented.
  std::string repr() const {
    std::vector<std::string> lines;
    const std::string extra = extra_repr();
    std::size_t n_extra = 0;
    if (!extra.empty()) {
      std::istringstream is(extra);
      for (std::string line; std::getline(is, line);) lines.push_back(line), ++n_extra;
    }
    for (const auto& [k, c] : children_) {
      lines.push_back("(" + k + "): " + indent(c->repr(), 2));
    }
    std::string s = name() + "(";
    if (!lines.empty()) {
      if (n_extra == 1 && children_.empty()) {
        s += lines[0];
      } else {
        s += "\n  ";
        for (std::size_t i = 0; i < lines.size(); ++i) s += (i ? "\n  " : "") + lines[i];
        s += "\n";
      }
    }
    return s + ")";
  }

 protected:
  // Lets a layer (re)bind a registered parameter, e.g. to replace it with a new tensor.
  Tensor<T>& parameter_slot(const std::string& n) { return params_.at(n); }

 private:
  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }
  static std::string quoted(const std::vector<std::string>& keys) {
    std::string s;
    for (std::size_t i = 0; i < keys.size(); ++i) s += (i ? ", \"" : "\"") + keys[i] + "\"";
    return s;
  }
  static const char* dtype_of(const StateValue<T>& v) {
    return v.index() == 0 ? dtype_name<T>() : dtype_name<int64_t>();
  }
  // PyTorch's _addindent: every line after the first gets `spaces` more spaces.
  static std::string indent(const std::string& s, int spaces) {
    std::string out;
    for (char ch : s) {
      out += ch;
      if (ch == '\n') out.append(static_cast<std::size_t>(spaces), ' ');
    }
    return out;
  }
  void check_new_name(const std::string& n, const char* op) const {
    EMBER_CHECK_VALUE(!n.empty(), op, ": the name must not be empty");
    EMBER_CHECK_VALUE(n.find('.') == std::string::npos, op, ": name '", n,
                      "' must not contain \".\"");
    EMBER_CHECK_VALUE(!params_.contains(n) && !buffers_.contains(n) && !children_.contains(n), op,
                      ": '", n, "' is already registered in ", name());
  }
  template <class F>
  void for_each_module(bool recurse, F&& fn) const {
    std::vector<const Module*> seen;
    walk("", this, recurse, seen, fn);
  }
  template <class F>
  static void walk(const std::string& prefix, const Module* m, bool recurse,
                   std::vector<const Module*>& seen, F& fn) {
    for (const Module* s : seen)
      if (s == m) return;
    seen.push_back(m);
    fn(prefix, *m);
    if (!recurse) return;
    for (const auto& [k, c] : m->children_) walk(join(prefix, k), c.get(), recurse, seen, fn);
  }
  static void collect_modules(const std::string& prefix, Module* m,
                              std::vector<std::pair<std::string, Module*>>& out) {
    for (const auto& nm : out)
      if (nm.second == m) return;
    out.emplace_back(prefix, m);
    for (auto& [k, c] : m->children_) collect_modules(join(prefix, k), c.get(), out);
  }
  void append_state(const std::string& prefix, StateDict<T>& out) const {
    for (const auto& [k, p] : params_) out.insert(join(prefix, k), p.detach());
    for (const auto& [k, b] : buffers_)
      out.insert(join(prefix, k), std::visit([](const auto& t) { return Buffer(t.detach()); }, b));
    for (const auto& [k, c] : children_) c->append_state(join(prefix, k), out);
  }

  OrderedDict<Tensor<T>> params_;
  OrderedDict<Buffer> buffers_;
  OrderedDict<std::shared_ptr<Module>> children_;
  bool training_ = true;
};

// A module with one tensor input and one tensor output: what Sequential chains.
template <class T = float>
class UnaryModule : public Module<T> {
 public:
  virtual Tensor<T> forward(const Tensor<T>& x) = 0;
  Tensor<T> operator()(const Tensor<T>& x) { return forward(x); }
};

template <class T>
std::ostream& operator<<(std::ostream& os, const Module<T>& m) {
  return os << m.repr();
}

}  // namespace ember::nn
