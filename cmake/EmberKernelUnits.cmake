# ember: the per-ISA kernel translation units (DESIGN section 3).
#
# xsimd only enables an ISA's batch types when the compiler defines that ISA's macros, so each
# kernel table is instantiated in its own small translation unit compiled with that ISA's flags;
# the headers pick a table at run time. This file is used both by ember's own build and by the
# installed package config, so whoever links ember::ember gets the units compiled with their
# compiler.

# ember_add_kernel_units(<target> INCLUDE_DIR <dir> TEMPLATE <file> [OPTIONS <compile option>...])
# Creates the static library <target> holding one object library per ISA of the target processor.
function(ember_add_kernel_units target)
  cmake_parse_arguments(ARG "" "INCLUDE_DIR;TEMPLATE" "OPTIONS" ${ARGN})
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    set(isas scalar sse2 avx2 avx512)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
    set(isas scalar neon)
  else()
    set(isas scalar)
  endif()

  # Flags, the macros that prove them, and the xsimd arch tag, per ISA.
  set(flags_scalar "")
  set(guard_scalar "1")
  set(arch_scalar "scalar_arch")
  set(flags_sse2 -msse2)
  set(guard_sse2 "defined(__SSE2__)")
  set(arch_sse2 "xsimd::sse2")
  set(flags_avx2 -mavx2 -mfma)
  set(guard_avx2 "defined(__AVX2__) && defined(__FMA__)")
  set(arch_avx2 "xsimd::fma3<xsimd::avx2>")
  set(flags_avx512 -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mfma)
  set(guard_avx512 "defined(__AVX512F__) && defined(__AVX512CD__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__)")
  set(arch_avx512 "xsimd::avx512bw")
  set(flags_neon "")
  set(guard_neon "defined(__ARM_NEON)")
  set(arch_neon "xsimd::neon64")

  set(gen_dir "${CMAKE_CURRENT_BINARY_DIR}/${target}_units")
  set(objects "")
  foreach(isa IN LISTS isas)
    set(EMBER_UNIT_ISA ${isa})
    set(EMBER_UNIT_GUARD "${guard_${isa}}")
    set(EMBER_UNIT_ARCH "${arch_${isa}}")
    string(REPLACE ";" " " EMBER_UNIT_FLAGS_TEXT "-O2 ${flags_${isa}}")
    configure_file("${ARG_TEMPLATE}" "${gen_dir}/ember_isa_${isa}.cpp" @ONLY)

    set(unit ${target}_${isa})
    add_library(${unit} OBJECT "${gen_dir}/ember_isa_${isa}.cpp")
    target_include_directories(${unit} PRIVATE "${ARG_INCLUDE_DIR}")
    target_link_libraries(${unit} PRIVATE xsimd xtl)
    # Kernels thread through parallel_for, which needs OpenMP in the unit that instantiates them.
    if(EMBER_OPENMP AND TARGET OpenMP::OpenMP_CXX)
      target_link_libraries(${unit} PRIVATE OpenMP::OpenMP_CXX)
    endif()
    target_compile_features(${unit} PRIVATE cxx_std_17)
    # Kernels are always optimised, even in Debug builds: -O2 comes after the build type's -O0.
    target_compile_options(${unit} PRIVATE ${flags_${isa}} -O2)
    set_target_properties(${unit} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_compile_options(${unit} PRIVATE ${ARG_OPTIONS})
    list(APPEND objects $<TARGET_OBJECTS:${unit}>)
  endforeach()

  add_library(${target} STATIC ${objects})
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE CXX POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(${target} INTERFACE EMBER_ISA_UNITS=1)
  set(${target}_ISAS ${isas} PARENT_SCOPE)
endfunction()
