// ember: the table of kernel entry points that one instruction set provides.
//
// Conventions for every kernel: raw pointers, sizes and leading dimensions (row-major: element
// (i, j) of a matrix with leading dimension ld is p[i * ld + j]); no Tensor, no autograd, no
// allocation unless a scratch pointer is allowed to be null; results are identical for any thread
// count (work is split so that each output element is reduced in a fixed order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/isa.hpp"

namespace ember::kernels {

enum class UnaryOp { exp, log, tanh, sigmoid, relu, gelu, gelu_tanh, silu, neg, abs, sqrt, rsqrt };
// relu_grad: y = b <= 0 ? 0 : a (a: the incoming gradient, b: relu's output; NaN in b passes a,
// like PyTorch's threshold_backward).
enum class BinaryOp { add, sub, mul, div, max, min, relu_grad };
enum class RowReduce { sum, max, sumsq };

// A direct convolution over one image (kernels/conv_direct.hpp), column stride 1: output pixel
// (oh, ow), tap (c, kh, kw) reads x[c * ldp + (oh * sh + kh * dh) * ldx + ow + kw * dw] (the
// padding already applied by the caller). Output channels go in blocks of kDirectOcBlock; OCp is
// OC rounded up to a multiple of it.
inline constexpr std::size_t kDirectOcBlock = 16;
// KernelSet::conv_rows_*: at most this many output channels; x readable this many elements past
// the last tap of the last pixel (a whole vector of the widest ISA).
inline constexpr std::size_t kRowsMaxOc = 8;
inline constexpr std::size_t kRowsMargin = 32;
// col2im's geometry for KernelSet::col2im_plane (one channel, column stride 1).
struct Col2imShape {
  std::size_t H = 0, W = 0, KH = 0, KW = 0;  // image and kernel size
  std::size_t sh = 1, dh = 1, dw = 1;        // row stride, dilation
  std::size_t OH = 0, OW = 0;                // output size
  std::int64_t ph = 0, pw = 0;               // padding before the first row / column
};
// The room KernelSet::col2im_plane needs around its col matrix (see there).
inline constexpr std::size_t col2im_margin(std::size_t W, std::size_t max_abs_off) noexcept {
  return W + max_abs_off + 64;
}
struct DirectConvShape {
  std::size_t C = 0, KH = 0, KW = 0;   // input channels, kernel size
  std::size_t sh = 1, dh = 1, dw = 1;  // row stride, dilation
  std::size_t OH = 0, OW = 0;          // output size
  std::size_t ldx = 0, ldp = 0;        // elements between input rows / channel planes
  std::size_t OC = 0;                  // output channels
};

// The kernels for one element type. Plain function pointers: no state.
template <class T>
struct KernelSet {
  // y[i] += alpha * x[i] for i < n.
  void (*axpy)(std::size_t n, T alpha, const T* x, T* y) noexcept = nullptr;
  // x[i] *= alpha for i < n.
  void (*scale)(std::size_t n, T alpha, T* x) noexcept = nullptr;

  // C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n, C m x n, row-major.
  // trans_a: A is stored k x m (op(A) = A^T). beta == 0 ignores C's old contents (NaN included).
  // scratch: at least gemm_scratch_size<T>(m, n, k) elements, or nullptr to let the call allocate.
  void (*gemm)(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
               const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
               std::size_t ldc, T* scratch) = nullptr;
  // op(A) (m x k) packed once for several gemm_packed calls (a convolution's weights, reused for
  // every image): `packed` holds gemm_packed_a_size<T>(m, k) elements. The layout belongs to this
  // table: pass it only to this table's gemm_packed, with the same m and k.
  void (*gemm_pack_a)(bool trans_a, std::size_t m, std::size_t k, const T* a, std::size_t lda,
                      T* packed) noexcept = nullptr;
  // gemm with op(A) from gemm_pack_a: C = alpha * op(A) * op(B) + beta * C; scratch as for gemm.
  // Bitwise equal to gemm on the same operands whenever gemm takes its packed (blocked) path.
  void (*gemm_packed)(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* packed_a,
                      bool trans_b, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
                      T* scratch) = nullptr;
  // `batch` independent GEMMs; matrix i of A starts at a + i * stride_a (likewise B, C).
  void (*gemm_strided_batched)(bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                               std::size_t k, T alpha, const T* a, std::size_t lda,
                               std::size_t stride_a, const T* b, std::size_t ldb,
                               std::size_t stride_b, T beta, T* c, std::size_t ldc,
                               std::size_t stride_c, std::size_t batch, T* scratch) = nullptr;
  // y = alpha * op(A) * x + beta * y; A is m x n; x, y contiguous.
  void (*gemv)(bool trans_a, std::size_t m, std::size_t n, T alpha, const T* a, std::size_t lda,
               const T* x, T beta, T* y) noexcept = nullptr;

  // y[i] = f(x[i]) for i < n; y may equal x.
  void (*unary)(UnaryOp op, std::size_t n, const T* x, T* y) noexcept = nullptr;
  // y[i] = a[i] op b[i]; y may alias a or b.
  void (*binary)(BinaryOp op, std::size_t n, const T* a, const T* b, T* y) noexcept = nullptr;
  // y[i] = a[i] op s (scalar_first: s op a[i]).
  void (*binary_scalar)(BinaryOp op, std::size_t n, const T* a, T s, bool scalar_first,
                        T* y) noexcept = nullptr;
  // y[r, c] = a[r, c] op v[c]: a trailing vector broadcast over rows (bias add).
  void (*binary_rowvec)(BinaryOp op, std::size_t rows, std::size_t cols, const T* a,
                        std::size_t lda, const T* v, T* y, std::size_t ldy) noexcept = nullptr;

  // Row-wise softmax / log-softmax of a rows x cols matrix; y may equal x.
  void (*softmax_rows)(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                       std::size_t ldy) noexcept = nullptr;
  void (*log_softmax_rows)(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                           std::size_t ldy) noexcept = nullptr;
  // out[r] = reduction of row r (sum, max, or sum of squares); max of an empty row is -inf.
  void (*reduce_rows)(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                      T* out) noexcept = nullptr;
  // out[c] = reduction of column c over rows 0, 1, ... in order; an empty column gives 0 or -inf.
  void (*reduce_cols)(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                      T* out) noexcept = nullptr;

  // Max pool, 2x2 window, stride 2 (kernels/pool.hpp): output (r, c) for r < rows, c < cols is
  // the first of the taps x[2r * ldx + 2c + t], t = 0, 1, ldx, ldx + 1, that is the maximum, or
  // the first NaN tap; y[r * ldy + c] gets its bits and at[r * ldy + c] (at may be null) its
  // offset from x. relu: y gets relu of that (v < 0 becomes +0) and at -1 where it is <= 0.
  void (*max_pool2x2)(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                      std::size_t ldy, std::int32_t* at, bool relu) noexcept = nullptr;
  // Its backward: writes all four taps of every window (gy + 0 on the argmax tap, 0 on the
  // others) in gx's first 2 * rows rows and 2 * cols columns, so they need no zero fill.
  void (*max_pool2x2_backward)(std::size_t rows, std::size_t cols, const T* gy,
                               const std::int32_t* at, std::size_t ldy, T* gx,
                               std::size_t ldx) noexcept = nullptr;

  // Direct convolution, forward (DirectConvShape): y[oc * ldy + oh * OW + ow] = bias[oc] +
  // sum over taps (c, kh, kw) in order of wt[k * OCp + oc] * x(pixel, tap), k = (c * KH + kh) *
  // KW + kw, for oc < OC; wt is [C * KH * KW][OCp], bias OCp entries or null (zero).
  void (*conv_direct_forward)(const DirectConvShape& s, const T* x, const T* wt, const T* bias,
                              T* y, std::size_t ldy) noexcept = nullptr;
  // Its weight gradient, accumulated: gw[k * OCp + oc] += sum over pixels p in order of
  // x(p, tap k) * gy[oc * ldgy + p], and gb[oc] += sum of gy[oc * ldgy + p] (gb may be null), for
  // oc < OCp (dY is zero past OC). scratch: OH * OW * kDirectOcBlock elements.
  void (*conv_direct_wgrad)(const DirectConvShape& s, const T* x, const T* gy, std::size_t ldgy,
                            T* gw, T* gb, T* scratch) noexcept = nullptr;

  // Direct convolution for at most kRowsMaxOc output channels, output pixels of a row in the
  // vector lanes (DirectConvShape): y[oc * ldy + oh * OW + ow] = bias[oc] (0 if null) + sum over
  // taps k = (c * KH + kh) * KW + kw in order of w[oc * K + k] * x(pixel, tap), w as [OC][K].
  // Vector loads read up to one vector past a row's last tap: x must be readable kRowsMargin
  // elements past the last tap of the last pixel.
  void (*conv_rows_forward)(const DirectConvShape& s, const T* x, const T* w, const T* bias, T* y,
                            std::size_t ldy) noexcept = nullptr;
  // Its weight gradient, accumulated: gw[oc * K + k] += the sum over pixels of x(pixel, tap k) *
  // gy[oc * ldgy + oh * OW + ow] (summed in vector lanes, then across them: the order depends
  // on the ISA). x as for conv_rows_forward.
  void (*conv_rows_wgrad)(const DirectConvShape& s, const T* x, const T* gy, std::size_t ldgy,
                          T* gw) noexcept = nullptr;
  // col2im of one channel plane, column stride 1, overwriting: img[ih * W + iw] = the sum over
  // taps (kh, kw) in order of col[(kh * KW + kw) * ldc + oh * OW + ow] for ih = oh * sh - ph +
  // kh * dh, iw = ow - pw + kw * dw (0 <= oh < OH, 0 <= ow < OW), +0 where no tap reaches. Masked
  // vector loads form addresses up to W + max(pw, (KW - 1) * dw) + 64 elements before col's first
  // entry and past its last: col must lie inside an allocation with that much room on both sides
  // (col2im_margin).
  void (*col2im_plane)(const Col2imShape& s, const T* col, std::size_t ldc,
                       T* img) noexcept = nullptr;

  // The Winograd row splits (kernels/winograd.hpp): for r < rows, k < n, s = 2k - pad,
  // e[r * lde + k] = x[r * ldx + s] and o[r * lde + k] = x[r * ldx + s + 1], zero where the column
  // is outside [0, W) (the even and odd columns of zero-padded rows).
  void (*wino_split_rows)(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                          const T* x, std::size_t ldx, T* e, T* o,
                          std::size_t lde) noexcept = nullptr;
  // Its adjoint (add): x[r * ldx + s] += e[r * lde + k], x[r * ldx + s + 1] += o[r * lde + k]
  // where the column is inside [0, W); nothing else of x is touched. !add: = instead of +=.
  void (*wino_merge_rows)(bool add, std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                          const T* e, const T* o, std::size_t lde, T* x,
                          std::size_t ldx) noexcept = nullptr;
  // F(2x2)'s input tiles (kernels/winograd.hpp): for tile rows j < rows, tiles k < n,
  // v[(4a + b) * ldv + j * n + k] = (B^T d B)[a][b] of the 4x4 window at padded rows 2j.., columns
  // 2k - pad..; x: the 2 rows + 2 padded rows (nullptr: zeros), each zero outside [0, W).
  void (*wino_bt_tiles)(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                        const T* const* x, T* v, std::size_t ldv) noexcept = nullptr;
  // B along the columns of padded rows (the adjoint of B^T d B's column step), adding into the
  // columns of x inside [0, W) (nothing else of x is touched), in the fixed order given in
  // kernels/winograd.hpp.
  void (*wino_b_cols)(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n, const T* g,
                      std::size_t ldg, std::size_t ldb, T* x, std::size_t ldx) noexcept = nullptr;
  // F(4x4)'s four column phases: for r < rows, k < n, j < 4, s = 4k + j - pad,
  // p[j * ldj + r * ldp + k] = x[r * ldx + s], zero where s is outside [0, W).
  void (*wino4_split_rows)(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                           const T* x, std::size_t ldx, T* p, std::size_t ldp,
                           std::size_t ldj) noexcept = nullptr;
  // Its adjoint (add): x[r * ldx + s] += p[j * ldj + r * ldp + k] where s is inside [0, W);
  // nothing else of x is touched. !add: = instead of +=.
  void (*wino4_merge_rows)(bool add, std::size_t rows, std::size_t W, std::size_t pad,
                           std::size_t n, const T* p, std::size_t ldp, std::size_t ldj, T* x,
                           std::size_t ldx) noexcept = nullptr;
};

struct KernelTable {
  Isa isa = Isa::scalar;
  // The xsimd architecture the table was compiled for ("avx512bw", "fma3+avx2", ...): proof that
  // its translation unit was built with that ISA's flags.
  const char* arch_name = "";
  KernelSet<float> f32;
  KernelSet<double> f64;

  template <class T>
  constexpr const KernelSet<T>& of() const noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "ember kernels exist for float and double");
    if constexpr (std::is_same_v<T, float>) {
      return f32;
    } else {
      return f64;
    }
  }
};

}  // namespace ember::kernels
