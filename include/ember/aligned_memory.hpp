// ember: 64-byte aligned heap memory (tensor storage, GEMM scratch). Depends on nothing of ours.
//
// Why not `operator new(n, std::align_val_t(64))`: glibc serves it with memalign, which does not
// hand a freed large block back to the next request of the same size; every new 4 MB tensor then
// lands on fresh, cache-cold memory, and `a + b` on 1M floats ran 1.9x slower than the same kernel
// writing into `new float[]` (benchmarks/results/tensor.md). Plain operator new reuses the block
// just freed, so we over-allocate by the alignment, round up, and keep the original pointer in the
// 8 bytes before the aligned one (operator new's own alignment, 16 bytes, guarantees they are
// ours).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace ember::detail {

inline constexpr std::size_t memory_alignment = 64;

inline void* aligned_new(std::size_t bytes) {
  static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= sizeof(void*) &&
                memory_alignment % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
  void* raw = ::operator new(bytes + memory_alignment);
  const auto at = (reinterpret_cast<std::uintptr_t>(raw) + memory_alignment) &
                  ~static_cast<std::uintptr_t>(memory_alignment - 1);
  void** aligned = reinterpret_cast<void**>(at);
  aligned[-1] = raw;
  return aligned;
}

// p: null or a pointer from aligned_new.
inline void aligned_delete(void* p) noexcept {
  if (p != nullptr) ::operator delete(static_cast<void**>(p)[-1]);
}

}  // namespace ember::detail
