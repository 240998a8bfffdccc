#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/io/gzip.hpp"
#include "fixture_rules.hpp"

using ember::io::gunzip;
using ember::io::inflate;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes gunzip_all(const Bytes& b, std::size_t limit = ember::io::default_max_output) {
  return gunzip(b.data(), b.size(), limit);
}

Bytes inflate_all(const Bytes& b) {
  return inflate(b.data(), b.size());
}

Bytes str(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// Writes DEFLATE bit fields: values least significant bit first, Huffman codes most significant
// bit first (RFC 1951 3.1.1).
class BitWriter {
 public:
  BitWriter& bits(unsigned value, unsigned n) {
    for (unsigned i = 0; i < n; ++i) put((value >> i) & 1u);
    return *this;
  }
  BitWriter& code(unsigned code, unsigned len) {
    for (unsigned i = len; i-- > 0;) put((code >> i) & 1u);
    return *this;
  }
  // Fixed Huffman code of a literal/length symbol (RFC 1951 3.2.6).
  BitWriter& fixed(unsigned sym) {
    if (sym < 144) return code(0x30 + sym, 8);
    if (sym < 256) return code(0x190 + sym - 144, 9);
    if (sym < 280) return code(sym - 256, 7);
    return code(0xC0 + sym - 280, 8);
  }
  Bytes bytes() const { return out_; }

 private:
  void put(unsigned bit) {
    if (n_ % 8 == 0) out_.push_back(0);
    out_.back() = static_cast<std::uint8_t>(out_.back() | (bit << (n_ % 8)));
    ++n_;
  }
  Bytes out_;
  std::size_t n_ = 0;
};

}  // namespace

TEST_CASE("crc32 gives the standard check values") {
  const Bytes check = str("123456789");
  CHECK(ember::io::crc32(check.data(), check.size()) == 0xCBF43926u);
  CHECK(ember::io::crc32(nullptr, 0) == 0u);
  // A running checksum over pieces equals the checksum of the whole, across the 8-byte fast path.
  const Bytes text = fixtures::text_pattern(20);
  const std::uint32_t whole = ember::io::crc32(text.data(), text.size());
  const std::uint32_t part = ember::io::crc32(text.data(), 13);
  CHECK(ember::io::crc32(text.data() + 13, text.size() - 13, part) == whole);
}

TEST_CASE("gunzip decodes files made by Debian's gzip at levels 1 and 9 (dynamic Huffman)") {
  const Bytes expected = fixtures::text_pattern(1500);
  for (const char* name : {"text1500.level1.gz", "text1500.level9.gz"}) {
    CAPTURE(name);
    const Bytes gz = fixtures::read(name);
    CHECK(((gz[10] >> 1) & 3) == 2);  // the first block really is a dynamic one
    CHECK(gunzip_all(gz) == expected);
  }
}

TEST_CASE("gunzip decodes fixed Huffman and stored blocks") {
  const Bytes fixed = fixtures::read("hello.fixed.gz");
  CHECK(((fixed[10] >> 1) & 3) == 1);
  CHECK(gunzip_all(fixed) == str("hello hello hello hello\n"));
  const Bytes stored = fixtures::read("lcg3000.stored.gz");
  CHECK(((stored[10] >> 1) & 3) == 0);
  CHECK(gunzip_all(stored) == fixtures::lcg_bytes(3000));
}

TEST_CASE("gunzip concatenates members and skips FEXTRA, FNAME, FCOMMENT and checks FHCRC") {
  Bytes expected = fixtures::text_pattern(100);
  const Bytes lcg = fixtures::lcg_bytes(500);
  expected.insert(expected.end(), lcg.begin(), lcg.end());
  CHECK(gunzip_all(fixtures::read("two_members.gz")) == expected);
  CHECK(gunzip_all(fixtures::read("empty.gz")).empty());
}

TEST_CASE("inflate decodes hand-built raw streams") {
  // A final stored block holding "abc".
  CHECK(inflate_all({0x01, 0x03, 0x00, 0xFC, 0xFF, 'a', 'b', 'c'}) == str("abc"));
  // A fixed block: 'a', then a match of length 5 at distance 1 (symbol 259, distance code 0).
  BitWriter w;
  w.bits(1, 1).bits(1, 2).fixed('a').fixed(259).code(0, 5).fixed(256);
  CHECK(inflate_all(w.bytes()) == str("aaaaaa"));
  // A match of length 258 at distance 2 copies an overlapping pattern.
  BitWriter w2;
  w2.bits(1, 1).bits(1, 2).fixed('x').fixed('y').fixed(285).code(1, 5).fixed(256);
  Bytes xy;
  for (int i = 0; i < 130; ++i) xy.insert(xy.end(), {'x', 'y'});
  CHECK(inflate_all(w2.bytes()) == xy);
}

TEST_CASE("malformed DEFLATE streams are format_errors with clear messages") {
  CHECK_THROWS_WITH_AS(inflate_all({0x07}), doctest::Contains("invalid block type 3"),
                       ember::format_error);
  CHECK_THROWS_WITH_AS(inflate_all({0x01, 0x03, 0x00, 0xFC, 0xFE, 'a', 'b', 'c'}),
                       doctest::Contains("stored block length 3 does not match its complement"),
                       ember::format_error);
  CHECK_THROWS_WITH_AS(inflate_all({0x01, 0x05, 0x00, 0xFA, 0xFF, 'a', 'b'}),
                       doctest::Contains("truncated input"), ember::format_error);
  {
    BitWriter w;  // a match before any output
    w.bits(1, 1).bits(1, 2).fixed(257).code(0, 5).fixed(256);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("distance 1 is too far back: only 0 bytes"),
                         ember::format_error);
  }
  {
    BitWriter w;  // distance 4 after 3 bytes
    w.bits(1, 1).bits(1, 2).fixed('a').fixed('b').fixed('c').fixed(257).code(3, 5).fixed(256);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("distance 4 is too far back: only 3 bytes"),
                         ember::format_error);
  }
  {
    BitWriter w;  // literal/length symbol 286 has a fixed code but no meaning
    w.bits(1, 1).bits(1, 2).fixed(286);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("invalid literal/length symbol 286"),
                         ember::format_error);
  }
  {
    BitWriter w;  // distance symbol 30 likewise
    w.bits(1, 1).bits(1, 2).fixed('a').fixed(257).code(30, 5);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()), doctest::Contains("invalid distance symbol 30"),
                         ember::format_error);
  }
  {
    BitWriter w;  // 19 code length codes all of length 1: over-subscribed
    w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
    for (int i = 0; i < 19; ++i) w.bits(1, 3);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("over-subscribed code length code lengths"),
                         ember::format_error);
  }
  {
    BitWriter w;  // a single code length code of length 1: incomplete
    w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4).bits(1, 3).bits(0, 3).bits(0, 3).bits(
        0, 3);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("incomplete code length code lengths"),
                         ember::format_error);
  }
  {
    BitWriter w;  // HLIT = 257 + 30 = 287 codes
    w.bits(1, 1).bits(2, 2).bits(30, 5).bits(0, 5).bits(0, 4);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("declares 287 literal/length codes (at most 286)"),
                         ember::format_error);
  }
  {
    // Code length codes 0 and 16 (both length 1): the first code repeats a previous length
    // that does not exist.
    BitWriter w;
    w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4);
    w.bits(1, 3).bits(0, 3).bits(0, 3).bits(1, 3);  // lengths of codes 16, 17, 18, 0
    w.code(1, 1);                                   // code 16 (0 -> symbol 0, 1 -> symbol 16)
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("repeat (16) with no previous length"),
                         ember::format_error);
  }
  {
    // Codes 0 and 18 (both length 1): two runs of 138 zeros overrun the 257 + 1 lengths.
    BitWriter w;
    w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4);
    w.bits(0, 3).bits(0, 3).bits(1, 3).bits(1, 3);  // codes 18 and 0 have length 1
    w.code(1, 1).bits(127, 7).code(1, 1).bits(127, 7);
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()),
                         doctest::Contains("repeat of 138 overruns the 258 code lengths"),
                         ember::format_error);
  }
  {
    // All 258 lengths zero: no end-of-block code.
    BitWriter w;
    w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(0, 4);
    w.bits(0, 3).bits(0, 3).bits(1, 3).bits(1, 3);
    w.code(1, 1).bits(127, 7).code(1, 1).bits(109, 7);  // 138 + 120 zeros
    CHECK_THROWS_WITH_AS(inflate_all(w.bytes()), doctest::Contains("no end-of-block code"),
                         ember::format_error);
  }
  CHECK_THROWS_WITH_AS(inflate_all({0x01, 0x01, 0x00, 0xFE, 0xFF, 'a', 'b'}),
                       doctest::Contains("1 unexpected bytes after the final deflate block"),
                       ember::format_error);
  CHECK_THROWS_WITH_AS(inflate_all({}), doctest::Contains("truncated input"), ember::format_error);
}

TEST_CASE("gzip container errors: magic, method, flags, header CRC, trailer") {
  const Bytes good = fixtures::read("hello.fixed.gz");
  CHECK_THROWS_WITH_AS(gunzip_all(str("hello, not gzip")),
                       "gunzip: not gzip data: expected the magic bytes 0x1f 0x8b, found 0x68 0x65",
                       ember::format_error);
  CHECK_THROWS_WITH_AS(gunzip_all({0x1F, 0x8B, 8}),
                       "gunzip: truncated gzip header of member 1 at byte 0", ember::format_error);
  Bytes bad = good;
  bad[2] = 7;
  CHECK_THROWS_WITH_AS(gunzip_all(bad), doctest::Contains("unsupported gzip compression method 7"),
                       ember::format_error);
  bad = good;
  bad[3] = 0x20;
  CHECK_THROWS_WITH_AS(gunzip_all(bad), doctest::Contains("reserved gzip header flags set: 0x20"),
                       ember::format_error);
  bad = good;
  bad[3] = 0x08;  // FNAME without its terminator: the rest of the file is taken as the name
  for (std::size_t i = 10; i < bad.size(); ++i)
    if (bad[i] == 0) bad[i] = 'x';
  CHECK_THROWS_WITH_AS(gunzip_all(bad),
                       doctest::Contains("file name of member 1 has no terminator"),
                       ember::format_error);

  // Trailer: CRC-32 and ISIZE are the last 8 bytes.
  bad = good;
  bad[bad.size() - 8] ^= 0x01;
  CHECK_THROWS_WITH_AS(gunzip_all(bad), doctest::Contains("CRC-32 mismatch in gzip member 1"),
                       ember::format_error);
  bad = good;
  bad[bad.size() - 4] ^= 0x01;  // 24 bytes -> 25
  CHECK_THROWS_WITH_AS(gunzip_all(bad),
                       "gunzip: length mismatch in gzip member 1: the trailer says 25 bytes (mod "
                       "2^32), decoded 24",
                       ember::format_error);
  bad = good;
  bad.pop_back();
  CHECK_THROWS_WITH_AS(gunzip_all(bad),
                       "gunzip: truncated gzip trailer of member 1: need 8 bytes, 7 remain",
                       ember::format_error);
  bad = good;
  bad.insert(bad.end(), {0x00, 0x00});
  CHECK_THROWS_WITH_AS(gunzip_all(bad), doctest::Contains("unexpected data after gzip member 1"),
                       ember::format_error);

  // The header CRC of the second member of two_members.gz (FHCRC set): corrupt the comment.
  Bytes two = fixtures::read("two_members.gz");
  const std::string comment = "a comment";
  auto it = std::search(two.begin(), two.end(), comment.begin(), comment.end());
  REQUIRE(it != two.end());
  *it = 'A';
  CHECK_THROWS_WITH_AS(gunzip_all(two), doctest::Contains("gzip header CRC mismatch in member 2"),
                       ember::format_error);
}

TEST_CASE("gunzip enforces the caller's output limit exactly") {
  const Bytes gz = fixtures::read("text1500.level9.gz");
  CHECK(gunzip_all(gz, 75000).size() == 75000);
  CHECK_THROWS_WITH_AS(gunzip_all(gz, 74999),
                       "gunzip: decompressed output exceeds the limit of 74999 bytes",
                       ember::format_error);
  CHECK_THROWS_AS(gunzip_all(fixtures::read("lcg3000.stored.gz"), 100), ember::format_error);
  CHECK_THROWS_AS(gunzip_all(gz, 0), ember::format_error);
}
