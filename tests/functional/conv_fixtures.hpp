// Reads the PyTorch reference cases written by tools/gen_conv_refs.py and compares ember's
// results with them.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ember/ember.hpp"

namespace conv_fixtures {

inline std::string path(const std::string& name) {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/fixtures/conv/" + name;
}

template <class T>
ember::Tensor<T> load(const ember::io::SafetensorsFile& f, const std::string& key) {
  const ember::io::TensorView v = f.get(key);
  REQUIRE(v.dtype == ember::io::Dtype::F64);
  std::vector<double> values(static_cast<std::size_t>(v.numel()));
  std::memcpy(values.data(), v.data, v.nbytes);
  ember::Tensor<T> t = ember::empty<T>(v.shape);
  for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = static_cast<T>(values[i]);
  return t;
}

// Tolerances: float rtol 1e-4 / atol 1e-5, double 1e-10 (the task's parity standard).
template <class T>
void expect_close(const ember::Tensor<T>& got, const ember::Tensor<T>& want, const std::string& what) {
  CAPTURE(what);
  REQUIRE(got.shape() == want.shape());
  const double rtol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
  const double atol = std::is_same_v<T, float> ? 1e-5 : 1e-10;
  const ember::Tensor<T> g = got.contiguous(), w = want.contiguous();
  double worst = 0;
  int64_t bad = 0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double d = std::abs(double(g.data()[i]) - double(w.data()[i]));
    if (d > atol + rtol * std::abs(double(w.data()[i]))) ++bad;
    worst = std::max(worst, d);
  }
  CAPTURE(worst);
  CHECK(bad == 0);
}

// Runs `fn` on the case's inputs (x, and w / b when stored) and checks y and every gradient of
// sum(y * gy) against PyTorch's.
template <class T>
void check_case(const ember::io::SafetensorsFile& f, const std::string& name,
                const std::function<ember::Tensor<T>(const ember::Tensor<T>&, const ember::Tensor<T>&,
                                                     const ember::Tensor<T>&)>& fn) {
  CAPTURE(name);
  REQUIRE(f.contains(name + "/x"));
  ember::Tensor<T> x = load<T>(f, name + "/x").requires_grad_();
  ember::Tensor<T> w, b;
  if (f.contains(name + "/w")) w = load<T>(f, name + "/w").requires_grad_();
  if (f.contains(name + "/b")) b = load<T>(f, name + "/b").requires_grad_();
  ember::Tensor<T> y = fn(x, w, b);
  expect_close(y, load<T>(f, name + "/y"), name + " output");
  y.mul(load<T>(f, name + "/gy")).sum().backward();
  expect_close(x.grad(), load<T>(f, name + "/gx"), name + " grad input");
  if (w.defined()) expect_close(w.grad(), load<T>(f, name + "/gw"), name + " grad weight");
  if (b.defined()) expect_close(b.grad(), load<T>(f, name + "/gb"), name + " grad bias");
}

}  // namespace conv_fixtures
