// ember::optim learning-rate schedulers with PyTorch's semantics: constructing one records each
// group's "initial_lr" and performs the initial step (epoch 0); step() advances one epoch with
// PyTorch's chainable rule (the new lr is computed from the group's current lr, so schedulers
// compose); get_last_lr() returns the lrs of the last step.
//
//   ember::optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (epoch ...) { train(); sched.step(); }
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ember/error.hpp"
#include "ember/optim/optimizer.hpp"

namespace ember::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and sets every group's lr.
  virtual void step() {
    ++last_epoch_;
    apply(get_lr());
  }
  // Jumps to `epoch` with the closed form where there is one (PyTorch's deprecated step(epoch),
  // which SequentialLR uses at its milestones).
  virtual void step(int64_t epoch) {
    last_epoch_ = epoch;
    std::vector<double> lrs;
    apply(closed_form_lr(lrs) ? lrs : get_lr());
  }

  const std::vector<double>& get_last_lr() const noexcept { return last_lr_; }
  int64_t last_epoch() const noexcept { return last_epoch_; }
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }
  OptimizerBase& optimizer() const noexcept { return *opt_; }

 protected:
  explicit LRScheduler(OptimizerBase& opt) : opt_(&opt) {
    for (std::size_t g = 0; g < opt.num_param_groups(); ++g) {
      if (!opt.has_option(g, "initial_lr")) opt.set_option(g, "initial_lr", opt.get_lr(g));
      base_lrs_.push_back(opt.get_option(g, "initial_lr"));
    }
  }

  // The lrs at last_epoch_, chainable (from the groups' current lrs).
  virtual std::vector<double> get_lr() = 0;
  // The lrs at last_epoch_ from base_lrs alone; false when the scheduler has no closed form.
  virtual bool closed_form_lr(std::vector<double>& /*out*/) { return false; }

  // The derived constructor calls this once get_lr() can run.
  void initial_step() { step(); }

  void apply(const std::vector<double>& lrs) {
    for (std::size_t g = 0; g < lrs.size(); ++g) opt_->set_lr(g, lrs[g]);
    last_lr_ = lrs;
  }
  double group_lr(std::size_t g) const { return opt_->get_lr(g); }
  std::size_t num_groups() const { return base_lrs_.size(); }

  friend class SequentialLR;

  OptimizerBase* opt_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
  std::vector<double> last_lr_;
};

namespace detail {
inline int64_t floor_mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return r < 0 ? r + b : r;
}
}  // namespace detail

// lr *= gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(OptimizerBase& opt, int64_t step_size, double gamma = 0.1)
      : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
    EMBER_CHECK_VALUE(step_size > 0, "StepLR: invalid step_size: ", step_size,
                      " (expected step_size > 0)");
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> out;
    const bool decay = last_epoch_ != 0 && last_epoch_ % step_size_ == 0;
    for (std::size_t g = 0; g < num_groups(); ++g)
      out.push_back(group_lr(g) * (decay ? gamma_ : 1.0));
    return out;
  }
  bool closed_form_lr(std::vector<double>& out) override {
    const double f = std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_));
    for (double b : base_lrs_) out.push_back(b * f);
    return true;
  }

 private:
  int64_t step_size_;
  double gamma_;
};

// lr *= gamma at each milestone (a milestone listed twice decays twice).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(OptimizerBase& opt, std::vector<int64_t> milestones, double gamma = 0.1)
      : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
    std::sort(milestones_.begin(), milestones_.end());
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
    const double f = std::pow(gamma_, static_cast<double>(hits));
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g) out.push_back(group_lr(g) * f);
    return out;
  }
  bool closed_form_lr(std::vector<double>& out) override {
    const auto passed =
        std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
    const double f = std::pow(gamma_, static_cast<double>(passed));
    for (double b : base_lrs_) out.push_back(b * f);
    return true;
  }

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// lr *= gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(OptimizerBase& opt, double gamma) : LRScheduler(opt), gamma_(gamma) {
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g)
      out.push_back(group_lr(g) * (last_epoch_ == 0 ? 1.0 : gamma_));
    return out;
  }
  bool closed_form_lr(std::vector<double>& out) override {
    for (double b : base_lrs_)
      out.push_back(b * std::pow(gamma_, static_cast<double>(last_epoch_)));
    return true;
  }

 private:
  double gamma_;
};

// Cosine from the base lr down to eta_min over T_max epochs (and back up after, as PyTorch).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(OptimizerBase& opt, int64_t T_max, double eta_min = 0.0)
      : LRScheduler(opt), T_max_(T_max), eta_min_(eta_min) {
    EMBER_CHECK_VALUE(T_max > 0, "CosineAnnealingLR: invalid T_max: ", T_max,
                      " (expected T_max > 0)");
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    const double pi = 3.14159265358979323846, T = static_cast<double>(T_max_);
    const auto e = static_cast<double>(last_epoch_);
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g) {
      const double lr = group_lr(g);
      if (last_epoch_ == 0) {
        out.push_back(lr);
      } else if (detail::floor_mod(last_epoch_ - 1 - T_max_, 2 * T_max_) == 0) {
        out.push_back(lr + (base_lrs_[g] - eta_min_) * (1.0 - std::cos(pi / T)) / 2.0);
      } else {
        out.push_back((1.0 + std::cos(pi * e / T)) / (1.0 + std::cos(pi * (e - 1.0) / T)) *
                          (lr - eta_min_) +
                      eta_min_);
      }
    }
    return out;
  }
  bool closed_form_lr(std::vector<double>& out) override {
    const double pi = 3.14159265358979323846;
    for (double b : base_lrs_)
      out.push_back(eta_min_ + (b - eta_min_) *
                                   (1.0 + std::cos(pi * static_cast<double>(last_epoch_) /
                                                   static_cast<double>(T_max_))) /
                                   2.0);
    return true;
  }

 private:
  int64_t T_max_;
  double eta_min_;
};

// Cosine annealing restarted every T_i epochs, T_0 first, T_i *= T_mult after each restart.
class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(OptimizerBase& opt, int64_t T_0, int64_t T_mult = 1,
                              double eta_min = 0.0)
      : LRScheduler(opt), T_0_(T_0), T_i_(T_0), T_mult_(T_mult), eta_min_(eta_min) {
    EMBER_CHECK_VALUE(T_0 > 0, "CosineAnnealingWarmRestarts: invalid T_0: ", T_0,
                      " (expected a positive integer)");
    EMBER_CHECK_VALUE(T_mult >= 1, "CosineAnnealingWarmRestarts: invalid T_mult: ", T_mult,
                      " (expected an integer >= 1)");
    initial_step();
  }

  void step() override {
    if (last_epoch_ < 0) {
      step(0);
      return;
    }
    ++last_epoch_;
    if (++T_cur_ >= T_i_) {
      T_cur_ -= T_i_;
      T_i_ *= T_mult_;
    }
    apply(get_lr());
  }
  void step(int64_t epoch) override {
    EMBER_CHECK_VALUE(epoch >= 0,
                      "CosineAnnealingWarmRestarts: expected a non-negative epoch, "
                      "got ",
                      epoch);
    if (epoch >= T_0_) {
      if (T_mult_ == 1) {
        T_cur_ = epoch % T_0_;
        T_i_ = T_0_;
      } else {
        // n restarts have happened when T_0 (T_mult^n - 1) / (T_mult - 1) <= epoch.
        int64_t start = 0, len = T_0_;
        while (start + len <= epoch) {
          start += len;
          len *= T_mult_;
        }
        T_cur_ = epoch - start;
        T_i_ = len;
      }
    } else {
      T_i_ = T_0_;
      T_cur_ = epoch;
    }
    last_epoch_ = epoch;
    apply(get_lr());
  }

 protected:
  std::vector<double> get_lr() override {
    const double pi = 3.14159265358979323846;
    std::vector<double> out;
    for (double b : base_lrs_)
      out.push_back(
          eta_min_ +
          (b - eta_min_) *
              (1.0 + std::cos(pi * static_cast<double>(T_cur_) / static_cast<double>(T_i_))) / 2.0);
    return out;
  }

 private:
  int64_t T_0_, T_i_, T_mult_;
  int64_t T_cur_ = -1;
  double eta_min_;
};

// Linear ramp of the lr factor from start_factor to end_factor over total_iters epochs (warm-up).
class LinearLR : public LRScheduler {
 public:
  LinearLR(OptimizerBase& opt, double start_factor = 1.0 / 3.0, double end_factor = 1.0,
           int64_t total_iters = 5)
      : LRScheduler(opt), start_(start_factor), end_(end_factor), total_(total_iters) {
    EMBER_CHECK_VALUE(start_factor > 0.0 && start_factor <= 1.0,
                      "LinearLR: invalid start_factor: ", start_factor,
                      " (expected 0 < start_factor <= 1)");
    EMBER_CHECK_VALUE(end_factor >= 0.0 && end_factor <= 1.0,
                      "LinearLR: invalid end_factor: ", end_factor,
                      " (expected 0 <= end_factor <= 1)");
    EMBER_CHECK_VALUE(total_iters > 0, "LinearLR: invalid total_iters: ", total_iters,
                      " (expected total_iters > 0)");
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g) {
      const double lr = group_lr(g);
      if (last_epoch_ == 0) {
        out.push_back(lr * start_);
      } else if (last_epoch_ > total_) {
        out.push_back(lr);
      } else {
        out.push_back(lr * (1.0 + (end_ - start_) /
                                      (static_cast<double>(total_) * start_ +
                                       static_cast<double>(last_epoch_ - 1) * (end_ - start_))));
      }
    }
    return out;
  }
  bool closed_form_lr(std::vector<double>& out) override {
    const double f = start_ + (end_ - start_) * static_cast<double>(std::min(total_, last_epoch_)) /
                                  static_cast<double>(total_);
    for (double b : base_lrs_) out.push_back(b * f);
    return true;
  }

 private:
  double start_, end_;
  int64_t total_;
};

// lr = base_lr * lambda(epoch), one function for all groups or one per group.
class LambdaLR : public LRScheduler {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(OptimizerBase& opt, Lambda lr_lambda)
      : LambdaLR(opt, std::vector<Lambda>(opt.num_param_groups(), lr_lambda)) {}
  LambdaLR(OptimizerBase& opt, std::vector<Lambda> lr_lambdas)
      : LRScheduler(opt), lambdas_(std::move(lr_lambdas)) {
    EMBER_CHECK_VALUE(lambdas_.size() == num_groups(), "LambdaLR: expected ", num_groups(),
                      " lr_lambdas (one per param group), got ", lambdas_.size());
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g)
      out.push_back(base_lrs_[g] * lambdas_[g](last_epoch_));
    return out;
  }

 private:
  std::vector<Lambda> lambdas_;
};

// The 1cycle policy (Smith & Topin): lr rises from max_lr / div_factor to max_lr over pct_start of
// total_steps, then anneals to initial_lr / final_div_factor (three_phase: back to initial_lr
// first). With cycle_momentum the group's momentum (SGD, RMSprop) or beta1 (Adam family) moves
// inversely between max_momentum and base_momentum.
struct OneCycleLROptions {
  OneCycleLROptions(double max_lr, int64_t total_steps)
      : max_lr_(max_lr), total_steps_(total_steps) {}
#define EMBER_ONECYCLE_OPT(type, name) \
  OneCycleLROptions& name(type v) {    \
    name##_ = v;                       \
    return *this;                      \
  }                                    \
  type name##_
  EMBER_ONECYCLE_OPT(double, max_lr);
  EMBER_ONECYCLE_OPT(int64_t, total_steps);
  EMBER_ONECYCLE_OPT(double, pct_start) = 0.3;
  EMBER_ONECYCLE_OPT(bool, anneal_cos) = true;  // false: linear annealing
  EMBER_ONECYCLE_OPT(bool, cycle_momentum) = true;
  EMBER_ONECYCLE_OPT(double, base_momentum) = 0.85;
  EMBER_ONECYCLE_OPT(double, max_momentum) = 0.95;
  EMBER_ONECYCLE_OPT(double, div_factor) = 25.0;
  EMBER_ONECYCLE_OPT(double, final_div_factor) = 1e4;
  EMBER_ONECYCLE_OPT(bool, three_phase) = false;
#undef EMBER_ONECYCLE_OPT
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(OptimizerBase& opt, const OneCycleLROptions& o) : LRScheduler(prepare(opt, o)), o_(o) {
    const double total = static_cast<double>(o.total_steps_);
    if (o.three_phase_) {
      phases_ = {{o.pct_start_ * total - 1.0, 0, 1, 0, 1},
                 {2.0 * o.pct_start_ * total - 2.0, 1, 0, 1, 0},
                 {total - 1.0, 0, 2, 0, 0}};
    } else {
      phases_ = {{o.pct_start_ * total - 1.0, 0, 1, 0, 1}, {total - 1.0, 1, 2, 1, 0}};
    }
    if (o.cycle_momentum_) {
      for (std::size_t g = 0; g < num_groups(); ++g) {
        use_beta1_ = opt.has_option(g, "beta1");
        EMBER_CHECK_VALUE(use_beta1_ || opt.has_option(g, "momentum"), "OneCycleLR: ", opt.name(),
                          " has neither momentum nor beta1; pass "
                          "cycle_momentum(false)");
        opt.set_option(g, use_beta1_ ? "beta1" : "momentum", o.max_momentum_);
      }
    }
    initial_step();
  }

 protected:
  struct Phase {
    double end_step;
    int lr_from, lr_to;    // 0 initial_lr, 1 max_lr, 2 min_lr
    int mom_from, mom_to;  // 0 max_momentum, 1 base_momentum
  };

  std::vector<double> get_lr() override {
    const auto step = static_cast<double>(last_epoch_);
    EMBER_CHECK_VALUE(last_epoch_ <= o_.total_steps_, "OneCycleLR: tried to step ", last_epoch_,
                      " times; total_steps is ", o_.total_steps_);
    std::vector<double> out;
    for (std::size_t g = 0; g < num_groups(); ++g) {
      const double lrs[3] = {base_lrs_[g], o_.max_lr_, base_lrs_[g] / o_.final_div_factor_};
      const double moms[2] = {o_.max_momentum_, o_.base_momentum_};
      double start = 0.0, lr = 0.0, mom = 0.0;
      for (std::size_t i = 0; i < phases_.size(); ++i) {
        const Phase& ph = phases_[i];
        if (step <= ph.end_step || i + 1 == phases_.size()) {
          const double pct = (step - start) / (ph.end_step - start);
          lr = anneal(lrs[ph.lr_from], lrs[ph.lr_to], pct);
          mom = anneal(moms[ph.mom_from], moms[ph.mom_to], pct);
          break;
        }
        start = ph.end_step;
      }
      out.push_back(lr);
      if (o_.cycle_momentum_) opt_->set_option(g, use_beta1_ ? "beta1" : "momentum", mom);
    }
    return out;
  }

 private:
  double anneal(double from, double to, double pct) const {
    if (o_.anneal_cos_)
      return to + (from - to) / 2.0 * (std::cos(3.14159265358979323846 * pct) + 1.0);
    return (to - from) * pct + from;
  }

  // PyTorch sets initial_lr = max_lr / div_factor before the base class reads it.
  static OptimizerBase& prepare(OptimizerBase& opt, const OneCycleLROptions& o) {
    EMBER_CHECK_VALUE(o.total_steps_ > 0, "OneCycleLR: invalid total_steps: ", o.total_steps_,
                      " (expected a positive integer)");
    EMBER_CHECK_VALUE(o.pct_start_ >= 0.0 && o.pct_start_ <= 1.0,
                      "OneCycleLR: invalid pct_start: ", o.pct_start_,
                      " (expected a number between 0 and 1)");
    for (std::size_t g = 0; g < opt.num_param_groups(); ++g)
      opt.set_option(g, "initial_lr", o.max_lr_ / o.div_factor_);
    return opt;
  }

  OneCycleLROptions o_;
  std::vector<Phase> phases_;
  bool use_beta1_ = false;
};

// Runs schedulers one after another: schedulers[i] takes over at milestones[i - 1] (restarted at
// its epoch 0 with its closed form).
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(OptimizerBase& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones)
      : LRScheduler(opt), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
    EMBER_CHECK_VALUE(!schedulers_.empty(), "SequentialLR: expected at least one scheduler");
    EMBER_CHECK_VALUE(milestones_.size() + 1 == schedulers_.size(), "SequentialLR: expected ",
                      schedulers_.size() - 1, " milestones (one fewer than schedulers), got ",
                      milestones_.size());
    for (std::size_t i = 0; i < schedulers_.size(); ++i) {
      EMBER_CHECK_VALUE(schedulers_[i] && &schedulers_[i]->optimizer() == &opt,
                        "SequentialLR: scheduler ", i,
                        " belongs to a different optimizer than the one given");
    }
    last_epoch_ = 0;
    // Undo the initial steps the schedulers took when they were built, then redo the first's.
    for (std::size_t g = 0; g < num_groups(); ++g) opt.set_lr(g, opt.get_option(g, "initial_lr"));
    for (auto& s : schedulers_) --s->last_epoch_;
    schedulers_[0]->step();
    last_lr_ = schedulers_[0]->get_last_lr();
  }

  void step() override {
    ++last_epoch_;
    const auto idx = static_cast<std::size_t>(
        std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) -
        milestones_.begin());
    LRScheduler& s = *schedulers_[idx];
    if (idx > 0 && milestones_[idx - 1] == last_epoch_) {
      s.step(0);
    } else {
      s.step();
    }
    last_lr_ = s.get_last_lr();
  }
  void step(int64_t) override {
    fail(error_kind::value, "SequentialLR: step(epoch) is not supported; call step()");
  }

 protected:
  std::vector<double> get_lr() override { return last_lr_; }

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

// Multiplies the lr by `factor` when a metric has stopped improving for `patience` epochs.
struct ReduceLROnPlateauOptions {
#define EMBER_PLATEAU_OPT(type, name)      \
  ReduceLROnPlateauOptions& name(type v) { \
    name##_ = v;                           \
    return *this;                          \
  }                                        \
  type name##_
  EMBER_PLATEAU_OPT(bool, mode_max) = false;  // false: "min" (lower is better), true: "max"
  EMBER_PLATEAU_OPT(double, factor) = 0.1;
  EMBER_PLATEAU_OPT(int64_t, patience) = 10;
  EMBER_PLATEAU_OPT(double, threshold) = 1e-4;
  EMBER_PLATEAU_OPT(bool, threshold_mode_abs) = false;  // false: "rel", true: "abs"
  EMBER_PLATEAU_OPT(int64_t, cooldown) = 0;
  EMBER_PLATEAU_OPT(double, min_lr) = 0.0;
  EMBER_PLATEAU_OPT(double, eps) = 1e-8;
#undef EMBER_PLATEAU_OPT
};

class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(OptimizerBase& opt,
                             const ReduceLROnPlateauOptions& o = ReduceLROnPlateauOptions())
      : opt_(&opt), o_(o) {
    EMBER_CHECK_VALUE(o.factor_ < 1.0, "ReduceLROnPlateau: invalid factor: ", o.factor_,
                      " (expected factor < 1)");
    best_ = o.mode_max_ ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    for (std::size_t g = 0; g < opt.num_param_groups(); ++g) last_lr_.push_back(opt.get_lr(g));
  }

  void step(double metric) {
    ++last_epoch_;
    if (is_better(metric)) {
      best_ = metric;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;
    }
    if (num_bad_epochs_ > o_.patience_) {
      for (std::size_t g = 0; g < opt_->num_param_groups(); ++g) {
        const double old_lr = opt_->get_lr(g);
        const double new_lr = std::max(old_lr * o_.factor_, o_.min_lr_);
        if (old_lr - new_lr > o_.eps_) opt_->set_lr(g, new_lr);
      }
      cooldown_counter_ = o_.cooldown_;
      num_bad_epochs_ = 0;
    }
    last_lr_.clear();
    for (std::size_t g = 0; g < opt_->num_param_groups(); ++g) last_lr_.push_back(opt_->get_lr(g));
  }

  const std::vector<double>& get_last_lr() const noexcept { return last_lr_; }
  double best() const noexcept { return best_; }
  int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }

 private:
  bool is_better(double a) const {
    const double t = o_.threshold_;
    if (!o_.mode_max_) return o_.threshold_mode_abs_ ? a < best_ - t : a < best_ * (1.0 - t);
    return o_.threshold_mode_abs_ ? a > best_ + t : a > best_ * (1.0 + t);
  }

  OptimizerBase* opt_;
  ReduceLROnPlateauOptions o_;
  double best_;
  int64_t last_epoch_ = 0;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace ember::optim
