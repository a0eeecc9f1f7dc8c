#pragma once
// Peer tags and small vocabulary types of the SDK.

#include <acp/protocol/peer.hpp>

#include <string_view>
#include <type_traits>

namespace acp {

/// `acp::peer` (<acp/protocol/peer.hpp>) says who a message comes from or goes to, seen from
/// this process. The tags below make direction mistakes compile errors where the types can see
/// them: a typed handler or send for a peer the method never comes from or goes to, a handler for
/// the peer an agent or client does not have.

struct client_t {
  static constexpr peer value = peer::client;
};
struct agent_t {
  static constexpr peer value = peer::agent;
};
/// `on_receive_request_from(acp::client, …)`, `send_request_to(acp::agent, …)`.
inline constexpr client_t client{};
inline constexpr agent_t agent{};

template <class T>
concept peer_tag = std::is_same_v<T, client_t> || std::is_same_v<T, agent_t>;

/// What this process is in the chain. (Not `role`: `acp::role` holds the schema's Role values.)
enum class chain_role { proxy, agent, client };

/// A handler's verdict: `yes` ends dispatch; `no` passes the (possibly modified) message on to
/// the next handler, and finally to the default behaviour (forwarding, for a proxy). Returned by
/// raw handlers and by deciding typed handlers (`handled f(T&, responder&, context&)`, which take
/// the responder by reference: a handler that takes it by value and returns `handled` does not
/// compile, since its `handled::no` could only be discarded). A typed handler that changed its
/// `T&` and returns `no` passes the message on re-encoded; one that did not, the original.
enum class handled : bool { no = false, yes = true };

} // namespace acp
