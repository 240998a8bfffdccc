# Cross-compiling ember for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu, run under
# qemu-aarch64 (Debian qemu-user). Used by tools/ci-isa-checks.sh:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)  # selects the scalar + neon kernel units

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Target libraries (libstdc++, libgomp from libgomp1-arm64-cross) live in /usr/aarch64-linux-gnu.
# xtensor, xsimd, xtl and doctest are header-only and architecture-independent: Debian installs
# them, with their CMake package files, under / (/usr/include, /usr/share/cmake, /usr/lib/cmake),
# so packages and headers may also come from the host root; libraries and programs may not.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Test executables (and doctest's test discovery at build time) run through the emulator.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)

# Debian puts the CMake files of the header-only xsimd and xtensor under the host's multiarch
# directory (/usr/lib/x86_64-linux-gnu/cmake), which a cross build does not search: point at them.
foreach(_pkg xsimd xtensor)
  if(NOT ${_pkg}_DIR)
    file(GLOB _ember_pkg_dirs "/usr/lib/*-linux-gnu*/cmake/${_pkg}")
    if(_ember_pkg_dirs)
      list(GET _ember_pkg_dirs 0 _ember_pkg_dir)
      set(${_pkg}_DIR "${_ember_pkg_dir}" CACHE PATH "${_pkg} package (architecture-independent)")
    endif()
  endif()
endforeach()
