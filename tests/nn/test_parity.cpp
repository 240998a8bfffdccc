// PyTorch parity of every layer and activation: outputs, gradients w.r.t. inputs and parameters,
// and buffers after the forward, against tests/nn/fixtures/*.safetensors (tools/gen_nn_refs.py).
// Each case loads PyTorch's state dict into the ember module (so the keys must be PyTorch's),
// then runs in double (rtol = atol = 1e-10) and in float (rtol 1e-4, atol 1e-5: float rounding of
// values of order 1 through a few dozen operations; the references are float64).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ember/io/safetensors.hpp"
#include "ember/nn.hpp"

using ember::Tensor;
namespace nn = ember::nn;
using ember::io::SafetensorsFile;

namespace {

std::string fixture(const std::string& name) {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/fixtures/" + name;
}

template <class T>
Tensor<T> load(const SafetensorsFile& f, const std::string& key) {
  const auto v = f.get(key);
  Tensor<T> t(v.shape);
  if (v.dtype == ember::io::Dtype::F64) {
    for (int64_t i = 0; i < t.numel(); ++i) {
      double d;
      std::memcpy(&d, v.data + i * 8, 8);
      t.data()[i] = static_cast<T>(d);
    }
  } else {
    REQUIRE(v.dtype == ember::io::Dtype::I64);
    for (int64_t i = 0; i < t.numel(); ++i) {
      int64_t d;
      std::memcpy(&d, v.data + i * 8, 8);
      t.data()[i] = static_cast<T>(d);
    }
  }
  return t;
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

template <class T>
void expect_close(const std::string& what, const Tensor<T>& got, const Tensor<double>& want) {
  CAPTURE(what);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == want.shape());
  const double rtol = std::is_same_v<T, double> ? 1e-10 : 1e-4;
  const double atol = std::is_same_v<T, double> ? 1e-10 : 1e-5;
  const Tensor<T> g = got.contiguous();
  double worst = 0;
  int64_t worst_i = -1;
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double a = static_cast<double>(g.data()[i]), b = want.data()[i];
    const double excess = std::abs(a - b) - (atol + rtol * std::abs(b));
    if (!(excess <= 0) && (worst_i < 0 || excess > worst)) worst = excess, worst_i = i;
  }
  if (worst_i >= 0) {
    std::ostringstream os;
    os.precision(17);
    os << "element " << worst_i << ": got " << g.data()[worst_i] << ", PyTorch "
       << want.data()[worst_i];
    FAIL_CHECK(os.str());
  }
}

template <class T>
struct Case {
  std::string name;
  std::function<std::shared_ptr<nn::Module<T>>()> make;
  bool train = true;
};

template <class T>
void run_case(const SafetensorsFile& f, const Case<T>& c) {
  CAPTURE(c.name);
  CAPTURE(ember::dtype_name<T>());
  auto m = c.make();
  m->train(c.train);
  // PyTorch's state dict, loaded strictly: key names, shapes and dtypes must all match.
  nn::StateDict<T> state;
  const std::string sp = c.name + ".state.";
  for (const auto& k : f.keys()) {
    if (!starts_with(k, sp)) continue;
    if (f.get(k).dtype == ember::io::Dtype::I64)
      state.insert(k.substr(sp.size()), load<int64_t>(f, k));
    else
      state.insert(k.substr(sp.size()), load<T>(f, k));
  }
  m->load_state_dict(state);

  Tensor<T> x, y;
  if (auto* emb = dynamic_cast<nn::Embedding<T>*>(m.get())) {
    y = emb->forward(load<int64_t>(f, c.name + ".idx"));
  } else {
    auto* u = dynamic_cast<nn::UnaryModule<T>*>(m.get());
    REQUIRE(u != nullptr);
    x = load<T>(f, c.name + ".x").requires_grad_();
    y = u->forward(x);
  }
  expect_close("output", y, load<double>(f, c.name + ".y"));
  y.backward(load<T>(f, c.name + ".gy"));
  if (x.defined()) expect_close("grad input", x.grad(), load<double>(f, c.name + ".gx"));
  std::size_t n_grads = 0;
  for (const auto& k : f.keys()) n_grads += starts_with(k, c.name + ".grad.");
  CHECK(m->named_parameters().size() == n_grads);
  for (const auto& [k, p] : m->named_parameters()) {
    const Tensor<double> want = load<double>(f, c.name + ".grad." + k);
    // PyTorch leaves .grad undefined where nothing flowed; the fixture stores zeros there.
    expect_close("grad " + k, p.grad().defined() ? p.grad() : ember::zeros<T>(p.shape()), want);
  }
  for (const auto& [k, b] : m->named_buffers()) {
    const std::string key = c.name + ".after." + k;
    if (const auto* bf = std::get_if<Tensor<T>>(&b)) {
      expect_close("buffer " + k, *bf, load<double>(f, key));
    } else {
      CAPTURE(key);
      CHECK(std::get<Tensor<int64_t>>(b).item() == load<int64_t>(f, key).item());
    }
  }
}

template <class T>
std::vector<Case<T>> layer_cases() {
  using BN = nn::BatchNormOptions;
  return {
      {"linear", [] { return std::make_shared<nn::Linear<T>>(5, 3); }},
      {"linear_nobias_3d",
       [] { return std::make_shared<nn::Linear<T>>(nn::LinearOptions(4, 2).bias(false)); }},
      {"linear_1d", [] { return std::make_shared<nn::Linear<T>>(3, 2); }},
      {"identity", [] { return std::make_shared<nn::Identity<T>>(); }},
      {"flatten", [] { return std::make_shared<nn::Flatten<T>>(); }},
      {"flatten_0_1", [] { return std::make_shared<nn::Flatten<T>>(0, 1); }},
      {"unflatten",
       [] {
         return std::make_shared<nn::Unflatten<T>>(1, std::vector<int64_t>{2, 3});
       }},
      {"embedding", [] { return std::make_shared<nn::Embedding<T>>(10, 3); }},
      {"embedding_pad",
       [] {
         return std::make_shared<nn::Embedding<T>>(nn::EmbeddingOptions(10, 3).padding_idx(2));
       }},
      {"dropout_eval", [] { return std::make_shared<nn::Dropout<T>>(0.3); }, false},
      {"bn1d_train", [] { return std::make_shared<nn::BatchNorm1d<T>>(3); }},
      {"bn1d_train_3d", [] { return std::make_shared<nn::BatchNorm1d<T>>(3); }},
      {"bn1d_momentum_none",
       [] { return std::make_shared<nn::BatchNorm1d<T>>(BN(3).momentum(std::nullopt)); }},
      {"bn1d_eval", [] { return std::make_shared<nn::BatchNorm1d<T>>(3); }, false},
      {"bn1d_no_affine", [] { return std::make_shared<nn::BatchNorm1d<T>>(BN(3).affine(false)); }},
      {"bn1d_no_stats_eval",
       [] { return std::make_shared<nn::BatchNorm1d<T>>(BN(3).track_running_stats(false)); },
       false},
      {"bn2d_train",
       [] { return std::make_shared<nn::BatchNorm2d<T>>(BN(2).momentum(0.3).eps(1e-3)); }},
      {"bn2d_eval", [] { return std::make_shared<nn::BatchNorm2d<T>>(2); }, false},
      {"layernorm", [] { return std::make_shared<nn::LayerNorm<T>>(std::vector<int64_t>{5}); }},
      {"layernorm_2d",
       [] {
         return std::make_shared<nn::LayerNorm<T>>(nn::LayerNormOptions({3, 4}).eps(1e-3));
       }},
      {"layernorm_no_affine",
       [] {
         return std::make_shared<nn::LayerNorm<T>>(
             nn::LayerNormOptions({4}).elementwise_affine(false));
       }},
      {"groupnorm", [] { return std::make_shared<nn::GroupNorm<T>>(2, 4); }},
      {"groupnorm_4d_no_affine",
       [] { return std::make_shared<nn::GroupNorm<T>>(nn::GroupNormOptions(3, 6).affine(false)); }},
      {"groupnorm_1",
       [] { return std::make_shared<nn::GroupNorm<T>>(nn::GroupNormOptions(1, 4).eps(1e-2)); }},
  };
}

template <class T>
std::vector<Case<T>> activation_cases() {
  std::vector<Case<T>> base = {
      {"relu", [] { return std::make_shared<nn::ReLU<T>>(); }},
      {"leaky_relu", [] { return std::make_shared<nn::LeakyReLU<T>>(0.2); }},
      {"elu", [] { return std::make_shared<nn::ELU<T>>(0.7); }},
      {"gelu", [] { return std::make_shared<nn::GELU<T>>(); }},
      {"gelu_tanh", [] { return std::make_shared<nn::GELU<T>>("tanh"); }},
      {"silu", [] { return std::make_shared<nn::SiLU<T>>(); }},
      {"mish", [] { return std::make_shared<nn::Mish<T>>(); }},
      {"tanh", [] { return std::make_shared<nn::Tanh<T>>(); }},
      {"sigmoid", [] { return std::make_shared<nn::Sigmoid<T>>(); }},
      {"softplus", [] { return std::make_shared<nn::Softplus<T>>(); }},
      {"softplus_b2_t3", [] { return std::make_shared<nn::Softplus<T>>(2.0, 3.0); }},
      {"hardtanh", [] { return std::make_shared<nn::Hardtanh<T>>(); }},
      {"hardtanh_m05_2", [] { return std::make_shared<nn::Hardtanh<T>>(-0.5, 2.0); }},
      {"softmax_1", [] { return std::make_shared<nn::Softmax<T>>(1); }},
      {"log_softmax_1", [] { return std::make_shared<nn::LogSoftmax<T>>(1); }},
  };
  std::vector<Case<T>> all = base;
  for (const auto& c : base) all.push_back({c.name + "_wide", c.make});
  all.push_back({"softmax_0_3d", [] { return std::make_shared<nn::Softmax<T>>(0); }});
  all.push_back({"softmax_m1_3d", [] { return std::make_shared<nn::Softmax<T>>(-1); }});
  all.push_back({"log_softmax_1_3d", [] { return std::make_shared<nn::LogSoftmax<T>>(1); }});
  return all;
}

template <class T>
void run_file(const std::string& file, const std::vector<Case<T>>& cases) {
  const SafetensorsFile f = SafetensorsFile::open(fixture(file));
  // Every case in the file is covered.
  std::size_t n_outputs = 0;
  for (const auto& k : f.keys()) n_outputs += k.size() > 2 && k.compare(k.size() - 2, 2, ".y") == 0;
  CHECK(n_outputs == cases.size());
  for (const auto& c : cases) run_case(f, c);
}

// The composite model of tools/gen_nn_refs.py.
struct Net : nn::Module<float> {
  Net() {
    features = register_module(
        "features", std::make_shared<nn::Sequential<>>(
                        nn::Linear(8, 16), nn::BatchNorm1d(16), nn::ReLU(), nn::Dropout(0.25),
                        nn::Linear(nn::LinearOptions(16, 8).bias(false)), nn::GELU("tanh")));
    emb = register_module(
        "emb", std::make_shared<nn::Embedding<>>(nn::EmbeddingOptions(10, 8).padding_idx(0)));
    norm = register_module("norm", std::make_shared<nn::LayerNorm<>>(std::vector<int64_t>{8}));
    heads = register_module("heads",
                            std::make_shared<nn::ModuleList<>>(nn::Linear(8, 2), nn::Linear(8, 3)));
    auto blocks = std::make_shared<nn::ModuleDict<>>();
    blocks->insert("gn", nn::GroupNorm(2, 8));
    blocks->insert("bn", nn::BatchNorm2d(nn::BatchNormOptions(4).momentum(std::nullopt)));
    register_module("blocks", blocks);
    register_module("acts", std::make_shared<nn::Sequential<>>(
                                nn::LeakyReLU(0.1), nn::Softplus(2, 10), nn::Hardtanh(-2.0, 2.0),
                                nn::ELU(), nn::Softmax(1), nn::LogSoftmax(-1), nn::Flatten(),
                                nn::Unflatten(1, {2, 4}), nn::Identity(), nn::SiLU(), nn::Mish(),
                                nn::Tanh(), nn::Sigmoid(), nn::Dropout(0.1)));
  }
  std::string name() const override { return "Net"; }
  std::shared_ptr<nn::Sequential<>> features;
  std::shared_ptr<nn::Embedding<>> emb;
  std::shared_ptr<nn::LayerNorm<>> norm;
  std::shared_ptr<nn::ModuleList<>> heads;
};

}  // namespace

TEST_CASE("layers match PyTorch in double and float") {
  run_file<double>("layers.safetensors", layer_cases<double>());
  run_file<float>("layers.safetensors", layer_cases<float>());
}

TEST_CASE("activations match PyTorch in double and float") {
  run_file<double>("activations.safetensors", activation_cases<double>());
  run_file<float>("activations.safetensors", activation_cases<float>());
}

TEST_CASE("a composite model prints and names its state like PyTorch") {
  const SafetensorsFile f = SafetensorsFile::open(fixture("layers.safetensors"));
  Net net;
  CHECK(net.repr() == f.metadata().at("repr"));
  std::ostringstream keys;
  bool first = true;
  for (const auto& [k, v] : net.state_dict()) {
    keys << (first ? "" : "\n") << k << " " << ember::detail::concat(nn::state_shape<float>(v));
    first = false;
  }
  CHECK(keys.str() == f.metadata().at("state_dict"));
}
