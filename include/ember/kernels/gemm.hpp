// ember: matrix products (GEMM, strided-batched GEMM, GEMV); arch-tagged implementations, called
// through dispatch.hpp.
//
// GEMM follows the BLIS/GotoBLAS structure, with the operand roles of a row-major C:
//   for each kc-deep slice of K                   (pc)
//     for each mc-tall row block of A             (ic)   pack A block (mc x kc, once)
//       for each nc-wide column block of B        (jc)   pack B block (kc x nc, stays in L2)
//         for each mr-row A sliver               (ir)   A sliver (mr x kc), fetched from L2
//           for each nr-wide B micro-panel       (jr)   register tile mr x nr
// Threads either each take a share of the slivers of every block, packing their own A slivers and
// B blocks (split_rows), or share the packed A block and take disjoint runs of B panels (with few
// panels, disjoint slivers). A non-transposed A is read in place, unpacked, unless its leading
// dimension makes its rows collide in L1: rows_spread; so is B with at most unpacked_max_m rows of
// C. Threads split only the columns or rows of C, never K, and each element of C is one fused
// multiply-add chain per kc slice, added to C slice after slice in order: results do not depend on
// the thread count. Shapes where packing cannot pay take the matrix-vector path (one row or one
// column of C) or the dot-product path (a small C from A times B^T with a long K: gemm_dot.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/gemm_dot.hpp"
#include "ember/kernels/gemm_gemv.hpp"
#include "ember/kernels/gemm_microkernel.hpp"
#include "ember/kernels/gemm_pack.hpp"
#include "ember/kernels/gemm_scratch.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::kernels::impl {

namespace gemm_detail {

// Multiply-adds below which a parallel region is not worth its start-up (a few microseconds).
inline constexpr std::size_t parallel_work = std::size_t(1) << 18;
// With at most this many rows of C, B is read in place (no packing) when it is not transposed:
// packing costs a pass over B that too few A slivers would reuse (measured on Zen 4: 64 rows
// x 256 x 256 runs about 10% faster unpacked).
template <class Arch, class T>
inline constexpr std::size_t unpacked_max_m = 64;

// Whether the register tile reads its MR rows of a non-transposed A in place, lda apart, instead
// of a packed copy: yes unless more than 4 fall in one L1 set (sets repeat every 4 KiB). Packing A
// is a transpose from L3 and, with threads, a barrier before the tiles. Reading in place, ember /
// oneDNN per run (median of 10 rounds, medians of 5-8 runs, Zen 5): 256^3 0.96 -> 1.01,
// 128 x 784 x 300 0.96 -> 0.99, 1000^3 on 2 threads 0.93 -> 0.99, 600^3 0.99 -> 1.0, 1000^3 and
// 256 x 1152 x 64 unchanged; 32 x 128 x 784 0.96 -> 1.0 (Zen 4). With lda 1024 floats, all 14 rows
// of an AVX-512 tile share one set (8-way on Zen 4, 12-way on Zen 5) and evict each other every
// step: 0.6x the packed path at 64 x 256 x 1024.
template <class Arch, class T>
bool rows_spread(std::size_t lda) noexcept {
  unsigned char rows_in_set[64] = {};
  for (std::size_t i = 0; i < params<Arch, T>::mr; ++i) {
    if (++rows_in_set[i * lda * sizeof(T) / 64 % 64] > 4) return false;
  }
  return true;
}

template <class Arch, class T>
T* align_line(T* p) noexcept {
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<T*>((addr + 63) & ~std::uintptr_t(63));
}

// C = beta * C (beta == 0 writes zeros, ignoring NaN in C).
template <class Arch, class T>
void scale_c(std::size_t m, std::size_t n, T beta, T* c, std::size_t ldc) noexcept {
  for (std::size_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (std::size_t j = 0; j < n; ++j) row[j] = T(0);
    } else if (beta != T(1)) {
      for (std::size_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// Rows of the whole of op(A) once packed (every mc block rounded up to whole slivers; mc is a
// multiple of mr, so only the last block is rounded).
template <class Arch, class T>
std::size_t packed_rows(std::size_t m) noexcept {
  constexpr std::size_t MR = params<Arch, T>::mr;
  return (m + MR - 1) / MR * MR;
}

// Packs all of op(A) (m x k) in the layout gemm_blocked reads: slice pc (kc deep), block ic (mc
// tall) at packed + pc * packed_rows(m) + ic * kc, its slivers MR * kc apart.
template <class Arch, class T>
void pack_a_all(bool trans_a, std::size_t m, std::size_t k, const T* a, std::size_t lda,
                T* packed) noexcept {
  using P = params<Arch, T>;
  constexpr std::size_t MR = P::mr, KC = P::kc, MC = P::mc;
  const std::size_t mp = packed_rows<Arch, T>(m);
  for (std::size_t pc = 0; pc < k; pc += KC) {
    const std::size_t kc = k - pc < KC ? k - pc : KC;
    for (std::size_t ic = 0; ic < m; ic += MC) {
      const std::size_t mc = m - ic < MC ? m - ic : MC;
      const std::size_t slivers = (mc + MR - 1) / MR;
      T* block = packed + pc * mp + ic * kc;
      // Serial: a layer's weights are small, and a parallel region here would be one more thread
      // start-up per call.
      for (std::size_t s = 0; s < slivers; ++s) {
        const std::size_t i0 = ic + s * mc / slivers, i1 = ic + (s + 1) * mc / slivers;
        pack_a<Arch, T>(trans_a, a, lda, i0, pc, i1 - i0, kc, block + s * MR * kc);
      }
    }
  }
}

// Whether each of nt threads takes a share of the slivers of every block of C and packs its own A
// slivers and its own copy of B (one nc block at a time), rather than all sharing the packed
// blocks. Split rows, no thread reads what another wrote: the call is one parallel region with no
// barrier, and no core fetches packed A from another's cache or shares a line of C with it (with
// a shared block, threads take disjoint panels, and a C row whose length is not a multiple of 64
// bytes puts a line on both sides of the split). The price is a copy of B per thread.
//
// The choice counts tiles per thread, a panel's packing as one tile: rows when they cost at most
// 3% more than sharing, or 6% when the threads would share a packed A (packs_a: a barrier after
// packing it, and half of it read from the other core's cache). One thread always takes this
// path; B read in place (at most unpacked_max_m rows) never splits rows over threads (few slivers,
// and one buffer for its edge panel).
//
// Measured on Zen 5, 2 threads: rows / sharing, per round in one process (median of 20 rounds,
// two or three processes); in brackets, how many more tiles rows cost by that count:
//  - 1024^3 (1.3% more) 1.01-1.03, 2048^3 (1.4%) 1.04-1.06, 600^3 (0.7% fewer) 1.07-1.15,
//    1024 x 128 x 1024 (1.3%) 1.16-1.24, 512^3 with A packed (5.3%) 0.99-1.02: rows;
//  - 128 x 784 x 300 with A read in place (4.9%) 0.90-0.97, 256^3 (10%) 0.96: sharing.
// Details in benchmarks/results/gemm.md.
template <class Arch, class T>
bool split_rows(std::size_t nt, std::size_t m, std::size_t n, bool packs_a,
                bool direct_b) noexcept {
  using P = params<Arch, T>;
  if (nt == 1) return true;
  if (nt > detail::gemm_private_b_threads || direct_b) return false;
  const std::size_t mc = m < P::mc ? m : P::mc, ns = n < P::ns ? n : P::ns;
  const std::size_t slivers = (mc + P::mr - 1) / P::mr, panels = (ns + P::nr - 1) / P::nr;
  const std::size_t rows = ((slivers + nt - 1) / nt + 1) * ((n + P::nr - 1) / P::nr);
  const std::size_t shared = (panels + nt - 1) / nt * (slivers + 1) * ((n + ns - 1) / ns);
  return rows * 100 <= shared * (packs_a ? 106 : 103);
}

// The packed path; scratch holds detail::gemm_scratch_elems(params::blocking, m, n, k) elements.
template <class Arch, class T>
void gemm_blocked(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
                  const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
                  std::size_t ldc, T* scratch, const T* packed_a = nullptr) noexcept {
  using P = params<Arch, T>;
  constexpr std::size_t MR = P::mr, NR = P::nr, KC = P::kc, MC = P::mc, NC = P::nc, NS = P::ns;
  const std::size_t line = detail::gemm_line_elems<T>();
  const std::size_t kc_max = k < KC ? k : KC;
  const std::size_t mc_max = detail::gemm_round_up<T>(m < MC ? m : MC, MR);
  T* const b_block = align_line<Arch>(scratch);
  T* const a_block = b_block + detail::gemm_round_up<T>(
                                   kc_max * detail::gemm_b_region_cols<T>(P::blocking, n), line);
  T* const b_edge = a_block + detail::gemm_round_up<T>(
                                  detail::gemm_a_region_rows<T>(P::blocking, m) * kc_max, line);

  const bool direct_b = !trans_b && m <= unpacked_max_m<Arch, T>;
  const bool direct_a = !trans_a && packed_a == nullptr && rows_spread<Arch, T>(lda);
  // Threads, as many as get parallel_work multiply-adds each.
  const double fit = double(m) * double(n) * double(k) / double(parallel_work);
  const auto threads = static_cast<std::size_t>(threads_here());
  const std::size_t nt = fit >= double(threads) ? threads : fit >= 2 ? std::size_t(fit) : 1;

  // The block of C at rows ic.. (mc of them, in `slivers` slivers) and the kc slice at pc.
  struct Block {
    std::size_t pc, kc, ic, mc, slivers;
    std::size_t row(std::size_t s) const noexcept { return ic + s * mc / slivers; }
  };
  auto block_at = [&](std::size_t pc, std::size_t ic) {
    const std::size_t kc = k - pc < KC ? k - pc : KC, mc = m - ic < MC ? m - ic : MC;
    // Rows split evenly over the fewest slivers of at most MR rows (32 rows: 11, 11, 10, not
    // 14, 14, 4): every tile keeps enough accumulators busy. Positions depend only on m.
    return Block{pc, kc, ic, mc, (mc + MR - 1) / MR};
  };
  // The block's A slivers s0..s1-1, packed at dst (sliver s at dst + (s - s0) * MR * kc) unless A
  // is read in place or was packed by the caller; returns where sliver s0 is.
  auto pack_slivers = [&](const Block& blk, std::size_t s0, std::size_t s1, T* dst) -> const T* {
    if (packed_a != nullptr) {
      return packed_a + blk.pc * packed_rows<Arch, T>(m) + blk.ic * blk.kc + s0 * MR * blk.kc;
    }
    if (!direct_a) {
      for (std::size_t s = s0; s < s1; ++s) {
        pack_a<Arch, T>(trans_a, a, lda, blk.row(s), blk.pc, blk.row(s + 1) - blk.row(s), blk.kc,
                        dst + (s - s0) * MR * blk.kc);
      }
    }
    return dst;
  };
  // Register tile: sliver s of the block, its A packed at as (unless read in place), the B panel
  // at column j0, packed at bpanel (unless B is read in place). pack_here: a full, non-transposed
  // panel is read in place and packed by this tile into bpanel (the first sliver's tile does it),
  // not by pack_panel.
  auto tile = [&](const Block& blk, const T* as, std::size_t s, std::size_t j0, T* bpanel,
                  bool pack_here) {
    const std::size_t i0 = blk.row(s), mr = blk.row(s + 1) - i0;
    const std::size_t nr = n - j0 < NR ? n - j0 : NR;
    const T* bp = bpanel;
    std::size_t bstride = NR;
    T* b_copy = nullptr;
    if (direct_b) {
      bp = nr == NR ? b + blk.pc * ldb + j0 : b_edge;
      bstride = nr == NR ? ldb : NR;
    } else if (pack_here && nr == NR) {
      b_copy = bpanel;
      bp = b + blk.pc * ldb + j0;
      bstride = ldb;
    }
    micro_kernel<Arch, T>(blk.kc, direct_a ? a + i0 * lda + blk.pc : as, direct_a ? lda : 0, bp,
                          bstride, alpha, blk.pc == 0 ? beta : T(1), c + i0 * ldc + j0, ldc, mr, nr,
                          b_copy);
  };
  // Packs the B panel at column j0 into bpanel; with fused, only a narrow edge panel (a full one
  // is packed by its first tile).
  auto pack_panel = [&](const Block& blk, std::size_t j0, T* bpanel, bool fused) {
    const std::size_t nr = n - j0 < NR ? n - j0 : NR;
    if (!direct_b && (!fused || nr < NR)) {
      pack_b<Arch, T>(trans_b, b, ldb, blk.pc, j0, blk.kc, nr, bpanel);
    }
  };
  // Slivers s0..s1-1 of the block times B panels q0..q1-1 (counted from column j0), one nc block
  // at a time, each packed at bblk and swept with every sliver.
  auto sweep = [&](const Block& blk, const T* ablk, std::size_t s0, std::size_t s1, std::size_t j0,
                   std::size_t q0, std::size_t q1, T* bblk, bool fused) {
    for (std::size_t qb = q0; qb < q1; qb += NC / NR) {
      const std::size_t qe = qb + NC / NR < q1 ? qb + NC / NR : q1;
      for (std::size_t q = qb; q < qe; ++q) {
        pack_panel(blk, j0 + q * NR, bblk + (q - qb) * blk.kc * NR, fused);
      }
      for (std::size_t s = s0; s < s1; ++s) {
        for (std::size_t q = qb; q < qe; ++q) {
          tile(blk, ablk + (s - s0) * MR * blk.kc, s, j0 + q * NR, bblk + (q - qb) * blk.kc * NR,
               fused && s == s0);
        }
      }
    }
  };
  const std::size_t all_panels = (n + NR - 1) / NR;

  if (split_rows<Arch, T>(nt, m, n, !direct_a && packed_a == nullptr, direct_b)) {
    // Thread t: its share of the slivers of every block, packed in its own part of the A region,
    // and B one nc block at a time in its own part of the B region (gemm_a_region_rows and
    // gemm_b_region_cols reserve them). No thread writes where another reads, at any time.
    const std::size_t b_stride = kc_max * detail::gemm_round_up<T>(n < NC ? n : NC, NR);
    const std::size_t a_stride = (mc_max / MR + nt - 1) / nt * MR * kc_max;
    parallel_for(0, nt, 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t t = lo; t < hi; ++t) {
        for (std::size_t pc = 0; pc < k; pc += KC) {
          for (std::size_t ic = 0; ic < m; ic += MC) {
            const Block blk = block_at(pc, ic);
            const std::size_t s0 = blk.slivers * t / nt, s1 = blk.slivers * (t + 1) / nt;
            if (s0 == s1) continue;
            T* bmine = b_block + t * b_stride;
            T* amine = a_block + t * a_stride;
            if (direct_b && n % NR != 0) {  // one thread only (split_rows)
              pack_b<Arch, T>(false, b, ldb, pc, n / NR * NR, blk.kc, n % NR, b_edge);
            }
            sweep(blk, pack_slivers(blk, s0, s1, amine), s0, s1, 0, 0, all_panels, bmine, !trans_b);
          }
        }
      }
    });
    return;
  }

  // Threads share the packed blocks: A packed once per block by all of them, then each takes
  // disjoint B panels (or, with few panels, disjoint slivers).
  for (std::size_t pc = 0; pc < k; pc += KC) {
    if (direct_b && n % NR != 0) {
      const std::size_t j0 = n / NR * NR;
      pack_b<Arch, T>(false, b, ldb, pc, j0, k - pc < KC ? k - pc : KC, n - j0, b_edge);
    }
    for (std::size_t ic = 0; ic < m; ic += MC) {
      const Block blk = block_at(pc, ic);
      const std::size_t kc = blk.kc, slivers = blk.slivers;
      const T* ablk = pack_slivers(blk, 0, 0, a_block);
      if (packed_a == nullptr && !direct_a) {
        parallel_for(0, slivers, parallel_work / (MR * kc * 16) + 1,
                     [&](std::size_t lo, std::size_t hi) {
                       pack_slivers(blk, lo, hi, a_block + lo * MR * kc);
                     });
      }
      for (std::size_t js = 0; js < n; js += NS) {
        const std::size_t ns = n - js < NS ? n - js : NS;
        const std::size_t panels = (ns + NR - 1) / NR;
        // Split the panels unless there are too few for the threads to share them about evenly
        // (then the slivers are split). Measured, Linear(3136, 128) at batch 64 (4 panels, 5
        // slivers) on 2 threads: 0.67 ms splitting slivers, whose B panels one thread packs
        // while the other waits, 0.39 ms splitting panels (1 thread: 0.56 ms).
        if (panels >= 8 || (panels + nt - 1) / nt * slivers <= (slivers + nt - 1) / nt * panels) {
          // Threads take disjoint runs of B panels: each packs its own panels, nc columns at a
          // time (they stay in its L2), and sweeps them with every A sliver. One parallel region.
          parallel_for(0, panels, parallel_work / (blk.mc * kc * NR) + 1,
                       [&](std::size_t lo, std::size_t hi) {
                         sweep(blk, ablk, 0, slivers, js, lo, hi, b_block + lo * kc * NR, !trans_b);
                       });
        } else {
          // Few columns: pack them once, and threads take disjoint A slivers.
          parallel_for(0, panels, parallel_work / (kc * NR * 8) + 1,
                       [&](std::size_t lo, std::size_t hi) {
                         for (std::size_t q = lo; q < hi; ++q)
                           pack_panel(blk, js + q * NR, b_block + q * kc * NR, false);
                       });
          parallel_for(
              0, slivers, parallel_work / (MR * ns * kc) + 1, [&](std::size_t lo, std::size_t hi) {
                for (std::size_t s = lo; s < hi; ++s) {
                  for (std::size_t q = 0; q < panels; ++q)
                    tile(blk, ablk + s * MR * kc, s, js + q * NR, b_block + q * kc * NR, false);
                }
              });
        }
      }
    }
  }
}

// The caller's scratch, or (when it passed none and the call needs some) one allocated for the
// call and freed on return. The standard aligned operator new, not ember/aligned_memory.hpp: an
// inline helper shared with generic code must not be compiled into a per-ISA unit (DESIGN
// section 3; tools/check-isa-symbols.sh).
template <class Arch, class T>
class Scratch {
 public:
  Scratch(T* given, bool needed, std::size_t m, std::size_t n, std::size_t k) : p_(given) {
    if (p_ == nullptr && needed) {
      const std::size_t elems =
          ember::kernels::detail::gemm_scratch_elems<T>(params<Arch, T>::blocking, m, n, k);
      owned_ = ::operator new(elems * sizeof(T), std::align_val_t(64));
      p_ = static_cast<T*>(owned_);
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (owned_ != nullptr) ::operator delete(owned_, std::align_val_t(64));
  }
  T* get() const noexcept { return p_; }

 private:
  T* p_;
  void* owned_ = nullptr;
};

}  // namespace gemm_detail

// See KernelSet::gemm (kernel_table.hpp). scratch: gemm_scratch_size<T>(m, n, k) elements
// (gemm_scratch.hpp), or nullptr to allocate here.
template <class Arch, class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          T* scratch) {
  namespace gd = gemm_detail;
  if (m == 0 || n == 0) return;
  if (alpha == T(0) || k == 0) {
    gd::scale_c<Arch, T>(m, n, beta, c, ldc);
    return;
  }
  if (m == 1) {
    // Row of C = op(A) row (stride lda when transposed) times op(B).
    const std::size_t incx = trans_a ? lda : 1;
    if (trans_b) {
      gd::gemv_rows<Arch, T>(n, k, alpha, b, ldb, a, incx, beta, c, 1);
    } else {
      gd::gemv_cols<Arch, T>(k, n, alpha, b, ldb, a, incx, beta, c, 1);
    }
    return;
  }
  if (n == 1) {
    // Column of C (stride ldc) = op(A) times op(B) column (stride ldb unless transposed).
    const std::size_t incx = trans_b ? 1 : ldb;
    if (trans_a) {
      gd::gemv_cols<Arch, T>(k, m, alpha, a, lda, b, incx, beta, c, ldc);
    } else {
      gd::gemv_rows<Arch, T>(m, k, alpha, a, lda, b, incx, beta, c, ldc);
    }
    return;
  }
  if (gd::use_dot<Arch, T>(trans_a, trans_b, m, n, k)) {
    gd::gemm_dot<Arch, T>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const gd::Scratch<Arch, T> s(scratch, true, m, n, k);
  gd::gemm_blocked<Arch, T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                            s.get());
}

// See KernelSet::gemm_pack_a.
template <class Arch, class T>
void gemm_pack_a(bool trans_a, std::size_t m, std::size_t k, const T* a, std::size_t lda,
                 T* packed) noexcept {
  if (m == 0 || k == 0) return;
  gemm_detail::pack_a_all<Arch, T>(trans_a, m, k, a, lda, packed);
}

// See KernelSet::gemm_packed.
template <class Arch, class T>
void gemm_packed(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* packed_a,
                 bool trans_b, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
                 T* scratch) {
  namespace gd = gemm_detail;
  if (m == 0 || n == 0) return;
  if (alpha == T(0) || k == 0) {
    gd::scale_c<Arch, T>(m, n, beta, c, ldc);
    return;
  }
  const gd::Scratch<Arch, T> s(scratch, true, m, n, k);
  gd::gemm_blocked<Arch, T>(false, trans_b, m, n, k, alpha, nullptr, 0, b, ldb, beta, c, ldc,
                            s.get(), packed_a);
}

template <class Arch, class T>
void gemm_strided_batched(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                          T alpha, const T* a, std::size_t lda, std::size_t stride_a, const T* b,
                          std::size_t ldb, std::size_t stride_b, T beta, T* c, std::size_t ldc,
                          std::size_t stride_c, std::size_t batch, T* scratch) {
  if (batch == 0 || m == 0 || n == 0) return;
  // One allocation serves every batch entry (none when no entry packs).
  const bool packed = m > 1 && n > 1 && k > 0 && alpha != T(0);
  const gemm_detail::Scratch<Arch, T> s(scratch, packed, m, n, k);
  for (std::size_t i = 0; i < batch; ++i) {
    gemm<Arch, T>(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb,
                  beta, c + i * stride_c, ldc, s.get());
  }
}

// See KernelSet::gemv: y = alpha * op(A) * x + beta * y, A m x n.
template <class Arch, class T>
void gemv(bool trans_a, std::size_t m, std::size_t n, T alpha, const T* a, std::size_t lda,
          const T* x, T beta, T* y) noexcept {
  const std::size_t rows = trans_a ? n : m;
  if (rows == 0) return;
  if (alpha == T(0) || (trans_a ? m : n) == 0) {
    gemm_detail::scale_c<Arch, T>(1, rows, beta, y, 1);
    return;
  }
  if (trans_a) {
    gemm_detail::gemv_cols<Arch, T>(m, n, alpha, a, lda, x, 1, beta, y, 1);
  } else {
    gemm_detail::gemv_rows<Arch, T>(m, n, alpha, a, lda, x, 1, beta, y, 1);
  }
}

}  // namespace ember::kernels::impl
