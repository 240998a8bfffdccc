// ember: 64-byte aligned heap memory (cache line and AVX-512 width) for tensor storage and the
// blocks CPUCachingAllocator keeps. Depends on nothing of ours. Generic code only: never include
// it from a per-ISA kernel unit (DESIGN section 3).
//
// Large blocks come from the aligned operator new (glibc: memalign), as PyTorch's do. Small ones
// (up to 4 KB) come from plain operator new, over-allocated by the alignment and aligned up by
// hand, with the plain pointer kept in the 8 bytes before the aligned one (operator new's own
// 16-byte alignment leaves at least that much): memalign costs several times a malloc per call,
// which shows in the per-op cost of tiny tensors (autograd at batch 1). Doing the same for large
// blocks was measured and rejected: glibc then returns the freed top of the heap to the system
// and the next training step page-faults it back in (2.5x the page faults, a 40% slower step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace ember::detail {

inline constexpr std::size_t memory_alignment = 64;
inline constexpr std::size_t small_block_bytes = 4096;

inline void* aligned_new(std::size_t bytes) {
  if (bytes > small_block_bytes) return ::operator new(bytes, std::align_val_t(memory_alignment));
  static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= sizeof(void*) &&
                memory_alignment % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
  void* plain = ::operator new(bytes + memory_alignment);
  const auto at = (reinterpret_cast<std::uintptr_t>(plain) + memory_alignment) &
                  ~static_cast<std::uintptr_t>(memory_alignment - 1);
  void** aligned = reinterpret_cast<void**>(at);
  aligned[-1] = plain;
  return aligned;
}

// p: null or what aligned_new(bytes) returned.
inline void aligned_delete(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes > small_block_bytes) {
    ::operator delete(p, std::align_val_t(memory_alignment));
  } else {
    ::operator delete(static_cast<void**>(p)[-1]);
  }
}

}  // namespace ember::detail
