// ember: Embedding, a table of num_embeddings vectors of size embedding_dim looked up by int64
// indices. Weight ~ N(0, 1) like PyTorch, with the padding_idx row zeroed (it gets no gradient).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ember/functional/embedding.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"

namespace ember::nn {

struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  EMBER_ARG(int64_t, num_embeddings);
  EMBER_ARG(int64_t, embedding_dim);
  EMBER_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
};

template <class T = float>
class Embedding : public Module<T> {
 public:
  explicit Embedding(EmbeddingOptions options, Generator* gen = nullptr) : options_(options) {
    const int64_t n = options.num_embeddings();
    EMBER_CHECK_VALUE(n > 0 && options.embedding_dim() >= 0, "Embedding: num_embeddings must be "
                      "positive and embedding_dim non-negative, got ", n, " and ",
                      options.embedding_dim());
    if (auto p = options.padding_idx()) {
      EMBER_CHECK_INDEX(*p >= -n && *p < n, "Embedding: padding_idx ", *p,
                        " must be within num_embeddings (", n, ")");
      if (*p < 0) options_.padding_idx(*p + n);
    }
    weight = this->register_parameter("weight", empty<T>({n, options.embedding_dim()}));
    reset_parameters(gen);
  }
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* gen = nullptr)
      : Embedding(EmbeddingOptions(num_embeddings, embedding_dim), gen) {}

  void reset_parameters(Generator* gen = nullptr) {
    init::normal_(weight, 0.0, 1.0, gen);
    if (auto p = options_.padding_idx()) {
      NoGradGuard no_grad;
      weight.select(0, *p).fill_(T(0));
    }
  }

  Tensor<T> forward(const Tensor<int64_t>& indices) {
    return F::embedding(indices, weight, options_.padding_idx());
  }
  Tensor<T> operator()(const Tensor<int64_t>& indices) { return forward(indices); }

  std::string name() const override { return "Embedding"; }
  std::string extra_repr() const override {
    std::string s = std::to_string(options_.num_embeddings()) + ", " +
                    std::to_string(options_.embedding_dim());
    if (auto p = options_.padding_idx()) s += ", padding_idx=" + std::to_string(*p);
    return s;
  }
  const EmbeddingOptions& options() const noexcept { return options_; }

  Tensor<T> weight;

 private:
  EmbeddingOptions options_;
};
Embedding(int64_t, int64_t)->Embedding<float>;
Embedding(EmbeddingOptions)->Embedding<float>;

}  // namespace ember::nn
