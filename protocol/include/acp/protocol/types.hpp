#pragma once
// Typed ACP v1 messages: one struct per schema definition (snake_case of the `$defs` name,
// members in snake_case), `acp::decode<T>` / `acp::encode` and `acp::method_traits<Params>`.
//
// Typed values are for reading messages and building new ones. A proxy forwarding a message it
// does not change forwards the original JSON (docs/PROTOCOL.md §2); still, encode(decode(x)) == x for
// every valid x, because every struct keeps `_meta` and unknown members (`extra`), and open
// unions keep unknown variants whole. Exceptions: an optional member given as `null` reads as
// absent and is then omitted; a double with an integral value is written as an integer.
//
// Unions are std::variant aliases. Every tagged union is open: an unknown discriminator value
// decodes into the trailing `unknown_variant` (kept whole), never into an error. A few
// alternatives are selected by the *absence* of the tag (MCP stdio servers, agent auth methods,
// titled multi-select items) or by shape (embedded resource text/blob, select options/groups).
//
// String enumerations (stop reasons, tool kinds, ...) are open enums with named constants
// (types/open_enum.hpp). Every struct is an aggregate without base classes, so designated
// initialisers work: `acp::prompt_response{.stop_reason = acp::stop_reason::end_turn}`.
//
// Nothing here throws except `result::value()` on a decode error and Boost.JSON's
// `value_to<T>` (types/common.hpp says how).

#include <acp/protocol/types/common.hpp>
#include <acp/protocol/types/content.hpp>
#include <acp/protocol/types/elicitation.hpp>
#include <acp/protocol/types/fs_terminal.hpp>
#include <acp/protocol/types/initialize.hpp>
#include <acp/protocol/types/mcp.hpp>
#include <acp/protocol/types/method_traits.hpp>
#include <acp/protocol/types/open_enum.hpp>
#include <acp/protocol/types/permission.hpp>
#include <acp/protocol/types/session.hpp>
#include <acp/protocol/types/session_config.hpp>
#include <acp/protocol/types/session_update.hpp>
#include <acp/protocol/types/tool_call.hpp>

#include <boost/system/result.hpp>

namespace acp {

/// Reads a `T` from `v`. On failure the error's path is relative to `v`.
template <class T> [[nodiscard]] boost::system::result<T, decode_error> decode(const boost::json::value& v) {
  T out{};
  decode_error err;
  if (!decode_value(v, out, err)) return {boost::system::in_place_error, std::move(err)};
  return {boost::system::in_place_value, std::move(out)};
}

/// Writes `x` as JSON: absent optionals omitted, `_meta` and `extra` members included.
template <class T> [[nodiscard]] boost::json::value encode(const T& x) {
  boost::json::value v;
  encode_value(x, v);
  return v;
}

namespace detail {
template <class T>
boost::system::result<T, decode_error> decode_member(const boost::json::value* v, std::string_view name) {
  static const boost::json::value empty_object(boost::json::object{}); // not {}: that is an array
  auto r = decode<T>(v == nullptr || v->is_null() ? empty_object : *v);
  if (!r) {
    decode_error e = std::move(r.error());
    e.path = e.path.empty()          ? std::string(name)
             : e.path.front() == '[' ? std::string(name) + e.path
                                     : std::string(name) + "." + e.path;
    return {boost::system::in_place_error, std::move(e)};
  }
  return r;
}
} // namespace detail

/// Reads a message's params (`jsonrpc::message::params()`): absent or null reads as `{}`;
/// error paths start with `params`.
template <class T>
[[nodiscard]] boost::system::result<T, decode_error> decode_params(const boost::json::value* params) {
  return detail::decode_member<T>(params, "params");
}

/// Reads a response's result: absent or null reads as `{}`; error paths start with `result`.
template <class T>
[[nodiscard]] boost::system::result<T, decode_error> decode_result(const boost::json::value* result) {
  return detail::decode_member<T>(result, "result");
}

} // namespace acp
