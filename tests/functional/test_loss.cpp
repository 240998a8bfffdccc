// Losses against PyTorch (tools/gen_loss_refs.py writes the fixture), plus their error texts.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "ember/ember.hpp"
#include "ember/functional/loss.hpp"
#include "ember/io/tensor_io.hpp"

using ember::Tensor;
using ember::F::Reduction;

namespace {

const ember::io::SafetensorsFile& fixture() {
  static const ember::io::SafetensorsFile f = [] {
    const std::string here = __FILE__;
    return ember::io::SafetensorsFile::open(here.substr(0, here.find_last_of('/')) +
                                            "/fixtures/losses.safetensors");
  }();
  return f;
}

template <class T = double>
Tensor<T> get(const std::string& key) {
  return ember::io::to_tensor<T>(fixture().get(key), key);
}
bool has(const std::string& key) {
  for (const auto& k : fixture().keys()) {
    if (k == key) return true;
  }
  return false;
}

void check_close(const Tensor<double>& got, const Tensor<double>& want, const std::string& what) {
  CAPTURE(what);
  REQUIRE(got.shape() == want.shape());
  const Tensor<double> g = got.contiguous(), w = want.contiguous();
  for (int64_t i = 0; i < g.numel(); ++i) {
    CHECK(g.data()[i] == doctest::Approx(w.data()[i]).epsilon(1e-10).scale(1e-12));
  }
}

using LossFn = std::function<Tensor<double>(const Tensor<double>& input, const std::string& c)>;

// Runs case c: loss(input) against PyTorch's value and input gradient.
void run_case(const std::string& c, const LossFn& loss) {
  CAPTURE(c);
  Tensor<double> x = get(c + "/input").requires_grad_();
  Tensor<double> out = loss(x, c);
  check_close(out.detach(), get(c + "/out"), c + " out");
  if (has(c + "/grad_out")) {
    out.backward(get(c + "/grad_out"));
  } else {
    out.backward();
  }
  check_close(x.grad(), get(c + "/grad_input"), c + " grad_input");
}

Tensor<int64_t> idx(const std::string& c) {
  return get<int64_t>(c + "/target");
}
Tensor<double> tgt(const std::string& c) {
  return get(c + "/target");
}

}  // namespace

TEST_CASE("cross_entropy and nll_loss match PyTorch") {
  using ember::F::cross_entropy;
  run_case("ce_basic", [](auto& x, auto& c) { return cross_entropy(x, idx(c)); });
  run_case("ce_weight_ignore",
           [](auto& x, auto& c) { return cross_entropy(x, idx(c), get(c + "/weight"), 2); });
  run_case("ce_smooth_weight", [](auto& x, auto& c) {
    return cross_entropy(x, idx(c), get(c + "/weight"), -100, Reduction::mean, 0.1);
  });
  run_case("ce_sum", [](auto& x, auto& c) {
    return cross_entropy(x, idx(c), Tensor<double>(), -100, Reduction::sum);
  });
  run_case("ce_none_smooth", [](auto& x, auto& c) {
    return cross_entropy(x, idx(c), Tensor<double>(), -100, Reduction::none, 0.3);
  });
  run_case("ce_probs_smooth", [](auto& x, auto& c) {
    return cross_entropy(x, tgt(c), Tensor<double>(), Reduction::mean, 0.2);
  });
  run_case("ce_spatial", [](auto& x, auto& c) { return cross_entropy(x, idx(c)); });
  run_case("ce_large_logits", [](auto& x, auto& c) { return cross_entropy(x, idx(c)); });
  run_case("nll_weight",
           [](auto& x, auto& c) { return ember::F::nll_loss(x, idx(c), get(c + "/weight")); });
}

TEST_CASE("regression and binary losses match PyTorch") {
  using namespace ember::F;
  run_case("mse", [](auto& x, auto& c) { return mse_loss(x, tgt(c)); });
  run_case("l1_sum", [](auto& x, auto& c) { return l1_loss(x, tgt(c), Reduction::sum); });
  run_case("smooth_l1_beta",
           [](auto& x, auto& c) { return smooth_l1_loss(x, tgt(c), Reduction::mean, 0.5); });
  run_case("huber_none",
           [](auto& x, auto& c) { return huber_loss(x, tgt(c), Reduction::none, 0.7); });
  run_case("bce_weight",
           [](auto& x, auto& c) { return binary_cross_entropy(x, tgt(c), get(c + "/weight")); });
  run_case("bce_logits_pos_weight", [](auto& x, auto& c) {
    return binary_cross_entropy_with_logits(x, tgt(c), Tensor<double>(), get(c + "/pos_weight"));
  });
  run_case("kl_batchmean",
           [](auto& x, auto& c) { return kl_div(x, tgt(c), KLReduction::batchmean); });
  run_case("kl_log_target_sum",
           [](auto& x, auto& c) { return kl_div(x, tgt(c), KLReduction::sum, true); });
}

TEST_CASE("float losses agree with the double results") {
  Tensor<float> x = get<float>("ce_basic/input").requires_grad_();
  Tensor<float> loss = ember::F::cross_entropy(x, idx("ce_basic"));
  loss.backward();
  CHECK(loss.item() == doctest::Approx(get("ce_basic/out").item()).epsilon(1e-5));
  CHECK(x.grad()(2, 4) == doctest::Approx(get("ce_basic/grad_input")(2, 4)).epsilon(1e-4));
}

TEST_CASE("loss arguments are checked with the offending values") {
  const Tensor<double> logits = ember::zeros<double>({4, 5});
  CHECK_THROWS_WITH_AS(ember::F::cross_entropy(logits, ember::tensor<int64_t>({0, 1, 7, 2})),
                       "cross_entropy: target 7 is out of range for 5 classes", ember::index_error);
  CHECK_THROWS_WITH_AS(ember::F::cross_entropy(logits, ember::tensor<int64_t>({0, 1})),
                       "cross_entropy: input of shape [4, 5] expects class-index targets of shape "
                       "[4], got [2]",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(ember::F::cross_entropy(logits, ember::tensor<int64_t>({0, 1, 2, 3}),
                                               Tensor<double>(), -100, Reduction::mean, 1.5),
                       "cross_entropy: label_smoothing must be in [0, 1], got 1.5",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(ember::F::mse_loss(logits, ember::zeros<double>({4})),
                       "mse_loss: input of shape [4, 5] and target of shape [4] differ",
                       ember::shape_error);
  CHECK_THROWS_WITH_AS(
      ember::F::binary_cross_entropy(ember::full<double>({2}, 1.5), ember::zeros<double>({2})),
      "binary_cross_entropy: input values must be in [0, 1], got 1.5 at flat "
      "index 0",
      ember::value_error);
}
