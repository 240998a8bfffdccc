// ember: version, platform detection and feature switches. Depends on nothing of ours.
#pragma once

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
// One integer that orders releases: MAJOR * 10000 + MINOR * 100 + PATCH.
#define EMBER_VERSION \
  (EMBER_VERSION_MAJOR * 10000 + EMBER_VERSION_MINOR * 100 + EMBER_VERSION_PATCH)

#define EMBER_DETAIL_STR2(x) #x
#define EMBER_DETAIL_STR(x) EMBER_DETAIL_STR2(x)
#define EMBER_VERSION_STRING            \
  EMBER_DETAIL_STR(EMBER_VERSION_MAJOR) \
  "." EMBER_DETAIL_STR(EMBER_VERSION_MINOR) "." EMBER_DETAIL_STR(EMBER_VERSION_PATCH)

// Target architecture families that have their own kernel tables.
#if defined(__x86_64__) || defined(_M_X64)
#define EMBER_ARCH_X86_64 1
#elif defined(__aarch64__) || defined(_M_ARM64)
#define EMBER_ARCH_AARCH64 1
#endif

// Exceptions: a -fno-exceptions build reports errors through the error handler and aborts.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define EMBER_EXCEPTIONS 1
#else
#define EMBER_EXCEPTIONS 0
#endif

// OpenMP threading is used when the translation unit is compiled with it (CMake option
// EMBER_OPENMP, on by default); everything also works serially without it.
#if defined(_OPENMP)
#define EMBER_HAS_OPENMP 1
#else
#define EMBER_HAS_OPENMP 0
#endif

// EMBER_ISA_UNITS is defined to 1 by the CMake target when the per-ISA kernel translation units
// are linked (run-time dispatch over every ISA). Without them the headers instantiate kernels for
// the architecture the including translation unit is compiled for, plus the scalar fallback.
#ifndef EMBER_ISA_UNITS
#define EMBER_ISA_UNITS 0
#endif

namespace ember {
inline constexpr int version_major = EMBER_VERSION_MAJOR;
inline constexpr int version_minor = EMBER_VERSION_MINOR;
inline constexpr int version_patch = EMBER_VERSION_PATCH;
inline constexpr const char* version_string = EMBER_VERSION_STRING;
}  // namespace ember
