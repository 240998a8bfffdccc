#include <doctest/doctest.h>

#include <string>

#include "ember/ember.hpp"

TEST_CASE("version macros agree with each other and with the version string") {
  CHECK(EMBER_VERSION ==
        EMBER_VERSION_MAJOR * 10000 + EMBER_VERSION_MINOR * 100 + EMBER_VERSION_PATCH);
  const std::string expected = std::to_string(EMBER_VERSION_MAJOR) + "." +
                               std::to_string(EMBER_VERSION_MINOR) + "." +
                               std::to_string(EMBER_VERSION_PATCH);
  CHECK(std::string(ember::version_string) == expected);
}

TEST_CASE("the CMake target links the per-ISA kernel units") {
  CHECK(EMBER_ISA_UNITS == 1);
}

TEST_CASE("OpenMP is on in the default build") {
  // The project builds its tests with EMBER_OPENMP=ON (the default).
  CHECK(EMBER_HAS_OPENMP == 1);
}
