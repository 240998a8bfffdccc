# ember: finds the dependencies and stops at configure time, naming the Debian package, when one
# is missing. Used by ember's own build and by the installed package config.

macro(ember_require_package name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "ember needs ${name}, which was not found. On Debian or Ubuntu: apt-get install ${debian_package}")
  endif()
endmacro()

macro(ember_find_dependencies)
  # xtl first: the xsimd and xtensor targets refer to it and only link when it is known.
  ember_require_package(xtl xtl-dev)
  ember_require_package(xsimd libxsimd-dev)
  ember_require_package(xtensor libxtensor-dev)
  if(EMBER_OPENMP)
    find_package(OpenMP COMPONENTS CXX QUIET)
    if(NOT OpenMP_CXX_FOUND)
      message(FATAL_ERROR
        "ember: OpenMP was requested (EMBER_OPENMP=ON) but ${CMAKE_CXX_COMPILER_ID} has no OpenMP "
        "runtime. With clang: apt-get install libomp-14-dev. Or configure with -DEMBER_OPENMP=OFF "
        "to build without threads.")
    endif()
  endif()
endmacro()
