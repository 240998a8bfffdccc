// ember: the error hierarchy, the EMBER_CHECK family and the one throw hook.
//
// User-facing checks name the operation and the offending values:
//   EMBER_CHECK_SHAPE(a == b, "matmul: shapes ", sa, " and ", sb, " cannot be multiplied");
// Containers of numbers print as [2, 3]. Every failed check goes through detail::raise(), which
// calls the handler installed with set_error_handler() (if any), then throws the matching
// ember::error subclass, or, in a -fno-exceptions build, prints the message and aborts.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ember/config.hpp"

namespace ember {

enum class error_kind { generic, shape, index, value, type, format, io, runtime };

inline const char* error_kind_name(error_kind k) noexcept {
  switch (k) {
    case error_kind::shape:
      return "shape_error";
    case error_kind::index:
      return "index_error";
    case error_kind::value:
      return "value_error";
    case error_kind::type:
      return "type_error";
    case error_kind::format:
      return "format_error";
    case error_kind::io:
      return "io_error";
    case error_kind::runtime:
      return "runtime_error";
    case error_kind::generic:
      break;
  }
  return "error";
}

// Base of every error ember reports; what() is the full message.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& msg, error_kind kind = error_kind::generic)
      : std::runtime_error(msg), kind_(kind) {}
  error_kind kind() const noexcept { return kind_; }

 private:
  error_kind kind_;
};

// Shapes that do not fit together: wrong rank, mismatched sizes, non-broadcastable operands.
class shape_error : public error {
 public:
  explicit shape_error(const std::string& m) : error(m, error_kind::shape) {}
};
// An index or dimension outside its range.
class index_error : public error {
 public:
  explicit index_error(const std::string& m) : error(m, error_kind::index) {}
};
// An argument with an invalid value (negative learning rate, unknown ISA name, ...).
class value_error : public error {
 public:
  explicit value_error(const std::string& m) : error(m, error_kind::value) {}
};
// Wrong element type (float given where int64 indices are expected, ...).
class type_error : public error {
 public:
  explicit type_error(const std::string& m) : error(m, error_kind::type) {}
};
// Malformed file contents (safetensors header, IDX magic number, ...).
class format_error : public error {
 public:
  explicit format_error(const std::string& m) : error(m, error_kind::format) {}
};
// A file that cannot be opened, read or written.
class io_error : public error {
 public:
  explicit io_error(const std::string& m) : error(m, error_kind::io) {}
};
// A call that is invalid in the current state (backward through a freed graph, ...).
class runtime_error : public error {
 public:
  explicit runtime_error(const std::string& m) : error(m, error_kind::runtime) {}
};

// Called with every error before it is thrown. It may log, or throw an exception of its own;
// when it returns, ember throws (or, without exceptions, aborts). nullptr restores the default.
using error_handler = void (*)(error_kind kind, const char* message);

namespace detail {
inline std::atomic<error_handler>& error_handler_slot() noexcept {
  static std::atomic<error_handler> slot{nullptr};
  return slot;
}
}  // namespace detail

// Installs a handler and returns the previous one.
inline error_handler set_error_handler(error_handler h) noexcept {
  return detail::error_handler_slot().exchange(h);
}

namespace detail {

template <class T, class = void>
struct is_printable_range : std::false_type {};
template <class T>
struct is_printable_range<T, std::void_t<decltype(std::begin(std::declval<const T&>())),
                                         decltype(std::end(std::declval<const T&>()))>>
    : std::bool_constant<!std::is_convertible_v<const T&, std::string_view>> {};

template <class T>
void write_part(std::ostream& os, const T& v) {
  if constexpr (is_printable_range<T>::value) {
    os << '[';
    bool first = true;
    for (const auto& e : v) {
      if (!first) os << ", ";
      first = false;
      write_part(os, e);
    }
    os << ']';
  } else if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else {
    os << v;
  }
}

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (write_part(os, parts), ...);
  return os.str();
}

[[noreturn]] inline void raise(error_kind kind, const std::string& msg) {
  if (error_handler h = error_handler_slot().load()) h(kind, msg.c_str());
#if EMBER_EXCEPTIONS
  switch (kind) {
    case error_kind::shape:
      throw shape_error(msg);
    case error_kind::index:
      throw index_error(msg);
    case error_kind::value:
      throw value_error(msg);
    case error_kind::type:
      throw type_error(msg);
    case error_kind::format:
      throw format_error(msg);
    case error_kind::io:
      throw io_error(msg);
    case error_kind::runtime:
      throw runtime_error(msg);
    case error_kind::generic:
      break;
  }
  throw error(msg);
#else
  std::fprintf(stderr, "ember: %s: %s\n", error_kind_name(kind), msg.c_str());
  std::abort();
#endif
}

}  // namespace detail

// Builds the message from its parts and reports it as an error of the given kind.
template <class... Parts>
[[noreturn]] void fail(error_kind kind, const Parts&... parts) {
  detail::raise(kind, detail::concat(parts...));
}

}  // namespace ember

// The message parts are evaluated only when the check fails.
#define EMBER_CHECK_KIND(cond, kind, ...)                               \
  do {                                                                  \
    if (!(cond)) ::ember::fail(::ember::error_kind::kind, __VA_ARGS__); \
  } while (false)

#define EMBER_CHECK(cond, ...) EMBER_CHECK_KIND(cond, generic, __VA_ARGS__)
#define EMBER_CHECK_SHAPE(cond, ...) EMBER_CHECK_KIND(cond, shape, __VA_ARGS__)
#define EMBER_CHECK_INDEX(cond, ...) EMBER_CHECK_KIND(cond, index, __VA_ARGS__)
#define EMBER_CHECK_VALUE(cond, ...) EMBER_CHECK_KIND(cond, value, __VA_ARGS__)
#define EMBER_CHECK_TYPE(cond, ...) EMBER_CHECK_KIND(cond, type, __VA_ARGS__)
#define EMBER_CHECK_FORMAT(cond, ...) EMBER_CHECK_KIND(cond, format, __VA_ARGS__)
#define EMBER_CHECK_IO(cond, ...) EMBER_CHECK_KIND(cond, io, __VA_ARGS__)
#define EMBER_CHECK_STATE(cond, ...) EMBER_CHECK_KIND(cond, runtime, __VA_ARGS__)

// Internal invariants: checked in debug builds only, never user-facing.
#ifdef NDEBUG
#define EMBER_ASSERT(cond) ((void)0)
#else
#define EMBER_ASSERT(cond)                                                                 \
  ((cond) ? (void)0                                                                        \
          : (std::fprintf(stderr, "ember: internal assertion failed: %s (%s:%d)\n", #cond, \
                          __FILE__, __LINE__),                                             \
             std::abort()))
#endif
