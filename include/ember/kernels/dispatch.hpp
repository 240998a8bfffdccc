// ember: choosing a kernel table at run time.
//
// With the per-ISA translation units linked (EMBER_ISA_UNITS=1, the CMake target's default) every
// table for this architecture family exists and the widest one the CPU supports is chosen. Without
// them, the scalar table and the one for the compile-time architecture are instantiated here.
// The choice can be forced lower with the environment variable EMBER_ISA or with set_isa().
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ember/error.hpp"
#include "ember/kernels/gemm_scratch.hpp"
#include "ember/kernels/isa.hpp"
#include "ember/kernels/kernel_table.hpp"

#if !EMBER_ISA_UNITS
#include "ember/kernels/detail/make_table.hpp"
#endif

namespace ember::kernels::detail {

#if EMBER_ISA_UNITS
// Defined in the generated per-ISA translation units (cmake/ember_isa_unit.cpp.in).
const KernelTable& table_scalar() noexcept;
#if defined(EMBER_ARCH_X86_64)
const KernelTable& table_sse2() noexcept;
const KernelTable& table_avx2() noexcept;
const KernelTable& table_avx512() noexcept;
#elif defined(EMBER_ARCH_AARCH64)
const KernelTable& table_neon() noexcept;
#endif

inline const KernelTable* compiled_table(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return &table_scalar();
#if defined(EMBER_ARCH_X86_64)
    case Isa::sse2:
      return &table_sse2();
    case Isa::avx2:
      return &table_avx2();
    case Isa::avx512:
      return &table_avx512();
#elif defined(EMBER_ARCH_AARCH64)
    case Isa::neon:
      return &table_neon();
#endif
    default:
      return nullptr;
  }
}

#else  // header-only: scalar plus the architecture this translation unit is compiled for

#if defined(EMBER_ARCH_X86_64) && defined(__AVX512F__) && defined(__AVX512CD__) && \
    defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__)
#define EMBER_DETAIL_NATIVE_ISA avx512
using native_arch = xsimd::avx512bw;
#elif defined(EMBER_ARCH_X86_64) && defined(__AVX2__) && defined(__FMA__)
#define EMBER_DETAIL_NATIVE_ISA avx2
using native_arch = xsimd::fma3<xsimd::avx2>;
#elif defined(EMBER_ARCH_X86_64) && defined(__SSE2__)
#define EMBER_DETAIL_NATIVE_ISA sse2
using native_arch = xsimd::sse2;
#elif defined(EMBER_ARCH_AARCH64) && defined(__ARM_NEON)
#define EMBER_DETAIL_NATIVE_ISA neon
using native_arch = xsimd::neon64;
#endif

inline const KernelTable* compiled_table(Isa isa) noexcept {
  static constexpr KernelTable scalar = make_table<scalar_arch>(Isa::scalar);
  if (isa == Isa::scalar) return &scalar;
#ifdef EMBER_DETAIL_NATIVE_ISA
  static constexpr KernelTable native = make_table<native_arch>(Isa::EMBER_DETAIL_NATIVE_ISA);
  if (isa == Isa::EMBER_DETAIL_NATIVE_ISA) return &native;
#endif
  return nullptr;
}
#endif

inline const KernelTable* usable_table(Isa isa) noexcept {
  return cpu_features().supports(isa) ? compiled_table(isa) : nullptr;
}

// Whether an ISA belongs to the architecture this build targets (neon is not an x86 ISA).
inline constexpr bool in_target_family(Isa isa) noexcept {
#if defined(EMBER_ARCH_X86_64)
  return isa != Isa::neon;
#elif defined(EMBER_ARCH_AARCH64)
  return isa == Isa::scalar || isa == Isa::neon;
#else
  return isa == Isa::scalar;
#endif
}

inline std::string isa_list(const std::vector<Isa>& isas) {
  std::string s;
  for (Isa i : isas) {
    if (!s.empty()) s += ", ";
    s += isa_name(i);
  }
  return s;
}

}  // namespace ember::kernels::detail

namespace ember {

// ISAs that have a kernel table in this build and that this CPU supports, narrowest first.
inline std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa i : all_isas) {
    if (kernels::detail::usable_table(i)) out.push_back(i);
  }
  return out;
}

namespace kernels::detail {

// Resolves a request to a usable table: the requested ISA, or, when this CPU (or build) lacks it,
// the widest usable ISA below it, with a one-line warning. An ISA of another architecture family
// is an error.
inline const KernelTable& resolve_isa(Isa requested, const char* who) {
  if (const KernelTable* t = usable_table(requested)) return *t;
  const std::vector<Isa> avail = available_isas();
  EMBER_CHECK_VALUE(in_target_family(requested), who, ": ISA '", isa_name(requested),
                    "' does not exist on this architecture; available: ", isa_list(avail));
  Isa chosen = Isa::scalar;
  for (Isa i : avail) {
    if (static_cast<int>(i) <= static_cast<int>(requested)) chosen = i;
  }
  std::fprintf(stderr, "ember: %s: ISA '%s' is not supported here (%s); using '%s'\n", who,
               isa_name(requested), compiled_table(requested) ? "CPU lacks it" : "not compiled",
               isa_name(chosen));
  return *usable_table(chosen);
}

inline Isa parse_isa_or_fail(std::string_view name, const char* who) {
  Isa isa = Isa::scalar;
  if (!parse_isa(name, isa)) {
    std::vector<Isa> all(std::begin(all_isas), std::end(all_isas));
    fail(error_kind::value, who, ": unknown ISA '", std::string(name),
         "'; valid names: ", isa_list(all));
  }
  return isa;
}

inline const KernelTable& initial_table() {
  if (const char* env = std::getenv("EMBER_ISA"); env && *env) {
    return resolve_isa(parse_isa_or_fail(env, "EMBER_ISA"), "EMBER_ISA");
  }
  return *usable_table(available_isas().back());
}

// The process-wide choice. Read on every dispatched call, so it is one relaxed atomic load.
inline std::atomic<const KernelTable*>& active_slot() noexcept {
  static std::atomic<const KernelTable*> slot{nullptr};
  return slot;
}

}  // namespace kernels::detail

// The kernel table in use; the first call picks it (EMBER_ISA, else the widest usable ISA).
inline const kernels::KernelTable& active_kernels() {
  auto& slot = kernels::detail::active_slot();
  const kernels::KernelTable* t = slot.load(std::memory_order_acquire);
  if (t) return *t;
  static const kernels::KernelTable& initial = kernels::detail::initial_table();
  const kernels::KernelTable* expected = nullptr;
  slot.compare_exchange_strong(expected, &initial, std::memory_order_acq_rel);
  return *slot.load(std::memory_order_acquire);
}

inline Isa current_isa() {
  return active_kernels().isa;
}

// Forces an ISA for all later kernel calls (capped to what this CPU supports, with a warning) and
// returns the one in effect. Not meant to be called while other threads run kernels.
inline Isa set_isa(Isa isa) {
  const kernels::KernelTable& t = kernels::detail::resolve_isa(isa, "set_isa");
  kernels::detail::active_slot().store(&t, std::memory_order_release);
  return t.isa;
}

inline Isa set_isa(std::string_view name) {
  return set_isa(kernels::detail::parse_isa_or_fail(name, "set_isa"));
}

namespace kernels {

// Run-time dispatched entry points: same arguments as the KernelSet members (kernel_table.hpp).
template <class T>
void axpy(std::size_t n, T alpha, const T* x, T* y) {
  active_kernels().of<T>().axpy(n, alpha, x, y);
}
template <class T>
void scale(std::size_t n, T alpha, T* x) {
  active_kernels().of<T>().scale(n, alpha, x);
}
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          T* scratch = nullptr) {
  active_kernels().of<T>().gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                                scratch);
}
// Packing op(A) once for several products with it. Both calls must see the same kernel table
// (no set_isa in between); the table is captured by the caller through active_kernels().
template <class T>
void gemm_pack_a(bool trans_a, std::size_t m, std::size_t k, const T* a, std::size_t lda,
                 T* packed) {
  active_kernels().of<T>().gemm_pack_a(trans_a, m, k, a, lda, packed);
}
template <class T>
void gemm_packed(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* packed_a,
                 bool trans_b, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
                 T* scratch = nullptr) {
  active_kernels().of<T>().gemm_packed(m, n, k, alpha, packed_a, trans_b, b, ldb, beta, c, ldc,
                                       scratch);
}
template <class T>
void gemm_strided_batched(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                          T alpha, const T* a, std::size_t lda, std::size_t stride_a, const T* b,
                          std::size_t ldb, std::size_t stride_b, T beta, T* c, std::size_t ldc,
                          std::size_t stride_c, std::size_t batch, T* scratch = nullptr) {
  active_kernels().of<T>().gemm_strided_batched(trans_a, trans_b, m, n, k, alpha, a, lda, stride_a,
                                                b, ldb, stride_b, beta, c, ldc, stride_c, batch,
                                                scratch);
}
template <class T>
void gemv(bool trans_a, std::size_t m, std::size_t n, T alpha, const T* a, std::size_t lda,
          const T* x, T beta, T* y) {
  active_kernels().of<T>().gemv(trans_a, m, n, alpha, a, lda, x, beta, y);
}
template <class T>
void unary(UnaryOp op, std::size_t n, const T* x, T* y) {
  active_kernels().of<T>().unary(op, n, x, y);
}
template <class T>
void binary(BinaryOp op, std::size_t n, const T* a, const T* b, T* y) {
  active_kernels().of<T>().binary(op, n, a, b, y);
}
template <class T>
void binary_scalar(BinaryOp op, std::size_t n, const T* a, T s, bool scalar_first, T* y) {
  active_kernels().of<T>().binary_scalar(op, n, a, s, scalar_first, y);
}
template <class T>
void binary_rowvec(BinaryOp op, std::size_t rows, std::size_t cols, const T* a, std::size_t lda,
                   const T* v, T* y, std::size_t ldy) {
  active_kernels().of<T>().binary_rowvec(op, rows, cols, a, lda, v, y, ldy);
}
template <class T>
void softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                  std::size_t ldy) {
  active_kernels().of<T>().softmax_rows(rows, cols, x, ldx, y, ldy);
}
template <class T>
void log_softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                      std::size_t ldy) {
  active_kernels().of<T>().log_softmax_rows(rows, cols, x, ldx, y, ldy);
}
template <class T>
void reduce_rows(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                 T* out) {
  active_kernels().of<T>().reduce_rows(op, rows, cols, x, ldx, out);
}
template <class T>
void reduce_cols(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                 T* out) {
  active_kernels().of<T>().reduce_cols(op, rows, cols, x, ldx, out);
}
template <class T>
void max_pool2x2(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                 std::size_t ldy, std::int32_t* at, bool relu = false) {
  active_kernels().of<T>().max_pool2x2(rows, cols, x, ldx, y, ldy, at, relu);
}
template <class T>
void max_pool2x2_backward(std::size_t rows, std::size_t cols, const T* gy, const std::int32_t* at,
                          std::size_t ldy, T* gx, std::size_t ldx) {
  active_kernels().of<T>().max_pool2x2_backward(rows, cols, gy, at, ldy, gx, ldx);
}

}  // namespace kernels
}  // namespace ember
