// exp, tanh and row softmax on 1M floats (softmax: 1024 rows of 1024), add and bias add, through
// ember's dispatch on every usable ISA, single-threaded, against the peer: the same math as plain
// loops compiled in a separate translation unit with -O3 -march=native (peers/elementwise_peer.cpp;
// std::exp / std::tanh, the textbook stable softmax). Ratios in benchmarks/results/elementwise.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "peers/elementwise_peer.hpp"

namespace {

constexpr std::size_t kRows = 1024, kCols = 1024, kN = kRows * kCols;

std::vector<float> data(std::size_t n, float lo, float hi, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * static_cast<float>(s >> 8) * (1.0f / 16777216.0f);
  }
  return v;
}

enum class Op { exp, tanh, softmax, add, bias_add };

const char* op_name(Op op) {
  switch (op) {
    case Op::exp:
      return "exp";
    case Op::tanh:
      return "tanh";
    case Op::softmax:
      return "softmax";
    case Op::add:
      return "add";
    case Op::bias_add:
      return "bias_add";
  }
  return "?";
}

// Bytes moved per call: reads plus writes (bias: the vector stays in cache).
std::int64_t bytes(Op op) {
  const auto n = static_cast<std::int64_t>(kN * sizeof(float));
  return op == Op::add ? 3 * n : 2 * n;
}

struct Inputs {
  std::vector<float> x = data(kN, -10.0f, 10.0f, 1);
  std::vector<float> t = data(kN, -5.0f, 5.0f, 2);
  std::vector<float> b = data(kN, -1.0f, 1.0f, 3);
  std::vector<float> y = std::vector<float>(kN, 0.0f);
};

Inputs& inputs() {
  static Inputs in;
  return in;
}

void run_ember(Op op, Inputs& in) {
  using namespace ember::kernels;
  switch (op) {
    case Op::exp:
      unary<float>(UnaryOp::exp, kN, in.x.data(), in.y.data());
      break;
    case Op::tanh:
      unary<float>(UnaryOp::tanh, kN, in.t.data(), in.y.data());
      break;
    case Op::softmax:
      softmax_rows<float>(kRows, kCols, in.x.data(), kCols, in.y.data(), kCols);
      break;
    case Op::add:
      binary<float>(BinaryOp::add, kN, in.x.data(), in.b.data(), in.y.data());
      break;
    case Op::bias_add:
      binary_rowvec<float>(BinaryOp::add, kRows, kCols, in.x.data(), kCols, in.b.data(),
                           in.y.data(), kCols);
      break;
  }
}

void run_peer(Op op, Inputs& in) {
  switch (op) {
    case Op::exp:
      peer::exp(kN, in.x.data(), in.y.data());
      break;
    case Op::tanh:
      peer::tanh(kN, in.t.data(), in.y.data());
      break;
    case Op::softmax:
      peer::softmax_rows(kRows, kCols, in.x.data(), in.y.data());
      break;
    case Op::add:
      peer::add(kN, in.x.data(), in.b.data(), in.y.data());
      break;
    case Op::bias_add:
      peer::bias_add(kRows, kCols, in.x.data(), in.b.data(), in.y.data());
      break;
  }
}

void BM_ember(benchmark::State& state, Op op, ember::Isa isa, int threads) {
  const ember::Isa saved_isa = ember::current_isa();
  const int saved_threads = ember::get_num_threads();
  ember::set_isa(isa);
  ember::set_num_threads(threads);
  Inputs& in = inputs();
  for (auto _ : state) {
    run_ember(op, in);
    benchmark::DoNotOptimize(in.y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes(op));
  ember::set_num_threads(saved_threads);
  ember::set_isa(saved_isa);
}

void BM_peer(benchmark::State& state, Op op) {
  Inputs& in = inputs();
  for (auto _ : state) {
    run_peer(op, in);
    benchmark::DoNotOptimize(in.y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes(op));
}

const bool registered = [] {
  for (Op op : {Op::exp, Op::tanh, Op::softmax, Op::add, Op::bias_add}) {
    const std::string name = op_name(op);
    benchmark::RegisterBenchmark(("peer_O3_native/" + name).c_str(), BM_peer, op)
        ->Unit(benchmark::kMicrosecond);
    for (ember::Isa isa : ember::available_isas()) {
      benchmark::RegisterBenchmark(("ember/" + name + "/" + ember::isa_name(isa)).c_str(), BM_ember,
                                   op, isa, 1)
          ->Unit(benchmark::kMicrosecond);
    }
    // The default (widest) ISA with 2 threads: what a caller gets from parallel_for.
    const ember::Isa widest = ember::available_isas().back();
    benchmark::RegisterBenchmark(
        ("ember/" + name + "/" + ember::isa_name(widest) + "/threads:2").c_str(), BM_ember, op,
        widest, 2)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
