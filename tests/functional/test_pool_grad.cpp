// gradcheck (double, small shapes) of the pooling ops over their options.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/functional/pooling.hpp"

namespace F = ember::F;
using ember::Tensor;
using Inputs = std::vector<Tensor<double>>;

namespace {

Tensor<double> leaf(const ember::Shape& shape, uint64_t seed) {
  ember::Generator gen(seed);
  return ember::rand<double>(shape, &gen).mul(2.0).sub(1.0).requires_grad_();
}

void check(const std::string& what, const std::function<Tensor<double>(const Inputs&)>& fn,
           const Inputs& inputs) {
  CAPTURE(what);
  const ember::GradcheckResult r = ember::gradcheck(fn, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

// Random values in [-1, 1) have distinct maxima with probability 1, and the finite-difference step
// (1e-6) is far below their gaps, so the argmax does not flip during gradcheck.
TEST_CASE("max_pool2d gradcheck") {
  check("2x2", [](const Inputs& v) { return F::max_pool2d(v[0], 2); }, {leaf({2, 2, 4, 4}, 1)});
  check("3x3 stride 2 padding 1",
        [](const Inputs& v) { return F::max_pool2d(v[0], 3, 2, 1); }, {leaf({2, 2, 5, 6}, 2)});
  check("dilation 2", [](const Inputs& v) { return F::max_pool2d(v[0], 2, 1, 0, 2); },
        {leaf({1, 2, 5, 5}, 3)});
  check("ceil_mode", [](const Inputs& v) { return F::max_pool2d(v[0], 2, 2, 0, 1, true); },
        {leaf({1, 2, 5, 5}, 4)});
  check("ceil_mode padding 1 kernel (3,2)",
        [](const Inputs& v) { return F::max_pool2d(v[0], {3, 2}, {2, 2}, 1, 1, true); },
        {leaf({1, 2, 6, 5}, 5)});
  check("overlapping windows, non-contiguous",
        [](const Inputs& v) { return F::max_pool2d(v[0].transpose(2, 3), 2, 1); },
        {leaf({1, 2, 4, 5}, 6)});
  check("unbatched", [](const Inputs& v) { return F::max_pool2d(v[0], 2); }, {leaf({2, 4, 4}, 7)});
}

TEST_CASE("max_pool1d gradcheck") {
  check("2", [](const Inputs& v) { return F::max_pool1d(v[0], 2); }, {leaf({2, 3, 8}, 10)});
  check("3 stride 2 padding 1 dilation 2 ceil",
        [](const Inputs& v) { return F::max_pool1d(v[0], 3, 2, 1, 2, true); },
        {leaf({2, 2, 9}, 11)});
}

TEST_CASE("avg_pool2d gradcheck") {
  check("2x2", [](const Inputs& v) { return F::avg_pool2d(v[0], 2); }, {leaf({2, 2, 4, 4}, 20)});
  check("3x3 stride 2 padding 1 count_include_pad",
        [](const Inputs& v) { return F::avg_pool2d(v[0], 3, 2, 1); }, {leaf({2, 2, 5, 6}, 21)});
  check("3x3 stride 2 padding 1 exclude pad",
        [](const Inputs& v) { return F::avg_pool2d(v[0], 3, 2, 1, false, false); },
        {leaf({2, 2, 5, 6}, 22)});
  check("ceil_mode padding 1",
        [](const Inputs& v) { return F::avg_pool2d(v[0], 3, 2, 1, true, true); },
        {leaf({1, 2, 6, 6}, 23)});
  check("ceil_mode exclude pad",
        [](const Inputs& v) { return F::avg_pool2d(v[0], {2, 3}, 2, 1, true, false); },
        {leaf({1, 2, 5, 7}, 24)});
  check("non-contiguous",
        [](const Inputs& v) { return F::avg_pool2d(v[0].transpose(2, 3), 2, 1); },
        {leaf({1, 2, 4, 5}, 25)});
}

TEST_CASE("avg_pool1d and adaptive_avg_pool2d gradcheck") {
  check("avg_pool1d 3 stride 2 padding 1 ceil",
        [](const Inputs& v) { return F::avg_pool1d(v[0], 3, 2, 1, true, false); },
        {leaf({2, 2, 8}, 30)});
  check("adaptive 7x5 -> 3x2",
        [](const Inputs& v) { return F::adaptive_avg_pool2d(v[0], {3, 2}); },
        {leaf({2, 2, 7, 5}, 31)});
  check("adaptive 4x4 -> 1", [](const Inputs& v) { return F::adaptive_avg_pool2d(v[0], 1); },
        {leaf({2, 3, 4, 4}, 32)});
  check("adaptive upsampling 3x3 -> 5x4",
        [](const Inputs& v) { return F::adaptive_avg_pool2d(v[0], {5, 4}); },
        {leaf({1, 2, 3, 3}, 33)});
}

TEST_CASE("max_pool2d: the gradient goes to the argmax only") {
  Tensor<double> x = ember::tensor<double>({1, 5, 3, 2, 8, 0, 4, 7, 6}).reshape({1, 1, 3, 3});
  x.requires_grad_();
  F::max_pool2d(x, 2, 1).sum().backward();
  // Windows: {1,5,2,8} -> 8, {5,3,8,0} -> 8, {2,8,4,7} -> 8, {8,0,7,6} -> 8: all four at index 4.
  const std::vector<double> expected{0, 0, 0, 0, 4, 0, 0, 0, 0};
  const Tensor<double> g = x.grad().contiguous();
  CHECK(std::vector<double>(g.data(), g.data() + 9) == expected);
}
