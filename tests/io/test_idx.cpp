#include <doctest/doctest.h>

#include <sys/stat.h>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ember/io/idx.hpp"
#include "fixture_rules.hpp"

using ember::io::Dtype;
using ember::io::IdxArray;
using Bytes = std::vector<std::uint8_t>;

namespace {

// An IDX file from its parts: magic type code, dimensions, raw (big-endian) data bytes.
Bytes idx(std::uint8_t type, std::vector<std::uint32_t> dims, Bytes data) {
  Bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string write_temp(const std::string& name, const Bytes& bytes) {
  const std::string path = fixtures::temp_path(name);
  ember::io::write_file(path, bytes.data(), bytes.size());
  return path;
}

template <class F>
std::string error_text(F&& f) {
  try {
    f();
  } catch (const ember::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("read_idx reads plain and gzip-compressed files alike") {
  for (const char* name : {"mini-images-idx3-ubyte", "mini-images-idx3-ubyte.gz"}) {
    CAPTURE(name);
    const IdxArray a = ember::io::read_idx(fixtures::dir() + name);
    CHECK(a.dtype == Dtype::U8);
    CHECK(a.shape == std::vector<std::int64_t>{3, 28, 28});
    REQUIRE(a.data.size() == 3 * 28 * 28);
    int mismatches = 0;
    for (int n = 0; n < 3; ++n)
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c)
          mismatches += a.data[static_cast<std::size_t>((n * 28 + r) * 28 + c)] !=
                        fixtures::mini_pixel(n, r, c);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("multi-byte IDX elements come back in native byte order") {
  const IdxArray a = ember::io::read_idx(fixtures::dir() + "int16-2x3.idx");
  CHECK(a.dtype == Dtype::I16);
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  REQUIRE(a.data.size() == 12);
  std::int16_t v[6];
  std::memcpy(v, a.data.data(), sizeof v);
  for (int i = 0; i < 6; ++i) CHECK(v[i] == -300 + 250 * i);

  // float32 1.0 and -2.0 are 3f800000 and c0000000 big-endian.
  const Bytes f32 = idx(0x0D, {2}, {0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0});
  const IdxArray b = ember::io::parse_idx(f32.data(), f32.size());
  CHECK(b.dtype == Dtype::F32);
  float f[2];
  std::memcpy(f, b.data.data(), sizeof f);
  CHECK(f[0] == 1.0f);
  CHECK(f[1] == -2.0f);
}

TEST_CASE("load_mnist_images and load_mnist_labels check shapes, classes and counts") {
  const IdxArray images =
      ember::io::load_mnist_images(fixtures::dir() + "mini-images-idx3-ubyte.gz");
  CHECK(images.shape == std::vector<std::int64_t>{3, 28, 28});
  const IdxArray labels =
      ember::io::load_mnist_labels(fixtures::dir() + "mini-labels-idx1-ubyte.gz", images.shape[0]);
  CHECK(labels.data == Bytes{1, 4, 7});  // (n * 3 + 1) % 10
  const std::string labels_path = fixtures::dir() + "mini-labels-idx1-ubyte";
  CHECK(error_text([&] { ember::io::load_mnist_labels(labels_path, 4); }) ==
        "load_mnist_labels: '" + labels_path + "': 3 labels, but 4 were expected (one per image)");
}

TEST_CASE("swapped MNIST files are reported with the expected and the found magic") {
  const std::string images = fixtures::dir() + "mini-images-idx3-ubyte.gz";
  const std::string labels = fixtures::dir() + "mini-labels-idx1-ubyte";
  CHECK(error_text([&] { ember::io::load_mnist_labels(images); }) ==
        "load_mnist_labels: '" + images +
            "': expected an MNIST labels file (magic 0x00000801: U8, 1 dimension), found magic "
            "0x00000803 (U8, 3 dimensions): is this an images file?");
  CHECK(error_text([&] { ember::io::load_mnist_images(labels); }) ==
        "load_mnist_images: '" + labels +
            "': expected an MNIST images file (magic 0x00000803: U8, 3 dimensions), found magic "
            "0x00000801 (U8, 1 dimension): is this a labels file?");
  CHECK_THROWS_AS(ember::io::load_mnist_images(labels), ember::format_error);
}

TEST_CASE("malformed IDX data is a format_error naming the file and the sizes") {
  const auto parse = [](const Bytes& b) {
    return error_text([&] { ember::io::parse_idx(b.data(), b.size(), "f.idx"); });
  };
  CHECK(parse({0, 0}) ==
        "f.idx: truncated IDX file: 2 bytes, too short for the 4-byte magic number");
  CHECK(parse({1, 2, 3, 4}) ==
        "f.idx: not an IDX file: magic number 0x01020304 (expected 0x0000TTNN with type TT one of "
        "08, 09, 0b, 0c, 0d, 0e)");
  CHECK(parse({0, 0, 0x0A, 1}) ==
        "f.idx: not an IDX file: magic number 0x00000a01 (expected 0x0000TTNN with type TT one "
        "of 08, 09, 0b, 0c, 0d, 0e)");
  CHECK(parse({0, 0, 8, 3, 0, 0, 0, 2}) ==
        "f.idx: truncated IDX header: 3 dimensions need 16 bytes, the file has 8");
  CHECK(parse(idx(0x08, {2, 3}, {1, 2, 3, 4})) ==
        "f.idx: truncated IDX data: U8 [2, 3] needs 6 bytes, got 4");
  CHECK(parse(idx(0x0C, {2}, Bytes(10, 0))) ==
        "f.idx: 2 unexpected bytes after the IDX data (I32 [2] needs 8 bytes)");
  CHECK(parse(idx(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {})) ==
        "f.idx: IDX dimensions [4294967295, 4294967295, 4294967295] are too large (the file has 0 "
        "bytes of data)");
  // Zero-sized dimensions are valid and hold no data.
  CHECK(parse(idx(0x08, {0, 5}, {})) == "no error");

  const Bytes bad_labels = idx(0x08, {3}, {1, 10, 2});
  const std::string path = write_temp("bad-labels-idx1-ubyte", bad_labels);
  CHECK(error_text([&] { ember::io::load_mnist_labels(path); }) ==
        "load_mnist_labels: '" + path + "': label 10 at index 1 is not a class in [0, 10)");
  const std::string small = write_temp("small-images-idx3-ubyte", idx(0x08, {1, 4, 4}, Bytes(16)));
  CHECK(error_text([&] { ember::io::load_mnist_images(small); }) ==
        "load_mnist_images: '" + small + "': expected images of 28x28 pixels, found 4x4");
  std::remove(path.c_str());
  std::remove(small.c_str());
}

TEST_CASE("gzip corruption inside an IDX file names the file") {
  Bytes gz = fixtures::read("mini-labels-idx1-ubyte.gz");
  gz[gz.size() - 8] ^= 0xFF;  // the CRC-32
  CHECK(error_text([&] {
          ember::io::parse_idx(gz.data(), gz.size(), "read_idx: 'x.gz'");
        }).rfind("read_idx: 'x.gz': gzip: CRC-32 mismatch in gzip member 1", 0) == 0);
  const std::string path = write_temp("corrupt-labels.gz", Bytes(gz.begin(), gz.end() - 3));
  CHECK(error_text([&] { ember::io::load_mnist_labels(path); }) ==
        "load_mnist_labels: '" + path +
            "': gzip: truncated gzip trailer of member 1: need 8 bytes, 5 remain");
  std::remove(path.c_str());
}

TEST_CASE("a missing data set file says how to install it") {
  const std::string in_dataset_dir = ember::io::fashion_mnist_path("no-such-file-idx1-ubyte.gz");
  CHECK(in_dataset_dir == "/usr/share/datasets/fashion-mnist/no-such-file-idx1-ubyte.gz");
  CHECK_THROWS_WITH_AS(ember::io::load_mnist_labels(in_dataset_dir),
                       "cannot open '/usr/share/datasets/fashion-mnist/no-such-file-idx1-ubyte.gz' "
                       "for reading: No such file or directory (install the data set with: "
                       "apt-get install dataset-fashion-mnist)",
                       ember::io_error);
  CHECK_THROWS_WITH_AS(ember::io::read_idx("/nonexistent/labels"),
                       "cannot open '/nonexistent/labels' for reading: No such file or directory",
                       ember::io_error);
}

TEST_CASE("the real Fashion-MNIST data set loads with the documented sizes and class counts") {
  struct stat st;
  if (::stat(ember::io::fashion_mnist_dir, &st) != 0) {
    MESSAGE("skipped: ", ember::io::fashion_mnist_dir,
            " does not exist (apt-get install dataset-fashion-mnist)");
    return;
  }
  struct Split {
    const char* images;
    const char* labels;
    std::int64_t count;
    std::array<int, 4> first_labels;  // from the data set itself, read with zcat | od
  };
  const Split splits[] = {
      {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000, {9, 0, 0, 3}},
      {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000, {9, 2, 1, 1}},
  };
  for (const Split& s : splits) {
    CAPTURE(s.images);
    const IdxArray images = ember::io::load_mnist_images(ember::io::fashion_mnist_path(s.images));
    CHECK(images.shape == std::vector<std::int64_t>{s.count, 28, 28});
    CHECK(images.data.size() == static_cast<std::size_t>(s.count) * 784);
    const IdxArray labels =
        ember::io::load_mnist_labels(ember::io::fashion_mnist_path(s.labels), images.shape[0]);
    std::array<std::int64_t, 10> per_class{};
    for (std::uint8_t l : labels.data) ++per_class[l];
    for (int c = 0; c < 10; ++c) CHECK(per_class[static_cast<std::size_t>(c)] == s.count / 10);
    for (std::size_t i = 0; i < 4; ++i) CHECK(labels.data[i] == s.first_labels[i]);
    // Images are not blank: every image has some non-zero pixel.
    int blank = 0;
    for (std::int64_t n = 0; n < s.count; ++n) {
      const std::uint8_t* p = images.data.data() + n * 784;
      bool any = false;
      for (int k = 0; k < 784; ++k) any = any || p[k] != 0;
      blank += !any;
    }
    CHECK(blank == 0);
  }
}
