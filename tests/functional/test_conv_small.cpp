// The small-channel conv paths (LeNet-5's layers: short im2col rows copied by fixed-size moves,
// the weight gradient by im2row, col2im's chunked additions) against direct loops in double, in
// float and double: batch 1, 3 and 64, odd sizes, padding, stride 2, dilation, groups, bias in and
// out of the GEMM, inputs that start off any alignment; and 1 vs 2 threads bitwise identical.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/functional/conv.hpp"

namespace small_conv_test {

namespace F = ember::F;
using ember::Tensor;

struct Case {
  std::string name;
  ember::Shape x, w;
  int64_t stride, pad, dilation, groups;
  bool bias;
  int64_t row_stride = 0;  // when not 0: the stride along H (stride is then along W only)
  int64_t sh() const { return row_stride != 0 ? row_stride : stride; }
};

// The cases: LeNet's two layers at batch 1, 3 and 64, and the paths' edges.
inline std::vector<Case> cases() {
  return {
      {"lenet conv2, batch 64", {64, 6, 12, 12}, {16, 6, 5, 5}, 1, 0, 1, 1, true},
      {"lenet conv2, batch 3", {3, 6, 12, 12}, {16, 6, 5, 5}, 1, 0, 1, 1, true},
      {"lenet conv2, batch 1", {1, 6, 12, 12}, {16, 6, 5, 5}, 1, 0, 1, 1, false},
      {"lenet conv1 padding 2, batch 3", {3, 1, 28, 28}, {6, 1, 5, 5}, 1, 2, 1, 1, true},
      {"lenet conv1 unpadded, batch 64", {64, 1, 28, 28}, {6, 1, 5, 5}, 1, 0, 1, 1, true},
      {"odd sizes, padding 1", {3, 5, 11, 9}, {7, 5, 3, 5}, 1, 1, 1, 1, true},
      {"stride 2, padding 1", {3, 6, 13, 11}, {16, 6, 5, 5}, 2, 1, 1, 1, true},
      {"dilation 2, padding 2", {3, 4, 11, 9}, {12, 4, 3, 3}, 1, 2, 2, 1, true},
      {"groups 2", {3, 6, 12, 10}, {16, 3, 5, 5}, 1, 0, 1, 2, true},
      {"groups 3, stride 2, padding 2", {3, 6, 9, 13}, {9, 2, 5, 3}, 2, 2, 1, 3, true},
      {"K = 32: bias gradient outside the GEMM", {3, 2, 9, 9}, {8, 2, 4, 4}, 1, 1, 1, 1, true},
      {"wide rows (34 outputs)", {3, 3, 6, 36}, {5, 3, 3, 3}, 1, 0, 1, 1, true},
      {"72 output channels per group", {3, 4, 7, 7}, {72, 4, 3, 3}, 1, 1, 1, 1, true},
      // The direct path (9..16 output channels per group, column stride 1).
      {"direct: LeNet-5 conv2 (14x14), batch 64", {64, 6, 14, 14}, {16, 6, 5, 5}, 1, 0, 1, 1, true},
      {"direct: groups 2 of 12, padding 1, batch 11",
       {11, 4, 10, 9},
       {24, 2, 5, 3},
       1,
       1,
       1,
       2,
       true},
      {"direct: 9 channels, 7x7, dilation 2, batch 1",
       {1, 3, 17, 16},
       {9, 3, 7, 7},
       1,
       3,
       2,
       1,
       false},
      {"direct: one input channel, 40-wide rows, padding 2",
       {9, 1, 6, 40},
       {13, 1, 5, 5},
       1,
       2,
       1,
       1,
       true},
      {"direct: row stride 2, padding 1", {5, 3, 13, 11}, {16, 3, 5, 5}, 1, 1, 1, 1, true, 2},
      {"direct: row stride 3, 4x2 kernel", {3, 2, 14, 9}, {10, 2, 4, 2}, 1, 0, 1, 1, true, 3},
  };
}

struct Direct {
  std::vector<double> y, gx, gw, gb;
};

// conv2d and its gradients for upstream gradient gy by direct loops over every tap, in double.
template <class T>
Direct direct(const Case& k, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
              const Tensor<T>& gy) {
  const int64_t N = k.x[0], C = k.x[1], H = k.x[2], W = k.x[3];
  const int64_t OC = k.w[0], Cg = k.w[1], KH = k.w[2], KW = k.w[3];
  const int64_t OH = gy.size(2), OW = gy.size(3), OCg = OC / k.groups;
  const Tensor<T> xc = x.contiguous(), wc = w.contiguous(), gc = gy.contiguous();
  const T *xd = xc.data(), *wd = wc.data(), *gd = gc.data();
  Direct r;
  r.y.assign(static_cast<std::size_t>(N * OC * OH * OW), 0.0);
  r.gx.assign(static_cast<std::size_t>(N * C * H * W), 0.0);
  r.gw.assign(static_cast<std::size_t>(OC * Cg * KH * KW), 0.0);
  r.gb.assign(static_cast<std::size_t>(OC), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t oc = 0; oc < OC; ++oc) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        for (int64_t ow = 0; ow < OW; ++ow) {
          const auto o = static_cast<std::size_t>(((n * OC + oc) * OH + oh) * OW + ow);
          double acc = k.bias ? double(b.data()[oc]) : 0.0;
          const double g = gd[o];
          r.gb[static_cast<std::size_t>(oc)] += g;
          for (int64_t c = 0; c < Cg; ++c) {
            const int64_t ic = oc / OCg * Cg + c;
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t ih = oh * k.sh() - k.pad + kh * k.dilation;
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t iw = ow * k.stride - k.pad + kw * k.dilation;
                if (iw < 0 || iw >= W) continue;
                const auto xi = static_cast<std::size_t>(((n * C + ic) * H + ih) * W + iw);
                const auto wi = static_cast<std::size_t>(((oc * Cg + c) * KH + kh) * KW + kw);
                acc += double(wd[wi]) * double(xd[xi]);
                r.gx[xi] += double(wd[wi]) * g;
                r.gw[wi] += double(xd[xi]) * g;
              }
            }
          }
          r.y[o] = acc;
        }
      }
    }
  }
  return r;
}

// Largest |got - want| against a bound for sums of `terms` products of unit-size values in T.
template <class T>
void check_close(const std::string& what, const Tensor<T>& got, const std::vector<double>& want,
                 double terms) {
  CAPTURE(what);
  REQUIRE(static_cast<std::size_t>(got.numel()) == want.size());
  const Tensor<T> c = got.contiguous();
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(double(c.data()[i]) - want[i]));
  }
  // Sums of `terms` products of unit-variance values: magnitude about sqrt(terms), and rounding
  // errors about eps * sqrt(terms) per term for random signs, eps * terms in all; 16x that.
  const double eps = double(std::numeric_limits<T>::epsilon());
  CHECK(worst <= 16 * eps * terms);
}

// conv2d forward + backward of a random upstream gradient; the input starts `offset` elements
// into its storage (a view), so its data is off any vector alignment when offset is odd.
template <class T>
std::vector<Tensor<T>> forward_backward(const Case& k, int threads, int64_t offset, Direct* want) {
  ember::set_num_threads(threads);
  ember::Generator gen(31);
  Tensor<T> big = ember::randn<T>({k.x[0] * k.x[1] * k.x[2] * k.x[3] + offset}, &gen);
  Tensor<T> x = big.narrow(0, offset, k.x[0] * k.x[1] * k.x[2] * k.x[3])
                    .reshape(k.x)
                    .detach()
                    .requires_grad_();
  Tensor<T> w = ember::randn<T>(k.w, &gen).requires_grad_();
  Tensor<T> b = k.bias ? ember::randn<T>({k.w[0]}, &gen).requires_grad_() : Tensor<T>();
  Tensor<T> y = F::conv2d(x, w, b, {k.sh(), k.stride}, k.pad, k.dilation, k.groups);
  const Tensor<T> gy = ember::randn<T>(y.shape(), &gen);
  y.backward(gy);
  ember::set_num_threads(1);
  if (want != nullptr) *want = direct(k, x, w, b, gy);
  std::vector<Tensor<T>> r{y, x.grad(), w.grad()};
  if (k.bias) r.push_back(b.grad());
  return r;
}

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  const Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data(), cb.data(), static_cast<std::size_t>(ca.numel()) * sizeof(T)) == 0;
}

}  // namespace small_conv_test

TEST_CASE_TEMPLATE("small-channel conv2d paths match direct loops; 1 and 2 threads agree bitwise",
                   T, float, double) {
  namespace sc = small_conv_test;
  for (const sc::Case& k : sc::cases()) {
    CAPTURE(k.name);
    for (int64_t offset : {0, 1}) {
      CAPTURE(offset);
      sc::Direct want;
      const auto one = sc::forward_backward<T>(k, 1, offset, &want);
      const auto two = sc::forward_backward<T>(k, 2, offset, nullptr);
      // Terms per sum: window size (+ bias) for y and grad input; batch x positions for the rest.
      const double window = double(k.w[1] * k.w[2] * k.w[3] + 1);
      const double positions = double(k.x[0] * one[0].size(2) * one[0].size(3));
      sc::check_close<T>("y", one[0], want.y, window);
      sc::check_close<T>("grad input", one[1], want.gx, double(k.w[0] * k.w[2] * k.w[3]));
      sc::check_close<T>("grad weight", one[2], want.gw, positions);
      if (k.bias) sc::check_close<T>("grad bias", one[3], want.gb, positions);
      for (std::size_t i = 0; i < one.size(); ++i) {
        CAPTURE(i);
        CHECK(sc::same_bits(one[i], two[i]));
      }
    }
  }
}
