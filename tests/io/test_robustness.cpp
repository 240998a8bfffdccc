// Fuzz-style robustness: every truncation of valid files, and thousands of seeded random
// single-byte mutations, must either decode or throw ember::format_error: never crash, never read
// out of bounds (this suite also runs under ASan+UBSan), never another exception type.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "ember/io/gzip.hpp"
#include "ember/io/idx.hpp"
#include "ember/io/safetensors.hpp"
#include "fixture_rules.hpp"

using Bytes = std::vector<std::uint8_t>;

namespace {

struct Tally {
  int ok = 0;
  int format_errors = 0;
  int other = 0;
  std::string first_other;  // what the first unexpected exception said

  template <class F>
  void attempt(F&& f) {
    try {
      f();
      ++ok;
    } catch (const ember::format_error&) {
      ++format_errors;
    } catch (const std::exception& e) {
      if (other++ == 0) first_other = e.what();
    } catch (...) {
      if (other++ == 0) first_other = "a non-std exception";
    }
  }
};

// Runs `decode` on every proper prefix of `file`; returns the lengths of the prefixes that
// decoded (for most formats none may).
template <class F>
std::vector<std::size_t> every_truncation(const Bytes& file, F&& decode) {
  Tally t;
  std::vector<std::size_t> decoded;
  for (std::size_t n = 0; n < file.size(); ++n) {
    const Bytes prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    const int before = t.ok;
    t.attempt([&] { decode(prefix); });
    if (t.ok != before) decoded.push_back(n);
  }
  CHECK_MESSAGE(t.other == 0, t.first_other);
  CHECK(t.ok + t.format_errors == static_cast<int>(file.size()));
  return decoded;
}

// Runs `decode` on `count` copies of `file`, each with one byte replaced by a different value.
template <class F>
Tally mutations(const Bytes& file, int count, std::uint32_t seed, F&& decode) {
  std::mt19937 rng(seed);
  Tally t;
  Bytes copy = file;
  for (int i = 0; i < count; ++i) {
    const std::size_t pos = rng() % file.size();
    copy[pos] = static_cast<std::uint8_t>(file[pos] ^ (1 + rng() % 255));
    t.attempt([&] { decode(copy); });
    copy[pos] = file[pos];
  }
  CHECK_MESSAGE(t.other == 0, t.first_other);
  CHECK(t.ok + t.format_errors == count);
  return t;
}

// A decoded safetensors file is only accepted if every tensor lies inside the buffer: read all.
void read_all_tensors(const Bytes& b) {
  const auto f = ember::io::SafetensorsFile::from_bytes(b, "fuzz");
  unsigned sum = 0;
  for (const std::string& k : f.keys()) {
    const ember::io::TensorView t = f.get(k);
    if (t.nbytes != static_cast<std::size_t>(t.numel()) * ember::io::dtype_size(t.dtype))
      throw std::logic_error("tensor '" + k + "': nbytes does not match its shape");
    for (std::size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
  }
  (void)sum;
}

}  // namespace

TEST_CASE("gunzip: every truncation of valid gzip files is a format_error") {
  const auto gunzip = [](const Bytes& b) { ember::io::gunzip(b.data(), b.size()); };
  for (const std::string name : {"hello.fixed.gz", "lcg3000.stored.gz", "empty.gz"}) {
    CAPTURE(name);
    CHECK(every_truncation(fixtures::read(name), gunzip).empty());
  }
  // Cut exactly after its first member, a two-member file is a valid one-member file.
  const Bytes two = fixtures::read("two_members.gz");
  const std::vector<std::size_t> decoded = every_truncation(two, gunzip);
  REQUIRE(decoded.size() == 1);
  CHECK(ember::io::gunzip(two.data(), decoded[0]) == fixtures::text_pattern(100));
}

TEST_CASE("gunzip and inflate: random single-byte mutations decode or are format_errors") {
  mutations(fixtures::read("two_members.gz"), 3000, 1,
            [](const Bytes& b) { ember::io::gunzip(b.data(), b.size()); });
  // The raw DEFLATE stream inside a gzip -9 file (10-byte header, 8-byte trailer), without the
  // CRC to stop it: mutated streams decode to whatever they say, or fail cleanly.
  const Bytes gz = fixtures::read("text1500.level9.gz");
  const Bytes raw(gz.begin() + 10, gz.end() - 8);
  const Tally t = mutations(
      raw, 3000, 2, [](const Bytes& b) { ember::io::inflate(b.data(), b.size(), 1 << 20); });
  MESSAGE("raw deflate mutations: ", t.ok, " decoded, ", t.format_errors, " format errors");
  // Both outcomes occur, so the mutations reach past the first checks.
  CHECK(t.ok > 0);
  CHECK(t.format_errors > 0);
}

TEST_CASE("inflate: random byte strings decode or are format_errors") {
  // Random headers reach the dynamic-table code: code length checks, repeats, invalid codes.
  std::mt19937 rng(8);
  Tally t;
  for (int i = 0; i < 5000; ++i) {
    Bytes b(1 + rng() % 300);
    for (std::uint8_t& x : b) x = static_cast<std::uint8_t>(rng());
    if (i % 2 == 0) b[0] = static_cast<std::uint8_t>((b[0] & ~6u) | 4u);  // BTYPE 2, dynamic
    t.attempt([&] { ember::io::inflate(b.data(), b.size(), 1 << 20); });
  }
  CHECK_MESSAGE(t.other == 0, t.first_other);
  CHECK(t.ok + t.format_errors == 5000);
}

TEST_CASE("IDX: truncations and mutations of plain and gzip files") {
  const auto images = [](const Bytes& b) {
    ember::io::detail::parse_mnist_images(b.data(), b.size(), "fuzz");
  };
  const auto labels = [](const Bytes& b) {
    ember::io::detail::parse_mnist_labels(b.data(), b.size(), "fuzz", 3);
  };
  const auto any = [](const Bytes& b) { ember::io::parse_idx(b.data(), b.size(), "fuzz"); };
  for (const std::string name : {"mini-images-idx3-ubyte", "mini-images-idx3-ubyte.gz"}) {
    CAPTURE(name);
    const Bytes file = fixtures::read(name);
    CHECK(every_truncation(file, images).empty());
    CHECK(every_truncation(file, any).empty());
    mutations(file, 2000, 3, images);
    mutations(file, 2000, 4, any);
  }
  for (const std::string name : {"mini-labels-idx1-ubyte", "mini-labels-idx1-ubyte.gz"}) {
    CAPTURE(name);
    const Bytes file = fixtures::read(name);
    CHECK(every_truncation(file, labels).empty());
    mutations(file, 2000, 5, labels);
  }
}

TEST_CASE("safetensors: truncations and mutations of the Python file and a writer's file") {
  const Bytes python = fixtures::read("python_all_dtypes.safetensors");
  CHECK(every_truncation(python, read_all_tensors).empty());
  const Tally t = mutations(python, 4000, 6, read_all_tensors);
  MESSAGE("safetensors mutations: ", t.ok, " accepted, ", t.format_errors, " format errors");
  CHECK(t.ok > 0);  // mutations of tensor data are valid files

  const float w[6] = {1, 2, 3, 4, 5, 6};
  const std::uint8_t b[3] = {1, 2, 3};
  ember::io::SafetensorsWriter writer;
  writer.add("fc.weight", ember::io::Dtype::F32, {2, 3}, w, sizeof w)
      .add("fc.bias", ember::io::Dtype::U8, {3}, b, 3)
      .metadata("format", "pt");
  const Bytes ours = writer.to_bytes();
  CHECK(every_truncation(ours, read_all_tensors).empty());
  mutations(ours, 2000, 7, read_all_tensors);
}
