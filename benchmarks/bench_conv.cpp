// Conv2d forward + backward (gradients of input, weight and bias) for the layers of a
// LeNet-5-like network on 28x28 (batch 64), the two conv layers of examples/fashion_mnist, and one
// 3x3 layer of a small ResNet block (64 channels, 32x32, batch 32), float, at 1 and 2 threads (the
// /threads argument). Peer: PyTorch on the same shapes, benchmarks/peers/conv_torch.py (run it in
// the same session; OPENBLAS_NUM_THREADS=1, torch.set_num_threads(n)). Results:
// benchmarks/results/conv.md.
#include <benchmark/benchmark.h>

#include "ember/ember.hpp"
#include "ember/functional/conv.hpp"
#include "ember/functional/loss.hpp"
#include "ember/functional/pooling.hpp"
#include "ember/nn/conv.hpp"
#include "ember/nn/pooling.hpp"

namespace {

namespace F = ember::F;
using ember::Tensor;

struct Layer {
  ember::Shape x, w;
  int64_t padding;
  bool input_grad;  // the first layer of a net needs no input gradient
};

void run(benchmark::State& s, const Layer& l) {
  ember::set_num_threads(static_cast<int>(s.range(0)));
  ember::Generator gen(1);
  Tensor<float> x = ember::randn<float>(l.x, &gen);
  if (l.input_grad) x.requires_grad_();
  Tensor<float> w = ember::randn<float>(l.w, &gen).mul(0.1f).requires_grad_();
  Tensor<float> b = ember::randn<float>({l.w[0]}, &gen).requires_grad_();
  Tensor<float> gy;
  for (auto _ : s) {
    Tensor<float> y = F::conv2d(x, w, b, 1, l.padding);
    if (!gy.defined()) gy = ember::ones<float>(y.shape());
    y.backward(gy);
    benchmark::DoNotOptimize(w.grad().data());
    w.grad().zero_();
    b.grad().zero_();
    if (l.input_grad) x.grad().zero_();
  }
  ember::set_num_threads(1);
}

void BM_lenet_conv1(benchmark::State& s) {
  run(s, {{64, 1, 28, 28}, {6, 1, 5, 5}, 0, false});
}
void BM_lenet_conv2(benchmark::State& s) {
  run(s, {{64, 6, 12, 12}, {16, 6, 5, 5}, 0, true});
}
// The two conv layers of examples/fashion_mnist (batch 64): 1->32 and 32->64, 3x3, padding 1.
void BM_fmnist_conv1(benchmark::State& s) {
  run(s, {{64, 1, 28, 28}, {32, 1, 3, 3}, 1, false});
}
void BM_fmnist_conv2(benchmark::State& s) {
  run(s, {{64, 32, 14, 14}, {64, 32, 3, 3}, 1, true});
}
void BM_resnet_conv3x3(benchmark::State& s) {
  run(s, {{32, 64, 32, 32}, {64, 64, 3, 3}, 1, true});
}

// The LeNet feature extractor end to end: conv 1->6 5x5, relu, max pool 2, conv 6->16 5x5, relu,
// max pool 2; backward of the sum.
void BM_lenet_features(benchmark::State& s) {
  ember::set_num_threads(static_cast<int>(s.range(0)));
  ember::Generator gen(2);
  const Tensor<float> x = ember::randn<float>({64, 1, 28, 28}, &gen);
  Tensor<float> w1 = ember::randn<float>({6, 1, 5, 5}, &gen).mul(0.2f).requires_grad_();
  Tensor<float> b1 = ember::zeros<float>({6}).requires_grad_();
  Tensor<float> w2 = ember::randn<float>({16, 6, 5, 5}, &gen).mul(0.1f).requires_grad_();
  Tensor<float> b2 = ember::zeros<float>({16}).requires_grad_();
  for (auto _ : s) {
    Tensor<float> h = F::max_pool2d(F::conv2d(x, w1, b1).relu(), 2);
    h = F::max_pool2d(F::conv2d(h, w2, b2).relu(), 2);
    h.sum().backward();
    benchmark::DoNotOptimize(w2.grad().data());
    for (auto* p : {&w1, &b1, &w2, &b2}) p->grad().zero_();
  }
  ember::set_num_threads(1);
}

// Training steps of `model` (cross entropy, Adam lr 1e-3) at batch 64 on fixed random data, with
// the steps' buffers cached as examples/fashion_mnist does; the peer is conv_torch.py's train_step.
void train_steps(benchmark::State& s, ember::nn::Sequential<float>& model) {
  ember::set_num_threads(static_cast<int>(s.range(0)));
  ember::CPUCachingAllocator cache;
  ember::WithCPUCachingAllocatorGuard use_cache(cache);
  ember::optim::Adam<float> optimizer(model.parameters(), ember::optim::AdamOptions(1e-3));
  ember::Generator gen(3);
  const Tensor<float> x = ember::randn<float>({64, 1, 28, 28}, &gen);
  Tensor<int64_t> y({64});
  for (int64_t i = 0; i < 64; ++i) y.data()[i] = i % 10;
  for (auto _ : s) {
    optimizer.zero_grad();
    const Tensor<float> loss = F::cross_entropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    benchmark::DoNotOptimize(loss.data());
  }
  ember::set_num_threads(1);
}

// examples/fashion_mnist's model: an epoch is about 938 of these steps plus the test pass.
void BM_fmnist_train_step(benchmark::State& s) {
  namespace nn = ember::nn;
  ember::manual_seed(1);
  nn::Sequential<float> model(
      nn::Conv2d<float>(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::ReLU<float>(),
      nn::MaxPool2d<float>(2), nn::Conv2d<float>(nn::Conv2dOptions(32, 64, 3).padding(1)),
      nn::ReLU<float>(), nn::MaxPool2d<float>(2), nn::Flatten<float>(),
      nn::Linear<float>(64 * 7 * 7, 128), nn::ReLU<float>(), nn::Linear<float>(128, 10));
  train_steps(s, model);
}

// A LeNet-5-like network: conv 1->6 5x5 padding 2, relu, max pool 2, conv 6->16 5x5, relu, max
// pool 2, fc 400-120-84-10 with relu.
void BM_lenet5_train_step(benchmark::State& s) {
  namespace nn = ember::nn;
  ember::manual_seed(1);
  nn::Sequential<float> model(
      nn::Conv2d<float>(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU<float>(),
      nn::MaxPool2d<float>(2), nn::Conv2d<float>(6, 16, 5), nn::ReLU<float>(),
      nn::MaxPool2d<float>(2), nn::Flatten<float>(), nn::Linear<float>(400, 120), nn::ReLU<float>(),
      nn::Linear<float>(120, 84), nn::ReLU<float>(), nn::Linear<float>(84, 10));
  train_steps(s, model);
}

}  // namespace

BENCHMARK(BM_fmnist_train_step)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_lenet5_train_step)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_lenet_conv1)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_lenet_conv2)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_fmnist_conv1)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_fmnist_conv2)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_resnet_conv3x3)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_lenet_features)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_MAIN();
