#include <doctest/doctest.h>

#include <cstdint>
#include <random>

#include "check.hpp"
#include "ember/core/tensor.hpp"

using ember::Shape;
using ember::Tensor;

TEST_CASE("zeros, ones, full, empty and *_like") {
  const auto z = ember::zeros<float>({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.strides() == Shape{3, 1});
  ember_test::check_values(z, {2, 3}, {0, 0, 0, 0, 0, 0}, 0, 0, "zeros");
  ember_test::check_values(ember::ones<double>({2}), {2}, {1, 1}, 0, 0, "ones");
  ember_test::check_values(ember::full<int64_t>({3}, 7), {3}, {7, 7, 7}, 0, 0, "full");
  CHECK(ember::empty<float>({4, 0}).numel() == 0);
  CHECK(ember::ones_like(z).shape() == z.shape());
  ember_test::check_values(ember::full_like(z, 2.f), {2, 3}, {2, 2, 2, 2, 2, 2}, 0, 0, "full_like");
  CHECK(ember::zeros<float>({}).dim() == 0);
  CHECK(ember::zeros<float>({}).numel() == 1);
}

TEST_CASE("storage is 64-byte aligned") {
  // Either side of the 4 KB small-block limit and up to 4 MB; filling and summing every element
  // lets ASan check that the aligned block lies inside what was allocated.
  for (int64_t n : {1, 3, 17, 1000, 1024, 1025, 1 << 20}) {
    auto f = ember::empty<float>({n});
    auto d = ember::empty<double>({n});
    CHECK(reinterpret_cast<std::uintptr_t>(f.data()) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(d.data()) % 64 == 0);
    f.fill_(1.f);
    d.fill_(1.0);
    CHECK(f.sum().item() == static_cast<float>(n));  // exact: n < 2^24
    CHECK(d.sum().item() == static_cast<double>(n));
  }
}

TEST_CASE("arange, linspace and eye") {
  ember_test::check_values(ember::arange<int64_t>(5), {5}, {0, 1, 2, 3, 4}, 0, 0, "arange(5)");
  ember_test::check_values(ember::arange<double>(1.0, 2.0, 0.25), {4}, {1, 1.25, 1.5, 1.75}, 0, 0,
                           "arange(1, 2, 0.25)");
  ember_test::check_values(ember::arange<int64_t>(5, 0, -2), {3}, {5, 3, 1}, 0, 0, "descending");
  ember_test::check_values(ember::linspace<double>(0.0, 1.0, 5), {5}, {0, 0.25, 0.5, 0.75, 1}, 0, 0,
                           "linspace");
  CHECK(ember::linspace<float>(-1.f, 3.f, 7).data()[6] == 3.f);  // end is hit exactly
  CHECK(ember::linspace<float>(2.f, 5.f, 1).item() == 2.f);
  ember_test::check_values(ember::eye<float>(2, 3), {2, 3}, {1, 0, 0, 0, 1, 0}, 0, 0, "eye(2, 3)");
  ember_test::check_values(ember::eye<int64_t>(2), {2, 2}, {1, 0, 0, 1}, 0, 0, "eye(2)");
  CHECK_THROWS_WITH_AS(ember::arange<float>(0.f, 1.f, -1.f),
                       "arange: upper bound 1 and lower bound 0 are inconsistent with step sign -1",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(ember::arange<float>(0.f, 1.f, 0.f), "arange: step must be nonzero",
                       ember::value_error);
}

TEST_CASE("nested initializer lists") {
  const auto a = ember::tensor<float>({{1, 2, 3}, {4, 5, 6}});
  ember_test::check_values(a, {2, 3}, {1, 2, 3, 4, 5, 6}, 0, 0, "2-d");
  const auto b = ember::tensor<double>({{{1, 2}}, {{3, 4}}});
  CHECK(b.shape() == Shape{2, 1, 2});
  CHECK(b(1, 0, 1) == 4.0);
  CHECK(ember::tensor<int64_t>({1, 2, 3}).shape() == Shape{3});
  CHECK(ember::tensor<float>({{{{1}}}}).shape() == Shape{1, 1, 1, 1});
  CHECK_THROWS_WITH_AS(ember::tensor<float>({{1, 2}, {3}}),
                       "tensor: ragged nested list: expected 2 elements at depth 1, got 1",
                       ember::value_error);
  const auto v = ember::tensor<float>(std::vector<float>{1, 2, 3, 4}, {2, 2});
  CHECK(v(1, 0) == 3.f);
}

TEST_CASE("from_blob wraps caller memory without copying or freeing it") {
  std::vector<double> buf = {1, 2, 3, 4, 5, 6};
  {
    auto t = ember::from_blob(buf.data(), {2, 3});
    CHECK(t.data() == buf.data());
    CHECK_FALSE(t.storage()->owns_memory());
    t(1, 1) = 50;
    CHECK(buf[4] == 50);
    auto col = ember::from_blob(buf.data() + 1, {2}, {3});  // column 1 via strides
    ember_test::check_values(col, {2}, {2, 50}, 0, 0, "strided blob");
  }
  CHECK(buf[0] == 1);  // still valid after the tensors died (ASan would flag a free)
}

TEST_CASE("the same seed gives the same numbers; generators are independent") {
  ember::manual_seed(123);
  const auto a = ember::rand<float>({100});
  const auto n1 = ember::randn<double>({7});
  ember::manual_seed(123);
  CHECK(ember::equal(ember::rand<float>({100}), a));
  CHECK(ember::equal(ember::randn<double>({7}), n1));
  ember::Generator g1(5), g2(5), g3(6);
  const auto i1 = ember::randint(0, 10, {50}, &g1);
  CHECK(ember::equal(ember::randint(0, 10, {50}, &g2), i1));
  CHECK_FALSE(ember::equal(ember::randint(0, 10, {50}, &g3), i1));
}

TEST_CASE("Generator is the standard mt19937_64 with fully specified conversions") {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64.
  ember::Generator g(5489);
  uint64_t v = 0;
  for (int i = 0; i < 10000; ++i) v = g.next_u64();
  CHECK(v == 9981545732273789042ULL);
  // uniform: top 53 (double) or 24 (float) bits of one draw.
  ember::Generator a(77), b(77);
  std::mt19937_64 ref_a(77), ref_b(77);
  for (int i = 0; i < 5; ++i) {
    CHECK(a.uniform_double() == std::ldexp(static_cast<double>(ref_a() >> 11), -53));
    CHECK(b.uniform_float() == std::ldexp(static_cast<float>(ref_b() >> 40), -24));
  }
}

TEST_CASE("random distributions have the right range and moments") {
  ember::Generator g(2024);
  const auto u = ember::rand<double>({20000}, &g);
  CHECK(u.amin().item() >= 0.0);
  CHECK(u.amax().item() < 1.0);
  // 20000 samples: standard error of the mean is ~0.002 (uniform) and ~0.007 (normal); 5 sigma.
  CHECK(std::fabs(u.mean().item() - 0.5) < 0.01);
  const auto n = ember::randn<double>({20000}, &g);
  CHECK(std::fabs(n.mean().item()) < 0.035);
  CHECK(std::fabs(n.std().item() - 1.0) < 0.03);
  const auto r = ember::randint(-3, 4, {20000}, &g);
  CHECK(r.amin().item() == -3);
  CHECK(r.amax().item() == 3);
  const auto bern = ember::bernoulli<double>({20000}, 0.25, &g);
  CHECK(std::fabs(bern.mean().item() - 0.25) < 0.02);
  const auto probs = ember::tensor<double>({0.0, 1.0, 0.0, 1.0});
  ember_test::check_values(ember::bernoulli(probs, &g), {4}, {0, 1, 0, 1}, 0, 0, "p in {0, 1}");
  CHECK_THROWS_WITH_AS(ember::randint(3, 3, {1}),
                       "randint: expected low < high, got low = 3 and high = 3",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(ember::bernoulli<float>({2}, 1.5),
                       "bernoulli: expected 0 <= p <= 1, got 1.5", ember::value_error);
}
