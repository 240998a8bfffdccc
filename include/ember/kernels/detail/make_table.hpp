// ember: builds the kernel table of one arch. Included by the per-ISA translation units (each
// compiled with its ISA's flags) and, without them, by dispatch.hpp for the compile-time arch.
#pragma once

#include "ember/kernels/axpy.hpp"
#include "ember/kernels/kernel_table.hpp"

namespace ember::kernels::detail {

template <class Arch, class T>
constexpr KernelSet<T> make_kernel_set() noexcept {
  KernelSet<T> s;
  s.axpy = &impl::axpy<Arch, T>;
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
