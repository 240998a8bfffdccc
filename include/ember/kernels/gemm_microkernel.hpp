// ember: the GEMM register tile. One call computes an mr x nr block of C from a packed A
// micro-panel and a B micro-panel over kc steps, accumulating in registers.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/gemm_scratch.hpp"
#include "ember/kernels/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ember::kernels::impl::gemm_detail {

// Elements per vector of T on Arch (1 for the scalar tag, which has no xsimd batch).
template <class Arch, class T, bool = is_scalar_arch<Arch>>
struct lanes_of {
  static constexpr std::size_t value = xsimd::batch<T, Arch>::size;
};
template <class Arch, class T>
struct lanes_of<Arch, T, true> {
  static constexpr std::size_t value = 1;
};

// The blocking this arch uses; its sizes come from gemm_scratch.hpp so the scratch bound covers it.
template <class Arch, class T>
struct params {
  static constexpr std::size_t lanes = lanes_of<Arch, T>::value;
#if defined(__aarch64__)
  static constexpr std::size_t regs = 32;
#else
  static constexpr std::size_t regs = lanes * sizeof(T) >= 64 ? 32 : 16;  // AVX-512: zmm0-31
#endif
  static constexpr detail::GemmBlocking blocking = detail::gemm_blocking<T>(lanes, regs);
  static constexpr std::size_t mr = blocking.mr, nr = blocking.nr, kc = blocking.kc;
  static constexpr std::size_t mc = blocking.mc, nc = blocking.nc, ns = blocking.ns;
  static constexpr std::size_t nv = nr / lanes;  // vectors per tile row
};

// x * y + z, fused. xsimd 8.1 has no AVX-512 fma kernel (its generic one is x * y + z, fused only
// if the compiler contracts), so AVX-512 calls the intrinsic.
template <class Arch, class T>
inline xsimd::batch<T, Arch> fmadd(const xsimd::batch<T, Arch>& x, const xsimd::batch<T, Arch>& y,
                                   const xsimd::batch<T, Arch>& z) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    if constexpr (std::is_same_v<T, float>) {
      return _mm512_fmadd_ps(x, y, z);
    } else {
      return _mm512_fmadd_pd(x, y, z);
    }
  } else
#endif
  {
    return xsimd::fma(x, y, z);
  }
}

// C[i, j] = alpha * acc[i][j] + beta * C[i, j] for i < mr, j < nr; beta == 0 never reads C.
template <class Arch, class T>
inline void store_edge(const T* acc, std::size_t acc_ld, std::size_t mr, std::size_t nr, T alpha,
                       T beta, T* c, std::size_t ldc) noexcept {
  for (std::size_t i = 0; i < mr; ++i) {
    for (std::size_t j = 0; j < nr; ++j) {
      T& out = c[i * ldc + j];
      out = beta == T(0) ? alpha * acc[i * acc_ld + j] : alpha * acc[i * acc_ld + j] + beta * out;
    }
  }
}

// C tile (R rows, nr <= NR columns at c) = alpha * A * B + beta * C, where
// a: packed A, a[p * MR + i] for i < R (lda == 0), or A's rows in place, a[i * lda + p];
// b: B rows, b[p * ldb + j] for j < NR (readable for all NR columns: packed or a full panel).
// Each C element is one fused multiply-add chain over p = 0..kc-1, whatever the tile position.
// R is a template parameter so edge slivers (fewer than MR rows) do only their own work; likewise
// NV, the vectors per row computed: an edge panel of at most one vector's columns uses one (the
// same chain per element, so the result does not change).
// b_copy (full panels only): when not null, every B row read is also stored there,
// b_copy[p * NR + j]: the tile packs its B panel as it goes (pack_b's layout), so the B rows are
// loaded once, while the FMAs run, instead of in a separate pass.
template <class Arch, class T, std::size_t R, std::size_t NV = params<Arch, T>::nv>
void micro_kernel_rows(std::size_t kc, const T* a, std::size_t lda, const T* b, std::size_t ldb,
                       T alpha, T beta, T* c, std::size_t ldc, std::size_t nr, T* b_copy) noexcept {
  using P = params<Arch, T>;
  constexpr std::size_t MR = P::mr, NR = P::nr;
  if constexpr (is_scalar_arch<Arch>) {
    T acc[R][NR] = {};
    for (std::size_t p = 0; p < kc; ++p) {
      for (std::size_t i = 0; i < R; ++i) {
        const T ai = lda == 0 ? a[p * MR + i] : a[i * lda + p];
        for (std::size_t j = 0; j < NR; ++j) acc[i][j] += ai * b[p * ldb + j];
      }
      if (b_copy != nullptr) {
        for (std::size_t j = 0; j < NR; ++j) b_copy[p * NR + j] = b[p * ldb + j];
      }
    }
    store_edge<Arch, T>(&acc[0][0], NR, R, nr, alpha, beta, c, ldc);
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = P::lanes, NW = NV * W;  // columns computed
    // The C tile's rows are fetched one per step (both its lines) from 3R steps before the end:
    // early enough to arrive from L3, late enough not to be evicted by the B stream first (as
    // they were when fetched before the loop: the update took 6% of a tile's time at 1024^3).
    // Written inline: through a small lambda, GCC 12 emitted none of these prefetches.
    const std::size_t p_c = kc > 3 * R ? kc - 3 * R : 0;
    B acc[R][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < R; ++i) {
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = B(T(0));
    }
    // The k loop, with or without the B copy, A packed or in place (compile-time choices: no test
    // per step).
    auto k_loop = [&](auto copy_b, auto direct_a) __attribute__((always_inline)) {
      constexpr bool direct = decltype(direct_a)::value;
      // A in place: row i at (i < 7 ? a : a + 7 lda) + (i % 7) lda. Two bases and 7 offsets fit
      // in registers; with i * lda for each of 14 rows, GCC 12 spilled 7 and reloaded them every
      // step (256 x 1152 x 64, ember / oneDNN per round, medians of 7 processes: 0.984 -> 0.992).
      static_assert(R <= 14, "a_row: two bases of 7 rows");
      const std::size_t l3 = 3 * lda;
      const std::size_t row_offset[7] = {0, lda, 2 * lda, l3, 4 * lda, 5 * lda, 2 * l3};
      const T* a_hi = R > 7 ? a + 7 * lda : a;
      auto step = [&](std::size_t p) __attribute__((always_inline)) {
        B bv[NV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_unaligned(b + v * W);
        if constexpr (decltype(copy_b)::value) {
          // Store the row, and fetch the same row of the next panel, which the next packing tile
          // reads: B's rows are ldb apart, too far for the hardware prefetcher, and 8 steps ahead
          // is shorter than memory's latency (these tiles took 3x their share of 512^3; ember /
          // oneDNN per round 0.965-0.969 -> 0.976-0.980).
#pragma GCC unroll 4
          for (std::size_t v = 0; v < NV; ++v) {
            bv[v].store_unaligned(b_copy + p * NR + v * W);
            __builtin_prefetch(b + NW + v * W);
          }
        }
        // B streams from L2 (packed) or memory (read in place): fetch 8 steps ahead (measured).
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) __builtin_prefetch(b + 8 * ldb + v * W);
        // The packed A sliver comes from L2 as well: the B stream evicts it from L1 between two
        // tiles. Fetched 32 steps ahead (measured, 1024^3 and 2048^3: ember / oneDNN 0.94-0.97
        // without, 0.98-1.0 at 16 steps, 1.0 at 32 and 64).
        if constexpr (!direct) {
#pragma GCC unroll 4
          for (std::size_t l = 0; l < MR * sizeof(T); l += 64) {
            __builtin_prefetch(a + 32 * MR + l / sizeof(T));
          }
        }
        // A broadcast into a register, then one FMA per vector of B. Measured on Zen 5, the tile
        // from L2 at kc 512: 192 GFLOP/s with FMAs that broadcast A from memory ({1to16}, one load
        // per FMA, which Zen 4 ran 8% faster), 224 GFLOP/s this way (FMA peak about 230).
#pragma GCC unroll 16
        for (std::size_t i = 0; i < R; ++i) {
          const B ai(direct ? (i < 7 ? a : a_hi)[row_offset[i % 7]] : a[i]);
#pragma GCC unroll 4
          for (std::size_t v = 0; v < NV; ++v) acc[i][v] = fmadd<Arch, T>(ai, bv[v], acc[i][v]);
        }
        a += direct ? 1 : MR;
        if constexpr (direct) ++a_hi;
        b += ldb;
      };
      // Three loops, so that none tests anything per step but its end: before the C fetches,
      // during them (one row per step; fewer steps than rows only when kc < R), after them.
      std::size_t p = 0;
      for (; p < p_c; ++p) step(p);
      T* row = c;
      for (std::size_t i = 0; i < R; ++i, row += ldc) {
        __builtin_prefetch(row, 1);
        __builtin_prefetch(row + NW - 1, 1);
        if (p < kc) step(p++);
      }
      for (; p < kc; ++p) step(p);
    };
    if (b_copy != nullptr) {
      if (lda != 0) {
        k_loop(std::true_type{}, std::true_type{});
      } else {
        k_loop(std::true_type{}, std::false_type{});
      }
    } else if (lda != 0) {
      k_loop(std::false_type{}, std::true_type{});
    } else {
      k_loop(std::false_type{}, std::false_type{});
    }
    const B va(alpha);
    if (nr == NW) {
      if (beta == T(0)) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < R; ++i) {
#pragma GCC unroll 4
          for (std::size_t v = 0; v < NV; ++v)
            (va * acc[i][v]).store_unaligned(c + i * ldc + v * W);
        }
      } else {
        const B vb(beta);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < R; ++i) {
#pragma GCC unroll 4
          for (std::size_t v = 0; v < NV; ++v) {
            T* out = c + i * ldc + v * W;
            fmadd<Arch, T>(va, acc[i][v], vb * B::load_unaligned(out)).store_unaligned(out);
          }
        }
      }
    } else {
      alignas(64) T tile[R * NR];
#pragma GCC unroll 16
      for (std::size_t i = 0; i < R; ++i) {
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[i][v].store_aligned(tile + i * NR + v * W);
      }
      store_edge<Arch, T>(tile, NR, R, nr, alpha, beta, c, ldc);
    }
  }
}

// The register tile for mr (1..MR) rows: a jump to the instantiation for exactly mr rows.
// NV: vectors per row (params::nv, or 1 for a narrow edge panel).
// lda, b_copy: see micro_kernel_rows (b_copy null, or a full panel: nr == NR).
template <class Arch, class T, std::size_t R = params<Arch, T>::mr,
          std::size_t NV = params<Arch, T>::nv>
void micro_kernel(std::size_t kc, const T* a, std::size_t lda, const T* b, std::size_t ldb, T alpha,
                  T beta, T* c, std::size_t ldc, std::size_t mr, std::size_t nr,
                  T* b_copy = nullptr) noexcept {
  if constexpr (!is_scalar_arch<Arch> && NV > 1 && R == params<Arch, T>::mr) {
    if (nr <= params<Arch, T>::lanes) {
      micro_kernel<Arch, T, R, 1>(kc, a, lda, b, ldb, alpha, beta, c, ldc, mr, nr, nullptr);
      return;
    }
  }
  if constexpr (R == 1) {
    micro_kernel_rows<Arch, T, 1, NV>(kc, a, lda, b, ldb, alpha, beta, c, ldc, nr, b_copy);
  } else {
    if (mr == R) {
      micro_kernel_rows<Arch, T, R, NV>(kc, a, lda, b, ldb, alpha, beta, c, ldc, nr, b_copy);
    } else {
      micro_kernel<Arch, T, R - 1, NV>(kc, a, lda, b, ldb, alpha, beta, c, ldc, mr, nr, b_copy);
    }
  }
}

}  // namespace ember::kernels::impl::gemm_detail
