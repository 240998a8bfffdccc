// Module mechanics: registration, PyTorch's names and order, train/eval, zero_grad, apply,
// state dicts (round trip, strict errors, float <-> double) and the repr.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "ember/nn.hpp"

using ember::Tensor;
namespace nn = ember::nn;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor<float>>>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.first);
  return out;
}

// A module with a parameter, an int64 buffer and two children, registered in that order.
struct Block : nn::UnaryModule<float> {
  Block() {
    scale = register_parameter("scale", ember::ones<float>({4}));
    steps = register_buffer("steps", ember::zeros<int64_t>({}));
    fc = register_module("fc", std::make_shared<nn::Linear<>>(4, 4));
    seq = register_module("seq",
                          std::make_shared<nn::Sequential<>>(nn::Linear(4, 2), nn::Identity()));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    return seq->forward(fc->forward(x.mul(scale)));
  }
  std::string name() const override { return "Block"; }
  Tensor<float> scale;
  Tensor<int64_t> steps;
  std::shared_ptr<nn::Linear<>> fc;
  std::shared_ptr<nn::Sequential<>> seq;
};

}  // namespace

TEST_CASE("parameters, buffers and modules in PyTorch's order with dotted names") {
  Block b;
  CHECK(names_of(b.named_parameters()) ==
        std::vector<std::string>{"scale", "fc.weight", "fc.bias", "seq.0.weight", "seq.0.bias"});
  CHECK(names_of(b.named_parameters(false)) == std::vector<std::string>{"scale"});
  CHECK(b.parameters().size() == 5);
  const auto bufs = b.named_buffers();
  REQUIRE(bufs.size() == 1);
  CHECK(bufs[0].first == "steps");
  std::vector<std::string> mods;
  for (auto& [n, m] : b.named_modules()) mods.push_back(n);
  CHECK(mods == std::vector<std::string>{"", "fc", "seq", "seq.0", "seq.1"});
  std::vector<std::string> kids;
  for (auto& [n, m] : b.named_children()) kids.push_back(n);
  CHECK(kids == std::vector<std::string>{"fc", "seq"});
  CHECK(b.state_dict().keys() == std::vector<std::string>{"scale", "steps", "fc.weight", "fc.bias",
                                                          "seq.0.weight", "seq.0.bias"});
  for (const auto& p : b.parameters()) CHECK(p.requires_grad());
}

TEST_CASE("registration errors name the module and the key") {
  Block b;
  CHECK_THROWS_WITH_AS(b.register_parameter("scale", ember::ones<float>({1})),
                       "register_parameter: 'scale' is already registered in Block",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(b.register_buffer("a.b", ember::ones<float>({1})),
                       "register_buffer: name 'a.b' must not contain \".\"", ember::value_error);
}

TEST_CASE("shared parameters are listed once") {
  nn::Sequential<> s;
  auto fc = std::make_shared<nn::Linear<>>(3, 3);
  s.push_back(fc);
  s.push_back(fc);
  CHECK(names_of(s.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias"});
  std::vector<std::string> mods;
  for (auto& [n, m] : s.named_modules()) mods.push_back(n);
  CHECK(mods == std::vector<std::string>{"", "0"});
  // state_dict keeps every key, like PyTorch.
  CHECK(s.state_dict().size() == 4);
}

TEST_CASE("train and eval reach every descendant") {
  Block b;
  CHECK(b.is_training());
  b.eval();
  for (auto* m : b.modules()) CHECK_FALSE(m->is_training());
  b.train();
  for (auto* m : b.modules()) CHECK(m->is_training());
}

TEST_CASE("zero_grad drops or zeroes the gradients") {
  nn::Linear fc(3, 2);
  fc.forward(ember::ones<float>({4, 3})).sum().backward();
  REQUIRE(fc.weight.grad().defined());
  fc.zero_grad(false);
  CHECK(fc.weight.grad().defined());
  CHECK(fc.weight.grad().abs().sum().item() == 0.0f);
  CHECK(fc.bias.grad().abs().sum().item() == 0.0f);
  fc.zero_grad();
  CHECK_FALSE(fc.weight.grad().defined());
  CHECK_FALSE(fc.bias.grad().defined());
}

TEST_CASE("apply visits children before the module itself") {
  Block b;
  std::vector<std::string> order;
  b.apply([&](nn::Module<float>& m) { order.push_back(m.name()); });
  CHECK(order == std::vector<std::string>{"Linear", "Linear", "Identity", "Sequential", "Block"});
}

TEST_CASE("state_dict round trip copies into the existing tensors") {
  ember::manual_seed(1);
  Block a;
  ember::manual_seed(2);
  Block b;
  const Tensor<float> handle = b.fc->weight;  // must stay valid and see the loaded values
  {
    ember::NoGradGuard g;
    a.steps.fill_(7);
  }
  b.load_state_dict(a.state_dict());
  CHECK(handle.shares_storage_with(b.fc->weight));
  CHECK(handle.sub(a.fc->weight).abs().max().item() == 0.0f);
  CHECK(b.steps.item() == 7);
  CHECK_FALSE(handle.shares_storage_with(a.fc->weight));
}

TEST_CASE("strict load lists missing, unexpected and mismatched keys") {
  nn::Sequential<> s(nn::Linear(4, 3), nn::Linear(3, 2));
  auto dict = s.state_dict();
  nn::StateDict<float> bad;
  bad.insert("0.weight", ember::zeros<float>({3, 5}));
  bad.insert("0.bias", dict["0.bias"]);
  bad.insert("1.weight", dict["1.weight"]);
  bad.insert("extra", ember::zeros<float>({1}));
  CHECK_THROWS_WITH_AS(s.load_state_dict(bad),
                       "load_state_dict: error(s) loading state_dict for Sequential:\n"
                       "  missing key(s): \"1.bias\"\n"
                       "  unexpected key(s): \"extra\"\n"
                       "  mismatch for 0.weight: checkpoint shape [3, 5], model shape [3, 4]",
                       ember::value_error);
  // Not strict: missing and unexpected keys are reported, shape mismatches still fail.
  bad.at("0.weight") = ember::zeros<float>({3, 4});
  const nn::LoadResult r = s.load_state_dict(bad, false);
  CHECK(r.missing_keys == std::vector<std::string>{"1.bias"});
  CHECK(r.unexpected_keys == std::vector<std::string>{"extra"});
  CHECK(std::get<Tensor<float>>(s.state_dict()["0.weight"]).abs().sum().item() == 0.0f);
  nn::StateDict<float> wrong_dtype;
  wrong_dtype.insert("0.bias", ember::zeros<int64_t>({3}));
  CHECK_THROWS_WITH_AS(s.load_state_dict(wrong_dtype, false),
                       "load_state_dict: error(s) loading state_dict for Sequential:\n"
                       "  mismatch for 0.bias: checkpoint dtype int64, model dtype float32",
                       ember::value_error);
}

TEST_CASE("float to double: same architecture, converted state") {
  nn::Sequential<> f(nn::Linear(3, 4), nn::Linear(4, 2));
  nn::Sequential<double> d(nn::Linear<double>(3, 4), nn::Linear<double>(4, 2));
  d.load_state_dict(nn::convert_state<double>(f.state_dict()));
  const Tensor<float> x = ember::tensor<float>({{0.5f, -1.0f, 2.0f}});
  const Tensor<float> yf = f.forward(x);
  const Tensor<double> yd = d.forward(x.to<double>());
  CHECK(yd.detach().to<float>().sub(yf).abs().max().item() < 1e-6f);
}

TEST_CASE("containers: indexing, typed access, ModuleList and ModuleDict names") {
  nn::Sequential<> s(nn::Linear(2, 3), nn::Identity());
  CHECK(s.size() == 2);
  CHECK(s.at<nn::Linear<>>(0)->options().out_features() == 3);
  CHECK(s.at<nn::Linear<>>(1) == nullptr);
  CHECK_THROWS_WITH_AS(s[2], "Sequential: index 2 is out of range for 2 modules",
                       ember::index_error);
  nn::ModuleList<> l(nn::Linear(2, 2), nn::Linear(2, 1));
  CHECK(names_of(l.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
  nn::ModuleDict<> d;
  d.insert("enc", nn::Linear(2, 2));
  d.insert("dec", nn::Linear(2, 2, nullptr));
  CHECK(d.keys() == std::vector<std::string>{"enc", "dec"});
  CHECK(names_of(d.named_parameters())[2] == "dec.weight");
  CHECK_THROWS_WITH_AS(d["nope"], "ModuleDict: no module named 'nope'", ember::index_error);
}

TEST_CASE("Linear: shape errors name the layer and both shapes") {
  nn::Linear fc(784, 10);
  CHECK_THROWS_WITH_AS(fc.forward(ember::zeros<float>({64, 28, 28})),
                       "Linear(in_features=784, out_features=10, bias=True): expected input of "
                       "shape [..., 784], got [64, 28, 28]",
                       ember::shape_error);
  nn::Linear<double> nb(nn::LinearOptions(3, 2).bias(false));
  CHECK_FALSE(nb.bias.defined());
  CHECK(nb.state_dict().keys() == std::vector<std::string>{"weight"});
  CHECK(nb.repr() == "Linear(in_features=3, out_features=2, bias=False)");
}
