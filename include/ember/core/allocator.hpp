// ember: CPUCachingAllocator, an opt-in cache for tensor storage, and the guard that selects it
// (the names and use of PyTorch's c10::CPUCachingAllocator and WithCPUCachingAllocatorGuard).
//
// By default a tensor's buffer comes from the C++ heap and goes back when its last view dies. A
// loop that allocates the same shapes every iteration (a training step, a frame of inference) then
// pays the heap every time: glibc returns the freed top of the heap to the system and the next
// iteration page-faults it back in, and aligned requests land on fresh, cache-cold addresses
// (benchmarks/results/tensor.md). A CPUCachingAllocator keeps freed buffers by size and hands them
// out again, so from the second iteration on the loop's tensor buffers come from the cache:
//
//   ember::CPUCachingAllocator cache;
//   {
//     ember::WithCPUCachingAllocatorGuard use(cache);  // this thread, until the guard ends
//     for (...) train_step();
//   }
//
// Tensors allocated on a thread use that thread's innermost guard's cache (none: the heap). A
// buffer goes back to the cache it came from whichever thread frees it; one that outlives its
// allocator goes back to the heap. The cache holds, per size, at most as many buffers as were
// alive at once; release() (or the allocator's end) returns them to the heap.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/aligned_memory.hpp"

namespace ember {

namespace detail {

// The shared state of a CPUCachingAllocator: free buffers by size in bytes. Storage keeps a
// reference, so freeing after the allocator has gone is safe.
class BlockCache {
 public:
  void* allocate(std::size_t bytes) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      const auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= bytes;
        return p;
      }
    }
    return aligned_new(bytes);
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!open_) {
      aligned_delete(p, bytes);
      return;
    }
    free_[bytes].push_back(p);
    cached_bytes_ += bytes;
  }

  void release() noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

  // The allocator has gone: free what is cached, and from now on every buffer as it comes back.
  void close() noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
    open_ = false;
  }

  std::size_t cached_bytes() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  void release_locked() noexcept {
    for (auto& entry : free_) {
      for (void* p : entry.second) aligned_delete(p, entry.first);
    }
    free_.clear();
    cached_bytes_ = 0;
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
  bool open_ = true;
};

// The cache new storage on this thread comes from (null: the heap). Set only by
// WithCPUCachingAllocatorGuard.
inline std::shared_ptr<BlockCache>& current_block_cache() noexcept {
  thread_local std::shared_ptr<BlockCache> cache;
  return cache;
}

}  // namespace detail

class CPUCachingAllocator {
 public:
  CPUCachingAllocator() : cache_(std::make_shared<detail::BlockCache>()) {}
  CPUCachingAllocator(const CPUCachingAllocator&) = delete;
  CPUCachingAllocator& operator=(const CPUCachingAllocator&) = delete;
  ~CPUCachingAllocator() { cache_->close(); }

  // Bytes held in free buffers, ready for reuse.
  std::size_t cached_bytes() const { return cache_->cached_bytes(); }
  // Returns the free buffers to the heap (buffers in use come back to the cache later).
  void release() noexcept { cache_->release(); }

 private:
  friend class WithCPUCachingAllocatorGuard;
  std::shared_ptr<detail::BlockCache> cache_;
};

// Tensor storage allocated on this thread comes from `allocator` until the guard ends; guards nest.
class WithCPUCachingAllocatorGuard {
 public:
  explicit WithCPUCachingAllocatorGuard(CPUCachingAllocator& allocator)
      : previous_(std::exchange(detail::current_block_cache(), allocator.cache_)) {}
  WithCPUCachingAllocatorGuard(const WithCPUCachingAllocatorGuard&) = delete;
  WithCPUCachingAllocatorGuard& operator=(const WithCPUCachingAllocatorGuard&) = delete;
  ~WithCPUCachingAllocatorGuard() { detail::current_block_cache() = std::move(previous_); }

 private:
  std::shared_ptr<detail::BlockCache> previous_;
};

}  // namespace ember
