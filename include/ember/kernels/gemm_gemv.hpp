// ember: matrix-vector products, used by gemv and by GEMM when one output dimension is 1 (there
// packing does not pay: every element of the matrix is used once).
#pragma once

#include <cstddef>

#include "ember/kernels/gemm_microkernel.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::kernels::impl::gemm_detail {

// Work (multiply-adds) below which a matrix-vector product stays on the calling thread.
inline constexpr std::size_t gemv_parallel_work = std::size_t(1) << 17;

template <class Arch, class T>
inline T update(T alpha, T acc, T beta, T old) noexcept {
  return beta == T(0) ? alpha * acc : alpha * acc + beta * old;
}

// y[i * incy] = alpha * sum_p A[i, p] * x[p * incx] + beta * y[i * incy] for i < rows, A rows x
// cols with leading dimension lda. Rows are independent; each row's sum has a fixed order.
template <class Arch, class T>
void gemv_rows(std::size_t rows, std::size_t cols, T alpha, const T* a, std::size_t lda, const T* x,
               std::size_t incx, T beta, T* y, std::size_t incy) noexcept {
  auto row_range = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      const T* ar = a + i * lda;
      T acc = T(0);
      std::size_t p = 0;
      if constexpr (!is_scalar_arch<Arch>) {
        if (incx == 1) {
          using B = xsimd::batch<T, Arch>;
          constexpr std::size_t W = B::size;
          B s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
          for (; p + 4 * W <= cols; p += 4 * W) {
            s0 = fmadd<Arch, T>(B::load_unaligned(ar + p), B::load_unaligned(x + p), s0);
            s1 = fmadd<Arch, T>(B::load_unaligned(ar + p + W), B::load_unaligned(x + p + W), s1);
            s2 = fmadd<Arch, T>(B::load_unaligned(ar + p + 2 * W), B::load_unaligned(x + p + 2 * W),
                                s2);
            s3 = fmadd<Arch, T>(B::load_unaligned(ar + p + 3 * W), B::load_unaligned(x + p + 3 * W),
                                s3);
          }
          for (; p + W <= cols; p += W) {
            s0 = fmadd<Arch, T>(B::load_unaligned(ar + p), B::load_unaligned(x + p), s0);
          }
          // Own horizontal sum: xsimd 8.1's hadd trips g++ 12's maybe-uninitialized on AVX-512.
          alignas(64) T lanes[W];
          ((s0 + s1) + (s2 + s3)).store_aligned(lanes);
          for (std::size_t t = 0; t < W; ++t) acc += lanes[t];
        }
      }
      for (; p < cols; ++p) acc += ar[p] * x[p * incx];
      y[i * incy] = update<Arch, T>(alpha, acc, beta, y[i * incy]);
    }
  };
  const std::size_t grain = gemv_parallel_work / (cols + 1) + 1;
  parallel_for(0, rows, grain, row_range);
}

// y[j * incy] = alpha * sum_p x[p * incx] * A[p, j] + beta * y[j * incy] for j < cols, A rows x
// cols with leading dimension lda: rows of A are streamed once, columns kept in registers.
template <class Arch, class T>
void gemv_cols(std::size_t rows, std::size_t cols, T alpha, const T* a, std::size_t lda, const T* x,
               std::size_t incx, T beta, T* y, std::size_t incy) noexcept {
  constexpr std::size_t W = lanes_of<Arch, T>::value;
  // Accumulators per column block: half the vector registers.
  constexpr std::size_t NA = is_scalar_arch<Arch> ? 4 : params<Arch, T>::regs / 2;
  constexpr std::size_t CB = NA * W;  // columns per block
  // Block q covers columns [q * CB, min((q + 1) * CB, cols)): fixed positions, so a column's
  // arithmetic never depends on how blocks are split over threads.
  auto block_range = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t q = lo; q < hi; ++q) {
      const std::size_t j0 = q * CB, j1 = j0 + CB < cols ? j0 + CB : cols;
      std::size_t j = j0;
      if constexpr (!is_scalar_arch<Arch>) {
        using B = xsimd::batch<T, Arch>;
        if (j1 - j0 == CB) {
          B acc[NA];
#pragma GCC unroll 16
          for (std::size_t v = 0; v < NA; ++v) acc[v] = B(T(0));
          for (std::size_t p = 0; p < rows; ++p) {
            const B xv(x[p * incx]);
            const T* ar = a + p * lda + j0;
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NA; ++v) {
              acc[v] = fmadd<Arch, T>(xv, B::load_unaligned(ar + v * W), acc[v]);
            }
          }
          if (incy == 1) {
            // alpha * acc + beta * y a vector at a time (beta == 0 never reads y).
            const B va(alpha), vb(beta);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NA; ++v) {
              T* out = y + j0 + v * W;
              const B r = beta == T(0) ? va * acc[v]
                                       : fmadd<Arch, T>(va, acc[v], vb * B::load_unaligned(out));
              r.store_unaligned(out);
            }
          } else {
            alignas(64) T tmp[CB];
            for (std::size_t v = 0; v < NA; ++v) acc[v].store_aligned(tmp + v * W);
            for (std::size_t t = 0; t < CB; ++t) {
              y[(j0 + t) * incy] = update<Arch, T>(alpha, tmp[t], beta, y[(j0 + t) * incy]);
            }
          }
          j = j1;
        } else {
          for (; j + W <= j1; j += W) {
            B acc(T(0));
            for (std::size_t p = 0; p < rows; ++p) {
              acc = fmadd<Arch, T>(B(x[p * incx]), B::load_unaligned(a + p * lda + j), acc);
            }
            alignas(64) T tmp[W];
            acc.store_aligned(tmp);
            for (std::size_t t = 0; t < W; ++t) {
              y[(j + t) * incy] = update<Arch, T>(alpha, tmp[t], beta, y[(j + t) * incy]);
            }
          }
        }
      }
      for (; j < j1; ++j) {
        T acc = T(0);
        for (std::size_t p = 0; p < rows; ++p) acc += x[p * incx] * a[p * lda + j];
        y[j * incy] = update<Arch, T>(alpha, acc, beta, y[j * incy]);
      }
    }
  };
  const std::size_t blocks = (cols + CB - 1) / CB;
  const std::size_t grain = gemv_parallel_work / (CB * rows + 1) + 1;
  parallel_for(0, blocks, grain, block_range);
}

}  // namespace ember::kernels::impl::gemm_detail
