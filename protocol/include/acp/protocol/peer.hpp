#pragma once
// The one word for "the other end" in this project: a message comes from, goes to, or is
// handled by the client (the editor's side) or the agent. The SDK's tags (`acp::client`,
// `acp::agent`) and the method table (`method_info::receiver`) both speak it.

#include <string_view>

namespace acp {

enum class peer { client, agent };

[[nodiscard]] constexpr std::string_view to_string(peer p) noexcept { return p == peer::client ? "client" : "agent"; }

} // namespace acp
