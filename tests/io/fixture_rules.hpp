// The rules tools/gen_io_fixtures.py used to make the fixtures, recomputed here, and small
// helpers shared by the io tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include "ember/io/file.hpp"

namespace fixtures {

inline std::string dir() {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/fixtures/";
}

inline std::vector<std::uint8_t> read(const std::string& name) {
  return ember::io::read_file(dir() + name);
}

// Rule 1: "%04d the quick brown fox jumps over %03d lazy dogs\n" for i in [0, lines).
inline std::vector<std::uint8_t> text_pattern(int lines) {
  std::vector<std::uint8_t> out;
  char buf[64];
  for (int i = 0; i < lines; ++i) {
    const int n =
        std::snprintf(buf, sizeof buf, "%04d the quick brown fox jumps over %03d lazy dogs\n", i,
                      i * 7919 % 1000);
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// Rule 2: the ANSI C linear congruential generator, bits 16-23 of each state.
inline std::vector<std::uint8_t> lcg_bytes(std::size_t n, std::uint32_t seed = 1) {
  std::vector<std::uint8_t> out;
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = (x * 1103515245u + 12345u) & 0x7FFFFFFFu;
    out.push_back(static_cast<std::uint8_t>((x >> 16) & 0xFFu));
  }
  return out;
}

// Rule 3: pixel (n, r, c) = (n * 31 + r * 7 + c * 3) % 256, label n = (n * 3 + 1) % 10.
inline std::uint8_t mini_pixel(int n, int r, int c) {
  return static_cast<std::uint8_t>((n * 31 + r * 7 + c * 3) % 256);
}

// A file name in /tmp, unique per process, for tests that write files.
inline std::string temp_path(const std::string& name) {
  return "/tmp/ember_io_test_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace fixtures
