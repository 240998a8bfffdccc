// Shared by the optim tests: the fixtures of tools/gen_optim_refs.py, the gradient rule they were
// made with, and a factory that builds any optimizer by name.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "ember/core/tensor.hpp"
#include "ember/io/safetensors.hpp"
#include "ember/optim.hpp"

namespace optim_test {

using ember::Tensor;
namespace optim = ember::optim;

inline std::string fixture_path(const std::string& name) {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/fixtures/" + name;
}

// A float64 tensor of a fixture file, converted to T.
template <class T>
Tensor<T> load(const ember::io::SafetensorsFile& f, const std::string& key) {
  const ember::io::TensorView v = f.get(key);
  REQUIRE(v.dtype == ember::io::Dtype::F64);
  Tensor<T> t(ember::Shape(v.shape.begin(), v.shape.end()));
  for (int64_t i = 0; i < v.numel(); ++i) {
    double x;
    std::memcpy(&x, v.data + i * 8, 8);
    t.data()[i] = static_cast<T>(x);
  }
  return t;
}

// The problem of the fixtures: two parameters, grad_t = a (p - b) + 0.05 sin(0.37 (t+1) (k+1)).
template <class T>
struct Problem {
  std::vector<Tensor<T>> init, a, b;

  Problem() {
    const auto f = ember::io::SafetensorsFile::open(fixture_path("problem.safetensors"));
    for (const char* p : {"p0", "p1"}) {
      init.push_back(load<T>(f, std::string("init/") + p));
      a.push_back(load<T>(f, std::string("a/") + p));
      b.push_back(load<T>(f, std::string("b/") + p));
    }
  }

  std::vector<Tensor<T>> fresh_params() const {
    std::vector<Tensor<T>> ps;
    for (const auto& t : init) ps.push_back(t.clone().requires_grad_(true));
    return ps;
  }

  void set_grads(std::vector<Tensor<T>>& params, int t) const {
    for (std::size_t i = 0; i < params.size(); ++i) {
      Tensor<T> g(params[i].shape());
      const T* p = params[i].data();
      for (int64_t k = 0; k < g.numel(); ++k) {
        const double pk = static_cast<double>(p[k]);
        g.data()[k] = static_cast<T>(static_cast<double>(a[i].data()[k]) *
                                         (pk - static_cast<double>(b[i].data()[k])) +
                                     0.05 * std::sin(0.37 * (t + 1) * static_cast<double>(k + 1)));
      }
      params[i].set_grad(g);
    }
  }
};

struct GroupSpec {
  std::vector<int> params;
  optim::Options overrides;
};
struct Case {
  std::string name, optimizer;
  optim::Options options;
  std::vector<GroupSpec> groups;  // empty: one group with every parameter
};

inline const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
#include "optim_cases.inc"
  };
  return all;
}

template <class T>
std::unique_ptr<optim::Optimizer<T>> make_optimizer(const std::string& name,
                                                    std::vector<optim::ParamGroup<T>> groups,
                                                    const optim::Options& options) {
  auto with = [&](auto opts) {
    opts.o = options;
    return opts;
  };
  if (name == "SGD")
    return std::make_unique<optim::SGD<T>>(std::move(groups), with(optim::SGDOptions(0)));
  if (name == "Adam")
    return std::make_unique<optim::Adam<T>>(std::move(groups), with(optim::AdamOptions()));
  if (name == "AdamW")
    return std::make_unique<optim::AdamW<T>>(std::move(groups), with(optim::AdamWOptions()));
  if (name == "RMSprop")
    return std::make_unique<optim::RMSprop<T>>(std::move(groups), with(optim::RMSpropOptions()));
  if (name == "Adagrad")
    return std::make_unique<optim::Adagrad<T>>(std::move(groups), with(optim::AdagradOptions()));
  if (name == "Adamax")
    return std::make_unique<optim::Adamax<T>>(std::move(groups), with(optim::AdamaxOptions()));
  if (name == "NAdam")
    return std::make_unique<optim::NAdam<T>>(std::move(groups), with(optim::NAdamOptions()));
  if (name == "Lion")
    return std::make_unique<optim::Lion<T>>(std::move(groups), with(optim::LionOptions()));
  FAIL("unknown optimizer " << name);
  return nullptr;
}

template <class T>
std::vector<optim::ParamGroup<T>> groups_of(const Case& c, const std::vector<Tensor<T>>& params) {
  if (c.groups.empty()) return {optim::ParamGroup<T>(params)};
  std::vector<optim::ParamGroup<T>> out;
  for (const auto& g : c.groups) {
    std::vector<Tensor<T>> ps;
    for (int i : g.params) ps.push_back(params[static_cast<std::size_t>(i)]);
    out.emplace_back(ps, g.overrides);
  }
  return out;
}

// max |x - ref| / (atol + rtol |ref|) <= 1 over all elements.
template <class T>
void check_close(const Tensor<T>& x, const Tensor<T>& ref, double rtol, double atol,
                 const std::string& what) {
  REQUIRE(x.numel() == ref.numel());
  double worst = 0.0;
  int64_t at = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double d =
        std::abs(static_cast<double>(x.data()[i]) - static_cast<double>(ref.data()[i]));
    const double r = d / (atol + rtol * std::abs(static_cast<double>(ref.data()[i])));
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  INFO(what << ": element " << at << " is " << x.data()[at] << ", reference " << ref.data()[at]);
  CHECK(worst <= 1.0);
}

}  // namespace optim_test
