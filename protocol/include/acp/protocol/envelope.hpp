#pragma once
// The proxy protocol of docs/PROTOCOL.md §4: `_proxy/initialize` and the `_proxy/successor` envelope.
//
// The inner message is flattened into the envelope's params: {"method", "params", "_meta"?}.
// The outer id decides request vs notification; responses are never wrapped. On input we also
// accept `meta` for `_meta`, the unprefixed spellings (`proxy/successor`, `proxy/initialize`) and
// the older generation's `_proxy/successor/request` / `_proxy/successor/notification`.

#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace acp::proxy_protocol {

inline constexpr std::string_view successor_method = "_proxy/successor";
inline constexpr std::string_view initialize_method = "_proxy/initialize";
inline constexpr std::string_view legacy_successor_request = "_proxy/successor/request";
inline constexpr std::string_view legacy_successor_notification = "_proxy/successor/notification";

/// Which envelope spelling a peer speaks (docs/PROTOCOL.md §4.7).
enum class generation { current, legacy };

/// `_proxy/successor` and its accepted spellings (all generations).
[[nodiscard]] bool is_successor_method(std::string_view method) noexcept;
/// `_proxy/initialize` and `proxy/initialize`.
[[nodiscard]] bool is_proxy_initialize_method(std::string_view method) noexcept;

/// The inner message of an envelope.
struct inner_message {
  std::string method;
  std::optional<boost::json::value> params; ///< absent when the envelope said null or nothing
  std::optional<boost::json::value> meta;   ///< the envelope's `_meta` (or `meta`)
};

/// Builds an envelope around `inner`. With `outer_id` the envelope is a request, else a
/// notification. The current generation always emits `"params"` (null when absent).
[[nodiscard]] jsonrpc::message wrap(const inner_message& inner, std::optional<boost::json::value> outer_id,
                                    generation gen = generation::current);

/// Wraps a request or notification as it is (its method, params and id become the envelope's).
/// `outer_id` replaces the id of a request; pass nullopt to wrap as a notification.
[[nodiscard]] jsonrpc::message wrap_message(jsonrpc::message inner, std::optional<boost::json::value> outer_id,
                                            generation gen = generation::current);

/// Reads the envelope's params. Errors name the JSON path (`params.method: expected string`).
[[nodiscard]] std::optional<inner_message> unwrap(const jsonrpc::message& envelope, std::string* error = nullptr);

/// The plain message an envelope carries: the envelope's id (when a request) with the inner
/// method and params, moved out of the envelope. nullopt (and `error`) when it is malformed.
[[nodiscard]] std::optional<jsonrpc::message> unwrap_message(jsonrpc::message envelope, std::string* error = nullptr);

} // namespace acp::proxy_protocol
