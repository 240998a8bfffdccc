// Graph-recording overhead of autograd: forward + backward of an MLP 64-256-256-8 (matmul, bias
// add, relu; sum loss) through Tensor ops with autograd, against the same computation written as
// raw ember::kernels calls (gemm, binary_rowvec, unary, reduce_rows) with a hand-written backward
// into preallocated buffers (the peer). Also the forward alone both ways, to separate the Tensor
// layer's cost from the graph's. One thread (set_num_threads(1)), float, argument = batch size.
//
// Per-op overhead = (autograd time - raw time) / 9, the number of recorded ops (3 matmul, 3 add,
// 2 relu, 1 sum); each op's share covers its forward wrapper, its node and its backward call.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "ember/ember.hpp"

namespace {

using ember::Tensor;
namespace k = ember::kernels;

// Layer widths come from the benchmark arguments {batch, in, hidden, out}: {1, 64, 256, 8} and
// {64, 64, 256, 8} are the MLP; {1, 1, 1, 1} is the same graph with almost no arithmetic, so its
// time is nearly all per-op bookkeeping.
struct Dims {
  int64_t batch, in, hidden, out;
  explicit Dims(const benchmark::State& s)
      : batch(s.range(0)), in(s.range(1)), hidden(s.range(2)), out(s.range(3)) {}
};

struct SingleThread {
  SingleThread() { ember::set_num_threads(1); }
};

struct Params {
  Tensor<float> w1, b1, w2, b2, w3, b3;
  static Params random(const Dims& d) {
    auto r = [](const ember::Shape& shape) { return ember::randn<float>(shape).mul(0.1f); };
    return {r({d.in, d.hidden}), r({d.hidden}),        r({d.hidden, d.hidden}),
            r({d.hidden}),       r({d.hidden, d.out}), r({d.out})};
  }
  std::vector<Tensor<float>*> all() { return {&w1, &b1, &w2, &b2, &w3, &b3}; }
};

// ---- Tensor ops with autograd
// --------------------------------------------------------------------

Tensor<float> mlp(const Tensor<float>& x, const Params& p) {
  const Tensor<float> h1 = x.matmul(p.w1).add(p.b1).relu();
  const Tensor<float> h2 = h1.matmul(p.w2).add(p.b2).relu();
  return h2.matmul(p.w3).add(p.b3).sum();
}

// Before each step the gradients are either dropped (optimizer.zero_grad(set_to_none = true)) or
// zeroed in place (set_to_none = false: .grad keeps its buffer and the new gradient is added in).
void mlp_fwd_bwd_autograd(benchmark::State& s, bool zero_in_place) {
  SingleThread st;
  ember::manual_seed(0);
  const Dims d(s);
  Params p = Params::random(d);
  for (Tensor<float>* t : p.all()) t->requires_grad_();
  const Tensor<float> x = ember::randn<float>({d.batch, d.in});
  for (auto _ : s) {
    if (zero_in_place) {
      ember::NoGradGuard no_grad;
      for (Tensor<float>* t : p.all()) {
        if (t->grad().defined()) t->grad().zero_();
      }
    } else {
      for (Tensor<float>* t : p.all()) t->set_grad(Tensor<float>());
    }
    const Tensor<float> loss = mlp(x, p);
    loss.backward();
    benchmark::DoNotOptimize(p.w1.grad().data());
  }
}
void BM_mlp_fwd_bwd_autograd(benchmark::State& s) {
  mlp_fwd_bwd_autograd(s, false);
}
void BM_mlp_fwd_bwd_autograd_zero_inplace(benchmark::State& s) {
  mlp_fwd_bwd_autograd(s, true);
}

void BM_mlp_fwd_tensor_nograd(benchmark::State& s) {
  SingleThread st;
  ember::manual_seed(0);
  const Dims d(s);
  Params p = Params::random(d);
  const Tensor<float> x = ember::randn<float>({d.batch, d.in});
  ember::NoGradGuard guard;
  for (auto _ : s) {
    const Tensor<float> loss = mlp(x, p);
    benchmark::DoNotOptimize(loss.data());
  }
}

// ---- raw kernels, hand-written backward, preallocated buffers
// ------------------------------------

struct RawMlp {
  std::size_t b, n_in, n_hidden, n_out;
  const float *w1, *b1, *w2, *b2, *w3, *b3, *x;
  std::vector<float> z1, h1, z2, h2, z3, ones, g3, gh2, gz2, gh1, gz1;
  std::vector<float> gw1, gb1, gw2, gb2, gw3, gb3;
  float loss = 0;

  RawMlp(const Dims& d, const Params& p, const Tensor<float>& xt)
      : b(static_cast<std::size_t>(d.batch)),
        n_in(static_cast<std::size_t>(d.in)),
        n_hidden(static_cast<std::size_t>(d.hidden)),
        n_out(static_cast<std::size_t>(d.out)),
        w1(p.w1.data()),
        b1(p.b1.data()),
        w2(p.w2.data()),
        b2(p.b2.data()),
        w3(p.w3.data()),
        b3(p.b3.data()),
        x(xt.data()),
        z1(b * n_hidden),
        h1(b * n_hidden),
        z2(b * n_hidden),
        h2(b * n_hidden),
        z3(b * n_out),
        ones(b, 1.f),
        g3(b * n_out, 1.f),
        gh2(b * n_hidden),
        gz2(b * n_hidden),
        gh1(b * n_hidden),
        gz1(b * n_hidden),
        gw1(n_in * n_hidden),
        gb1(n_hidden),
        gw2(n_hidden * n_hidden),
        gb2(n_hidden),
        gw3(n_hidden * n_out),
        gb3(n_out) {}

  // out[b, n] = relu?(in[b, kdim] @ w[kdim, n] + bias)
  void layer(const float* in, std::size_t kdim, const float* w, const float* bias, std::size_t n,
             float* z, float* h) {
    k::gemm<float>(false, false, b, n, kdim, 1.f, in, kdim, w, n, 0.f, z, n);
    k::binary_rowvec<float>(k::BinaryOp::add, b, n, z, n, bias, z, n);
    if (h) k::unary<float>(k::UnaryOp::relu, b * n, z, h);
  }

  void forward() {
    layer(x, n_in, w1, b1, n_hidden, z1.data(), h1.data());
    layer(h1.data(), n_hidden, w2, b2, n_hidden, z2.data(), h2.data());
    layer(h2.data(), n_hidden, w3, b3, n_out, z3.data(), nullptr);
    k::reduce_rows<float>(k::RowReduce::sum, 1, b * n_out, z3.data(), b * n_out, &loss);
  }

  // Gradients of one layer from gz (gradient of its pre-activation): weight, bias, and the
  // gradient of its input (if gin).
  void layer_back(const float* in, std::size_t kdim, const float* w, std::size_t n, const float* gz,
                  float* gw, float* gbias, float* gin) {
    k::gemm<float>(true, false, kdim, n, b, 1.f, in, kdim, gz, n, 0.f, gw, n);  // in^T @ gz
    k::gemm<float>(false, false, 1, n, b, 1.f, ones.data(), b, gz, n, 0.f, gbias,
                   n);  // column sums
    if (gin) k::gemm<float>(false, true, b, kdim, n, 1.f, gz, n, w, n, 0.f, gin, kdim);  // gz @ w^T
  }

  static void relu_back(std::size_t count, const float* h, const float* gh, float* gz) {
    for (std::size_t i = 0; i < count; ++i) gz[i] = h[i] > 0.f ? gh[i] : 0.f;
  }

  void backward() {
    // d loss / d z3 = 1 everywhere (g3 holds ones).
    layer_back(h2.data(), n_hidden, w3, n_out, g3.data(), gw3.data(), gb3.data(), gh2.data());
    relu_back(b * n_hidden, h2.data(), gh2.data(), gz2.data());
    layer_back(h1.data(), n_hidden, w2, n_hidden, gz2.data(), gw2.data(), gb2.data(), gh1.data());
    relu_back(b * n_hidden, h1.data(), gh1.data(), gz1.data());
    layer_back(x, n_in, w1, n_hidden, gz1.data(), gw1.data(), gb1.data(), nullptr);
  }
};

// The peer must compute the same thing: its gradients against autograd's, once, before timing.
bool same_gradients(RawMlp& raw, Params p, const Tensor<float>& x) {
  raw.forward();
  raw.backward();
  std::vector<Tensor<float>> leaves;
  for (Tensor<float>* t : p.all()) leaves.push_back(t->detach().requires_grad_());
  Params q{leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5]};
  mlp(x, q).backward();
  const std::vector<const std::vector<float>*> mine = {&raw.gw1, &raw.gb1, &raw.gw2,
                                                       &raw.gb2, &raw.gw3, &raw.gb3};
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const Tensor<float> g = leaves[i].grad();
    const Tensor<float> r = ember::from_blob<float>(const_cast<float*>(mine[i]->data()), g.shape());
    if (!ember::allclose(g, r, 1e-4, 1e-5)) return false;
  }
  return true;
}

void BM_mlp_fwd_bwd_raw(benchmark::State& s) {
  SingleThread st;
  ember::manual_seed(0);
  const Dims d(s);
  Params p = Params::random(d);
  const Tensor<float> x = ember::randn<float>({d.batch, d.in});
  RawMlp raw(d, p, x);
  if (!same_gradients(raw, p, x)) {
    s.SkipWithError("the hand-written backward disagrees with autograd");
    return;
  }
  for (auto _ : s) {
    raw.forward();
    raw.backward();
    benchmark::DoNotOptimize(raw.gw1.data());
    benchmark::ClobberMemory();
  }
}

void BM_mlp_fwd_raw(benchmark::State& s) {
  SingleThread st;
  ember::manual_seed(0);
  const Dims d(s);
  Params p = Params::random(d);
  const Tensor<float> x = ember::randn<float>({d.batch, d.in});
  RawMlp raw(d, p, x);
  for (auto _ : s) {
    raw.forward();
    benchmark::DoNotOptimize(raw.loss);
    benchmark::ClobberMemory();
  }
}

}  // namespace

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "hidden", "out"});
  b->Args({1, 64, 256, 8});
  b->Args({64, 64, 256, 8});
  b->Args({1, 1, 1, 1});
}
BENCHMARK(BM_mlp_fwd_bwd_autograd)->Apply(shapes);
BENCHMARK(BM_mlp_fwd_bwd_autograd_zero_inplace)->Apply(shapes);
BENCHMARK(BM_mlp_fwd_bwd_raw)->Apply(shapes);
BENCHMARK(BM_mlp_fwd_tensor_nograd)->Apply(shapes);
BENCHMARK(BM_mlp_fwd_raw)->Apply(shapes);

BENCHMARK_MAIN();
