// Loss modules hold their options and weights and compute what the F:: losses compute.
#include <doctest/doctest.h>

#include <sstream>

#include "ember/ember.hpp"

using ember::Tensor;
namespace nn = ember::nn;

TEST_CASE("loss modules equal the functional losses and register weights as buffers") {
  ember::Generator gen(3);
  const Tensor<double> x = ember::randn<double>({4, 5}, &gen);
  const Tensor<int64_t> y = ember::tensor<int64_t>({1, 0, 4, 2});
  const Tensor<double> w = ember::rand<double>({5}, &gen).add(0.5);

  nn::CrossEntropyLoss<double> ce(w, 2, nn::Reduction::sum, 0.1);
  CHECK(ce(x, y).item() ==
        ember::F::cross_entropy(x, y, w, 2, ember::F::Reduction::sum, 0.1).item());
  const auto sd = ce.state_dict();
  CHECK(sd.size() == 1);
  CHECK(sd.contains("weight"));
  std::ostringstream os;
  os << ce;
  CHECK(os.str() == "CrossEntropyLoss()");

  const Tensor<double> t = ember::randn<double>({4, 5}, &gen);
  CHECK(nn::MSELoss<double>()(x, t).item() == ember::F::mse_loss(x, t).item());
  CHECK(nn::HuberLoss<double>(nn::Reduction::sum, 0.5)(x, t).item() ==
        ember::F::huber_loss(x, t, ember::F::Reduction::sum, 0.5).item());
  CHECK(nn::SmoothL1Loss<double>(nn::Reduction::mean, 0.25)(x, t).item() ==
        ember::F::smooth_l1_loss(x, t, ember::F::Reduction::mean, 0.25).item());
  CHECK(nn::L1Loss<double>()(x, t).item() == ember::F::l1_loss(x, t).item());
  CHECK(nn::BCEWithLogitsLoss<double>()(x, t.gt(0.0)).item() ==
        ember::F::binary_cross_entropy_with_logits(x, t.gt(0.0)).item());
  CHECK(nn::NLLLoss<double>()(ember::F::log_softmax(x, 1), y).item() ==
        doctest::Approx(nn::CrossEntropyLoss<double>()(x, y).item()));
}

TEST_CASE("loss module options are validated") {
  CHECK_THROWS_WITH_AS(nn::CrossEntropyLoss<float>(Tensor<float>(), -100, nn::Reduction::mean, 2.0),
                       "CrossEntropyLoss: label_smoothing must be in [0, 1], got 2",
                       ember::value_error);
}
