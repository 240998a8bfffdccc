// ember: the memory a tensor and its views share: a 64-byte aligned buffer (or a borrowed one from
// from_blob) plus the version counter that in-place ops bump (autograd checks it on saved tensors).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "ember/error.hpp"

namespace ember::detail {

inline constexpr std::size_t storage_alignment = 64;

template <class T>
class Storage {
 public:
  // Owning, uninitialised buffer of n elements, 64-byte aligned (cache line and AVX-512 width).
  // Small buffers come from plain operator new, over-allocated and aligned up by hand: the aligned
  // operator new goes through glibc's memalign, several times slower per call, which shows in the
  // per-op cost of tiny tensors (autograd at batch 1). Large ones use the aligned operator new.
  explicit Storage(std::size_t n) : size_(n), owns_(true) {
    EMBER_CHECK_VALUE(n <= static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(T) - storage_alignment,
                      "Tensor: cannot allocate ", n, " elements");
    if (n == 0) return;
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= small_bytes) {
      raw_ = ::operator new(bytes + storage_alignment - __STDCPP_DEFAULT_NEW_ALIGNMENT__);
      const auto addr = reinterpret_cast<std::uintptr_t>(raw_);
      const std::uintptr_t aligned =
          (addr + storage_alignment - 1) & ~static_cast<std::uintptr_t>(storage_alignment - 1);
      data_ = reinterpret_cast<T*>(aligned);
    } else {
      data_ = static_cast<T*>(::operator new(bytes, std::align_val_t(storage_alignment)));
    }
  }
  // Borrowed memory (from_blob): never freed here; the caller keeps it alive.
  Storage(T* data, std::size_t n, bool /*borrowed*/) : data_(data), size_(n), owns_(false) {}

  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (raw_) {
      ::operator delete(raw_);
    } else if (owns_ && data_) {
      ::operator delete(data_, std::align_val_t(storage_alignment));
    }
  }

  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool owns_memory() const noexcept { return owns_; }

  uint64_t version() const noexcept { return version_.load(std::memory_order_relaxed); }
  void bump_version() noexcept { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  // Up to this many bytes, the buffer is carved out of a plain allocation (raw_).
  static constexpr std::size_t small_bytes = 4096;
  static_assert(storage_alignment % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);

  T* data_ = nullptr;
  void* raw_ = nullptr;  // the plain allocation holding a small owned buffer, else null
  std::size_t size_ = 0;
  bool owns_ = true;
  std::atomic<uint64_t> version_{0};
};

}  // namespace ember::detail
