#pragma once
// Shared vocabulary of the typed ACP v1 messages: the decode error, the "unknown" alternative of
// open unions, and the two customization points every message type provides.
//
// Every message struct keeps what it does not know: `meta` holds `_meta` (where the schema has
// it) and `extra` holds every other member the struct does not describe; both are re-emitted by
// `encode`. Optional members are omitted from the output when empty (never `null`); a `null`
// input for an optional member reads as absent. String enumerations are open enums
// (types/open_enum.hpp): named constants, and unknown values round-trip untouched.
//
// Conversions are hand-written, never throw and live in the library (src/types/*.cpp).
//
// Boost.JSON's `value_from(x)`, `value_to<T>(v)` and `try_value_to<T>(v)` work for every message
// type and union (tag_invoke overloads next to each type, through encode/decode):
// `value_to<T>` throws `boost::system::system_error` with code `errc::invalid_argument` and
// `what()` starting with the decode error ("prompt[0].text: expected string: Invalid ...");
// `try_value_to<T>` returns that code without the text. Prefer `acp::decode<T>`, which keeps
// the path as a value. Exception: a union of standard types only (`session_config_option_value`,
// `elicitation_content_value`) is not found by argument-dependent lookup and gets Boost.JSON's
// own std::variant conversion.

#include <boost/assert/source_location.hpp>
#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace acp {

/// Why a JSON value does not fit a message type. `path` is relative to the decoded value
/// (`prompt[2].text`, empty for the value itself); `decode_params` prefixes `params`.
struct decode_error {
  std::string path;
  std::string message;

  /// "path: message", or just the message when the path is empty.
  [[nodiscard]] std::string what() const;

  friend bool operator==(const decode_error&, const decode_error&) = default;
};

/// Lets `boost::system::result<T, decode_error>::value()` throw (a std::runtime_error carrying
/// `what()`). The library itself never calls it.
[[noreturn]] void throw_exception_from_error(const decode_error& e, const boost::source_location& loc);

/// The alternative of an open tagged union whose discriminator value this library does not know.
/// `json` is the whole object as received (discriminator included) and is re-encoded unchanged.
struct unknown_variant {
  boost::json::object json;

  friend bool operator==(const unknown_variant&, const unknown_variant&) = default;
};

namespace detail {
/// Throws boost::system::system_error(errc::invalid_argument, e.what()) (value_to's contract).
[[noreturn]] void throw_decode_error(const decode_error& e);
/// The code `try_value_to` returns for a value that does not decode: errc::invalid_argument.
[[nodiscard]] boost::system::error_code decode_error_code() noexcept;
} // namespace detail

/// Boost.JSON conversions of `T` through its decode_value/encode_value (`spec` is `inline` at
/// namespace scope, `friend` inside a class). The tags are taken by reference so that
/// <boost/json/fwd.hpp> is enough here.
#define ACP_DEFINE_JSON_CONVERSIONS(spec, T)                                                                           \
  spec void tag_invoke(const ::boost::json::value_from_tag&, ::boost::json::value& jv, const T& x) {                   \
    encode_value(x, jv);                                                                                               \
  }                                                                                                                    \
  [[nodiscard]] spec T tag_invoke(const ::boost::json::value_to_tag<T>&, const ::boost::json::value& jv) {             \
    T out{};                                                                                                           \
    ::acp::decode_error err;                                                                                           \
    if (!decode_value(jv, out, err)) ::acp::detail::throw_decode_error(err);                                           \
    return out;                                                                                                        \
  }                                                                                                                    \
  [[nodiscard]] spec ::boost::system::result<T> tag_invoke(const ::boost::json::try_value_to_tag<T>&,                  \
                                                           const ::boost::json::value& jv) {                           \
    T out{};                                                                                                           \
    ::acp::decode_error err;                                                                                           \
    if (!decode_value(jv, out, err)) return {::boost::system::in_place_error, ::acp::detail::decode_error_code()};     \
    return {::boost::system::in_place_value, std::move(out)};                                                          \
  }

/// Declares the two conversion functions of a message type and defines its Boost.JSON
/// conversions. They are found by ADL from `acp::decode`/`acp::encode`; `decode_value` leaves
/// `err` describing the first problem and returns false, relative to `v`. Use it once per type
/// (two union aliases naming the same std::variant would define its conversions twice).
#define ACP_DECLARE_CODEC(T)                                                                                           \
  [[nodiscard]] bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err);                    \
  void encode_value(const T& in, ::boost::json::value& out);                                                           \
  ACP_DEFINE_JSON_CONVERSIONS(inline, T) static_assert(true)

/// Empty results (`{}`, maybe with `_meta`).
#define ACP_EMPTY_MESSAGE(name)                                                                                        \
  struct name {                                                                                                        \
    std::optional<boost::json::value> meta;                                                                            \
    boost::json::object extra;                                                                                         \
  };                                                                                                                   \
  ACP_DECLARE_CODEC(name)

} // namespace acp
