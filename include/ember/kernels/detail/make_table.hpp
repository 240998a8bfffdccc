// ember: builds the kernel table of one arch. Included by the per-ISA translation units (each
// compiled with its ISA's flags) and, without them, by dispatch.hpp for the compile-time arch.
#pragma once

#include "ember/kernels/blas1.hpp"
#include "ember/kernels/conv_direct.hpp"
#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/gemm.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/pool.hpp"
#include "ember/kernels/softmax.hpp"
#include "ember/kernels/winograd.hpp"

namespace ember::kernels::detail {

template <class Arch, class T>
constexpr KernelSet<T> make_kernel_set() noexcept {
  KernelSet<T> s;
  s.axpy = &impl::axpy<Arch, T>;
  s.scale = &impl::scale<Arch, T>;
  s.gemm = &impl::gemm<Arch, T>;
  s.gemm_pack_a = &impl::gemm_pack_a<Arch, T>;
  s.gemm_packed = &impl::gemm_packed<Arch, T>;
  s.gemm_strided_batched = &impl::gemm_strided_batched<Arch, T>;
  s.gemv = &impl::gemv<Arch, T>;
  s.unary = &impl::unary<Arch, T>;
  s.binary = &impl::binary<Arch, T>;
  s.binary_scalar = &impl::binary_scalar<Arch, T>;
  s.binary_rowvec = &impl::binary_rowvec<Arch, T>;
  s.softmax_rows = &impl::softmax_rows<Arch, T>;
  s.log_softmax_rows = &impl::log_softmax_rows<Arch, T>;
  s.reduce_rows = &impl::reduce_rows<Arch, T>;
  s.reduce_cols = &impl::reduce_cols<Arch, T>;
  s.max_pool2x2 = &impl::max_pool2x2<Arch, T>;
  s.max_pool2x2_backward = &impl::max_pool2x2_backward<Arch, T>;
  s.conv_direct_forward = &impl::conv_direct_forward<Arch, T>;
  s.conv_direct_wgrad = &impl::conv_direct_wgrad<Arch, T>;
  s.conv_rows_forward = &impl::conv_rows_forward<Arch, T>;
  s.conv_rows_wgrad = &impl::conv_rows_wgrad<Arch, T>;
  s.col2im_plane = &impl::col2im_plane<Arch, T>;
  s.wino_split_rows = &impl::wino_split_rows<Arch, T>;
  s.wino_merge_rows = &impl::wino_merge_rows<Arch, T>;
  s.wino_bt_tiles = &impl::wino_bt_tiles<Arch, T>;
  s.wino_b_cols = &impl::wino_b_cols<Arch, T>;
  s.wino4_split_rows = &impl::wino4_split_rows<Arch, T>;
  s.wino4_merge_rows = &impl::wino4_merge_rows<Arch, T>;
  return s;
}

template <class Arch>
constexpr KernelTable make_table(Isa isa) noexcept {
  KernelTable t;
  t.isa = isa;
  t.arch_name = Arch::name();
  t.f32 = make_kernel_set<Arch, float>();
  t.f64 = make_kernel_set<Arch, double>();
  return t;
}

}  // namespace ember::kernels::detail
