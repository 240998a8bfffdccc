// Compiled with -O3 -march=native: whatever the compiler vectorises here is the peer's best.
#include "elementwise_peer.hpp"

#include <cmath>

namespace peer {

void exp(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

void tanh(std::size_t n, const float* x, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void softmax_rows(std::size_t rows, std::size_t cols, const float* x, float* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    float mx = in[0];
    for (std::size_t c = 1; c < cols; ++c) mx = in[c] > mx ? in[c] : mx;
    float sum = 0.0f;
    for (std::size_t c = 0; c < cols; ++c) {
      out[c] = std::exp(in[c] - mx);
      sum += out[c];
    }
    for (std::size_t c = 0; c < cols; ++c) out[c] /= sum;
  }
}

void add(std::size_t n, const float* a, const float* b, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void add_inplace(std::size_t n, float* a, const float* b) {
  for (std::size_t i = 0; i < n; ++i) a[i] += b[i];
}

void mul(std::size_t n, const float* a, const float* b, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void bias_add(std::size_t rows, std::size_t cols, const float* a, const float* v, float* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) y[r * cols + c] = a[r * cols + c] + v[c];
  }
}

void sum_rows(std::size_t rows, std::size_t cols, const float* x, float* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    float acc = 0.0f;
    for (std::size_t c = 0; c < cols; ++c) acc += x[r * cols + c];
    y[r] = acc;
  }
}

void sum_cols(std::size_t rows, std::size_t cols, const float* x, float* y) {
  for (std::size_t c = 0; c < cols; ++c) y[c] = 0.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) y[c] += x[r * cols + c];
  }
}

}  // namespace peer
