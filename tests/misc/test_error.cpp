#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ember/error.hpp"

namespace {

void check_rank(const std::vector<long>& shape) {
  EMBER_CHECK_SHAPE(shape.size() == 2, "Linear(784, 10): expected input of shape [N, 784], got ",
                    shape);
}

}  // namespace

TEST_CASE("a failed check throws the matching subclass with the formatted message") {
  CHECK_THROWS_WITH_AS(check_rank({64, 28, 28}),
                       "Linear(784, 10): expected input of shape [N, 784], got [64, 28, 28]",
                       ember::shape_error);
  CHECK_NOTHROW(check_rank({64, 784}));
  CHECK_THROWS_AS(EMBER_CHECK_INDEX(false, "select: index ", 7, " is out of range"),
                  ember::index_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK_VALUE(false, "lr"); }(), ember::value_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK_TYPE(false, "dtype"); }(), ember::type_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK_FORMAT(false, "bad header"); }(), ember::format_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK_IO(false, "cannot open"); }(), ember::io_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK_STATE(false, "freed graph"); }(), ember::runtime_error);
  CHECK_THROWS_AS([&] { EMBER_CHECK(false, "generic"); }(), ember::error);
}

TEST_CASE("every subclass is an ember::error and a std::runtime_error with its kind") {
  try {
    EMBER_CHECK_FORMAT(false, "header length ", 12u, " exceeds file size ", 8u);
    FAIL("no throw");
  } catch (const ember::error& e) {
    CHECK(e.kind() == ember::error_kind::format);
    CHECK(std::string(e.what()) == "header length 12 exceeds file size 8");
    CHECK(std::string(ember::error_kind_name(e.kind())) == "format_error");
  }
  CHECK_THROWS_AS([&] { EMBER_CHECK_SHAPE(false, "x"); }(), std::runtime_error);
}

TEST_CASE("message parts are evaluated only when the check fails") {
  int evaluated = 0;
  auto part = [&] {
    ++evaluated;
    return "part";
  };
  EMBER_CHECK_VALUE(true, part());
  CHECK(evaluated == 0);
  CHECK_THROWS([&] { EMBER_CHECK_VALUE(false, part()); }());
  CHECK(evaluated == 1);
}

TEST_CASE("booleans, strings and nested containers format readably") {
  std::vector<std::vector<int>> nested{{1, 2}, {}};
  CHECK(ember::detail::concat("a=", true, " s=", std::string("str"), " n=", nested) ==
        "a=true s=str n=[[1, 2], []]");
}

namespace {
ember::error_kind g_seen_kind = ember::error_kind::generic;
std::string g_seen_message;
void recording_handler(ember::error_kind kind, const char* message) {
  g_seen_kind = kind;
  g_seen_message = message;
}
}  // namespace

TEST_CASE("the error handler sees every error before it is thrown") {
  ember::error_handler previous = ember::set_error_handler(&recording_handler);
  CHECK((previous == nullptr));
  CHECK_THROWS_AS([&] { EMBER_CHECK_INDEX(false, "index ", -3); }(), ember::index_error);
  CHECK(g_seen_kind == ember::error_kind::index);
  CHECK(g_seen_message == "index -3");
  CHECK((ember::set_error_handler(previous) == &recording_handler));
}
