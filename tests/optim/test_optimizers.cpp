// Every optimizer and option combination of tools/gen_optim_refs.py against PyTorch's 20-step
// trajectories, and state_dict round trips.
#include <doctest/doctest.h>

#include "optim_support.hpp"

using namespace optim_test;

namespace {

template <class T>
void run_parity(double rtol, double atol) {
  const Problem<T> prob;
  std::map<std::string, ember::io::SafetensorsFile> files;
  std::size_t keys_checked = 0;
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    auto it = files.find(c.optimizer);
    if (it == files.end())
      it = files
               .emplace(c.optimizer, ember::io::SafetensorsFile::open(
                                         fixture_path("traj_" + c.optimizer + ".safetensors")))
               .first;
    auto params = prob.fresh_params();
    auto opt = make_optimizer<T>(c.optimizer, groups_of(c, params), c.options);
    const Tensor<T> ref0 = load<T>(it->second, c.name + "/p0");
    const Tensor<T> ref1 = load<T>(it->second, c.name + "/p1");
    for (int t = 0; t < 20; ++t) {
      prob.set_grads(params, t);
      opt->step();
      check_close(params[0].detach(), ref0[t].contiguous(), rtol, atol,
                  c.name + " p0 step " + std::to_string(t + 1));
      check_close(params[1].detach(), ref1[t].contiguous(), rtol, atol,
                  c.name + " p1 step " + std::to_string(t + 1));
    }
    keys_checked += 2;
  }
  // Every trajectory in the files belongs to a case that ran.
  std::size_t keys_in_files = 0;
  for (const auto& kv : files) keys_in_files += kv.second.size();
  CHECK(keys_checked == keys_in_files);
  CHECK(files.size() == 8);
}

}  // namespace

TEST_CASE("optimizers match PyTorch over 20 steps (double)") {
  run_parity<double>(1e-5, 1e-12);
}

// float: the same trajectories in single precision; 20 steps of rounding, and Adam-type updates
// that divide by sqrt(v) + eps, leave a few float ulps per step, hence the looser tolerance.
TEST_CASE("optimizers match PyTorch over 20 steps (float)") {
  run_parity<float>(1e-4, 1e-5);
}

TEST_CASE("state_dict: 10 steps, save, load into a fresh optimizer, 10 more == 20 straight") {
  const Problem<double> prob;
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    auto straight = prob.fresh_params();
    auto opt_a = make_optimizer<double>(c.optimizer, groups_of(c, straight), c.options);
    for (int t = 0; t < 20; ++t) {
      prob.set_grads(straight, t);
      opt_a->step();
    }

    auto first = prob.fresh_params();
    auto opt_b = make_optimizer<double>(c.optimizer, groups_of(c, first), c.options);
    for (int t = 0; t < 10; ++t) {
      prob.set_grads(first, t);
      opt_b->step();
    }
    std::vector<Tensor<double>> second;
    for (const auto& p : first) second.push_back(p.detach().clone().requires_grad_(true));
    const auto saved = opt_b->state_dict();
    // The saved state is a snapshot: a further step of opt_b must not change it.
    prob.set_grads(first, 10);
    opt_b->step();

    // Same group layout, no per-group overrides and default options: load must restore them.
    Case plain = c;
    for (auto& g : plain.groups) g.overrides.clear();
    auto opt_c = make_optimizer<double>(c.optimizer, groups_of(plain, second), {});
    opt_c->load_state_dict(saved);
    for (int t = 10; t < 20; ++t) {
      prob.set_grads(second, t);
      opt_c->step();
    }
    for (std::size_t i = 0; i < second.size(); ++i) {
      const Tensor<double> a = straight[i].detach(), b = second[i].detach();
      for (int64_t k = 0; k < a.numel(); ++k) CHECK(b.data()[k] == a.data()[k]);
    }
  }
}
