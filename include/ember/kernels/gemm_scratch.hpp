// ember: GEMM cache blocking and the size of the scratch space a GEMM call needs.
//
// Arch-free on purpose: generic code (dispatch.hpp, ops) sizes scratch without knowing which ISA
// will run, so the size is the maximum over every blocking any kernel table may use.
#pragma once

#include <cstddef>

namespace ember::kernels {

namespace detail {

// Register tile (mr x nr), and the cache blocks: kc (depth of one packed panel), mc (rows of A
// packed per block), nc (columns of B packed per block).
// ns: columns of B packed per pass (several nc blocks, so threads can each take some).
// The functions below are called both from generic code and from the per-ISA units. `static` gives
// each translation unit its own copy, so an out-of-line copy compiled with AVX-512 flags can never
// be linked into generic code (the ODR hazard of DESIGN section 3).
struct GemmBlocking {
  std::size_t mr, nr, kc, mc, nc, ns;
};

// Blocking for `lanes` elements of T per vector register (1: scalar code) and `regs` vector
// registers. Sizes were tuned on AMD Zen 4 (32 KiB L1d, 1 MiB L2 per core); on Zen 5 (48 KiB L1d)
// other nc and prefetch distances measured no better (benchmarks/results/gemm.md):
//  - the tile holds mr x (nr / lanes) accumulators, two B vectors and a broadcast A value;
//  - one packed A micro-panel (mr x kc, up to 28 KiB) is reused while the micro-kernel sweeps
//    the packed B block; the B stream evicts it from L1, so the tile prefetches it from L2. kc is
//    the deepest that fits 28 KiB: every kc slice is one more pass over C and, with several
//    threads, one more fork-join. Measured, 1024^3: kc 512 instead of 256 on 2 threads raised
//    ember / oneDNN (per round, 20 rounds in one process, three runs each) from 0.86-0.97 to
//    0.95-1.0; one thread the same;
//  - the packed B block (kc x nc) stays in L2 (about 512 KiB);
//  - the packed A block (mc x kc) is packed once per kc slice and read from L3.
template <class T>
static constexpr GemmBlocking gemm_blocking(std::size_t lanes, std::size_t regs) noexcept {
  GemmBlocking b{};
  if (lanes <= 1) {
    b.mr = 4;
    b.nr = 4;
  } else {
    b.nr = 2 * lanes;
    b.mr = regs >= 32 ? 14 : 6;  // 2 * mr accumulators + 3 working registers <= regs
  }
  std::size_t kc = (28 * 1024) / (b.mr * sizeof(T));
  kc = kc < 64 ? 64 : (kc > 512 ? 512 : kc);
  b.kc = kc / 8 * 8;
  std::size_t nc = (512 * 1024) / (b.kc * sizeof(T));
  nc = nc < 4 * b.nr ? 4 * b.nr : nc;
  b.nc = nc / b.nr * b.nr;
  b.ns = 4 * b.nc;
  // Large: B is packed once per mc rows (the A block is read from L3), so up to 2048 rows pack B
  // once.
  b.mc = (2048 + b.mr - 1) / b.mr * b.mr;
  return b;
}

template <class T>
static constexpr std::size_t gemm_round_up(std::size_t x, std::size_t to) noexcept {
  return (x + to - 1) / to * to;
}

// Up to this many threads, a GEMM may give each thread its own B block (kc x nc) and its own part
// of the A block in the scratch space, to split the rows of C (gemm.hpp, split_rows); with more,
// threads share the packed blocks.
inline constexpr std::size_t gemm_private_b_threads = 4;

// Elements per 64-byte line: every scratch region starts on a cache line.
template <class T>
static constexpr std::size_t gemm_line_elems() noexcept {
  return 64 / sizeof(T) > 0 ? 64 / sizeof(T) : 1;
}

// Columns of the packed B region: one pass shared by the threads (ns), or one block (nc) for
// each of gemm_private_b_threads, whichever is wider.
template <class T>
static constexpr std::size_t gemm_b_region_cols(const GemmBlocking& b, std::size_t n) noexcept {
  const std::size_t pass = gemm_round_up<T>(n < b.ns ? n : b.ns, b.nr);
  const std::size_t block = gemm_round_up<T>(n < b.nc ? n : b.nc, b.nr);
  return pass > gemm_private_b_threads * block ? pass : gemm_private_b_threads * block;
}

// Rows of the packed A region: one block (mc), whose slivers threads either share or divide, each
// its share rounded up to whole slivers (up to gemm_private_b_threads).
template <class T>
static constexpr std::size_t gemm_a_region_rows(const GemmBlocking& b, std::size_t m) noexcept {
  return gemm_round_up<T>(m < b.mc ? m : b.mc, b.mr) + (gemm_private_b_threads - 1) * b.mr;
}

// Scratch one GEMM with blocking `b` uses: packed B region (kc x gemm_b_region_cols), packed A
// region (gemm_a_region_rows x kc) and one packed edge panel of B (kc x nr), each on its own cache
// line, plus slack to align the base.
template <class T>
static constexpr std::size_t gemm_scratch_elems(const GemmBlocking& b, std::size_t m, std::size_t n,
                                                std::size_t k) noexcept {
  if (m == 0 || n == 0 || k == 0) return 0;
  const std::size_t line = gemm_line_elems<T>();
  const std::size_t kc = k < b.kc ? k : b.kc;
  return gemm_round_up<T>(kc * gemm_b_region_cols<T>(b, n), line) +
         gemm_round_up<T>(gemm_a_region_rows<T>(b, m) * kc, line) +
         gemm_round_up<T>(kc * b.nr, line) + line;
}

}  // namespace detail

// Elements of T that `scratch` must hold for gemm<T>(..., m, n, k, ..., scratch) (and for each call
// of gemm_strided_batched with the same m, n, k: batches reuse it one after another). An upper
// bound valid for every ISA and every thread count: threads pack disjoint parts of one A block,
// and either one shared B pass or (up to gemm_private_b_threads) one B block each, whose space is
// reserved whatever the thread count. Bounded by the cache blocks, not by the problem (at most
// about 6 MiB for float, 9 MiB for double). Passing scratch == nullptr makes the call allocate
// (64-byte aligned) and free its own. The pointer needs only T's alignment.
template <class T>
static constexpr std::size_t gemm_scratch_size(std::size_t m, std::size_t n,
                                               std::size_t k) noexcept {
  std::size_t best = detail::gemm_scratch_elems<T>(detail::gemm_blocking<T>(1, 16), m, n, k);
  for (std::size_t lanes = 2; lanes <= 64 / sizeof(T); lanes *= 2) {
    for (std::size_t regs = 16; regs <= 32; regs *= 2) {
      const std::size_t s =
          detail::gemm_scratch_elems<T>(detail::gemm_blocking<T>(lanes, regs), m, n, k);
      best = s > best ? s : best;
    }
  }
  return best;
}

// Elements of T that gemm_pack_a<T>(trans_a, m, k, ...) writes: op(A) with its rows rounded up to
// whole register-tile slivers, for the widest tile of any ISA.
template <class T>
static constexpr std::size_t gemm_packed_a_size(std::size_t m, std::size_t k) noexcept {
  if (m == 0 || k == 0) return 0;
  std::size_t best = detail::gemm_round_up<T>(m, detail::gemm_blocking<T>(1, 16).mr) * k;
  for (std::size_t lanes = 2; lanes <= 64 / sizeof(T); lanes *= 2) {
    for (std::size_t regs = 16; regs <= 32; regs *= 2) {
      const std::size_t s =
          detail::gemm_round_up<T>(m, detail::gemm_blocking<T>(lanes, regs).mr) * k;
      best = s > best ? s : best;
    }
  }
  return best;
}

}  // namespace ember::kernels
