#pragma once
// JSON-RPC error objects and ACP's error codes.
//
// An rpc_error is a *protocol* error: it travels to the peer as the `error` member of a
// response. Transport failures are boost::system::error_code (see `channel_errc` in acp/sdk/channel.hpp).

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace acp {

namespace error_codes {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int request_cancelled = -32800;  // ACP
inline constexpr int auth_required = -32000;      // ACP
inline constexpr int resource_not_found = -32002; // ACP
} // namespace error_codes

struct rpc_error {
  int code = error_codes::internal_error;
  std::string message;
  std::optional<boost::json::value> data; // omitted from the wire when absent

  [[nodiscard]] static rpc_error parse_error(std::string message = "Parse error",
                                             std::optional<boost::json::value> data = {});
  [[nodiscard]] static rpc_error invalid_request(std::string message = "Invalid request",
                                                 std::optional<boost::json::value> data = {});
  [[nodiscard]] static rpc_error method_not_found(std::string_view method);
  [[nodiscard]] static rpc_error invalid_params(std::string message = "Invalid params",
                                                std::optional<boost::json::value> data = {});
  [[nodiscard]] static rpc_error internal_error(std::string message = "Internal error",
                                                std::optional<boost::json::value> data = {});
  [[nodiscard]] static rpc_error request_cancelled(std::string message = "Request cancelled");
  [[nodiscard]] static rpc_error auth_required(std::string message = "Authentication required");
  [[nodiscard]] static rpc_error resource_not_found(std::string message = "Resource not found");

  /// The `error` object for the wire: {"code","message","data"?}.
  [[nodiscard]] boost::json::object to_json() const;
  /// Reads an `error` object. Missing or mistyped members give nullopt.
  [[nodiscard]] static std::optional<rpc_error> from_json(const boost::json::value& v);

  friend bool operator==(const rpc_error&, const rpc_error&) = default;
};

} // namespace acp
