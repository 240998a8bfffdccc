// ember::io: a bounds-checked DEFLATE (RFC 1951) and gzip (RFC 1952) decoder, so that reading
// compressed data sets needs no zlib.
//
//   std::vector<std::uint8_t> raw = ember::io::gunzip(bytes.data(), bytes.size());
//
// Every malformed input (truncation anywhere, bad block types, invalid Huffman code lengths,
// distances beyond the output, CRC or length mismatches, output beyond the caller's limit) throws
// ember::format_error naming the problem and its input byte offset; the decoder never reads or
// writes outside its buffers. Huffman codes are decoded with two-level lookup tables.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "ember/error.hpp"

namespace ember::io {

// The default cap on decompressed output: large enough for every data set ember reads, small
// enough that a "zip bomb" fails cleanly instead of exhausting memory.
inline constexpr std::size_t default_max_output = std::size_t{1} << 32;

namespace detail {

struct Crc32Tables {
  std::uint32_t t[16][256];
};

// Built at run time, once: as a constexpr table it would cost every translation unit that includes
// ember.hpp a noticeable fraction of a second of constant evaluation.
inline Crc32Tables make_crc32_tables() noexcept {
  Crc32Tables tb{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    tb.t[0][i] = c;
  }
  for (int s = 1; s < 16; ++s)
    for (int i = 0; i < 256; ++i)
      tb.t[s][i] = (tb.t[s - 1][i] >> 8) ^ tb.t[0][tb.t[s - 1][i] & 0xFFu];
  return tb;
}

inline const Crc32Tables& crc32_tables() {
  static const Crc32Tables tables = make_crc32_tables();
  return tables;
}

inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  return std::uint64_t{load_le32(p)} | std::uint64_t{load_le32(p + 4)} << 32;
}

inline std::string hex(std::uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", digits, static_cast<unsigned>(v));
  return buf;
}

}  // namespace detail

// CRC-32 as gzip and zlib compute it (reflected polynomial 0xEDB88320). Pass the previous result
// as `crc` to continue a running checksum.
inline std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0) {
  const auto& t = detail::crc32_tables().t;
  std::uint32_t c = ~crc;
  // Slicing-by-16: sixteen independent table lookups per 16 bytes instead of a dependent chain
  // of one per byte.
  while (size >= 16) {
    const std::uint32_t a = detail::load_le32(data) ^ c;
    const std::uint32_t b = detail::load_le32(data + 4);
    const std::uint32_t d = detail::load_le32(data + 8);
    const std::uint32_t e = detail::load_le32(data + 12);
    c = t[15][a & 0xFFu] ^ t[14][(a >> 8) & 0xFFu] ^ t[13][(a >> 16) & 0xFFu] ^ t[12][a >> 24] ^
        t[11][b & 0xFFu] ^ t[10][(b >> 8) & 0xFFu] ^ t[9][(b >> 16) & 0xFFu] ^ t[8][b >> 24] ^
        t[7][d & 0xFFu] ^ t[6][(d >> 8) & 0xFFu] ^ t[5][(d >> 16) & 0xFFu] ^ t[4][d >> 24] ^
        t[3][e & 0xFFu] ^ t[2][(e >> 8) & 0xFFu] ^ t[1][(e >> 16) & 0xFFu] ^ t[0][e >> 24];
    data += 16;
    size -= 16;
  }
  while (size-- > 0) c = t[0][(c ^ *data++) & 0xFFu] ^ (c >> 8);
  return ~c;
}

// True when the bytes start with the gzip magic number 1f 8b.
inline bool is_gzip(const std::uint8_t* data, std::size_t size) noexcept {
  return size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

namespace detail {

// The bit input of DEFLATE: a 64-bit buffer filled least significant bit first. Past the end of
// the input it is filled with zero bytes counted in `overrun`; consuming any of them means the
// input is truncated (overran()).
struct BitReader {
  const std::uint8_t* in;
  std::size_t size;
  std::size_t pos;
  std::uint64_t buf = 0;
  unsigned count = 0;
  std::size_t overrun = 0;

  void refill() noexcept {
    if (size - pos >= 8) {
      // Branch-free refill: the bits above `count` are the true next bits, so OR-ing them in
      // again later changes nothing.
      buf |= load_le64(in + pos) << count;
      pos += (63 - count) >> 3;
      count |= 56;
    } else {
      while (count <= 56) {
        std::uint64_t byte = 0;
        if (pos < size) {
          byte = in[pos++];
        } else {
          ++overrun;
        }
        buf |= byte << count;
        count += 8;
      }
    }
  }

  unsigned peek(unsigned n) const noexcept {
    return static_cast<unsigned>(buf & ((std::uint64_t{1} << n) - 1));
  }

  void drop(unsigned n) noexcept {
    buf >>= n;
    count -= n;
  }

  unsigned take(unsigned n) noexcept {
    const unsigned v = peek(n);
    drop(n);
    return v;
  }

  bool overran() const noexcept { return overrun != 0 && overrun * 8 > count; }

  // The offset of the first input byte not yet consumed (for messages and byte alignment).
  std::size_t byte_pos() const noexcept {
    const std::size_t p = pos + overrun - count / 8;
    return p < size ? p : size;
  }
};

// Decodes one DEFLATE stream from in[pos..size) and appends its output to `out`.
class Inflater {
 public:
  Inflater(const std::uint8_t* in, std::size_t size, std::size_t pos,
           std::vector<std::uint8_t>& out, std::size_t out_used, std::size_t max_output,
           const char* name)
      : br_{in, size, pos},
        out_(out),
        n_(out_used),
        window_start_(out_used),
        max_output_(max_output),
        name_(name) {}

  // Decodes blocks up to and including the final one. Returns the input byte offset just after
  // the stream (the stream ends on a byte boundary) and sets out_used().
  std::size_t run() {
    bool final_block = false;
    while (!final_block) {
      br_.refill();
      final_block = br_.take(1) != 0;
      const unsigned type = br_.take(2);
      check_overrun();
      switch (type) {
        case 0:
          stored_block();
          break;
        case 1:
          if (!fixed_built_) build_fixed_tables();
          codes(litlen_fixed_, dist_fixed_);
          break;
        case 2:
          dynamic_tables();
          codes(litlen_, dist_);
          break;
        default:
          error("invalid block type 3");
      }
    }
    return align_to_byte();
  }

  std::size_t out_used() const noexcept { return n_; }

 private:
  // ---- table entries: bits 0-7 the code length to consume (for links: subtable index bits),
  // bits 8-9 the kind, bits 16-31 the symbol (for links: where the subtable starts). Invalid
  // entries carry symbol 0xFFFF, so `e >> 16 < 256` alone identifies a valid literal.
  static constexpr std::uint32_t kLink = 1u << 8;
  static constexpr std::uint32_t kInvalidBit = 2u << 8;
  static constexpr std::uint32_t kInvalid = 0xFFFF0000u | kInvalidBit;
  static constexpr unsigned kLitlenBits = 10;
  static constexpr unsigned kDistBits = 8;
  static constexpr unsigned kCodelenBits = 7;
  // A table needs 2^primary entries plus at most one subtable of 2^(15 - primary) entries per
  // symbol whose code is longer than the primary bits.
  static constexpr std::size_t kLitlenSize = (1u << kLitlenBits) + 288 * (1u << (15 - kLitlenBits));
  static constexpr std::size_t kDistSize = (1u << kDistBits) + 32 * (1u << (15 - kDistBits));

  enum class Alphabet { codelen, litlen, dist };

  struct Table {
    std::uint32_t* entries;
    unsigned bits;
  };

  // ---- errors -----------------------------------------------------------------------------
  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(error_kind::format, name_, ": invalid deflate data: ", parts..., " (at input byte ",
         br_.byte_pos(), ")");
  }

  [[noreturn]] void truncated() const {
    fail(error_kind::format, name_, ": truncated input: the deflate stream ends after ", br_.size,
         " bytes, before its final block is complete");
  }

  [[noreturn]] void over_limit() const {
    fail(error_kind::format, name_, ": decompressed output exceeds the limit of ", max_output_,
         " bytes");
  }

  void check_overrun() const {
    if (br_.overran()) truncated();
  }

  std::size_t align_to_byte() {
    br_.drop(br_.count & 7u);
    check_overrun();
    const std::size_t p = br_.pos + br_.overrun - br_.count / 8;
    br_.buf = 0;
    br_.count = 0;
    br_.overrun = 0;
    br_.pos = p;
    return p;
  }

  // ---- output ---------------------------------------------------------------------------------
  // Keeps room for `extra` bytes plus 8 of slack for the 8-byte match copies.
  void reserve_out(std::size_t extra) {
    const std::size_t need = n_ + extra + 8;
    if (out_.size() >= need) return;
    std::size_t want = std::max({out_.size() * 2, need, std::size_t{4096}});
    // Stay inside a capacity reserved from the gzip size hint: growing past it would copy.
    if (out_.capacity() >= need && want > out_.capacity()) want = out_.capacity();
    out_.resize(want);
  }

  // ---- Huffman tables -------------------------------------------------------------------------
  // Builds the canonical Huffman decoding table for code lengths lens[0..n) (RFC 1951 3.2.2),
  // rejecting over-subscribed and (except where zlib allows it) incomplete codes.
  void build_table(const std::uint8_t* lens, unsigned n, Table table, Alphabet alphabet,
                   const char* what) {
    unsigned count[16] = {};
    for (unsigned i = 0; i < n; ++i) ++count[lens[i]];
    count[0] = 0;
    int left = 1;
    unsigned max_len = 0;
    for (unsigned len = 1; len <= 15; ++len) {
      left = left * 2 - static_cast<int>(count[len]);
      if (left < 0) error("over-subscribed ", what, " code lengths");
      if (count[len] != 0) max_len = len;
    }
    // An incomplete code is only valid as a single code of length 1 (one used distance, say),
    // or with no codes at all; decoding an unused code is then an error.
    if (left > 0 && max_len != 0 && (alphabet == Alphabet::codelen || max_len != 1))
      error("incomplete ", what, " code lengths");

    const std::uint32_t primary = 1u << table.bits;
    for (std::uint32_t i = 0; i < primary; ++i) table.entries[i] = kInvalid;
    const unsigned sub_bits = max_len > table.bits ? max_len - table.bits : 0;
    std::uint32_t next_sub = primary;

    unsigned next_code[16] = {};
    unsigned code = 0;
    for (unsigned len = 1; len <= 15; ++len) {
      code = (code + count[len - 1]) << 1;
      next_code[len] = code;
    }
    for (unsigned sym = 0; sym < n; ++sym) {
      const unsigned len = lens[sym];
      if (len == 0) continue;
      const unsigned c = next_code[len]++;
      unsigned rev = 0;  // codes are packed starting with their most significant bit
      for (unsigned b = 0; b < len; ++b) rev |= ((c >> b) & 1u) << (len - 1 - b);
      const std::uint32_t entry = (std::uint32_t{sym} << 16) | len;
      if (len <= table.bits) {
        for (std::uint32_t i = rev; i < primary; i += 1u << len) table.entries[i] = entry;
      } else {
        std::uint32_t& link = table.entries[rev & (primary - 1)];
        if ((link & kLink) == 0) {
          link = (next_sub << 16) | kLink | sub_bits;
          for (std::uint32_t i = 0; i < (1u << sub_bits); ++i)
            table.entries[next_sub + i] = kInvalid;
          next_sub += 1u << sub_bits;
        }
        const std::uint32_t base = link >> 16;
        for (std::uint32_t i = rev >> table.bits; i < (1u << sub_bits);
             i += 1u << (len - table.bits))
          table.entries[base + i] = entry;
      }
    }
  }

  // The table entry of the next code (a symbol entry, or kInvalid); consumes its bits unless
  // invalid. The caller has refilled the bit buffer.
  static std::uint32_t decode(const Table& table, BitReader& br) noexcept {
    std::uint32_t e = table.entries[br.peek(table.bits)];
    if (e & kLink)
      e = table.entries[(e >> 16) + ((br.buf >> table.bits) & ((1u << (e & 0xFFu)) - 1))];
    if ((e & kInvalidBit) == 0) br.drop(e & 0xFFu);
    return e;
  }

  // Reports an invalid code; the missing bits of a truncated input may be what made it invalid.
  [[noreturn]] void invalid_code(const char* what) const {
    if (br_.overrun != 0) truncated();
    error("invalid ", what, " Huffman code");
  }

  void build_fixed_tables() {
    std::uint8_t lens[288 + 32];
    for (unsigned i = 0; i < 144; ++i) lens[i] = 8;
    for (unsigned i = 144; i < 256; ++i) lens[i] = 9;
    for (unsigned i = 256; i < 280; ++i) lens[i] = 7;
    for (unsigned i = 280; i < 288; ++i) lens[i] = 8;
    for (unsigned i = 288; i < 320; ++i) lens[i] = 5;
    build_table(lens, 288, litlen_fixed_, Alphabet::litlen, "fixed literal/length");
    build_table(lens + 288, 32, dist_fixed_, Alphabet::dist, "fixed distance");
    fixed_built_ = true;
  }

  void dynamic_tables() {
    br_.refill();
    const unsigned hlit = br_.take(5) + 257;
    const unsigned hdist = br_.take(5) + 1;
    const unsigned hclen = br_.take(4) + 4;
    check_overrun();
    if (hlit > 286) error("dynamic block declares ", hlit, " literal/length codes (at most 286)");
    if (hdist > 30) error("dynamic block declares ", hdist, " distance codes (at most 30)");

    static constexpr std::uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                               11, 4,  12, 3, 13, 2, 14, 1, 15};
    std::uint8_t cl_lens[19] = {};
    for (unsigned i = 0; i < hclen; ++i) {
      br_.refill();
      cl_lens[order[i]] = static_cast<std::uint8_t>(br_.take(3));
    }
    check_overrun();
    build_table(cl_lens, 19, codelen_, Alphabet::codelen, "code length");

    std::uint8_t lens[286 + 30] = {};
    const unsigned total = hlit + hdist;
    unsigned i = 0;
    while (i < total) {
      br_.refill();
      const std::uint32_t e = decode(codelen_, br_);
      if (e & kInvalidBit) invalid_code("code length");
      const unsigned sym = e >> 16;
      unsigned repeat = 0;
      std::uint8_t value = 0;
      if (sym < 16) {
        check_overrun();
        lens[i++] = static_cast<std::uint8_t>(sym);
        continue;
      } else if (sym == 16) {
        if (i == 0) error("code length repeat (16) with no previous length");
        value = lens[i - 1];
        repeat = 3 + br_.take(2);
      } else if (sym == 17) {
        repeat = 3 + br_.take(3);
      } else {
        repeat = 11 + br_.take(7);
      }
      check_overrun();
      if (repeat > total - i)
        error("code length repeat of ", repeat, " overruns the ", total, " code lengths");
      for (unsigned k = 0; k < repeat; ++k) lens[i++] = value;
    }
    if (lens[256] == 0) error("dynamic block has no end-of-block code");
    build_table(lens, hlit, litlen_, Alphabet::litlen, "literal/length");
    build_table(lens + hlit, hdist, dist_, Alphabet::dist, "distance");
  }

  // ---- blocks ---------------------------------------------------------------------------------
  void stored_block() {
    br_.drop(br_.count & 7u);
    br_.refill();
    const unsigned len = br_.take(16);
    const unsigned nlen = br_.take(16);
    check_overrun();
    if (len != (~nlen & 0xFFFFu))
      error("stored block length ", len, " does not match its complement ", nlen);
    const std::size_t p = align_to_byte();
    if (br_.size - p < len) truncated();
    if (len > max_output_ - n_) over_limit();
    reserve_out(len);
    if (len != 0) std::memcpy(out_.data() + n_, br_.in + p, len);
    n_ += len;
    br_.pos = p + len;
  }

  // Decodes the codes of one Huffman block up to its end-of-block code. The hot loop keeps the
  // bit reader and output position in locals: stores through the uint8_t output pointer may
  // alias any member, which would force the compiler to reload them after every byte.
  void codes(const Table litlen, const Table dist) {
    static constexpr std::uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                                   15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                                   67, 83, 99, 115, 131, 163, 195, 227, 258};
    static constexpr std::uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static constexpr std::uint16_t dist_base[30] = {
        1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static constexpr std::uint8_t dist_extra[30] = {0, 0, 0,  0,  1,  1,  2,  2,  3,  3,
                                                    4, 4, 5,  5,  6,  6,  7,  7,  8,  8,
                                                    9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    BitReader br = br_;
    std::size_t n = n_;
    std::uint8_t* out = out_.data();
    std::size_t cap = out_.size();
    const std::size_t max_output = max_output_;
    const std::size_t window_start = window_start_;
    // Writes the locals back before anything that reads the members (errors, growing).
    const auto save = [&] {
      br_ = br;
      n_ = n;
    };
    for (;;) {
      br.refill();
      if (cap - n < 258 + 16) {
        save();
        reserve_out(258 + 8);
        out = out_.data();
        cap = out_.size();
      }
      std::uint32_t e = decode(litlen, br);
      if (br.overrun == 0 && max_output - n >= 3) {
        // Every bit in the buffer is real input: up to three literals per refill (56 bits hold
        // three 15-bit codes) without further checks.
        if ((e >> 16) < 256) {
          out[n++] = static_cast<std::uint8_t>(e >> 16);
          e = decode(litlen, br);
          if ((e >> 16) < 256) {
            out[n++] = static_cast<std::uint8_t>(e >> 16);
            e = decode(litlen, br);
            if ((e >> 16) < 256) {
              out[n++] = static_cast<std::uint8_t>(e >> 16);
              continue;
            }
          }
        }
      } else if ((e >> 16) < 256) {
        // Near the end of the input or of the output limit: check every literal.
        if (br.overran() || n >= max_output) {
          save();
          check_overrun();
          over_limit();
        }
        out[n++] = static_cast<std::uint8_t>(e >> 16);
        continue;
      }
      // A length (or end of block): one refill covers length extra bits, distance code and
      // distance extra bits, at most 5 + 15 + 13 = 33 bits.
      const unsigned sym = e >> 16;
      br.refill();
      save();  // the rare paths report errors from the members
      if (e & kInvalidBit) invalid_code("literal/length");
      if (sym == 256) {
        check_overrun();
        return;
      }
      if (sym > 285) error("invalid literal/length symbol ", sym);
      const unsigned len = len_base[sym - 257] + br.take(len_extra[sym - 257]);
      const std::uint32_t de = decode(dist, br);
      save();
      if (de & kInvalidBit) invalid_code("distance");
      const unsigned dsym = de >> 16;
      if (dsym > 29) error("invalid distance symbol ", dsym);
      const std::size_t d = dist_base[dsym] + br.take(dist_extra[dsym]);
      save();
      check_overrun();
      if (d > n - window_start)
        error("distance ", d, " is too far back: only ", n - window_start,
              " bytes have been decoded");
      if (len > max_output - n) over_limit();
      std::uint8_t* dst = out + n;
      const std::uint8_t* src = dst - d;
      if (d >= 8) {
        // 8-byte chunks never overlap their source when d >= 8; the last chunk may write up to
        // 7 bytes past the match, into the slack reserve_out() keeps.
        std::uint8_t* const end = dst + len;
        do {
          std::memcpy(dst, src, 8);
          dst += 8;
          src += 8;
        } while (dst < end);
      } else if (d == 1) {
        std::memset(dst, *src, len);
      } else {
        for (unsigned k = 0; k < len; ++k) dst[k] = src[k];
      }
      n += len;
    }
  }

  BitReader br_;
  std::vector<std::uint8_t>& out_;
  std::size_t n_;
  std::size_t window_start_;
  std::size_t max_output_;
  const char* name_;

  bool fixed_built_ = false;
  std::uint32_t litlen_entries_[kLitlenSize];
  std::uint32_t dist_entries_[kDistSize];
  std::uint32_t codelen_entries_[1u << kCodelenBits];
  std::uint32_t litlen_fixed_entries_[kLitlenSize];
  std::uint32_t dist_fixed_entries_[kDistSize];
  Table litlen_{litlen_entries_, kLitlenBits};
  Table dist_{dist_entries_, kDistBits};
  Table codelen_{codelen_entries_, kCodelenBits};
  Table litlen_fixed_{litlen_fixed_entries_, kLitlenBits};
  Table dist_fixed_{dist_fixed_entries_, kDistBits};
};

// Decodes a raw DEFLATE stream that must fill data[0..size) exactly.
inline std::vector<std::uint8_t> inflate(const std::uint8_t* data, std::size_t size,
                                         std::size_t max_output, const char* name) {
  std::vector<std::uint8_t> out;
  auto inflater = std::make_unique<Inflater>(data, size, 0, out, 0, max_output, name);
  const std::size_t end = inflater->run();
  if (end != size)
    fail(error_kind::format, name, ": ", size - end,
         " unexpected bytes after the final deflate block");
  out.resize(inflater->out_used());
  return out;
}

// Decodes every member of a gzip file, checking each member's header, CRC-32 and length.
inline std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size,
                                        std::size_t max_output, const char* name) {
  std::vector<std::uint8_t> out;
  // ISIZE of the last member (the length modulo 2^32) is a good first guess of the output size.
  if (size >= 18) {
    const std::size_t hint = load_le32(data + size - 4);
    // Untrusted: only believed up to 64:1 (real data compresses far less; beyond that the
    // output grows by doubling) and up to the caller's limit.
    if (hint <= max_output && hint / 64 <= size) out.reserve(hint + 266);
  }
  std::size_t used = 0;
  std::size_t p = 0;
  for (int member = 1; p < size || member == 1; ++member) {
    const std::size_t start = p;
    if (!is_gzip(data + p, size - p)) {
      if (member == 1 && size < 2)
        fail(error_kind::format, name, ": not gzip data: ", size, " bytes, too short for a header");
      if (member == 1)
        fail(error_kind::format, name,
             ": not gzip data: expected the magic bytes 0x1f 0x8b, found ", hex(data[0], 2), " ",
             hex(data[1], 2));
      fail(error_kind::format, name, ": unexpected data after gzip member ", member - 1,
           " at byte ", p, ": ", size - p,
           " bytes that do not start with the magic bytes 0x1f 0x8b");
    }
    if (size - p < 10)
      fail(error_kind::format, name, ": truncated gzip header of member ", member, " at byte ", p);
    if (data[p + 2] != 8)
      fail(error_kind::format, name, ": unsupported gzip compression method ",
           unsigned{data[p + 2]}, " (only 8, deflate, exists)");
    const unsigned flags = data[p + 3];
    if (flags & 0xE0u)
      fail(error_kind::format, name, ": reserved gzip header flags set: ", hex(flags, 2));
    p += 10;
    auto need = [&](std::size_t n, const char* what) {
      if (size - p < n)
        fail(error_kind::format, name, ": truncated gzip header: the ", what, " field of member ",
             member, " needs ", n, " bytes, only ", size - p, " remain");
    };
    if (flags & 0x04u) {  // FEXTRA
      need(2, "extra-length");
      const std::size_t xlen = std::size_t{data[p]} | std::size_t{data[p + 1]} << 8;
      p += 2;
      need(xlen, "extra");
      p += xlen;
    }
    for (unsigned flag : {0x08u, 0x10u}) {  // FNAME, FCOMMENT: zero-terminated
      if ((flags & flag) == 0) continue;
      const void* zero = std::memchr(data + p, 0, size - p);
      if (zero == nullptr)
        fail(error_kind::format, name, ": truncated gzip header: the ",
             flag == 0x08u ? "file name" : "comment", " of member ", member, " has no terminator");
      p = static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - data) + 1;
    }
    if (flags & 0x02u) {  // FHCRC: the low 16 bits of the header's CRC-32
      need(2, "header-CRC");
      const unsigned stored = unsigned{data[p]} | unsigned{data[p + 1]} << 8;
      const unsigned computed = crc32(data + start, p - start) & 0xFFFFu;
      if (stored != computed)
        fail(error_kind::format, name, ": gzip header CRC mismatch in member ", member, ": stored ",
             hex(stored, 4), ", computed ", hex(computed, 4));
      p += 2;
    }
    const std::size_t member_out = used;
    auto inflater = std::make_unique<Inflater>(data, size, p, out, used, max_output, name);
    p = inflater->run();
    used = inflater->out_used();
    if (size - p < 8)
      fail(error_kind::format, name, ": truncated gzip trailer of member ", member,
           ": need 8 bytes, ", size - p, " remain");
    const std::uint32_t stored_crc = load_le32(data + p);
    const std::uint32_t stored_size = load_le32(data + p + 4);
    p += 8;
    const std::uint32_t computed_crc = crc32(out.data() + member_out, used - member_out);
    if (stored_crc != computed_crc)
      fail(error_kind::format, name, ": CRC-32 mismatch in gzip member ", member, ": stored ",
           hex(stored_crc, 8), ", computed ", hex(computed_crc, 8));
    const std::uint32_t computed_size = static_cast<std::uint32_t>(used - member_out);
    if (stored_size != computed_size)
      fail(error_kind::format, name, ": length mismatch in gzip member ", member,
           ": the trailer says ", stored_size, " bytes (mod 2^32), decoded ", computed_size);
  }
  out.resize(used);
  return out;
}

}  // namespace detail

// Decodes raw DEFLATE data (no zlib or gzip wrapper) that must end exactly at data + size.
inline std::vector<std::uint8_t> inflate(const std::uint8_t* data, std::size_t size,
                                         std::size_t max_output = default_max_output) {
  return detail::inflate(data, size, max_output, "inflate");
}

// Decodes gzip data: one or more members, each with its CRC-32 and length checked. Output longer
// than `max_output` bytes is an error.
inline std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size,
                                        std::size_t max_output = default_max_output) {
  return detail::gunzip(data, size, max_output, "gunzip");
}

}  // namespace ember::io
