// ember::io::json: a small strict JSON reader and string quoting, enough for safetensors headers.
//
// Accepts objects, arrays, strings (all escapes, UTF-8 validated) and integers that fit in
// int64. Everything else, including true/false/null and numbers with a fraction or exponent,
// and every malformed document (duplicate keys, trailing commas, control characters in strings,
// invalid UTF-8, nesting deeper than 64) is rejected with a format_error giving the byte offset.
// A document may hold at most `max_values` values (default 2^20), because the tree takes about
// 100 bytes per value: a hostile 100 MB header of "[0,0,0,..." would otherwise need gigabytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "ember/error.hpp"

namespace ember::io::json {

struct Value {
  enum class Kind { object, array, string, integer };
  Kind kind = Kind::integer;
  std::int64_t integer = 0;
  std::string string;
  std::vector<Value> items;       // array elements, or object member values
  std::vector<std::string> keys;  // object member keys, in document order, unique

  // The member named `key`, or nullptr (objects only).
  const Value* find(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
};

inline const char* kind_name(Value::Kind k) noexcept {
  switch (k) {
    case Value::Kind::object:
      return "an object";
    case Value::Kind::array:
      return "an array";
    case Value::Kind::string:
      return "a string";
    case Value::Kind::integer:
      return "an integer";
  }
  return "?";
}

namespace detail {

// Length of the valid UTF-8 sequence starting `s` (RFC 3629: no overlongs, no surrogates, at
// most U+10FFFF), or 0.
inline std::size_t utf8_sequence(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) -> unsigned {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u;
  };
  const unsigned b0 = byte(0);
  const auto cont = [&](std::size_t i) { return (byte(i) & 0xC0u) == 0x80u; };
  if (b0 >= 0x01 && b0 <= 0x7F) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogate
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view context, std::size_t max_values)
      : s_(text), context_(context), max_values_(max_values) {}

  Value document() {
    Value v = value(0);
    skip_ws();
    if (p_ != s_.size()) error("unexpected ", describe(), " after the end of the document");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(error_kind::format, context_, ": invalid JSON at byte ", p_, ": ", parts...);
  }

  std::string describe() const {
    if (p_ >= s_.size()) return "end of input";
    const unsigned char c = static_cast<unsigned char>(s_[p_]);
    if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    return "byte " + std::to_string(c);
  }

  void skip_ws() noexcept {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
      ++p_;
  }

  void expect(char c) {
    if (p_ >= s_.size() || s_[p_] != c) error("expected '", c, "', found ", describe());
    ++p_;
  }

  Value value(int depth) {
    skip_ws();
    if (p_ >= s_.size()) error("expected a value, found end of input");
    if (++values_ > max_values_) error("more than ", max_values_, " values");
    const char c = s_[p_];
    if ((c == '{' || c == '[') && depth >= kMaxDepth)
      error("nested deeper than ", kMaxDepth, " levels");
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      Value v;
      v.kind = Value::Kind::string;
      v.string = string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return integer();
    if (c == 't' || c == 'f' || c == 'n')
      error("true, false and null are not supported (only objects, arrays, strings, integers)");
    error("expected a value, found ", describe());
  }

  Value object(int depth) {
    Value v;
    v.kind = Value::Kind::object;
    ++p_;  // '{'
    skip_ws();
    if (p_ < s_.size() && s_[p_] == '}') {
      ++p_;
      return v;
    }
    for (;;) {
      skip_ws();
      if (p_ >= s_.size() || s_[p_] != '"') error("expected a string key, found ", describe());
      v.keys.push_back(string());
      skip_ws();
      expect(':');
      v.items.push_back(value(depth + 1));
      skip_ws();
      if (p_ < s_.size() && s_[p_] == ',') {
        ++p_;
        continue;
      }
      expect('}');
      break;
    }
    // Duplicate keys: sort an index instead of comparing all pairs (headers can be large).
    std::vector<std::size_t> order(v.keys.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return v.keys[a] < v.keys[b]; });
    for (std::size_t i = 1; i < order.size(); ++i)
      if (v.keys[order[i]] == v.keys[order[i - 1]])
        fail(error_kind::format, context_, ": invalid JSON: duplicate key \"", v.keys[order[i]],
             "\"");
    return v;
  }

  Value array(int depth) {
    Value v;
    v.kind = Value::Kind::array;
    ++p_;  // '['
    skip_ws();
    if (p_ < s_.size() && s_[p_] == ']') {
      ++p_;
      return v;
    }
    for (;;) {
      v.items.push_back(value(depth + 1));
      skip_ws();
      if (p_ < s_.size() && s_[p_] == ',') {
        ++p_;
        continue;
      }
      expect(']');
      return v;
    }
  }

  Value integer() {
    const std::size_t start = p_;
    const bool negative = s_[p_] == '-';
    if (negative) ++p_;
    if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9')
      error("expected a digit, found ", describe());
    if (s_[p_] == '0' && p_ + 1 < s_.size() && s_[p_ + 1] >= '0' && s_[p_ + 1] <= '9')
      error("numbers must not have leading zeros");
    // Accumulate the magnitude as unsigned so that INT64_MIN is representable.
    const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
    std::uint64_t mag = 0;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') {
      const unsigned d = static_cast<unsigned>(s_[p_] - '0');
      if (mag > (limit - d) / 10) {
        p_ = start;
        error("integer ", std::string(s_.substr(start, 24)), "... does not fit in 64 bits");
      }
      mag = mag * 10 + d;
      ++p_;
    }
    if (p_ < s_.size() && (s_[p_] == '.' || s_[p_] == 'e' || s_[p_] == 'E'))
      error("only integers are supported, found a fraction or exponent");
    Value v;
    v.kind = Value::Kind::integer;
    v.integer = negative ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
    return v;
  }

  unsigned hex4() {
    if (s_.size() - p_ < 4) {
      p_ = s_.size();
      error("truncated \\u escape");
    }
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[p_];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<unsigned>(c - 'A' + 10);
      else
        error("invalid hex digit ", describe(), " in \\u escape");
      v = v * 16 + d;
      ++p_;
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++p_;  // opening quote
    std::string out;
    for (;;) {
      if (p_ >= s_.size()) error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return out;
      }
      if (c < 0x20) error("unescaped control character ", unsigned{c}, " in a string");
      if (c >= 0x80) {
        const std::size_t n = utf8_sequence(s_.substr(p_));
        if (n == 0) error("invalid UTF-8 in a string");
        out.append(s_.substr(p_, n));
        p_ += n;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++p_;
        continue;
      }
      ++p_;
      if (p_ >= s_.size()) error("unterminated string");
      const char e = s_[p_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.size() - p_ < 2 || s_[p_] != '\\' || s_[p_ + 1] != 'u')
              error("unpaired high surrogate in \\u escape");
            p_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) error("unpaired high surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --p_;
          error("invalid escape \\", describe());
      }
    }
  }

  std::string_view s_;
  std::string_view context_;
  std::size_t max_values_;
  std::size_t values_ = 0;
  std::size_t p_ = 0;
};

}  // namespace detail

// Parses a complete JSON document; `context` starts every error message (e.g. the file name).
inline Value parse(std::string_view text, std::string_view context = "json",
                   std::size_t max_values = std::size_t{1} << 20) {
  return detail::Parser(text, context, max_values).document();
}

// True when `s` is valid UTF-8 without NUL bytes.
inline bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = detail::utf8_sequence(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` as a JSON string literal, quotes included; control characters are \u-escaped.
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20) {
      static constexpr char digits[] = "0123456789abcdef";
      out += "\\u00";
      out += digits[c >> 4];
      out += digits[c & 0xF];
    } else
      out += ch;
  }
  out += '"';
  return out;
}

}  // namespace ember::io::json
