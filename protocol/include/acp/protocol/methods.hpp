#pragma once
// The stable (and the typed unstable) ACP v1 methods as data: name, receiving peer, request or notification, and the
// schema `$defs` names of their params and result (for validation and tooling).

#include <acp/protocol/peer.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace acp {

struct method_info {
  std::string_view name; ///< e.g. "session/prompt"
  /// The peer that handles it: the agent (client -> agent), the client (agent -> client); none
  /// for a protocol method either peer may receive (`$/cancel_request`).
  std::optional<peer> receiver;
  bool is_request;             ///< false for notifications
  std::string_view params_def; ///< `$defs` name of the params, e.g. "PromptRequest"
  std::string_view result_def; ///< `$defs` name of the result; empty for notifications
};

/// Every method of schema v1/meta.json, in a fixed order (agent, client, protocol methods).
[[nodiscard]] std::span<const method_info> stable_methods() noexcept;

/// The stable method called `name`, or nullptr (unknown, extension or unstable method).
[[nodiscard]] const method_info* find_method(std::string_view name) noexcept;

/// The unstable methods this library types (schema v1/meta.unstable.json, `$defs` of
/// schema.unstable.json): session/fork, mcp/connect, mcp/message, mcp/disconnect. `mcp/message`
/// goes either way (receiver none) and is a request or a notification (is_request true; its
/// notification params are "MessageMcpNotification").
[[nodiscard]] std::span<const method_info> unstable_methods() noexcept;

/// The unstable method called `name` (one of unstable_methods()), or nullptr.
[[nodiscard]] const method_info* find_unstable_method(std::string_view name) noexcept;

} // namespace acp
