#pragma once
// Shared vocabulary of the typed ACP v1 messages: the decode error, the "unknown" alternative of
// open unions, and the two customization points every message type provides.
//
// Every message struct keeps what it does not know: `meta` holds `_meta` (where the schema has
// it) and `extra` holds every other member the struct does not describe; both are re-emitted by
// `encode`. Optional members are omitted from the output when empty (never `null`); a `null`
// input for an optional member reads as absent. String enums are plain `std::string`s (named
// constants are provided), so unknown values round-trip untouched.
//
// Conversions are hand-written, never throw and live in the library (src/types/*.cpp).

#include <boost/assert/source_location.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

/// Declares the two conversion functions of a message type. They are found by ADL from
/// `acp::decode`/`acp::encode`; `decode_value` leaves `err` describing the first problem and
/// returns false, relative to `v`.
#define ACP_DECLARE_CODEC(T)                                                                                           \
  [[nodiscard]] bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err);                    \
  void encode_value(const T& in, ::boost::json::value& out)

/// Empty results (`{}`, maybe with `_meta`).
#define ACP_EMPTY_MESSAGE(name)                                                                                        \
  struct name {                                                                                                        \
    std::optional<boost::json::value> meta;                                                                            \
    boost::json::object extra;                                                                                         \
  };                                                                                                                   \
  ACP_DECLARE_CODEC(name)

} // namespace acp
