// ember: the memory a tensor and its views share: a 64-byte aligned buffer (or a borrowed one from
// from_blob) plus the version counter that in-place ops bump (autograd checks it on saved tensors).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ember/core/allocator.hpp"
#include "ember/error.hpp"

namespace ember::detail {

template <class T>
class Storage {
 public:
  // Owning, uninitialised buffer of n elements, 64-byte aligned (cache line and AVX-512 width),
  // from this thread's CPUCachingAllocator if a guard selects one, else from the heap.
  explicit Storage(std::size_t n) : size_(n), owns_(true) {
    EMBER_CHECK_VALUE(n <= static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(T),
                      "Tensor: cannot allocate ", n, " elements");
    if (n > 0) {
      cache_ = current_block_cache();
      data_ =
          static_cast<T*>(cache_ ? cache_->allocate(n * sizeof(T)) : aligned_new(n * sizeof(T)));
    }
  }
  // Borrowed memory (from_blob): never freed here; the caller keeps it alive.
  Storage(T* data, std::size_t n, bool /*borrowed*/) : data_(data), size_(n), owns_(false) {}

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (!owns_ || data_ == nullptr) return;
    if (cache_) {
      cache_->deallocate(data_, size_ * sizeof(T));
    } else {
      aligned_delete(data_, size_ * sizeof(T));
    }
  }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool owns_memory() const noexcept { return owns_; }

  uint64_t version() const noexcept { return version_.load(std::memory_order_relaxed); }
  void bump_version() noexcept { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
  bool owns_ = true;
  std::shared_ptr<BlockCache> cache_;  // where the buffer goes back to (null: the heap)
  std::atomic<uint64_t> version_{0};
};

}  // namespace ember::detail
