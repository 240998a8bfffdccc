// ember: the arch tags kernels are templated on.
//
// Every kernel is a template on an arch tag: a kernel instantiated in the AVX-512 translation unit
// then has a different symbol from the one in a generic unit, so the linker can never swap them
// (the ODR hazard of DESIGN section 3). SIMD tags are xsimd's; the scalar tag is ours.
#pragma once

#include <type_traits>

namespace ember::kernels {

struct scalar_arch {
  static constexpr const char* name() noexcept { return "scalar"; }
};

template <class Arch>
inline constexpr bool is_scalar_arch = std::is_same_v<Arch, scalar_arch>;

}  // namespace ember::kernels
