// ember: F::embedding, a lookup of rows of a weight matrix by int64 indices.
#pragma once

#include <optional>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::F {

// indices: any shape of int64 in [0, num_embeddings); weight: [num_embeddings, dim]; the result
// has shape indices.shape + [dim]. Rows looked up at padding_idx get no gradient.
template <class T>
Tensor<T> embedding(const Tensor<int64_t>& indices, const Tensor<T>& weight,
                    std::optional<int64_t> padding_idx = std::nullopt) {
  indices.check_defined("embedding");
  weight.check_defined("embedding");
  EMBER_CHECK_SHAPE(weight.dim() == 2, "embedding: weight must be 2-d, got shape ", weight.shape());
  const int64_t num = weight.size(0), dim = weight.size(1);
  if (padding_idx) {
    EMBER_CHECK_INDEX(*padding_idx >= -num && *padding_idx < num, "embedding: padding_idx ",
                      *padding_idx, " is out of range for ", num, " embeddings");
    if (*padding_idx < 0) *padding_idx += num;
  }
  const Tensor<int64_t> idx = indices.contiguous();
  const int64_t n = idx.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = idx.data()[i];
    EMBER_CHECK_INDEX(v >= 0 && v < num, "embedding: index ", v, " is out of range for ", num,
                      " embeddings");
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(dim);
  return autograd::differentiable<T>(
      autograd::needs_grad(weight),
      [&] { return weight.index_select(0, idx.reshape({n})).reshape(out_shape); },
      [&](Tensor<T>& out) {
        autograd::record(out, "EmbeddingBackward", {weight},
                         [idx, num, dim, n, pad = padding_idx.value_or(-1)](const Tensor<T>& g) {
                           Tensor<T> gw = zeros<T>({num, dim});
                           const Tensor<T> gc = g.contiguous();
                           for (int64_t i = 0; i < n; ++i) {
                             const int64_t row = idx.data()[i];
                             if (row == pad) continue;
                             T* dst = gw.data() + row * dim;
                             const T* src = gc.data() + i * dim;
                             for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
                           }
                           return std::vector<Tensor<T>>{gw};
                         });
      });
}

}  // namespace ember::F
