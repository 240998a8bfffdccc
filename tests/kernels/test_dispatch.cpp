#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ember/kernels/dispatch.hpp"

using ember::Isa;

namespace {

// The xsimd arch each generated unit must have been compiled for: proof that its flags applied.
const char* expected_arch(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::sse2:
      return "sse2";
    case Isa::avx2:
      return "fma3+avx2";
    case Isa::avx512:
      return "avx512bw";
    case Isa::neon:
      return "arm64+neon";  // xsimd::neon64::name() in xsimd 8.1
  }
  return "?";
}

// Restores the ISA chosen at start-up when a test case ends.
struct IsaRestore {
  Isa saved = ember::current_isa();
  ~IsaRestore() { ember::set_isa(saved); }
};

}  // namespace

TEST_CASE("every ISA this CPU supports has a unit compiled with its flags and can be selected") {
  IsaRestore restore;
  const std::vector<Isa> isas = ember::available_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == Isa::scalar);
#if defined(EMBER_ARCH_X86_64)
  // x86-64 guarantees SSE2; the units for wider ISAs are linked whenever the CPU has them.
  CHECK(isas.size() >= 2);
  CHECK(ember::cpu_features().sse2);
  if (ember::cpu_features().supports(Isa::avx512)) CHECK(isas.back() == Isa::avx512);
#endif
  for (Isa isa : isas) {
    CAPTURE(ember::isa_name(isa));
    CHECK(ember::set_isa(isa) == isa);
    CHECK(ember::current_isa() == isa);
    CHECK(std::string(ember::active_kernels().arch_name) == expected_arch(isa));
  }
}

TEST_CASE("without EMBER_ISA the widest supported ISA is chosen") {
  if (std::getenv("EMBER_ISA") != nullptr) return;  // the ctest run with EMBER_ISA set checks that
  CHECK(ember::kernels::detail::initial_table().isa == ember::available_isas().back());
}

TEST_CASE("ISA names parse and unknown names are rejected with the valid list") {
  IsaRestore restore;
  CHECK(ember::set_isa("scalar") == Isa::scalar);
  CHECK_THROWS_WITH_AS(ember::set_isa("avx9"),
                       "set_isa: unknown ISA 'avx9'; valid names: scalar, sse2, avx2, avx512, neon",
                       ember::value_error);
  CHECK(ember::current_isa() == Isa::scalar);  // a failed request changes nothing
#if defined(EMBER_ARCH_X86_64)
  const std::string avail = ember::kernels::detail::isa_list(ember::available_isas());
  CHECK_THROWS_WITH_AS(
      ember::set_isa(Isa::neon),
      ("set_isa: ISA 'neon' does not exist on this architecture; available: " + avail).c_str(),
      ember::value_error);
#endif
}

TEST_CASE_TEMPLATE("axpy matches a double-precision reference on every ISA", T, float, double) {
  IsaRestore restore;
  // Edge sizes: empty, one element, below/at/above every vector width, and odd lengths.
  const std::vector<std::size_t> sizes{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 1000};
  for (Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    for (std::size_t n : sizes) {
      for (std::size_t misalign : {0, 1}) {  // unaligned pointers too
        CAPTURE(ember::isa_name(isa));
        CAPTURE(n);
        CAPTURE(misalign);
        std::vector<T> xbuf(n + 1), ybuf(n + 1, T(-7));
        T* x = xbuf.data() + misalign;
        T* y = ybuf.data() + misalign;
        std::vector<double> ref(n);
        for (std::size_t i = 0; i < n; ++i) {
          x[i] = static_cast<T>(0.25 * static_cast<double>(i % 13) - 1.0);
          y[i] = static_cast<T>(0.5 * static_cast<double>(i % 5));
          ref[i] = 1.5 * static_cast<double>(x[i]) + static_cast<double>(y[i]);
        }
        const T sentinel = ybuf[misalign ? 0 : n];
        ember::kernels::axpy<T>(n, T(1.5), x, y);
        for (std::size_t i = 0; i < n; ++i)
          CHECK(static_cast<double>(y[i]) == doctest::Approx(ref[i]));
        CHECK(ybuf[misalign ? 0 : n] == sentinel);  // nothing written outside [y, y + n)
      }
    }
  }
}
