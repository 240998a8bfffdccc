#include <doctest/doctest.h>

#include <string>

#include "ember/io/json.hpp"

namespace json = ember::io::json;

TEST_CASE("json parses objects, arrays, strings and integers") {
  const json::Value v = json::parse(R"( {"a": [1, -2, 0, 9223372036854775807, -9223372036854775808],
      "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}, "e": []} )");
  REQUIRE(v.kind == json::Value::Kind::object);
  REQUIRE(v.keys.size() == 4);
  CHECK(v.keys[0] == "a");  // document order is kept
  const json::Value* a = v.find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->items.size() == 5);
  CHECK(a->items[1].integer == -2);
  CHECK(a->items[3].integer == INT64_MAX);
  CHECK(a->items[4].integer == INT64_MIN);
  // U+00E9 is C3 A9 in UTF-8, U+1F600 (a surrogate pair) is F0 9F 98 80.
  CHECK(v.find("s")->string == "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(v.find("o")->kind == json::Value::Kind::object);
  CHECK(v.find("e")->items.empty());
  CHECK(v.find("missing") == nullptr);
  // Raw UTF-8 passes through unchanged.
  CHECK(json::parse("\"\xE4\xB8\xAD\"").string == "\xE4\xB8\xAD");
}

TEST_CASE("json rejects malformed documents with the byte offset") {
  CHECK_THROWS_WITH_AS(json::parse("{\"a\": 1,}", "hdr"),
                       "hdr: invalid JSON at byte 8: expected a string key, found '}'",
                       ember::format_error);
  CHECK_THROWS_WITH_AS(json::parse("{\"a\": 1, \"a\": 2}", "hdr"),
                       "hdr: invalid JSON: duplicate key \"a\"", ember::format_error);
  CHECK_THROWS_WITH_AS(json::parse("[1 2]", "hdr"),
                       "hdr: invalid JSON at byte 3: expected ']', found '2'", ember::format_error);
  CHECK_THROWS_WITH_AS(json::parse("{} x", "hdr"),
                       "hdr: invalid JSON at byte 3: unexpected 'x' after the end of the document",
                       ember::format_error);
  const char* bad[] = {"",
                       "{",
                       "[",
                       "{\"a\"}",
                       "{\"a\":}",
                       "[1,]",
                       "01",
                       "-",
                       "1.5",
                       "1e3",
                       "true",
                       "null",
                       "\"abc",
                       "\"\\x\"",
                       "\"\\u12\"",
                       "\"\\ud800\"",
                       "\"\\udc00\"",
                       "\"a\nb\"",
                       "\"\xC0\x80\"",
                       "\"\xED\xA0\x80\"",
                       "\"\xF4\x90\x80\x80\"",
                       "\"\xE4\xB8\"",
                       "\"\x80\"",
                       "9223372036854775808",
                       "-9223372036854775809",
                       "{1: 2}",
                       "[1]]"};
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_THROWS_AS(json::parse(text), ember::format_error);
  }
  std::string deep(65, '[');
  deep += std::string(65, ']');
  CHECK_THROWS_WITH_AS(json::parse(deep), doctest::Contains("nested deeper than 64 levels"),
                       ember::format_error);
  std::string ok_depth(64, '[');
  ok_depth += std::string(64, ']');
  CHECK_NOTHROW(json::parse(ok_depth));
}

TEST_CASE("json limits the number of values a document may hold") {
  // Containers count too: [1, [2, 3]] holds five values.
  CHECK(json::parse("[1, [2, 3]]", "hdr", 5).items.size() == 2);
  CHECK_THROWS_WITH_AS(json::parse("[1, [2, 3], 4]", "hdr", 5),
                       "hdr: invalid JSON at byte 12: more than 5 values", ember::format_error);
  std::string zeros = "[0";
  for (int i = 0; i < (1 << 20); ++i) zeros += ",0";
  zeros += "]";
  CHECK_THROWS_WITH_AS(json::parse(zeros), doctest::Contains("more than 1048576 values"),
                       ember::format_error);
}

TEST_CASE("json::quote escapes what JSON requires and parses back") {
  const std::string s = "a\"b\\c\n\x01\xC3\xA9";
  CHECK(json::quote(s) == "\"a\\\"b\\\\c\\u000a\\u0001\xC3\xA9\"");
  CHECK(json::parse(json::quote(s)).string == s);
}

TEST_CASE("is_valid_utf8 follows RFC 3629") {
  CHECK(json::is_valid_utf8(""));
  CHECK(json::is_valid_utf8("abc \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  CHECK_FALSE(json::is_valid_utf8("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(json::is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(json::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(json::is_valid_utf8("\xE4\xB8"));          // truncated
  CHECK_FALSE(json::is_valid_utf8(std::string("a\0b", 3)));
}
