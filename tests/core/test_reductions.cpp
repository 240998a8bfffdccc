#include <doctest/doctest.h>

#include <string>

#include "check.hpp"
#include "ember/core/tensor.hpp"
#include "refs_reduction.hpp"

using ember::Tensor;

namespace {

template <class T>
void run_reduction_case(const ember_refs::RefCase& c) {
  const std::string op = c.op;
  Tensor<T> x = ember_refs::to_tensor<T>(c.inputs[0]);
  if (c.params[0] == 1) x = x.permute({2, 0, 1});  // a non-contiguous view
  const bool keep = c.params[1] != 0;
  const std::vector<int64_t> dims(c.params.begin() + 3, c.params.end());
  const std::string what = op + " over dims " + ember::detail::concat(dims) +
                           (keep ? " keepdim" : "") + (c.params[0] ? " (permuted input)" : "");
  // float sums of 60 values of size ~2 lose ~1e-6 relative; var/std subtract means.
  const bool is_float = std::is_same_v<T, float>;
  const double rtol = is_float ? 1e-4 : 1e-10, atol = is_float ? 1e-4 : 1e-10;
  auto check = [&](const auto& got, std::size_t out = 0) {
    ember_test::check_ref(got, c.outputs[out], rtol, atol, what);
  };
  if (op == "sum") return check(x.sum(dims, keep));
  if (op == "mean") return check(x.mean(dims, keep));
  if (op == "prod") return check(x.prod(dims, keep));
  if (op == "amax") return check(x.amax(dims, keep));
  if (op == "amin") return check(x.amin(dims, keep));
  if (op == "var") return check(x.var(dims, true, keep));
  if (op == "var_biased") return check(x.var(dims, false, keep));
  if (op == "std") return check(x.std(dims, true, keep));
  if (op == "logsumexp") return check(x.logsumexp(dims, keep));
  if (op == "norm1") return check(x.norm(1, dims, keep));
  if (op == "norm2") return check(x.norm(2, dims, keep));
  if (op == "norminf") return check(x.norm(INFINITY, dims, keep));
  if (op == "max_dim" || op == "min_dim") {
    const auto r = op == "max_dim" ? x.max(dims[0], keep) : x.min(dims[0], keep);
    check(r.values, 0);
    check(r.indices, 1);
    check(op == "max_dim" ? x.argmax(dims[0], keep) : x.argmin(dims[0], keep), 1);
    return;
  }
  if (op == "argmax_all") return check(x.argmax());
  if (op == "argmin_all") return check(x.argmin());
  FAIL("unknown reduction " << op);
}

}  // namespace

TEST_CASE_TEMPLATE("reductions match PyTorch (generated reference values)", T, float, double) {
  for (const auto& c : ember_refs::reduction_cases()) run_reduction_case<T>(c);
}

TEST_CASE_TEMPLATE("property: summing over every dim in turn equals the total", T, float, double,
                   int64_t) {
  for (const ember::Shape& shape : {ember::Shape{7}, ember::Shape{3, 5}, ember::Shape{4, 3, 6},
                                    ember::Shape{2, 3, 2, 5}, ember::Shape{300, 257}}) {
    const auto x = ember::randint<T>(-50, 50, shape);
    const T total = x.sum().item();
    // Reduce one dim at a time, always the first remaining one, then always the last one.
    Tensor<T> first = x, last = x;
    while (first.dim() > 0) first = first.sum({0});
    while (last.dim() > 0) last = last.sum({-1});
    // Integer-valued data: float sums are exact while they stay below 2^24.
    CHECK(first.item() == total);
    CHECK(last.item() == total);
    // A permuted view reduces to the same total.
    std::vector<int64_t> rev;
    for (int64_t d = x.dim() - 1; d >= 0; --d) rev.push_back(d);
    CHECK(x.permute(rev).sum().item() == total);
  }
}

TEST_CASE("property: a view and its contiguous copy reduce alike over every dim") {
  const auto base = ember::randn<double>({6, 5, 8});
  const auto view = base.permute({2, 0, 1}).slice(0, 1, 8, 2).slice(2, -4, 5);
  const auto copy = view.contiguous();
  REQUIRE_FALSE(view.is_contiguous());
  REQUIRE(copy.is_contiguous());
  for (int64_t d = 0; d < view.dim(); ++d) {
    INFO("dim " << d);
    CHECK(ember::allclose(view.sum({d}), copy.sum({d}), 1e-12, 1e-12));
    CHECK(ember::equal(view.amax({d}), copy.amax({d})));
    CHECK(ember::equal(view.argmin(d), copy.argmin(d)));
    CHECK(ember::allclose(view.var({d}), copy.var({d}), 1e-12, 1e-12));
    CHECK(ember::allclose(view.logsumexp({d}, true), copy.logsumexp({d}, true), 1e-12, 1e-12));
  }
}

TEST_CASE("large reductions use the blocked paths and agree with a double-precision loop") {
  // 1024 x 1024 covers the whole-tensor blocks, row kernel and column fold.
  const auto x = ember::rand<float>({1024, 1024});
  const auto xd = x.to<double>();
  const double* p = xd.data();
  std::vector<double> rows(1024, 0.0), cols(1024, 0.0);
  double total = 0;
  for (int i = 0; i < 1024; ++i) {
    for (int j = 0; j < 1024; ++j) {
      rows[static_cast<std::size_t>(i)] += p[i * 1024 + j];
      cols[static_cast<std::size_t>(j)] += p[i * 1024 + j];
      total += p[i * 1024 + j];
    }
  }
  // float accumulation over 1024 (rows) or 1M (total) values of ~0.5: relative error ~1e-5.
  ember_test::check_values(x.sum({1}), {1024}, rows, 1e-5, 0, "sum over the last axis");
  ember_test::check_values(x.sum({0}), {1024}, cols, 1e-5, 0, "sum over the first axis");
  CHECK(std::fabs(x.sum().item() - total) <= 1e-4 * total);
}

TEST_CASE("reductions are identical for any thread count") {
  const auto x = ember::randn<float>({517, 1031});
  const int saved = ember::get_num_threads();
  ember::set_num_threads(1);
  const auto a0 = x.sum(), a1 = x.sum({0}), a2 = x.sum({1});
  ember::set_num_threads(3);
  CHECK(ember::equal(x.sum(), a0));
  CHECK(ember::equal(x.sum({0}), a1));
  CHECK(ember::equal(x.sum({1}), a2));
  ember::set_num_threads(saved);
}

TEST_CASE("edge cases: empty, 0-d, NaN and infinities") {
  const auto empty = ember::zeros<float>({0, 3});
  ember_test::check_values(empty.sum({0}), {3}, {0, 0, 0}, 0, 0, "sum over an empty dim");
  ember_test::check_values(empty.prod({0}), {3}, {1, 1, 1}, 0, 0, "prod over an empty dim");
  CHECK(std::isnan(empty.mean().item()));
  CHECK_THROWS_WITH_AS(empty.amax({0}),
                       "amax: cannot reduce over an empty dimension (input shape [0, 3], dims [0]) "
                       "because the operation has no identity",
                       ember::value_error);
  const auto s = ember::scalar_tensor<double>(2.5);
  CHECK(s.sum().item() == 2.5);
  CHECK(s.amax().item() == 2.5);
  CHECK(s.argmax().item() == 0);
  const auto n = ember::tensor<double>({1.0, NAN, 3.0});
  CHECK(std::isnan(n.amax().item()));
  CHECK(std::isnan(n.max(0).values.item()));
  CHECK(n.max(0).indices.item() == 1);
  const auto inf = ember::tensor<double>({-INFINITY, -INFINITY});
  CHECK(inf.logsumexp({0}).item() == -INFINITY);
  const auto big = ember::tensor<double>({1000.0, 1000.0});
  CHECK(big.logsumexp({0}).item() == doctest::Approx(1000.0 + std::log(2.0)));
}

TEST_CASE("norm rejects unsupported orders") {
  CHECK_THROWS_WITH_AS(ember::ones<float>({3}).norm(3), "norm: p must be 1, 2 or inf, got 3",
                       ember::value_error);
}
