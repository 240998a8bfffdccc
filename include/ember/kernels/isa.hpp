// ember: instruction-set names and CPU feature detection (with the OS-support check).
// Knows nothing of xsimd: detection must run before any ISA-specific code is chosen.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ember/config.hpp"

#if defined(EMBER_ARCH_X86_64) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace ember {

// Kernel tables, from the most portable to the widest. Ordered: a higher value is a wider ISA
// on the same architecture family.
enum class Isa : int { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3, neon = 4 };

inline constexpr const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::sse2:
      return "sse2";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
  }
  return "unknown";
}

// Every ISA name ember knows, on any architecture, for parsing and error messages.
inline constexpr Isa all_isas[] = {Isa::scalar, Isa::sse2, Isa::avx2, Isa::avx512, Isa::neon};

inline bool parse_isa(std::string_view name, Isa& out) noexcept {
  for (Isa i : all_isas) {
    if (name == isa_name(i)) {
      out = i;
      return true;
    }
  }
  return false;
}

// What the CPU and the operating system together support.
struct CpuFeatures {
  bool sse2 = false, sse4_1 = false, avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512cd = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool neon = false;

  // True when every instruction the kernel table for `isa` may use can run here.
  bool supports(Isa isa) const noexcept {
    switch (isa) {
      case Isa::scalar:
        return true;
      case Isa::sse2:
        return sse2;
      case Isa::avx2:
        return avx2 && fma;
      case Isa::avx512:
        return avx512f && avx512cd && avx512dq && avx512bw && avx512vl && fma;
      case Isa::neon:
        return neon;
    }
    return false;
  }

  // Space-separated list of the features found, e.g. "sse2 sse4.1 avx avx2 fma".
  std::string to_string() const {
    std::string s;
    auto add = [&s](bool on, const char* name) {
      if (!on) return;
      if (!s.empty()) s += ' ';
      s += name;
    };
    add(sse2, "sse2");
    add(sse4_1, "sse4.1");
    add(avx, "avx");
    add(avx2, "avx2");
    add(fma, "fma");
    add(avx512f, "avx512f");
    add(avx512cd, "avx512cd");
    add(avx512dq, "avx512dq");
    add(avx512bw, "avx512bw");
    add(avx512vl, "avx512vl");
    add(neon, "neon");
    return s.empty() ? std::string("none") : s;
  }
};

namespace detail {

// cpuid says what the CPU implements; xgetbv says which register states the OS saves on a context
// switch. AVX needs XMM+YMM state, AVX-512 additionally the opmask and ZMM states.
inline CpuFeatures detect_cpu_features() noexcept {
  CpuFeatures f;
#if defined(EMBER_ARCH_X86_64) && (defined(__GNUC__) || defined(__clang__))
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.sse2 = (edx >> 26) & 1u;
  f.sse4_1 = (ecx >> 19) & 1u;
  const bool osxsave = (ecx >> 27) & 1u;
  const bool cpu_avx = (ecx >> 28) & 1u;
  const bool cpu_fma = (ecx >> 12) & 1u;
  std::uint64_t xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<std::uint64_t>(hi) << 32) | lo;
  }
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
  f.avx = cpu_avx && os_avx;
  f.fma = cpu_fma && os_avx;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    f.avx2 = os_avx && ((ebx >> 5) & 1u);
    f.avx512f = os_avx512 && ((ebx >> 16) & 1u);
    f.avx512dq = os_avx512 && ((ebx >> 17) & 1u);
    f.avx512cd = os_avx512 && ((ebx >> 28) & 1u);
    f.avx512bw = os_avx512 && ((ebx >> 30) & 1u);
    f.avx512vl = os_avx512 && ((ebx >> 31) & 1u);
  }
#elif defined(EMBER_ARCH_AARCH64)
  f.neon = true;  // Advanced SIMD is mandatory on AArch64.
#endif
  return f;
}

}  // namespace detail

// Detected once; the result never changes while the process runs.
inline const CpuFeatures& cpu_features() noexcept {
  static const CpuFeatures f = detail::detect_cpu_features();
  return f;
}

}  // namespace ember
