// nn and ember::F: forward + backward of the ops that got a hand-written backward, against the
// same function composed from tensor ops (whose gradient autograd derives). Peer: the composite,
// in the same run. Also Linear's forward at batch 1 and 64, and the pooling / ReLU layers of the
// Fashion-MNIST example (batch 64: [64, 32, 28, 28] and [64, 64, 14, 14]) forward and backward.
#include <benchmark/benchmark.h>

#include "ember/ember.hpp"
#include "ember/functional/pooling.hpp"

namespace {

using ember::Tensor;
namespace F = ember::F;

template <class Fn>
void fwd_bwd(benchmark::State& state, const ember::Shape& shape, Fn fn) {
  ember::Generator g(1);
  Tensor<float> x = ember::randn<float>(shape, &g).requires_grad_();
  const Tensor<float> gy = ember::randn<float>(shape, &g);
  for (auto _ : state) {
    Tensor<float> y = fn(x);
    y.backward(gy);
    benchmark::DoNotOptimize(x.grad().data());
    x.set_grad(Tensor<float>());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * x.numel());
}

void BM_log_softmax_fused(benchmark::State& s) {
  fwd_bwd(s, {64, 1000}, [](const Tensor<float>& x) { return F::log_softmax(x, 1); });
}
void BM_log_softmax_composite(benchmark::State& s) {
  fwd_bwd(s, {64, 1000}, [](const Tensor<float>& x) {
    const Tensor<float> m = x.amax({1}, true).detach();
    const Tensor<float> z = x.sub(m);
    return z.sub(z.exp().sum({1}, true).log());
  });
}
void BM_layer_norm_fused(benchmark::State& s) {
  fwd_bwd(s, {64, 512}, [](const Tensor<float>& x) { return F::layer_norm(x, {512}); });
}
void BM_layer_norm_composite(benchmark::State& s) {
  fwd_bwd(s, {64, 512}, [](const Tensor<float>& x) {
    const Tensor<float> mu = x.mean({1}, true);
    const Tensor<float> c = x.sub(mu);
    return c.mul(c.mul(c).mean({1}, true).add(1e-5f).rsqrt());
  });
}
void BM_gelu_tanh_pointwise(benchmark::State& s) {
  fwd_bwd(s, {64, 4096}, [](const Tensor<float>& x) { return F::gelu(x, "tanh"); });
}
void BM_gelu_tanh_composite(benchmark::State& s) {
  fwd_bwd(s, {64, 4096}, [](const Tensor<float>& x) {
    const Tensor<float> inner = x.add(x.mul(x).mul(x).mul(0.044715f)).mul(0.7978845608f);
    return x.mul(0.5f).mul(inner.tanh().add(1.0f));
  });
}

void BM_linear_forward(benchmark::State& state) {
  ember::manual_seed(1);
  ember::nn::Linear fc(state.range(1), 128);
  const Tensor<float> x = ember::randn<float>({state.range(0), state.range(1)});
  ember::NoGradGuard no_grad;
  for (auto _ : state) {
    Tensor<float> y = fc.forward(x);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

// Pooling: forward, then backward with a random output gradient (range(0): channels, range(1):
// height = width, batch 64 as in examples/fashion_mnist).
template <class Fn>
void pool_bench(benchmark::State& state, bool backward, Fn fn) {
  ember::Generator g(1);
  Tensor<float> x = ember::randn<float>({64, state.range(0), state.range(1), state.range(1)}, &g);
  if (backward) x.requires_grad_();
  Tensor<float> gy;
  for (auto _ : state) {
    Tensor<float> y = fn(x);
    if (backward) {
      if (!gy.defined()) gy = ember::randn<float>(y.shape(), &g);
      y.backward(gy);
      benchmark::DoNotOptimize(x.grad().data());
      x.set_grad(Tensor<float>());
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * x.numel());
}
void BM_max_pool2d_fwd(benchmark::State& s) {
  pool_bench(s, false, [](const Tensor<float>& x) { return F::max_pool2d(x, 2); });
}
void BM_max_pool2d_fwd_bwd(benchmark::State& s) {
  pool_bench(s, true, [](const Tensor<float>& x) { return F::max_pool2d(x, 2); });
}
void BM_avg_pool2d_fwd(benchmark::State& s) {
  pool_bench(s, false, [](const Tensor<float>& x) { return F::avg_pool2d(x, 2); });
}
void BM_avg_pool2d_fwd_bwd(benchmark::State& s) {
  pool_bench(s, true, [](const Tensor<float>& x) { return F::avg_pool2d(x, 2); });
}
void BM_relu_fwd_bwd(benchmark::State& s) {
  pool_bench(s, true, [](const Tensor<float>& x) { return x.relu(); });
}

}  // namespace

BENCHMARK(BM_log_softmax_fused);
BENCHMARK(BM_log_softmax_composite);
BENCHMARK(BM_layer_norm_fused);
BENCHMARK(BM_layer_norm_composite);
BENCHMARK(BM_gelu_tanh_pointwise);
BENCHMARK(BM_gelu_tanh_composite);
BENCHMARK(BM_linear_forward)->Args({1, 784})->Args({64, 784})->Args({64, 3136});
BENCHMARK(BM_max_pool2d_fwd)->Args({32, 28})->Args({64, 14});
BENCHMARK(BM_max_pool2d_fwd_bwd)->Args({32, 28})->Args({64, 14});
BENCHMARK(BM_avg_pool2d_fwd)->Args({32, 28})->Args({64, 14});
BENCHMARK(BM_avg_pool2d_fwd_bwd)->Args({32, 28})->Args({64, 14});
BENCHMARK(BM_relu_fwd_bwd)->Args({32, 28})->Args({64, 14});
BENCHMARK_MAIN();
