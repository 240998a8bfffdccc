// ember::io: reading and writing whole files, with io_errors that name the file and the reason.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ember/error.hpp"

namespace ember::io {

// The whole contents of the file at `path`. Throws io_error naming the file and the system's
// reason when it cannot be opened or read; a non-empty `hint` (how to get the file) is appended to
// the message when the file is missing.
inline std::vector<std::uint8_t> read_file(const std::string& path, std::string_view hint = {}) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    if (err == ENOENT && !hint.empty())
      fail(error_kind::io, "cannot open '", path, "' for reading: ", std::strerror(err), " (", hint,
           ")");
    fail(error_kind::io, "cannot open '", path, "' for reading: ", std::strerror(err));
  }
  // Read in chunks rather than trusting a size from fseek/ftell, which fails on pipes and
  // reports nonsense for directories.
  std::vector<std::uint8_t> bytes;
  std::size_t used = 0;
  std::size_t chunk = 1 << 16;
  for (;;) {
    bytes.resize(used + chunk);
    const std::size_t got = std::fread(bytes.data() + used, 1, chunk, f);
    used += got;
    if (got < chunk) break;
    if (chunk < (std::size_t{1} << 26)) chunk *= 2;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) fail(error_kind::io, "cannot read '", path, "': ", std::strerror(err));
  bytes.resize(used);
  return bytes;
}

// Writes `size` bytes to the file at `path`, replacing it. Throws io_error on failure.
inline void write_file(const std::string& path, const void* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    const int err = errno;
    fail(error_kind::io, "cannot open '", path, "' for writing: ", std::strerror(err));
  }
  const std::size_t put = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  const int write_err = errno;
  const bool close_failed = std::fclose(f) != 0;
  const int close_err = errno;
  if (put != size) fail(error_kind::io, "cannot write '", path, "': ", std::strerror(write_err));
  if (close_failed) fail(error_kind::io, "cannot write '", path, "': ", std::strerror(close_err));
}

}  // namespace ember::io
