// ember: 64-byte aligned heap memory (cache line and AVX-512 width) for tensor storage, GEMM
// scratch and the blocks CPUCachingAllocator keeps. Depends on nothing of ours.
#pragma once

#include <cstddef>
#include <new>

namespace ember::detail {

inline constexpr std::size_t memory_alignment = 64;

inline void* aligned_new(std::size_t bytes) {
  return ::operator new(bytes, std::align_val_t(memory_alignment));
}

// p: null or a pointer from aligned_new.
inline void aligned_delete(void* p) noexcept {
  ::operator delete(p, std::align_val_t(memory_alignment));
}

}  // namespace ember::detail
