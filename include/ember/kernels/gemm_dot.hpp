// ember: C = alpha * A * B^T + beta * C as a grid of dot products, for a small C (few rows and
// columns) and a long K. Both operands are read in place along their contiguous rows: packing them
// would cost a full pass over K for too few register tiles to repay it (a convolution's weight
// gradient with few channels: C is 32 x 9, K is 784 per image).
#pragma once

#include <cstddef>

#include "ember/kernels/gemm_gemv.hpp"
#include "ember/kernels/gemm_microkernel.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::kernels::impl::gemm_detail {

// Tile of dot products: RA rows of A times RB rows of B, one vector accumulator each, and the
// RA + RB operand vectors of a step in registers: 29 of 32 (AVX-512), 15 of 16. 5 columns fit a
// 3x3 kernel's 9 taps plus its bias column in two tiles.
template <class Arch, class T>
struct dot_tile {
  static constexpr std::size_t ra = params<Arch, T>::regs >= 32 ? 4 : 3;
  static constexpr std::size_t rb = params<Arch, T>::regs >= 32 ? 5 : 3;
};

// Whether gemm takes this path: A not transposed, B transposed (both read along K), C small
// enough that the blocked path's register tiles would be mostly padding or its packing would
// dominate, and K long enough for vectors.
template <class Arch, class T>
inline bool use_dot(bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                    std::size_t k) noexcept {
  using P = params<Arch, T>;
  return !trans_a && trans_b && m * n <= 1024 && (n < P::nr || m < P::mr) && k >= 4 * P::lanes;
}

// C[i, j] = alpha * sum_p A[i, p] * B[j, p] + beta * C[i, j]. Each C element is reduced in a fixed
// order (vector lanes over p, lanes summed in order, then the tail), wherever its tile falls.
template <class Arch, class T>
void gemm_dot(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
              const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) noexcept {
  constexpr std::size_t RA = dot_tile<Arch, T>::ra, RB = dot_tile<Arch, T>::rb;
  const std::size_t row_tiles = (m + RA - 1) / RA;
  auto tiles = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t ti = lo; ti < hi; ++ti) {
      const std::size_t i0 = ti * RA, ra = m - i0 < RA ? m - i0 : RA;
      for (std::size_t j0 = 0; j0 < n; j0 += RB) {
        const std::size_t rb = n - j0 < RB ? n - j0 : RB;
        // Rows past the edge repeat the last valid row; their results are dropped.
        const T* ar[RA];
        const T* br[RB];
        for (std::size_t i = 0; i < RA; ++i) ar[i] = a + (i0 + (i < ra ? i : ra - 1)) * lda;
        for (std::size_t j = 0; j < RB; ++j) br[j] = b + (j0 + (j < rb ? j : rb - 1)) * ldb;
        T out[RA][RB] = {};
        std::size_t p = 0;
        if constexpr (!is_scalar_arch<Arch>) {
          using V = xsimd::batch<T, Arch>;
          constexpr std::size_t W = V::size;
          V acc[RA][RB];
#pragma GCC unroll 16
          for (std::size_t i = 0; i < RA; ++i) {
#pragma GCC unroll 16
            for (std::size_t j = 0; j < RB; ++j) acc[i][j] = V(T(0));
          }
          for (; p + W <= k; p += W) {
            V bv[RB];
            V av[RA];
#pragma GCC unroll 16
            for (std::size_t j = 0; j < RB; ++j) bv[j] = V::load_unaligned(br[j] + p);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < RA; ++i) av[i] = V::load_unaligned(ar[i] + p);
              // A's rows (a weight gradient's output gradient: read once, from L3 or memory) are
              // RA streams the hardware prefetcher follows too late: fetch 512 bytes ahead
              // (measured: Fashion-MNIST conv1 forward + backward -13%; 128 to 1024 bytes alike).
#pragma GCC unroll 16
            for (std::size_t i = 0; i < RA; ++i) __builtin_prefetch(ar[i] + p + 512 / sizeof(T));
#if defined(__x86_64__) && defined(__GNUC__)
              // Each A vector into a register once: compilers otherwise fold its load into all RB
              // FMAs, and RA * RB vector loads per step saturate the load ports before the FMAs.
#pragma GCC unroll 16
            for (std::size_t i = 0; i < RA; ++i) __asm__("" : "+v"(av[i].data));
#endif
#pragma GCC unroll 16
            for (std::size_t i = 0; i < RA; ++i) {
#pragma GCC unroll 16
              for (std::size_t j = 0; j < RB; ++j) {
                acc[i][j] = fmadd<Arch, T>(av[i], bv[j], acc[i][j]);
              }
            }
          }
          // Own horizontal sum, in lane order (see gemv_rows).
          alignas(64) T lanes[W];
          for (std::size_t i = 0; i < RA; ++i) {
            for (std::size_t j = 0; j < RB; ++j) {
              acc[i][j].store_aligned(lanes);
              T s = T(0);
              for (std::size_t t = 0; t < W; ++t) s += lanes[t];
              out[i][j] = s;
            }
          }
        }
        for (; p < k; ++p) {
          for (std::size_t i = 0; i < RA; ++i) {
            for (std::size_t j = 0; j < RB; ++j) out[i][j] += ar[i][p] * br[j][p];
          }
        }
        for (std::size_t i = 0; i < ra; ++i) {
          T* crow = c + (i0 + i) * ldc + j0;
          for (std::size_t j = 0; j < rb; ++j) {
            crow[j] = update<Arch, T>(alpha, out[i][j], beta, crow[j]);
          }
        }
      }
    }
  };
  const std::size_t grain = gemv_parallel_work / (RA * n * k + 1) + 1;
  parallel_for(0, row_tiles, grain, tiles);
}

}  // namespace ember::kernels::impl::gemm_detail
