// ember::data: an in-memory dataset of (input, target) rows and a loader that walks it in
// mini-batches, reshuffled every epoch by a seeded generator (same seed, same batches).
#pragma once

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::data {

// Row i of `inputs` (dim 0) goes with row i of `targets`.
template <class T, class L = int64_t>
struct TensorDataset {
  Tensor<T> inputs;
  Tensor<L> targets;

  TensorDataset(Tensor<T> x, Tensor<L> y) : inputs(std::move(x)), targets(std::move(y)) {
    EMBER_CHECK_SHAPE(inputs.dim() >= 1 && targets.dim() >= 1 && inputs.size(0) == targets.size(0),
                      "TensorDataset: inputs of shape ", inputs.shape(), " and targets of shape ",
                      targets.shape(), " differ in their first dimension");
  }
  int64_t size() const { return inputs.size(0); }
};

template <class T, class L = int64_t>
struct Batch {
  Tensor<T> inputs;
  Tensor<L> targets;
};

template <class T, class L = int64_t>
class DataLoader {
 public:
  // shuffle: a new permutation each epoch (each call to begin()), drawn from Generator(seed).
  DataLoader(TensorDataset<T, L> dataset, int64_t batch_size, bool shuffle = false,
             uint64_t seed = Generator::default_seed, bool drop_last = false)
      : dataset_(std::move(dataset)),
        batch_size_(batch_size),
        shuffle_(shuffle),
        drop_last_(drop_last),
        generator_(seed) {
    EMBER_CHECK_VALUE(batch_size > 0, "DataLoader: batch_size must be positive, got ", batch_size);
    order_.resize(static_cast<std::size_t>(dataset_.size()));
    std::iota(order_.begin(), order_.end(), int64_t(0));
  }

  int64_t num_batches() const {
    const int64_t n = dataset_.size();
    return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
  }
  int64_t dataset_size() const { return dataset_.size(); }

  // Copies the rows order_[begin, end) into a fresh batch.
  Batch<T, L> batch(int64_t index) const {
    EMBER_CHECK_INDEX(index >= 0 && index < num_batches(), "DataLoader: batch ", index,
                      " is out of range for ", num_batches(), " batches");
    const int64_t begin = index * batch_size_;
    const int64_t end = std::min(begin + batch_size_, dataset_.size());
    Tensor<int64_t> rows({end - begin});
    std::copy(order_.begin() + begin, order_.begin() + end, rows.data());
    return {dataset_.inputs.index_select(0, rows), dataset_.targets.index_select(0, rows)};
  }

  class iterator {
   public:
    iterator(const DataLoader* loader, int64_t i) : loader_(loader), i_(i) {}
    Batch<T, L> operator*() const { return loader_->batch(i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const DataLoader* loader_;
    int64_t i_;
  };

  // Starts an epoch: reshuffles when shuffling is on.
  iterator begin() {
    if (shuffle_) reshuffle();
    return iterator(this, 0);
  }
  iterator end() const { return iterator(this, num_batches()); }

 private:
  void reshuffle() {  // Fisher-Yates
    for (std::size_t i = order_.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(generator_.integer(0, static_cast<int64_t>(i)));
      std::swap(order_[i - 1], order_[j]);
    }
  }

  TensorDataset<T, L> dataset_;
  int64_t batch_size_;
  bool shuffle_;
  bool drop_last_;
  Generator generator_;
  std::vector<int64_t> order_;
};

}  // namespace ember::data
