// ember::optim: the Optimizer base. Parameters live in groups; each group carries its own
// hyper-parameters (lr, weight_decay, ...) as a name -> number map, like PyTorch's param_groups
// dicts (booleans are 0/1). Per-parameter state (step count, buffers such as exp_avg) is kept by
// the parameter's position across all groups, which is also how state_dict() identifies it.
//
//   ember::optim::Adam<float> opt(model.parameters(), ember::optim::AdamOptions(1e-3));
//   opt.zero_grad(); loss.backward(); opt.step();
//   auto saved = opt.state_dict();  ...  other.load_state_dict(saved);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::optim {

// Hyper-parameters of a group by PyTorch's names ("lr", "weight_decay", "beta1", ...).
using Options = std::map<std::string, double>;

// Parameters that share hyper-parameters. `options` overrides the optimizer's defaults; after
// construction it holds every hyper-parameter of the group.
template <class T>
struct ParamGroup {
  std::vector<Tensor<T>> params;
  Options options;

  ParamGroup(std::vector<Tensor<T>> p, Options o = {})  // NOLINT: implicit from a parameter list
      : params(std::move(p)), options(std::move(o)) {}
};

// What an optimizer keeps for one parameter: its step count, named buffers (exp_avg, ...) and
// named scalars (NAdam's mu_product).
template <class T>
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor<T>> buffers;
  std::map<std::string, double> scalars;
};

// The whole state of an optimizer. Parameters are numbered 0, 1, ... in group order, as in PyTorch.
template <class T>
struct OptimizerStateDict {
  std::string optimizer;                           // "Adam", "SGD", ...: load checks it
  std::vector<Options> param_groups;               // hyper-parameters of every group
  std::vector<std::vector<int64_t>> group_params;  // the parameter indices of every group
  std::map<int64_t, ParamState<T>> state;          // only parameters that have state
};

// The part of an optimizer that learning-rate schedulers use: group hyper-parameters by name.
class OptimizerBase {
 public:
  virtual ~OptimizerBase() = default;
  virtual std::size_t num_param_groups() const = 0;
  virtual bool has_option(std::size_t group, const std::string& key) const = 0;
  virtual double get_option(std::size_t group, const std::string& key) const = 0;
  virtual void set_option(std::size_t group, const std::string& key, double value) = 0;
  virtual const std::string& name() const = 0;

  double get_lr(std::size_t group) const { return get_option(group, "lr"); }
  void set_lr(std::size_t group, double lr) { set_option(group, "lr", lr); }
};

template <class T>
class Optimizer : public OptimizerBase {
  static_assert(std::is_floating_point_v<T>, "ember::optim: parameters must be float or double");

 public:
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient, in place, recording nothing.
  virtual void step() = 0;

  // Clears the gradients: drops them (set_to_none, PyTorch's default) or fills them with zeros.
  void zero_grad(bool set_to_none = true) {
    for (auto& g : groups_) {
      for (auto& p : g.params) {
        Tensor<T> grad = p.grad();
        if (!grad.defined()) continue;
        if (set_to_none) {
          p.set_grad(Tensor<T>());
        } else {
          NoGradGuard no_grad;
          grad.zero_();
        }
      }
    }
  }

  std::vector<ParamGroup<T>>& param_groups() noexcept { return groups_; }
  const std::vector<ParamGroup<T>>& param_groups() const noexcept { return groups_; }

  // Adds a group (its options override the defaults); its parameters must be new to the optimizer.
  void add_param_group(ParamGroup<T> group) {
    check_group(group, groups_.size());
    groups_.push_back(std::move(group));
    state_.resize(state_.size() + groups_.back().params.size());
  }

  // ---- OptimizerBase ----------------------------------------------------------------------
  std::size_t num_param_groups() const override { return groups_.size(); }
  bool has_option(std::size_t group, const std::string& key) const override {
    return group < groups_.size() && groups_[group].options.count(key) != 0;
  }
  double get_option(std::size_t group, const std::string& key) const override {
    check_group_index(group);
    const auto it = groups_[group].options.find(key);
    EMBER_CHECK_INDEX(it != groups_[group].options.end(), name_, ": param group ", group,
                      " has no option '", key, "'");
    return it->second;
  }
  void set_option(std::size_t group, const std::string& key, double value) override {
    check_group_index(group);
    groups_[group].options[key] = value;
  }
  const std::string& name() const override { return name_; }

  // ---- state dict -------------------------------------------------------------------------
  OptimizerStateDict<T> state_dict() const {
    OptimizerStateDict<T> sd;
    sd.optimizer = name_;
    int64_t index = 0;
    for (const auto& g : groups_) {
      sd.param_groups.push_back(g.options);
      std::vector<int64_t> ids;
      for (std::size_t i = 0; i < g.params.size(); ++i) ids.push_back(index++);
      sd.group_params.push_back(std::move(ids));
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
      if (!has_state(state_[i])) continue;
      ParamState<T> copy = state_[i];
      for (auto& kv : copy.buffers) kv.second = kv.second.clone();  // a snapshot, not an alias
      sd.state.emplace(static_cast<int64_t>(i), std::move(copy));
    }
    return sd;
  }

  // Replaces hyper-parameters and state with `sd`'s. It must come from the same optimizer type
  // with the same group layout; the state tensors are copied.
  void load_state_dict(const OptimizerStateDict<T>& sd) {
    EMBER_CHECK_VALUE(sd.optimizer == name_, name_, ": cannot load a state dict saved by ",
                      sd.optimizer.empty() ? std::string("an unnamed optimizer") : sd.optimizer);
    EMBER_CHECK_VALUE(
        sd.param_groups.size() == groups_.size() && sd.group_params.size() == groups_.size(), name_,
        ": the state dict has ", sd.param_groups.size(), " param groups, the optimizer has ",
        groups_.size());
    int64_t index = 0;
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
      const auto& ids = sd.group_params[gi];
      EMBER_CHECK_VALUE(ids.size() == groups_[gi].params.size(), name_, ": param group ", gi,
                        " of the state dict has ", ids.size(), " parameters, the optimizer's has ",
                        groups_[gi].params.size());
      for (int64_t id : ids) {
        EMBER_CHECK_VALUE(id == index, name_, ": param group ", gi,
                          " of the state dict lists parameter ", id, " where ", index,
                          " was expected");
        ++index;
      }
      check_options(sd.param_groups[gi]);
    }
    std::vector<ParamState<T>> fresh(state_.size());
    for (const auto& kv : sd.state) {
      const int64_t i = kv.first;
      EMBER_CHECK_INDEX(i >= 0 && i < static_cast<int64_t>(state_.size()), name_,
                        ": the state dict has state for parameter ", i, " but the optimizer has ",
                        state_.size(), " parameters");
      const Tensor<T>& p = param_at(static_cast<std::size_t>(i));
      ParamState<T> s = kv.second;
      for (auto& b : s.buffers) {
        EMBER_CHECK_SHAPE(b.second.defined() && b.second.shape() == p.shape(), name_, ": state '",
                          b.first, "' of parameter ", i, " has shape ",
                          b.second.defined() ? b.second.shape() : Shape{},
                          ", the parameter has shape ", p.shape());
        b.second = b.second.contiguous().clone();
      }
      fresh[static_cast<std::size_t>(i)] = std::move(s);
    }
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = sd.param_groups[gi];
    state_ = std::move(fresh);
  }

 protected:
  // `defaults` lists every hyper-parameter the optimizer knows, with its default value.
  Optimizer(std::string name, Options defaults)
      : name_(std::move(name)), defaults_(std::move(defaults)) {}

  // Called by the derived constructor once its validate() can run.
  void init(std::vector<ParamGroup<T>> groups) {
    check_options(defaults_);
    EMBER_CHECK_VALUE(!groups.empty(), name_, ": got an empty parameter list");
    for (auto& g : groups) add_param_group(std::move(g));
  }

  // Rejects invalid hyper-parameters, naming the offending one.
  virtual void validate(const Options& o) const = 0;

  ParamState<T>& state_at(std::size_t flat_index) { return state_[flat_index]; }

  // Calls fn(param, contiguous grad, state, group options) for every parameter with a gradient,
  // under NoGradGuard, and bumps the parameter's version afterwards (it changed in place).
  template <class F>
  void for_each_param_with_grad(F&& fn) {
    NoGradGuard no_grad;
    std::size_t flat = 0;
    for (auto& g : groups_) {
      for (auto& p : g.params) {
        const std::size_t i = flat++;
        Tensor<T> grad = p.grad();
        if (!grad.defined()) continue;
        if (!grad.is_contiguous()) grad = grad.contiguous();
        fn(p, grad, state_[i], g.options);
        p.bump_version();
      }
    }
  }

  // A zero-filled buffer shaped like p, created on first use.
  static Tensor<T>& buffer(ParamState<T>& s, const char* key, const Tensor<T>& p, T init = T(0)) {
    auto it = s.buffers.find(key);
    if (it == s.buffers.end()) it = s.buffers.emplace(key, full<T>(p.shape(), init)).first;
    return it->second;
  }

  static double opt(const Options& o, const char* key) { return o.at(key); }
  static bool flag(const Options& o, const char* key) { return o.at(key) != 0.0; }

 private:
  static bool has_state(const ParamState<T>& s) {
    return s.step != 0 || !s.buffers.empty() || !s.scalars.empty();
  }

  void check_group_index(std::size_t group) const {
    EMBER_CHECK_INDEX(group < groups_.size(), name_, ": param group ", group,
                      " does not exist (the optimizer has ", groups_.size(), ")");
  }

  // Unknown keys are errors (a typo would otherwise be ignored silently), then validate().
  void check_options(const Options& o) const {
    for (const auto& kv : o) {
      if (defaults_.count(kv.first) || kv.first == "initial_lr") continue;
      std::string known;
      for (const auto& d : defaults_) known += (known.empty() ? "" : ", ") + d.first;
      fail(error_kind::value, name_, ": unknown option '", kv.first, "' (known: ", known, ")");
    }
    validate(o);
  }

  void check_group(ParamGroup<T>& group, std::size_t gi) const {
    EMBER_CHECK_VALUE(!group.params.empty(), name_, ": param group ", gi,
                      " has an empty parameter list");
    for (const auto& kv : defaults_) group.options.emplace(kv.first, kv.second);
    check_options(group.options);
    for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
      const Tensor<T>& p = group.params[pi];
      EMBER_CHECK_VALUE(p.defined(), name_, ": parameter ", pi, " of param group ", gi,
                        " is an undefined tensor");
      EMBER_CHECK_VALUE(p.is_contiguous(), name_, ": parameter ", pi, " of param group ", gi,
                        " is not contiguous (shape ", p.shape(), ", strides ", p.strides(), ")");
      for (std::size_t gj = 0; gj < groups_.size(); ++gj) {
        for (const auto& q : groups_[gj].params) {
          EMBER_CHECK_VALUE(!same_param(p, q), name_, ": parameter ", pi, " of param group ", gi,
                            " also appears in param group ", gj,
                            " (a parameter may belong to one group only)");
        }
      }
      for (std::size_t k = 0; k < pi; ++k) {
        EMBER_CHECK_VALUE(!same_param(p, group.params[k]), name_, ": parameter ", pi,
                          " of param group ", gi, " appears twice in that group");
      }
    }
  }

  static bool same_param(const Tensor<T>& a, const Tensor<T>& b) {
    return a.shares_storage_with(b) && a.storage_offset() == b.storage_offset() &&
           a.shape() == b.shape() && a.strides() == b.strides();
  }

  const Tensor<T>& param_at(std::size_t flat) const {
    for (const auto& g : groups_) {
      if (flat < g.params.size()) return g.params[flat];
      flat -= g.params.size();
    }
    fail(error_kind::index, name_, ": no parameter ", flat);
  }

  std::string name_;
  Options defaults_;
  std::vector<ParamGroup<T>> groups_;
  std::vector<ParamState<T>> state_;  // by flat parameter index
};

namespace detail {

// Shared hyper-parameter checks; messages follow "Adam: invalid beta1: 1.5 (expected ...)".
inline void check_lr(const std::string& op, const Options& o) {
  const double lr = o.at("lr");
  EMBER_CHECK_VALUE(lr >= 0.0, op, ": invalid learning rate: ", lr);
}
inline void check_nonnegative(const std::string& op, const Options& o, const char* key,
                              const char* label) {
  const double v = o.at(key);
  EMBER_CHECK_VALUE(v >= 0.0, op, ": invalid ", label, ": ", v, " (expected ", key, " >= 0)");
}
inline void check_beta(const std::string& op, const Options& o, const char* key) {
  const double v = o.at(key);
  EMBER_CHECK_VALUE(v >= 0.0 && v < 1.0, op, ": invalid ", key, ": ", v, " (expected 0 <= ", key,
                    " < 1)");
}

// defaults with the user's options on top.
inline Options merge_options(Options defaults, const Options& user) {
  for (const auto& kv : user) defaults[kv.first] = kv.second;
  return defaults;
}

}  // namespace detail

}  // namespace ember::optim
