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

// EMBER_FLATTEN: every call inside the function is inlined, for the loops that apply a function
// per vector (map1, fold_row, ...). g++ 12 kept vmath::exp out of line, called once per vector on
// every ISA: each call reloaded its constants, and no two vectors' polynomials overlapped. clang 14
// inlines it without being told, and with ASan flatten cost it 17% more compile time (the avx512
// unit: 205 -> 239 s), so only GCC gets it.
#if defined(__GNUC__) && !defined(__clang__)
#define EMBER_FLATTEN __attribute__((flatten))
#else
#define EMBER_FLATTEN
#endif
