#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ember/io/file.hpp"
#include "fixture_rules.hpp"

TEST_CASE("write_file and read_file round-trip bytes, including an empty file") {
  const std::string path = fixtures::temp_path("file_roundtrip.bin");
  const std::vector<std::uint8_t> data = fixtures::lcg_bytes(200000);  // several read chunks
  ember::io::write_file(path, data.data(), data.size());
  CHECK(ember::io::read_file(path) == data);
  ember::io::write_file(path, nullptr, 0);
  CHECK(ember::io::read_file(path).empty());
  std::remove(path.c_str());
}

TEST_CASE("file errors are io_errors naming the file and the reason") {
  CHECK_THROWS_WITH_AS(ember::io::read_file("/nonexistent/x.bin"),
                       "cannot open '/nonexistent/x.bin' for reading: No such file or directory",
                       ember::io_error);
  CHECK_THROWS_WITH_AS(ember::io::read_file("/nonexistent/x.bin", "try this"),
                       "cannot open '/nonexistent/x.bin' for reading: No such file or directory "
                       "(try this)",
                       ember::io_error);
  CHECK_THROWS_WITH_AS(ember::io::read_file("/tmp"), "cannot read '/tmp': Is a directory",
                       ember::io_error);
  const std::uint8_t byte = 1;
  CHECK_THROWS_WITH_AS(ember::io::write_file("/nonexistent/x.bin", &byte, 1),
                       "cannot open '/nonexistent/x.bin' for writing: No such file or directory",
                       ember::io_error);
}
