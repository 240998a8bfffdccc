// ember: the one place that includes xsimd.
#pragma once

// g++ 12's AVX-512 intrinsics start from _mm512_undefined_*() and then warn about it
// (-Wmaybe-uninitialized inside avx512fintrin.h, GCC bug 105593, fixed in g++ 13) whenever xsimd's
// max/min/round/shift are inlined. The warning is emitted at the intrinsic header's lines, so it
// can only be silenced before that header is read; limited to the affected compiler and ISA.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12 && defined(__AVX512F__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <xsimd/xsimd.hpp>
