// Every scheduler of tools/gen_optim_refs.py against PyTorch's get_last_lr() over 20 steps, and
// the schedulers' argument checks.
#include <doctest/doctest.h>

#include <functional>

#include "optim_support.hpp"

using namespace optim_test;
using namespace ember::optim;

namespace {

// The optimizer of the scheduler fixtures: SGD, groups of lr 0.1 and 0.05, momentum 0.9.
struct SchedFixture {
  std::vector<Tensor<double>> params{ember::zeros<double>({2}).requires_grad_(true),
                                     ember::zeros<double>({2}).requires_grad_(true)};
  SGD<double> opt{std::vector<ParamGroup<double>>{ParamGroup<double>({params[0]}, {{"lr", 0.1}}),
                                                  ParamGroup<double>({params[1]}, {{"lr", 0.05}})},
                  SGDOptions(0.1).momentum(0.9)};
};

double plateau_metric(int t) {
  return t < 12 ? std::max(0.5, 1.0 - 0.1 * t) : 0.5 - 1e-6 * (t - 11);
}

using Make = std::function<std::shared_ptr<LRScheduler>(SGD<double>&)>;

const std::map<std::string, Make>& chainable() {
  static const std::map<std::string, Make> m = {
      {"StepLR", [](SGD<double>& o) { return std::make_shared<StepLR>(o, 3, 0.5); }},
      {"MultiStepLR",
       [](SGD<double>& o) {
         return std::make_shared<MultiStepLR>(o, std::vector<int64_t>{2, 5, 5, 11}, 0.3);
       }},
      {"ExponentialLR", [](SGD<double>& o) { return std::make_shared<ExponentialLR>(o, 0.9); }},
      {"CosineAnnealingLR",
       [](SGD<double>& o) { return std::make_shared<CosineAnnealingLR>(o, 7, 0.001); }},
      {"CosineAnnealingWarmRestarts",
       [](SGD<double>& o) {
         return std::make_shared<CosineAnnealingWarmRestarts>(o, 3, 2, 0.001);
       }},
      {"CosineAnnealingWarmRestarts_mult1",
       [](SGD<double>& o) { return std::make_shared<CosineAnnealingWarmRestarts>(o, 4); }},
      {"LinearLR", [](SGD<double>& o) { return std::make_shared<LinearLR>(o, 0.25, 1.0, 6); }},
      {"LinearLR_decay",
       [](SGD<double>& o) { return std::make_shared<LinearLR>(o, 1.0, 0.1, 10); }},
      {"LambdaLR",
       [](SGD<double>& o) {
         return std::make_shared<LambdaLR>(o, [](int64_t e) {
           return std::pow(0.95, static_cast<double>(e)) / (1.0 + 0.1 * static_cast<double>(e));
         });
       }},
      {"OneCycleLR",
       [](SGD<double>& o) { return std::make_shared<OneCycleLR>(o, OneCycleLROptions(0.5, 20)); }},
      {"OneCycleLR_linear_three_phase",
       [](SGD<double>& o) {
         return std::make_shared<OneCycleLR>(o, OneCycleLROptions(0.5, 21)
                                                    .pct_start(0.25)
                                                    .anneal_cos(false)
                                                    .three_phase(true)
                                                    .div_factor(10.0)
                                                    .final_div_factor(100.0));
       }},
      {"SequentialLR_warmup_cosine",
       [](SGD<double>& o) {
         auto warm = std::make_shared<LinearLR>(o, 0.1, 1.0, 5);
         auto cos = std::make_shared<CosineAnnealingLR>(o, 15);
         return std::make_shared<SequentialLR>(
             o, std::vector<std::shared_ptr<LRScheduler>>{warm, cos}, std::vector<int64_t>{5});
       }},
      {"SequentialLR_three",
       [](SGD<double>& o) {
         auto a = std::make_shared<ExponentialLR>(o, 0.8);
         auto b = std::make_shared<StepLR>(o, 2, 0.5);
         auto c = std::make_shared<MultiStepLR>(o, std::vector<int64_t>{3}, 0.1);
         return std::make_shared<SequentialLR>(
             o, std::vector<std::shared_ptr<LRScheduler>>{a, b, c}, std::vector<int64_t>{4, 12});
       }},
  };
  return m;
}

void check_row(const std::vector<double>& got, const Tensor<double>& ref, int row,
               const std::string& what) {
  REQUIRE(got.size() == 2);
  for (int g = 0; g < 2; ++g) {
    INFO(what << " step " << row << " group " << g << ": " << got[static_cast<std::size_t>(g)]
              << " vs " << ref(row, g));
    // rtol 1e-10; atol 1e-15 for the lrs that cosine annealing takes to (nearly) zero.
    CHECK(std::abs(got[static_cast<std::size_t>(g)] - ref(row, g)) <=
          1e-10 * std::abs(ref(row, g)) + 1e-15);
  }
}

}  // namespace

TEST_CASE("schedulers match PyTorch's get_last_lr over 20 steps") {
  const auto f = ember::io::SafetensorsFile::open(fixture_path("schedulers.safetensors"));
  std::size_t keys = 0;
  for (const auto& kv : chainable()) {
    CAPTURE(kv.first);
    SchedFixture fx;
    auto sched = kv.second(fx.opt);
    const Tensor<double> lr = load<double>(f, kv.first + "/lr");
    const bool onecycle = kv.first.rfind("OneCycleLR", 0) == 0;
    const Tensor<double> mom =
        onecycle ? load<double>(f, kv.first + "/momentum") : Tensor<double>();
    keys += onecycle ? 2 : 1;
    auto momenta = [&] {
      return std::vector<double>{fx.opt.get_option(0, "momentum"),
                                 fx.opt.get_option(1, "momentum")};
    };
    check_row(sched->get_last_lr(), lr, 0, kv.first);
    check_row({fx.opt.get_lr(0), fx.opt.get_lr(1)}, lr, 0, kv.first + " (group lr)");
    if (onecycle) check_row(momenta(), mom, 0, kv.first + " momentum");
    for (int t = 1; t <= 20; ++t) {
      fx.opt.step();
      sched->step();
      check_row(sched->get_last_lr(), lr, t, kv.first);
      check_row({fx.opt.get_lr(0), fx.opt.get_lr(1)}, lr, t, kv.first + " (group lr)");
      if (onecycle) check_row(momenta(), mom, t, kv.first + " momentum");
    }
  }
  for (const std::string name : {"ReduceLROnPlateau", "ReduceLROnPlateau_max_abs"}) {
    CAPTURE(name);
    SchedFixture fx;
    const bool max_abs = name.find("max") != std::string::npos;
    ReduceLROnPlateauOptions o;
    if (max_abs) {
      o.mode_max(true).factor(0.3).patience(1).threshold(0.05).threshold_mode_abs(true).min_lr(
          0.004);
    } else {
      o.factor(0.5).patience(2).cooldown(1);
    }
    ReduceLROnPlateau sched(fx.opt, o);
    const Tensor<double> lr = load<double>(f, name + "/lr");
    ++keys;
    check_row(sched.get_last_lr(), lr, 0, name);
    for (int t = 1; t <= 20; ++t) {
      const double m = plateau_metric(t - 1);
      sched.step(max_abs ? -m : m);
      check_row(sched.get_last_lr(), lr, t, name);
    }
  }
  CHECK(keys == f.size());  // every reference in the file was checked
}

TEST_CASE("schedulers reject invalid arguments, naming them") {
  SchedFixture fx;
  CHECK_THROWS_WITH_AS(StepLR(fx.opt, 0), "StepLR: invalid step_size: 0 (expected step_size > 0)",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(CosineAnnealingLR(fx.opt, -2),
                       "CosineAnnealingLR: invalid T_max: -2 (expected T_max > 0)",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(LinearLR(fx.opt, 1.5),
                       "LinearLR: invalid start_factor: 1.5 (expected 0 < start_factor <= 1)",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau(fx.opt, ReduceLROnPlateauOptions().factor(1.0)),
                       "ReduceLROnPlateau: invalid factor: 1 (expected factor < 1)",
                       ember::value_error);
  OneCycleLR one(fx.opt, OneCycleLROptions(0.5, 3));
  one.step();
  one.step();
  one.step();
  CHECK_THROWS_WITH_AS(one.step(), "OneCycleLR: tried to step 4 times; total_steps is 3",
                       ember::value_error);
  auto a = std::make_shared<StepLR>(fx.opt, 2);
  CHECK_THROWS_WITH_AS(SequentialLR(fx.opt, {a}, {3}),
                       "SequentialLR: expected 0 milestones (one fewer than schedulers), got 1",
                       ember::value_error);

  // OneCycleLR cycles beta1 on the Adam family, and needs momentum or beta1.
  auto p = ember::zeros<double>({2}).requires_grad_(true);
  Adam<double> adam(std::vector<Tensor<double>>{p}, AdamOptions(0.1));
  OneCycleLR cyc(adam, OneCycleLROptions(1.0, 10));
  CHECK(adam.get_option(0, "beta1") == 0.95);
  Adagrad<double> ada(std::vector<Tensor<double>>{p});
  CHECK_THROWS_WITH_AS(OneCycleLR(ada, OneCycleLROptions(1.0, 10)),
                       "OneCycleLR: Adagrad has neither momentum nor beta1; pass "
                       "cycle_momentum(false)",
                       ember::value_error);
}
