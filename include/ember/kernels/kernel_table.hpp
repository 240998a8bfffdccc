// ember: the table of kernel entry points that one instruction set provides.
#pragma once

#include <cstddef>

#include "ember/kernels/isa.hpp"

namespace ember::kernels {

// The kernels for one element type. Plain function pointers: no Tensor, no autograd, no state.
template <class T>
struct KernelSet {
  // y[i] += alpha * x[i] for i < n.
  void (*axpy)(std::size_t n, T alpha, const T* x, T* y) noexcept = nullptr;
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
