// ember::io: the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// An IDX file is a 4-byte magic 00 00 <type> <rank>, <rank> big-endian uint32 dimensions, then
// the elements in row-major order, big-endian. The readers return the elements in native byte
// order.
//
//   using namespace ember::io;
//   IdxArray images = load_mnist_images(fashion_mnist_path("train-images-idx3-ubyte.gz"));
//   IdxArray labels = load_mnist_labels(fashion_mnist_path("train-labels-idx1-ubyte.gz"),
//                                       images.shape[0]);
//   // images.shape == {60000, 28, 28}, images.data: 47040000 pixels; labels.data: classes 0-9
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/error.hpp"
#include "ember/io/dtype.hpp"
#include "ember/io/file.hpp"
#include "ember/io/gzip.hpp"

namespace ember::io {

// Where Debian's dataset-fashion-mnist package installs the data set.
inline constexpr const char* fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

// fashion_mnist_dir + "/" + file, e.g. fashion_mnist_path("t10k-labels-idx1-ubyte.gz").
inline std::string fashion_mnist_path(std::string_view file) {
  return std::string(fashion_mnist_dir) + "/" + std::string(file);
}

// The contents of an IDX file: element type, dimensions, and the elements in native byte order.
struct IdxArray {
  Dtype dtype = Dtype::U8;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
};

namespace detail {

inline bool idx_dtype(unsigned code, Dtype& out) noexcept {
  switch (code) {
    case 0x08:
      out = Dtype::U8;
      return true;
    case 0x09:
      out = Dtype::I8;
      return true;
    case 0x0B:
      out = Dtype::I16;
      return true;
    case 0x0C:
      out = Dtype::I32;
      return true;
    case 0x0D:
      out = Dtype::F32;
      return true;
    case 0x0E:
      out = Dtype::F64;
      return true;
    default:
      return false;
  }
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// "0x00000803 (U8, 3 dimensions)" for a magic number that names a known type.
inline std::string describe_idx_magic(const std::uint8_t* m) {
  std::string s = hex(load_be32(m), 8);
  Dtype d;
  if (m[0] == 0 && m[1] == 0 && idx_dtype(m[2], d))
    s += std::string(" (") + dtype_name(d) + ", " + std::to_string(m[3]) +
         (m[3] == 1 ? " dimension)" : " dimensions)");
  return s;
}

inline std::string dataset_hint(const std::string& path) {
  const std::string dir = std::string(fashion_mnist_dir) + "/";
  if (path.compare(0, dir.size(), dir) == 0)
    return "install the data set with: apt-get install dataset-fashion-mnist";
  return {};
}

// The bytes, decompressed when they start with the gzip magic.
inline std::vector<std::uint8_t> maybe_gunzip(const std::uint8_t* data, std::size_t size,
                                              const std::string& name) {
  if (!is_gzip(data, size)) return std::vector<std::uint8_t>(data, data + size);
  const std::string context = name + ": gzip";
  return detail::gunzip(data, size, default_max_output, context.c_str());
}

// Parses decompressed IDX bytes.
inline IdxArray parse_idx_raw(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (size < 4)
    fail(error_kind::format, name, ": truncated IDX file: ", size,
         " bytes, too short for the 4-byte magic number");
  IdxArray a;
  if (data[0] != 0 || data[1] != 0 || !idx_dtype(data[2], a.dtype))
    fail(error_kind::format, name, ": not an IDX file: magic number ", hex(load_be32(data), 8),
         " (expected 0x0000TTNN with type TT one of 08, 09, 0b, 0c, 0d, 0e)");
  const std::size_t rank = data[3];
  if (size - 4 < 4 * rank)
    fail(error_kind::format, name, ": truncated IDX header: ", rank, " dimensions need ",
         4 + 4 * rank, " bytes, the file has ", size);
  const std::size_t esize = dtype_size(a.dtype);
  std::uint64_t expected = esize;
  bool overflow = false;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::uint32_t d = load_be32(data + 4 + 4 * i);
    a.shape.push_back(d);
    if (d != 0 && expected > (std::uint64_t{1} << 62) / d) overflow = true;
    if (!overflow) expected *= d;
  }
  const std::size_t header = 4 + 4 * rank;
  const std::size_t got = size - header;
  if (overflow)
    fail(error_kind::format, name, ": IDX dimensions ", a.shape, " are too large (the file has ",
         got, " bytes of data)");
  if (got < expected)
    fail(error_kind::format, name, ": truncated IDX data: ", dtype_name(a.dtype), " ", a.shape,
         " needs ", expected, " bytes, got ", got);
  if (got > expected)
    fail(error_kind::format, name, ": ", got - expected, " unexpected bytes after the IDX data (",
         dtype_name(a.dtype), " ", a.shape, " needs ", expected, " bytes)");
  a.data.assign(data + header, data + size);
  // Big-endian on disk; reverse each element's bytes on little-endian hosts.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (esize > 1)
    for (std::size_t i = 0; i + esize <= a.data.size(); i += esize)
      for (std::size_t k = 0; k < esize / 2; ++k)
        std::swap(a.data[i + k], a.data[i + esize - 1 - k]);
#endif
  return a;
}

// MNIST files are IDX U8 arrays of a known rank; the magic is checked first so that swapped
// files get a message saying so.
inline IdxArray parse_mnist(const std::uint8_t* data, std::size_t size, const std::string& name,
                            unsigned rank, const char* expected_kind) {
  const std::vector<std::uint8_t> bytes = maybe_gunzip(data, size, name);
  if (bytes.size() >= 4 && (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != rank))
    fail(error_kind::format, name, ": expected an MNIST ", expected_kind, " file (magic ",
         hex(0x0800u | rank, 8), ": U8, ", rank, rank == 1 ? " dimension" : " dimensions",
         "), found magic ", describe_idx_magic(bytes.data()),
         rank == 1 && bytes[3] == 3 ? ": is this an images file?" : "",
         rank == 3 && bytes[3] == 1 ? ": is this a labels file?" : "");
  return parse_idx_raw(bytes.data(), bytes.size(), name);
}

inline IdxArray parse_mnist_images(const std::uint8_t* data, std::size_t size,
                                   const std::string& name) {
  IdxArray a = parse_mnist(data, size, name, 3, "images");
  if (a.shape[1] != 28 || a.shape[2] != 28)
    fail(error_kind::format, name, ": expected images of 28x28 pixels, found ", a.shape[1], "x",
         a.shape[2]);
  return a;
}

inline IdxArray parse_mnist_labels(const std::uint8_t* data, std::size_t size,
                                   const std::string& name,
                                   std::optional<std::int64_t> expected_count) {
  IdxArray a = parse_mnist(data, size, name, 1, "labels");
  if (expected_count && a.shape[0] != *expected_count)
    fail(error_kind::format, name, ": ", a.shape[0], " labels, but ", *expected_count,
         " were expected (one per image)");
  for (std::size_t i = 0; i < a.data.size(); ++i)
    if (a.data[i] >= 10)
      fail(error_kind::format, name, ": label ", unsigned{a.data[i]}, " at index ", i,
           " is not a class in [0, 10)");
  return a;
}

}  // namespace detail

// Parses an IDX file's bytes, gzip-compressed or not (told apart by the gzip magic number).
// `name` (a file name) starts every error message.
inline IdxArray parse_idx(const std::uint8_t* data, std::size_t size,
                          const std::string& name = "IDX data") {
  const std::vector<std::uint8_t> bytes = detail::maybe_gunzip(data, size, name);
  return detail::parse_idx_raw(bytes.data(), bytes.size(), name);
}

// Reads an IDX file, gzip-compressed or not.
inline IdxArray read_idx(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path, detail::dataset_hint(path));
  return parse_idx(bytes.data(), bytes.size(), "read_idx: '" + path + "'");
}

// Loads MNIST-style images (plain or gzip): U8, shape [N, 28, 28].
inline IdxArray load_mnist_images(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path, detail::dataset_hint(path));
  return detail::parse_mnist_images(bytes.data(), bytes.size(),
                                    "load_mnist_images: '" + path + "'");
}

// Loads MNIST-style labels (plain or gzip): U8 in [0, 10), shape [N]. When `expected_count` is
// given (the number of images), a different label count is an error.
inline IdxArray load_mnist_labels(const std::string& path,
                                  std::optional<std::int64_t> expected_count = std::nullopt) {
  const std::vector<std::uint8_t> bytes = read_file(path, detail::dataset_hint(path));
  return detail::parse_mnist_labels(bytes.data(), bytes.size(), "load_mnist_labels: '" + path + "'",
                                    expected_count);
}

}  // namespace ember::io
