// The peer of bench_elementwise and bench_tensor: the same math as plain loops, in a translation
// unit compiled with -O3 -march=native (see benchmarks/CMakeLists.txt). It does not include ember:
// inline ember code compiled with -march=native must never meet the generic copies at link time.
#pragma once

#include <cstddef>

namespace peer {

void exp(std::size_t n, const float* x, float* y);
void tanh(std::size_t n, const float* x, float* y);
// Textbook numerically stable softmax of each row: max, exp(x - max) and its sum, divide.
void softmax_rows(std::size_t rows, std::size_t cols, const float* x, float* y);
void add(std::size_t n, const float* a, const float* b, float* y);
void add_inplace(std::size_t n, float* a, const float* b);
void mul(std::size_t n, const float* a, const float* b, float* y);
void bias_add(std::size_t rows, std::size_t cols, const float* a, const float* v, float* y);
// y[r] = sum of row r of x[rows, cols]; y[c] = sum of column c (rows added in order).
void sum_rows(std::size_t rows, std::size_t cols, const float* x, float* y);
void sum_cols(std::size_t rows, std::size_t cols, const float* x, float* y);

}  // namespace peer
