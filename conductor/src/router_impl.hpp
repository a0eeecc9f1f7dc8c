#pragma once
// The router's state, shared by its three parts:
//   routing.cpp           incoming messages, the next hop, delivery (docs/PROTOCOL.md §4)
//   legacy_handshake.cpp  `initialize` answers and the older generation's handshake (§4.7)
//   lifecycle.cpp         starting components, a component failing, shutdown, entry points (§6)
//   mcp_bridging.cpp      MCP over ACP for an agent without it: the in-process bridge (§5)
//   remote.cpp            remote components: connecting to their addresses (§8)
//
// Links, not positions: the editor's (or parent's) link and each component's link have a
// `link_id`. The chain is an ordered list of link ids; "the next hop toward the agent from X" is
// `next_hop(toward::agent, X)`. Requests received on any link are registered in one
// `inbound_table` and passed on with `acp::forward` (the SDK's forwarding core): fresh id per
// link, cancels re-issued with the downstream id, answered exactly once.

#include "debug_log.hpp"

#include <acp/conductor/child_process.hpp>
#include <acp/conductor/options.hpp>
#include <acp/conductor/router.hpp>
#include <acp/conductor/trace.hpp>
#include <acp/net/connect.hpp>
#include <acp/protocol/envelope.hpp>
#include <acp/sdk/connection.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/forwarding.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace acp::mcp_bridge {
class bridge;
} // namespace acp::mcp_bridge

namespace acp::conductor {

enum class toward { agent, client };

/// Where a message goes next: a link, and whether it travels inside `_proxy/successor` there.
struct hop {
  link_id to = 0;
  bool wrapped = false;
};

struct link {
  link_id id = 0;
  std::string name;
  std::shared_ptr<connection> conn;
  std::optional<child_process> child;
  std::size_t position = 0; // in the chain (components only)
  bool remote = false;      // reached at an address, not spawned
  std::string closed_why;   // a remote link: why its reading ended, when it said more than EOF
  bool proxy = false;       // speaks the proxy protocol
  bool initialized = true;  // answered `initialize` (components start false)
  struct held_delivery {
    hop via;
    toward dir;
    jsonrpc::message msg;
    inbound_ptr in; // null for notifications
    link_id origin;
  };
  std::vector<held_delivery> held; // deliveries waiting for that answer, in order
  proxy_protocol::generation generation = proxy_protocol::generation::current; // envelope (§4.7)
  std::optional<jsonrpc::message> init_request; // the `_proxy/initialize` sent, for the older handshake
};

/// The older generation's handshake (§4.7): `initialize` with the proxy flag in `_meta` and in
/// `clientCapabilities._meta.symposium`.
[[nodiscard]] jsonrpc::message legacy_initialize(jsonrpc::message msg);
/// Removes the older generation's proxy flag from `obj._meta` (and `_meta.symposium`); true
/// when it was set. An `_meta` left empty by the removal goes too.
bool take_proxy_flag(boost::json::value* obj);

/// How remote components are reached: the options every connection shares (token and TLS
/// settings read once at start-up), and whether `$ALL_PROXY` is consulted per address.
struct remote_setup {
  net::connect_options base;
  bool socks_from_environment = true; // no --socks5 given
};
/// Reads the token file (or `$ACP_CONDUCTOR_TOKEN`) and the SOCKS5 settings; the error is one
/// sentence for the user (exit 2).
[[nodiscard]] boost::system::result<std::shared_ptr<const remote_setup>, std::string>
make_remote_setup(const conductor_options& opts);
/// Reads a bearer token from `path`: its first line, trimmed; an empty or unreadable file is an
/// error; a file others may read draws a warning.
[[nodiscard]] boost::system::result<std::string, std::string> read_token_file(const std::string& path);

class router : public std::enable_shared_from_this<router> {
public:
  router(boost::asio::io_context& io, const conductor_options& opts, transport_ptr upstream,
         std::optional<trace_writer> trace, std::vector<transport_ptr> in_process = {});
  /// The editor's link is a message channel (a connection accepted by `serve`).
  router(boost::asio::io_context& io, const conductor_options& opts, message_channel_ptr upstream,
         std::optional<trace_writer> trace);

  /// Remote components: how to reach them (required when a component is an address).
  void set_remote(std::shared_ptr<const remote_setup> setup) { remote_ = std::move(setup); }
  /// Called once when the chain has ended (default: stops the io_context). Set before `start`.
  void on_end(std::function<void()> f) { on_end_ = std::move(f); }

  void start();
  void shutdown(int code, std::string reason, std::string detail);
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }
  /// Why the chain ended ("incoming_transport_closed", "component_exited", "signal", ...).
  [[nodiscard]] const std::string& end_reason() const noexcept { return end_reason_; }

private:
  static constexpr link_id upstream = 0;

  // ---- routing.cpp
  void on_message(link_id from, jsonrpc::message&& msg);
  void dispatch(link_id from, jsonrpc::message&& msg);
  void on_first_message(jsonrpc::message&& msg);
  void route(link_id from, toward dir, jsonrpc::message&& msg);
  [[nodiscard]] std::optional<hop> next_hop(toward dir, link_id from) const;
  void deliver(hop via, toward dir, jsonrpc::message&& msg, inbound_ptr in, link_id origin);
  void send_to(hop via, toward dir, jsonrpc::message&& msg, inbound_ptr in, link_id origin, bool is_init);
  void hold(link& target, link::held_delivery d);
  void reply(link_id to, jsonrpc::message answer);
  void reject(link_id from, const jsonrpc::message& msg, const rpc_error& e, toward dir);
  void reject(link_id from, const jsonrpc::message& msg, const rpc_error& e) {
    reject(from, msg, e, from == upstream ? toward::agent : toward::client);
  }
  [[nodiscard]] chain_position trace_endpoint(link_id l, bool successor_side) const;
  /// Whom the conductor speaks for when it answers, on `to`'s link, a message travelling `dir`
  /// itself: the hop the message was going to (the far end when there is none).
  [[nodiscard]] chain_position own_endpoint(link_id to, toward dir) const;
  /// Sends an error the conductor made itself, and traces it (the trace holds every message
  /// a link receives, whoever made it).
  void send_own_error(link_id to, const boost::json::value& id, const rpc_error& e, toward dir);

  // ---- legacy_handshake.cpp
  /// The answer to the `initialize` sent on `dest` under `wire_id`; false when it was taken over
  /// (a retry).
  bool on_initialize_answer(link_id dest, const inbound_ptr& in, link_id origin, jsonrpc::message& resp,
                            const boost::json::value& wire_id);
  /// A component forwarded `_proxy/initialize` inside `_proxy/successor`: an older-generation
  /// proxy that does not know it. Answered -32601 so that the older handshake follows.
  void on_forwarded_proxy_initialize(link_id from, const jsonrpc::message& inner);

  // ---- mcp_bridging.cpp
  /// The agent answered `initialize` with `result`: when it lacks MCP over ACP (and the options
  /// allow), starts the in-process bridge and says in `result` that the agent has it.
  void maybe_bridge_mcp(boost::json::value& result);
  /// The bridge's link, when `msg` (travelling toward the agent on `via`) is MCP traffic the
  /// bridge serves in the agent's place.
  [[nodiscard]] std::optional<hop> bridge_hop(const hop& via, const jsonrpc::message& msg) const;
  /// Rewrites the `acp` MCP declarations of a session set-up request on its way to the agent.
  void bridge_declarations(hop via, toward dir, jsonrpc::message& msg);
  /// Traces `msg` (an `mcp/message` as the MCP message it carries, see §7); a request under
  /// `wire_id`, the id it is sent with, when given.
  void trace_call(chain_position from, chain_position to, const jsonrpc::message& msg,
                  const boost::json::value* wire_id = nullptr);
  /// Shutdown: the bridge stops serving; what waits on it is answered with `e`.
  void stop_bridge(const rpc_error& e);
  [[nodiscard]] bool is_agent_link(link_id id) const noexcept {
    return agent_mode() && !chain_.empty() && id == chain_.back();
  }

  // ---- remote.cpp
  /// Reaches the remote components (connect_remotes), the editor's messages waiting meanwhile.
  void connect_then_begin(jsonrpc::message init);
  /// Connects to every remote component (in chain order), then starts the chain with `init` as
  /// the first message; a component that cannot be reached fails `initialize` and the chain.
  boost::asio::awaitable<void> connect_remotes();
  /// The chain will not start: the held `initialize` and what the editor sent meanwhile are
  /// answered with `e`.
  void fail_start(const rpc_error& e);
  /// Starts the components and sends `init` on, then what the editor sent meanwhile.
  void begin_chain(jsonrpc::message&& init);

  // ---- lifecycle.cpp
  bool start_components(std::string& error, boost::json::object& data);
  [[nodiscard]] connection_options link_options(std::string name) const;
  /// Traces what the link's connection answers by itself (see connection::on_own_message).
  void trace_own_messages(link_id id);
  void attach(link_id id);
  void component_ended(link_id id);
  boost::asio::awaitable<void> fail_component(link_id id);
  boost::asio::awaitable<void> shutdown_sequence(std::string reason, std::string detail);
  /// Ends a turn as an editor would: `session/cancel` for every session with a prompt in flight,
  /// then waits (at most the grace period) until no component has a request pending.
  boost::asio::awaitable<void> cancel_turns(std::vector<std::string> sessions);
  /// A remote component: its end of stream sent, the grace period for its own, then closed.
  boost::asio::awaitable<void> stop_remote(link_id id);
  /// EOF, grace period, SIGTERM, SIGKILL for one child; logs each signal it needed.
  boost::asio::awaitable<void> stop_component(link_id id);
  void fail_held(const rpc_error& e);
  /// An editor's `session/prompt` is in flight (for `session/cancel` at shutdown).
  void note_prompt(const inbound_ptr& in, const jsonrpc::message& msg);
  /// The sessions (their ids as JSON text) with an editor's `session/prompt` still unanswered.
  [[nodiscard]] std::vector<std::string> prompting_sessions();
  /// Answers every editor request in flight with `e`, tracing the answers.
  void fail_upstream(const rpc_error& e);

  /// Runs `f`; the answers it sends through `reply` are traced as the conductor's own, from `from`.
  template <typename F> void answering_as(chain_position from, F&& f) {
    struct restore {
      std::optional<chain_position>& slot;
      std::optional<chain_position> saved;
      ~restore() { slot = saved; }
    } guard{own_from_, std::exchange(own_from_, from)};
    f();
  }

  [[nodiscard]] bool agent_mode() const noexcept { return opts_.mode == conductor_options::mode::agent; }
  [[nodiscard]] link& at(link_id id) { return links_[id]; }
  [[nodiscard]] const link& at(link_id id) const { return links_[id]; }

  boost::asio::io_context& io_;
  boost::asio::any_io_executor ex_;
  conductor_options opts_;
  std::shared_ptr<flow_gate> gate_;
  std::vector<link> links_;    // indexed by link_id; [upstream] is the editor's (or parent's)
  std::vector<link_id> chain_; // component links, proxies first, in chain order
  inbound_table inbound_;
  std::optional<trace_writer> trace_;
  // --debug-dir: the log (null when off), and why it could not be opened (reported by `start`).
  std::shared_ptr<debug_log> debug_;
  std::string debug_error_;
  /// The debug file for a link (null when off, or when it cannot be created: a warning).
  [[nodiscard]] std::shared_ptr<debug_file> debug_file_for(std::string_view name, std::string label,
                                                           std::string_view about);
  // Component k's link when it is not spawned: the test seam's in-process links, and remote
  // components once connected.
  std::vector<message_channel_ptr> ready_;
  std::shared_ptr<const remote_setup> remote_;
  std::function<void()> on_end_;
  std::string end_reason_;
  // Remote components are being reached: what the editor sends meanwhile waits here.
  bool starting_ = false;
  std::optional<jsonrpc::message> init_; // the editor's `initialize`, held meanwhile
  std::vector<jsonrpc::message> early_;
  bool started_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  int exit_code_ = 0;
  // Shutdown: components' messages are still routed among them (a cancel going down the chain,
  // its answers coming back) while this holds; what would go to the editor is dropped.
  bool draining_ = false;
  // Wakes the drain when something it waits on may have changed (a component's message, a link
  // closing): no polling, and nothing left holding the router once the components are gone.
  std::shared_ptr<boost::asio::steady_timer> drain_wake_;
  void wake_drain() {
    if (drain_wake_) drain_wake_->cancel();
  }
  // While set, answers sent through `reply` are the conductor's own, traced as from it.
  std::optional<chain_position> own_from_;
  // While tracing: each forwarded request's id on the link it was sent on (the id it was traced
  // under), by the link it came from and its id there, until it is answered. An answer the
  // conductor makes itself, and a cancel it passes on, are traced under that id too, so that
  // every traced response pairs with exactly one traced request (docs/PROTOCOL.md §6).
  struct traced_request {
    link_id from;
    boost::json::value id;
    friend bool operator==(const traced_request&, const traced_request&) = default;
  };
  struct traced_request_hash {
    std::size_t operator()(const traced_request& k) const noexcept {
      return std::hash<boost::json::value>()(k.id) * 31 + k.from;
    }
  };
  std::unordered_map<traced_request, boost::json::value, traced_request_hash> traced_ids_;
  /// The id under which the request `id` from `from` was traced (`id` itself if not forwarded).
  [[nodiscard]] const boost::json::value& traced_id(link_id from, const boost::json::value& id) const;
  // The editor's `session/prompt` requests seen (pruned as they are answered), and their
  // `sessionId` as JSON text.
  std::vector<std::pair<std::weak_ptr<inbound_request>, std::string>> prompts_;
  // MCP over ACP for an agent without it: the bridge, the in-process endpoint it speaks through,
  // and that endpoint's link (0: no bridge; link 0 is always the editor's).
  std::shared_ptr<mcp_bridge::bridge> bridge_;
  std::optional<endpoint> bridge_endpoint_;
  link_id bridge_link_ = 0;
};

} // namespace acp::conductor

namespace acp::conductor {

/// Opens the trace file at `path`. False (and a message on stderr) when it cannot be created.
bool open_trace(const std::string& path, std::optional<trace_writer>& out);
/// `serve`: listens on `options.serve->listen` and runs a chain per accepted connection until
/// SIGINT/SIGTERM. Returns the exit code.
[[nodiscard]] int run_serve(const conductor_options& options);

} // namespace acp::conductor
