#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ember/io/safetensors.hpp"
#include "fixture_rules.hpp"

using ember::io::Dtype;
using ember::io::SafetensorsFile;
using ember::io::SafetensorsWriter;
using ember::io::TensorView;
using Bytes = std::vector<std::uint8_t>;

namespace {

// Little-endian bytes of the values (the tests run on little-endian hosts: x86-64, aarch64).
template <class T>
Bytes le(std::initializer_list<T> values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

Bytes view_bytes(const TensorView& t) {
  return Bytes(t.data, t.data + t.nbytes);
}

// A file from a header text and a data buffer of `buffer` bytes 0, 1, 2, ...
Bytes make_file(const std::string& header, std::size_t buffer) {
  Bytes out(8);
  out.reserve(8 + header.size() + buffer);  // also keeps g++ 12's -Warray-bounds quiet at -O3
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  for (std::size_t i = 0; i < buffer; ++i) out.push_back(static_cast<std::uint8_t>(i));
  return out;
}

SafetensorsFile load(const std::string& header, std::size_t buffer) {
  return SafetensorsFile::from_bytes(make_file(header, buffer), "t.safetensors");
}

}  // namespace

TEST_CASE("a file from the independent Python writer reads back bit for bit") {
  const SafetensorsFile f =
      SafetensorsFile::open(fixtures::dir() + "python_all_dtypes.safetensors");
  const std::string unicode = "unicode \xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80 \"q\"";
  CHECK(f.keys() == std::vector<std::string>{"bf16", "empty", "f16", "f64", "i16", "i32", "i64",
                                             "i8", "layer.f32", "mask", "scalar", "u8", unicode});
  CHECK(f.metadata() ==
        std::map<std::string, std::string>{{"format", "pt"}, {"note", "gen_io_fixtures"}});
  struct Expect {
    const char* name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    Bytes bytes;
  };
  const Expect expected[] = {
      {"f64", Dtype::F64, {3}, le<double>({1.5, -2.25, 1e300})},
      {"layer.f32", Dtype::F32, {2, 3}, le<float>({-1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f})},
      {"f16", Dtype::F16, {4}, le<std::uint16_t>({0x3C00, 0xC000, 0x3800, 0x7BFF})},
      {"bf16", Dtype::BF16, {3}, le<std::uint16_t>({0x3F80, 0xC060, 0x3E00})},
      {"i64",
       Dtype::I64,
       {2},
       le<std::int64_t>({-(std::int64_t{1} << 40) - 7, std::int64_t{1} << 62})},
      {"i32", Dtype::I32, {2, 2}, le<std::int32_t>({-1, 0, INT32_MAX, INT32_MIN})},
      {"i16", Dtype::I16, {3}, le<std::int16_t>({-300, -50, 200})},
      {"i8", Dtype::I8, {2}, le<std::int8_t>({-128, 127})},
      {"u8", Dtype::U8, {1, 1, 3}, Bytes{0, 128, 255}},
      {"mask", Dtype::BOOL, {3}, Bytes{1, 0, 1}},
      {"scalar", Dtype::F32, {}, le<float>({42.0f})},
      {"empty", Dtype::F32, {0, 4}, Bytes{}},
  };
  for (const Expect& e : expected) {
    CAPTURE(e.name);
    const TensorView t = f.get(e.name);
    CHECK(t.dtype == e.dtype);
    CHECK(t.shape == e.shape);
    CHECK(view_bytes(t) == e.bytes);
  }
  CHECK(f.get("scalar").numel() == 1);
  CHECK(view_bytes(f.get(unicode)) == Bytes{7});
}

TEST_CASE("every dtype survives a round trip through the writer, in memory and on disk") {
  SafetensorsWriter w;
  const Bytes f64 = le<double>({1.0, -0.5});
  const Bytes f32 = le<float>({1.f, 2.f, 3.f, 4.f, 5.f, 6.f});
  const Bytes half = le<std::uint16_t>({0x3C00, 0xC000});
  const Bytes i64 = le<std::int64_t>({INT64_MIN, INT64_MAX, 0});
  const Bytes i32 = le<std::int32_t>({-7});
  const Bytes i16 = le<std::int16_t>({1, -1, 2, -2});
  const Bytes bytes3 = {1, 0, 255};
  w.add("fc1.weight", Dtype::F32, {2, 3}, f32.data(), f32.size())
      .add("d", Dtype::F64, {2}, f64.data(), f64.size())
      .add("h", Dtype::F16, {2}, half.data(), half.size())
      .add("bh", Dtype::BF16, {1, 2}, half.data(), half.size())
      .add("l", Dtype::I64, {3}, i64.data(), i64.size())
      .add("i", Dtype::I32, {1, 1, 1}, i32.data(), i32.size())
      .add("s", Dtype::I16, {2, 2}, i16.data(), i16.size())
      .add("c", Dtype::I8, {3}, bytes3.data(), bytes3.size())
      .add("u", Dtype::U8, {3}, bytes3.data(), bytes3.size())
      .add("m", Dtype::BOOL, {3}, bytes3.data(), bytes3.size())
      .add("none", Dtype::F32, {4, 0}, nullptr, 0)
      .add("name \"with\" \xC3\xA9scapes\n", Dtype::U8, {1}, bytes3.data(), 1)
      .metadata("format", "pt")
      .metadata("quote\"", "line\nbreak");
  const Bytes bytes = w.to_bytes();
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<std::size_t>(i)];
  CHECK(n % 8 == 0);  // padded like the reference implementation

  const std::string path = fixtures::temp_path("roundtrip.safetensors");
  w.write(path);
  const SafetensorsFile from_disk = SafetensorsFile::open(path);
  std::remove(path.c_str());
  for (const SafetensorsFile& f : {SafetensorsFile::from_bytes(bytes), from_disk}) {
    CHECK(f.size() == 12);
    CHECK(f.metadata().at("quote\"") == "line\nbreak");
    CHECK(view_bytes(f.get("fc1.weight")) == f32);
    CHECK(f.get("fc1.weight").shape == std::vector<std::int64_t>{2, 3});
    CHECK(view_bytes(f.get("d")) == f64);
    CHECK(f.get("h").dtype == Dtype::F16);
    CHECK(f.get("bh").dtype == Dtype::BF16);
    CHECK(view_bytes(f.get("bh")) == half);
    CHECK(view_bytes(f.get("l")) == i64);
    CHECK(view_bytes(f.get("i")) == i32);
    CHECK(view_bytes(f.get("s")) == i16);
    CHECK(f.get("c").dtype == Dtype::I8);
    CHECK(f.get("m").dtype == Dtype::BOOL);
    CHECK(view_bytes(f.get("u")) == bytes3);
    CHECK(f.get("none").nbytes == 0);
    CHECK(f.get("none").shape == std::vector<std::int64_t>{4, 0});
    CHECK(view_bytes(f.get("name \"with\" \xC3\xA9scapes\n")) == Bytes{1});
  }
}

TEST_CASE("the writer's output is deterministic: larger elements first, then by name") {
  const Bytes w4 = le<float>({1.f, 2.f});
  const Bytes b1 = {9};
  SafetensorsWriter a, b;
  a.add("w", Dtype::F32, {2}, w4.data(), 8).add("b", Dtype::U8, {1}, b1.data(), 1);
  b.add("b", Dtype::U8, {1}, b1.data(), 1).add("w", Dtype::F32, {2}, w4.data(), 8);
  a.metadata("format", "pt");
  b.metadata("format", "pt");
  CHECK(a.to_bytes() == b.to_bytes());
  // Written out from the format's description: header, space padding to a multiple of 8, data.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}})";
  std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  Bytes expected = make_file(padded, 0);
  expected.insert(expected.end(), w4.begin(), w4.end());
  expected.push_back(9);
  CHECK(a.to_bytes() == expected);
  CHECK(SafetensorsWriter().to_bytes() == make_file("{}      ", 0));
}

TEST_CASE("the writer rejects inconsistent tensors") {
  const float data[6] = {};
  SafetensorsWriter w;
  CHECK_THROWS_WITH_AS(w.add("x", Dtype::F32, {2, 3}, data, 20),
                       "SafetensorsWriter::add('x'): F32 [2, 3] needs 24 bytes, got 20",
                       ember::value_error);
  CHECK_THROWS_WITH_AS(w.add("x", Dtype::F32, {2, -3}, data, 24),
                       "SafetensorsWriter::add('x'): shape [2, -3] has a negative entry",
                       ember::value_error);
  CHECK_THROWS_AS(w.add("__metadata__", Dtype::F32, {1}, data, 4), ember::value_error);
  CHECK_THROWS_WITH_AS(w.add("bad\xFF", Dtype::F32, {1}, data, 4),
                       "SafetensorsWriter::add: tensor names must be valid UTF-8 without NUL bytes",
                       ember::value_error);
  CHECK_THROWS_AS(w.metadata("k", std::string("a\0b", 3)), ember::value_error);
  w.add("x", Dtype::F32, {6}, data, 24);
  CHECK_THROWS_WITH_AS(w.add("x", Dtype::F32, {6}, data, 24),
                       "SafetensorsWriter::add: duplicate tensor name 'x'", ember::value_error);
}

TEST_CASE("the reader validates the header length") {
  CHECK_THROWS_WITH_AS(SafetensorsFile::from_bytes(Bytes{1, 0, 0}, "t.safetensors"),
                       "safetensors 't.safetensors': file of 3 bytes is too short for the 8-byte "
                       "header length",
                       ember::format_error);
  Bytes big = make_file("{}", 0);
  big[0] = 100;  // claims 100 header bytes, 2 follow
  CHECK_THROWS_WITH_AS(SafetensorsFile::from_bytes(big, "t.safetensors"),
                       "safetensors 't.safetensors': header length 100 exceeds the 2 bytes that "
                       "follow the length field",
                       ember::format_error);
  Bytes absurd = make_file("{}", 0);
  absurd[3] = 0x10;  // 0x10000000 + 2 = 268435458
  CHECK_THROWS_WITH_AS(SafetensorsFile::from_bytes(absurd, "t.safetensors"),
                       "safetensors 't.safetensors': header length 268435458 is absurd (the limit "
                       "is 100000000 bytes)",
                       ember::format_error);
}

TEST_CASE("the reader rejects invalid headers, naming the key and the values") {
  const auto msg = [](const std::string& header, std::size_t buffer) {
    try {
      load(header, buffer);
    } catch (const ember::format_error& e) {
      return std::string(e.what());
    }
    return std::string("no format_error");
  };
  const std::string pre = "safetensors 't.safetensors': ";
  CHECK(msg("{\"a\": ", 0) ==
        pre + "header: invalid JSON at byte 6: expected a value, found end of input");
  CHECK(msg("[]", 0) == pre + "the header must be a JSON object, found an array");
  CHECK(msg(R"({"a": {"dtype": "F8", "shape": [1], "data_offsets": [0, 1]}})", 1) ==
        pre +
            "tensor 'a': unknown dtype \"F8\" (supported: F64, F32, F16, BF16, I64, I32, I16, "
            "I8, U8, BOOL)");
  CHECK(msg(R"({"a": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]}})", 8) ==
        pre + "tensor 'a': shape [2, -1] has a negative entry");
  CHECK(msg(R"({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20) ==
        pre + "tensor 'a': data_offsets [0, 20] hold 20 bytes, but F32 [2, 3] needs 24");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},)"
            R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})",
            6) == pre + "tensors 'a' [0, 4] and 'b' [2, 6] overlap");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},)"
            R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [6, 10]}})",
            10) ==
        pre +
            "bytes [4, 6) of the data buffer belong to no tensor (the buffer must be fully "
            "indexed)");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})", 6) ==
        pre + "tensor 'a': data_offsets [4, 8] extend past the 6-byte data buffer");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})", 7) ==
        pre +
            "the data buffer has 7 bytes, but the tensors cover only 4 (the buffer must be "
            "fully indexed)");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
            R"( "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
            2) == pre + "header: invalid JSON: duplicate key \"a\"");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 0]}})", 1) ==
        pre + "tensor 'a': invalid data_offsets [1, 0]");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [1]}})", 1) ==
        pre + "tensor 'a' needs the fields dtype, shape and data_offsets");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "x": []}})", 1) ==
        pre + "tensor 'a' has an unknown field 'x'");
  CHECK(msg(R"({"__metadata__": {"k": 1}})", 0) ==
        pre + "metadata value of 'k' must be a string, found an integer");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0]}})", 1) ==
        pre + "tensor 'a': data_offsets must be an array of two integers [begin, end]");
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 1]}})",
            1) == pre + "tensor 'a': shape [4294967296, 4294967296] is too large");
  // Empty tensors cover nothing and may sit at any boundary.
  CHECK(msg(R"({"a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},)"
            R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})",
            2) == "no format_error");
}

TEST_CASE("get and open report missing tensors and files") {
  const SafetensorsFile f =
      load(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})", 1);
  CHECK(f.contains("a"));
  CHECK_FALSE(f.contains("b"));
  CHECK_THROWS_WITH_AS(f.get("b"),
                       "safetensors 't.safetensors': no tensor named 'b' (the file has 1 tensors)",
                       ember::index_error);
  CHECK_THROWS_WITH_AS(SafetensorsFile::open("/nonexistent/model.safetensors"),
                       "cannot open '/nonexistent/model.safetensors' for reading: No such file or "
                       "directory",
                       ember::io_error);
}
