// The Optimizer API: error texts for bad hyper-parameters and parameter lists, param groups,
// zero_grad, state dict checks, the no-grad in-place update; clip_grad_norm_ / clip_grad_value_.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optim_support.hpp"

using namespace optim_test;
using namespace ember::optim;
using ember::value_error;

namespace {
std::vector<Tensor<double>> two_params() {
  return {ember::tensor<double>({1.0, 2.0, 3.0}).requires_grad_(true),
          ember::tensor<double>({-1.0, 0.5}).requires_grad_(true)};
}
}  // namespace

TEST_CASE("invalid hyper-parameters are rejected at construction, naming the parameter") {
  auto ps = two_params();
  CHECK_THROWS_WITH_AS(SGD<double>(ps, SGDOptions(-1)), "SGD: invalid learning rate: -1",
                       value_error);
  CHECK_THROWS_WITH_AS(Adam<double>(ps, AdamOptions(1e-3).betas(1.5, 0.999)),
                       "Adam: invalid beta1: 1.5 (expected 0 <= beta1 < 1)", value_error);
  CHECK_THROWS_WITH_AS(AdamW<double>(ps, AdamOptions(1e-3).betas(0.9, 1.0)),
                       "AdamW: invalid beta2: 1 (expected 0 <= beta2 < 1)", value_error);
  CHECK_THROWS_WITH_AS(Adam<double>(ps, AdamOptions(1e-3).eps(-1e-8)),
                       "Adam: invalid epsilon value: -1e-08 (expected eps >= 0)", value_error);
  CHECK_THROWS_WITH_AS(RMSprop<double>(ps, RMSpropOptions().momentum(-0.5)),
                       "RMSprop: invalid momentum value: -0.5 (expected momentum >= 0)",
                       value_error);
  CHECK_THROWS_WITH_AS(Adagrad<double>(ps, AdagradOptions().lr_decay(-1)),
                       "Adagrad: invalid lr_decay value: -1 (expected lr_decay >= 0)", value_error);
  CHECK_THROWS_WITH_AS(NAdam<double>(ps, NAdamOptions().weight_decay(-0.1)),
                       "NAdam: invalid weight_decay value: -0.1 (expected weight_decay >= 0)",
                       value_error);
  CHECK_THROWS_WITH_AS(Lion<double>(ps, LionOptions(-0.1)), "Lion: invalid learning rate: -0.1",
                       value_error);
  CHECK_THROWS_WITH_AS(Adamax<double>(ps, AdamaxOptions().betas(0.9, -0.1)),
                       "Adamax: invalid beta2: -0.1 (expected 0 <= beta2 < 1)", value_error);
  CHECK_THROWS_WITH_AS(SGD<double>(ps, SGDOptions(0.1).nesterov(true)),
                       "SGD: nesterov momentum requires a momentum > 0 and zero dampening (got "
                       "momentum 0, dampening 0)",
                       value_error);
  // A group override is checked like a default.
  CHECK_THROWS_WITH_AS(
      SGD<double>({ParamGroup<double>({ps[0]}), ParamGroup<double>({ps[1]}, {{"lr", -2.0}})},
                  SGDOptions(0.1)),
      "SGD: invalid learning rate: -2", value_error);
  CHECK_THROWS_WITH_AS(
      Adam<double>({ParamGroup<double>({ps[0]}, {{"betas", 0.9}})}, AdamOptions()),
      "Adam: unknown option 'betas' (known: amsgrad, beta1, beta2, eps, lr, maximize, "
      "weight_decay)",
      value_error);
}

TEST_CASE("bad parameter lists") {
  auto ps = two_params();
  CHECK_THROWS_WITH_AS(SGD<double>(std::vector<Tensor<double>>{}, SGDOptions(0.1)),
                       "SGD: param group 0 has an empty parameter list", value_error);
  CHECK_THROWS_WITH_AS(SGD<double>(std::vector<ParamGroup<double>>{}, SGDOptions(0.1)),
                       "SGD: got an empty parameter list", value_error);
  CHECK_THROWS_WITH_AS(
      Adam<double>({ParamGroup<double>({ps[0], ps[1]}), ParamGroup<double>({ps[1]})}),
      "Adam: parameter 0 of param group 1 also appears in param group 0 (a "
      "parameter may belong to one group only)",
      value_error);
  CHECK_THROWS_WITH_AS(Adam<double>(std::vector<Tensor<double>>{ps[0], ps[1], ps[0]}),
                       "Adam: parameter 2 of param group 0 appears twice in that group",
                       value_error);
  auto m = ember::zeros<double>({2, 3}).requires_grad_(true);
  CHECK_THROWS_WITH_AS(SGD<double>(std::vector<Tensor<double>>{m.t()}, SGDOptions(0.1)),
                       "SGD: parameter 0 of param group 0 is not contiguous (shape [3, 2], "
                       "strides [1, 3])",
                       value_error);
  // A copy of the handle is the same parameter; a clone is not.
  Adam<double> ok({ParamGroup<double>({ps[0]}), ParamGroup<double>({ps[0].clone()})});
  CHECK(ok.num_param_groups() == 2);
}

TEST_CASE("load_state_dict rejects another optimizer or another group layout") {
  auto ps = two_params();
  SGD<double> sgd(ps, SGDOptions(0.1).momentum(0.9));
  Adam<double> adam(ps);
  CHECK_THROWS_WITH_AS(adam.load_state_dict(sgd.state_dict()),
                       "Adam: cannot load a state dict saved by SGD", value_error);
  Adam<double> two({ParamGroup<double>({ps[0]}), ParamGroup<double>({ps[1]})});
  CHECK_THROWS_WITH_AS(adam.load_state_dict(two.state_dict()),
                       "Adam: the state dict has 2 param groups, the optimizer has 1", value_error);
  Adam<double> one(std::vector<Tensor<double>>{ps[0]});
  CHECK_THROWS_WITH_AS(adam.load_state_dict(one.state_dict()),
                       "Adam: param group 0 of the state dict has 1 parameters, the optimizer's "
                       "has 2",
                       value_error);
  // Same layout but a parameter of another shape.
  auto other = std::vector<Tensor<double>>{ember::zeros<double>({2}).requires_grad_(true),
                                           ember::zeros<double>({2}).requires_grad_(true)};
  Adam<double> shaped(other);
  for (auto& p : other) p.set_grad(ember::ones<double>({2}));
  shaped.step();
  CHECK_THROWS_WITH_AS(adam.load_state_dict(shaped.state_dict()),
                       "Adam: state 'exp_avg' of parameter 0 has shape [2], the parameter has "
                       "shape [3]",
                       ember::shape_error);
  auto bad = adam.state_dict();
  bad.param_groups[0]["lr"] = -1.0;
  CHECK_THROWS_WITH_AS(adam.load_state_dict(bad), "Adam: invalid learning rate: -1", value_error);
}

TEST_CASE("state_dict content: indices, step counts, buffers, hyper-parameters") {
  auto ps = two_params();
  Adam<double> adam({ParamGroup<double>({ps[1]}, {{"lr", 0.5}}), ParamGroup<double>({ps[0]})},
                    AdamOptions(0.1).amsgrad(true));
  ps[0].set_grad(ember::ones<double>({3}));  // only the second group's parameter has a gradient
  adam.step();
  adam.step();
  const auto sd = adam.state_dict();
  CHECK(sd.optimizer == "Adam");
  REQUIRE(sd.param_groups.size() == 2);
  CHECK(sd.param_groups[0].at("lr") == 0.5);
  CHECK(sd.param_groups[1].at("lr") == 0.1);
  CHECK(sd.param_groups[1].at("amsgrad") == 1.0);
  CHECK(sd.group_params == std::vector<std::vector<int64_t>>{{0}, {1}});
  REQUIRE(sd.state.size() == 1);
  const auto& st = sd.state.at(1);
  CHECK(st.step == 2);
  CHECK(st.buffers.size() == 3);
  // exp_avg after two steps of g = 1 with beta1 = 0.9: 0.1, then 0.19.
  CHECK(st.buffers.at("exp_avg")(0) == doctest::Approx(0.19));
}

TEST_CASE("step updates in place without recording, bumps the version; zero_grad") {
  auto ps = two_params();
  SGD<double> sgd(ps, SGDOptions(0.5));
  double* before = ps[0].data();
  const auto v0 = ps[0].version();
  ps[0].set_grad(ember::tensor<double>({1.0, 1.0, 2.0}));
  sgd.step();  // ps[1] has no gradient: untouched
  CHECK(ps[0].data() == before);
  CHECK(ps[0].version() > v0);
  CHECK(ps[0].is_leaf());
  CHECK(ps[0].grad_fn() == nullptr);
  CHECK(ps[0](0) == 0.5);
  CHECK(ps[0](2) == 2.0);
  CHECK(ps[1](0) == -1.0);
  Tensor<double> g = ps[0].grad();
  sgd.zero_grad(false);
  CHECK(ps[0].grad().defined());
  CHECK(g(2) == 0.0);  // zeroed in place
  sgd.zero_grad();
  CHECK_FALSE(ps[0].grad().defined());
  // Works with gradients from backward.
  auto loss = (ps[0] * ps[0]).sum();
  loss.backward();
  sgd.step();
  CHECK(ps[0](0) == doctest::Approx(0.0));  // 0.5 - 0.5 * 2 * 0.5
}

TEST_CASE("param groups: per-group lr, add_param_group, options by name") {
  auto ps = two_params();
  SGD<double> sgd(std::vector<Tensor<double>>{ps[0]}, SGDOptions(0.1).momentum(0.9));
  sgd.add_param_group(ParamGroup<double>({ps[1]}, {{"lr", 1.0}}));
  CHECK(sgd.num_param_groups() == 2);
  CHECK(sgd.get_lr(1) == 1.0);
  CHECK(sgd.get_option(1, "momentum") == 0.9);  // defaults fill the rest
  CHECK_THROWS_WITH_AS(sgd.add_param_group(ParamGroup<double>({ps[0]})),
                       "SGD: parameter 0 of param group 2 also appears in param group 0 (a "
                       "parameter may belong to one group only)",
                       value_error);
  for (auto& p : ps) p.set_grad(ember::ones_like(p));
  sgd.step();
  CHECK(ps[0](0) == doctest::Approx(0.9));
  CHECK(ps[1](0) == doctest::Approx(-2.0));
  CHECK_THROWS_WITH_AS(sgd.get_option(0, "beta1"), "SGD: param group 0 has no option 'beta1'",
                       ember::index_error);
}

TEST_CASE("float parameters") {
  auto p = ember::tensor<float>({1.0f, -2.0f}).requires_grad_(true);
  Adam<float> adam(std::vector<Tensor<float>>{p}, AdamOptions(0.1));
  p.set_grad(ember::tensor<float>({0.5f, -0.5f}));
  adam.step();
  // First Adam step moves every element by lr (m / sqrt(v) = sign(g) after bias correction).
  CHECK(p(0) == doctest::Approx(0.9f).epsilon(1e-6));
  CHECK(p(1) == doctest::Approx(-1.9f).epsilon(1e-6));
}

// ---- clip_grad ----------------------------------------------------------------------------------
using ember::nn::utils::clip_grad_norm_;
using ember::nn::utils::clip_grad_value_;

TEST_CASE("clip_grad_norm_: total L2 norm over all gradients, PyTorch's scaling") {
  auto ps = two_params();
  ps[0].set_grad(ember::tensor<double>({3.0, 0.0, 0.0}));
  ps[1].set_grad(ember::tensor<double>({0.0, 4.0}));
  // Torch: total = 5, coef = 1 / (5 + 1e-6).
  CHECK(clip_grad_norm_(ps, 1.0) == doctest::Approx(5.0));
  CHECK(ps[0].grad()(0) == doctest::Approx(3.0 / (5.0 + 1e-6)).epsilon(1e-14));
  CHECK(ps[1].grad()(1) == doctest::Approx(4.0 / (5.0 + 1e-6)).epsilon(1e-14));
  // Below the threshold nothing changes.
  const double n = clip_grad_norm_(ps, 10.0);
  CHECK(n == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(ps[1].grad()(1) == doctest::Approx(4.0 / (5.0 + 1e-6)).epsilon(1e-14));
}

TEST_CASE("clip_grad_norm_: infinity and p norms, no gradients, non-finite") {
  auto ps = two_params();
  ps[0].set_grad(ember::tensor<double>({-6.0, 1.0, 2.0}));
  CHECK(clip_grad_norm_(ps, 3.0, std::numeric_limits<double>::infinity()) == 6.0);
  CHECK(ps[0].grad()(0) == doctest::Approx(-3.0 * 6.0 / (6.0 + 1e-6)));
  ps[0].set_grad(ember::tensor<double>({1.0, 1.0, 2.0}));
  CHECK(clip_grad_norm_(ps, 100.0, 1.0) == 4.0);
  CHECK(clip_grad_norm_(ps, 100.0, 3.0) == doctest::Approx(std::cbrt(10.0)));
  CHECK(clip_grad_norm_(two_params(), 1.0) == 0.0);  // nothing has a gradient
  ps[1].set_grad(ember::tensor<double>({std::nan(""), 1.0}));
  CHECK_THROWS_WITH_AS(clip_grad_norm_(ps, 1.0, 2.0, true),
                       "clip_grad_norm_: the total norm of order 2 of the gradients is non-finite "
                       "(nan), so it cannot be clipped; pass error_if_nonfinite = false to clip "
                       "anyway",
                       value_error);
  CHECK(std::isnan(clip_grad_norm_(ps, 1.0)));
  ps[1].set_grad(ember::tensor<double>({std::nan(""), 1.0}));
  CHECK_THROWS_AS(clip_grad_norm_(ps, 1.0, std::numeric_limits<double>::infinity(), true),
                  value_error);
  CHECK_THROWS_WITH_AS(clip_grad_norm_(ps, 1.0, 0.5),
                       "clip_grad_norm_: invalid norm_type: 0.5 (expected p >= 1 or infinity)",
                       value_error);
}

TEST_CASE("clip_grad_value_") {
  auto ps = two_params();
  ps[0].set_grad(ember::tensor<double>({-3.0, 0.2, 5.0}));
  clip_grad_value_(ps, 1.0);
  CHECK(ps[0].grad()(0) == -1.0);
  CHECK(ps[0].grad()(1) == 0.2);
  CHECK(ps[0].grad()(2) == 1.0);
  CHECK_THROWS_WITH_AS(clip_grad_value_(ps, -1.0),
                       "clip_grad_value_: invalid clip_value: -1 (expected clip_value >= 0)",
                       value_error);
}
