#pragma once
// Proxies, agents and clients: handlers per direction on one connection.
//
//   acp::proxy_builder proxy;
//   proxy.on_receive_request_from(acp::client, [](acp::prompt_request& req, acp::responder&, acp::context&) {
//     req.prompt.insert(req.prompt.begin(), acp::text_content{.text = "Project rules: …"});
//     return acp::handled::no; // pass the edited prompt on
//   });
//   return proxy.run_stdio();
//
// Directions (a proxy)
//   Plain messages come from the client. Messages inside `_proxy/successor` come from the agent
//   and are unwrapped before any handler sees them. `send_…_to(acp::agent, …)` wraps,
//   `send_…_to(acp::client, …)` sends plain. An agent or a client has one peer and no envelopes
//   (registering a handler for the peer it does not have is a compile error).
//
// Handler forms (a handler of no form is a compile error with a one-line message)
//   consume   `void f(T params, responder r, context cx)`, `void f(T params, context cx)`:
//             the message ends here (the responder must answer).
//   decide    `handled f(T& params, responder& r, context& cx)`, `handled f(T& params, context& cx)`:
//             `handled::yes` consumes; `handled::no` passes the message on — re-encoded from
//             `params` only when the handler changed it, otherwise the original, untouched.
//             (The responder is a reference: a handler that may pass on must not take it.)
//   observe   `on_observe_request_from(peer, void f(const T&, context&))`,
//             `on_observe_notification_from(peer, void f(const T&, context&))`,
//             `on_observe_response_to(peer, void f(const T& request, const rpc_result&, context&))`:
//             never consume, never change; the response observer sees the answer to a request
//             from that peer just before it is sent, whoever gives it.
//   raw       `handled f(jsonrpc::message& msg, responder& r, context& cx)`,
//             `handled f(jsonrpc::message& msg, context& cx)`, registered with a method name.
//
// Dispatch and ordering
//   Each incoming message runs through the handlers registered for its direction, in
//   registration order, until one returns `handled::yes` (a consuming handler always does). A
//   handler may edit the message and return `handled::no`: the next handler sees the edit.
//   Unhandled messages get the default: a proxy forwards them in their direction, raw JSON
//   untouched, ids mapped, responses relayed; an agent or client answers unknown requests
//   -32601 and ignores unknown notifications. Handlers run one at a time, in arrival order, on
//   the connection's thread; every send only queues, so what a handler sends leaves in order.
//
// THE DEADLOCK RULE: never wait for a response inside a handler. The response can only be read
//   after the handler returns. Relay it with `forward_response_to(responder)` (or
//   `forward_response_to(responder, observer)` to see it first), react to it with
//   `on_receiving_result(callback)`, or `cx.spawn([…]() -> awaitable<void> { … })` a coroutine
//   that `co_await`s `response()` (typed: `acp::typed_result<Response>`, <acp/sdk/typed_request.hpp>).
//
// Responders
//   Move-only and single-shot. A responder destroyed without an answer sends -32603 and logs; a
//   second answer is logged and not sent. `$/cancel_request` from the peer marks the responder
//   cancelled and runs its `on_cancel` callbacks; it must still be answered once (-32800 or a
//   result). A forwarded request's cancellation is re-issued downstream with the downstream id.
//
// Process (`run_stdio` only; `connect_to` and `run_until` leave signals alone)
//   SIGPIPE is set to ignored unless `endpoint_options::ignore_sigpipe` is false; SIGINT/SIGTERM
//   begin the orderly shutdown and `run_stdio` returns 128 + N unless `handle_signals` is false.

#include <acp/sdk/connection.hpp>
#include <acp/sdk/context.hpp>
#include <acp/sdk/peer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace acp {

struct endpoint_options {
  connection_options connection;
  std::chrono::milliseconds grace_period{2000}; ///< for running tasks at shutdown
  /// Spawned tasks that run at once; further ones wait their turn, in order.
  std::size_t max_running_tasks = 256;
  /// Waiting tasks above which the connection stops reading until half of them have started
  /// (back-pressure instead of memory growth). Reading resumes as running tasks finish, so a
  /// task must not need a *new* incoming request to finish — responses are fine once it runs.
  std::size_t max_waiting_tasks = 1024;
  /// `run_stdio` only: set SIGPIPE to ignored for the whole process before serving, so that a
  /// peer that went away is a failed write (the connection closes, exit code 1) instead of a
  /// signal that kills the process. `false` leaves the process's SIGPIPE disposition alone (then
  /// ignore it yourself, or die of it). Nothing else in the library touches SIGPIPE; a program
  /// that calls `connect_to` sets it itself (`std::signal(SIGPIPE, SIG_IGN)` first in `main`).
  bool ignore_sigpipe = true;
  /// `run_stdio` only: the first SIGINT or SIGTERM begins the orderly shutdown (no new requests
  /// are taken, running tasks get the grace period and are then cancelled, their responders
  /// answer, queued output is flushed, the connection closes) and `run_stdio` returns 128 + the
  /// signal number (130, 143); a second one ends the process at once with that code. The
  /// handlers are installed while `run_stdio` runs and removed (default disposition) when it
  /// returns. `false` leaves both signals alone.
  bool handle_signals = true;
};

/// A running proxy, agent or client.
class endpoint {
public:
  explicit endpoint(std::shared_ptr<detail::runtime> rt) noexcept : rt_(std::move(rt)) {}
  [[nodiscard]] context cx() const noexcept { return context(rt_); }
  /// Completes when the connection has closed and running tasks have ended.
  boost::asio::awaitable<void> wait_done() const;
  /// The close reason (set once reading has ended).
  [[nodiscard]] const std::optional<close_info>& close_status() const noexcept;
  /// The connection has closed and running tasks have ended (what `wait_done` waits for).
  [[nodiscard]] bool done() const noexcept;
  void shutdown() const { cx().shutdown(); }

private:
  std::shared_ptr<detail::runtime> rt_;
};

class endpoint_builder {
public:
  explicit endpoint_builder(chain_role r);
  ~endpoint_builder();
  endpoint_builder(endpoint_builder&&) noexcept;
  endpoint_builder& operator=(endpoint_builder&&) noexcept;

  /// Raw handlers by method name ("" = every method) for messages from `from`:
  /// `handled f(jsonrpc::message&, responder&, context&)`, `handled f(jsonrpc::message&, context&)`.
  endpoint_builder& on_receive_request_from(peer from, std::string method, raw_request_handler f);
  endpoint_builder& on_receive_notification_from(peer from, std::string method, raw_notification_handler f);
  template <peer_tag P, class F> endpoint_builder& on_receive_request_from(P, std::string method, F&& f) {
    if constexpr (raw_request_handler_form<F>) {
      return on_receive_request_from(P::value, std::move(method), raw_request_handler(std::forward<F>(f)));
    } else {
      static_assert(detail::dependent_false<F>, "a raw request handler is acp::handled f(acp::jsonrpc::message&, "
                                                "acp::responder&, acp::context&)");
      return *this;
    }
  }
  template <peer_tag P, class F> endpoint_builder& on_receive_notification_from(P, std::string method, F&& f) {
    if constexpr (raw_notification_handler_form<F>) {
      return on_receive_notification_from(P::value, std::move(method), raw_notification_handler(std::forward<F>(f)));
    } else {
      static_assert(detail::dependent_false<F>,
                    "a raw notification handler is acp::handled f(acp::jsonrpc::message&, acp::context&)");
      return *this;
    }
  }

  /// Typed handlers, T a params type of `acp::method_traits` (the first parameter says the
  /// method). Requests: `void f(T, responder, context)` consumes; `handled f(T&, responder&,
  /// context&)` consumes or passes on (edited if it changed `T`). Notifications: `void f(T,
  /// context)`, `handled f(T&, context&)`. Invalid params of a request are answered -32602 with
  /// the JSON path; of a notification, logged and passed on untyped.
  template <peer_tag P, class F> endpoint_builder& on_receive_request_from(P from, F&& f);
  template <peer_tag P, class F> endpoint_builder& on_receive_notification_from(P from, F&& f);

  /// Observers: never consume, never change; dispatch goes on as if they were not there.
  /// `void f(const T&, context&)` for a request or notification from `from`;
  /// `void f(const T& request, const rpc_result& outcome, context&)` for the answer to a request
  /// from `to`, run just before the answer is sent (whoever answers it). Params that do not
  /// decode as `T` are not observed.
  template <peer_tag P, class F> endpoint_builder& on_observe_request_from(P from, F&& f);
  template <peer_tag P, class F> endpoint_builder& on_observe_notification_from(P from, F&& f);
  template <peer_tag P, class F> endpoint_builder& on_observe_response_to(P to, F&& f);

  endpoint_builder& options(endpoint_options o);
  [[nodiscard]] const endpoint_options& options() const noexcept;

  /// Starts on `transport` (framed as NDJSON); the endpoint gets the handlers, and the builder
  /// keeps them: one builder can start many endpoints (one per accepted connection).
  [[nodiscard]] endpoint connect_to(const boost::asio::any_io_executor& ex, transport_ptr transport);
  /// Starts on a message channel: a WebSocket, TLS or socket connection from acp::net
  /// (<acp/net/connect.hpp>, <acp/net/serve.hpp>), or any other framing.
  [[nodiscard]] endpoint connect_to(const boost::asio::any_io_executor& ex, message_channel_ptr channel);
  /// Serves stdin/stdout until the peer closes; returns the exit code (0: peer closed cleanly,
  /// 1: the connection failed, 128 + N: signal N asked for the shutdown). SIGPIPE and
  /// SIGINT/SIGTERM: see `endpoint_options::ignore_sigpipe` and `handle_signals`.
  int run_stdio();

  /// A program that drives the conversation (a client): connects on `transport`, runs
  /// `main(cx)` on `io` until it completes, then shuts the endpoint down in order (running tasks
  /// get the grace period, output is flushed, the connection closes) and returns what `main`
  /// returned. `main` is `boost::asio::awaitable<T> f(acp::context)`; it is a task, not a
  /// handler, so it may `co_await` responses. When the peer goes away first, requests pending
  /// complete with errors and `main` goes on to its end. An exception from `main` is rethrown
  /// after the shutdown. Other work on `io` (a child's exit watcher) is left to the caller:
  ///     acp::client_builder client;                        // + handlers for the agent's requests
  ///     int code = client.run_until(io, child.take_transport(), [&](acp::context cx) -> awaitable<int> {
  ///       auto init = co_await cx.send_request_to(acp::agent, acp::initialize_request{…}).response();
  ///       co_return init ? 0 : 1;
  ///     });
  template <class F> auto run_until(boost::asio::io_context& io, transport_ptr transport, F main);

private:
  void run_main(boost::asio::io_context& io, transport_ptr transport,
                unique_function<boost::asio::awaitable<void>(context)> main);
  std::shared_ptr<detail::runtime> rt_;
};

namespace mcp {
class server;
} // namespace mcp

class proxy_builder : public endpoint_builder {
public:
  proxy_builder() : endpoint_builder(chain_role::proxy) {}

  /// Provides `server` (<acp/sdk/mcp_server.hpp>) to the agent over this connection (MCP over
  /// ACP): declares it in every session set-up request and serves `mcp/connect`, `mcp/message`,
  /// `mcp/disconnect` (and the older `_mcp/*`) for its own server ids, passing others on. It
  /// adds raw handlers in registration order: handlers registered before it see session set-up
  /// requests without the declaration. May be called more than once (one server each).
  proxy_builder& provide_mcp_server(const mcp::server& server);
};

namespace detail {
/// A builder with one peer (`Peer`): handlers for the other one are a compile error.
template <class Derived, class Peer> class one_peer_builder : public endpoint_builder {
public:
  using endpoint_builder::endpoint_builder;
#define ACP_ONE_PEER_FORWARD(name)                                                                                     \
  template <class P, class... A> Derived& name(P from, A&&... a) {                                                     \
    constexpr bool agent_from_agent = std::is_same_v<Peer, client_t> && std::is_same_v<P, agent_t>;                    \
    constexpr bool client_from_client = std::is_same_v<Peer, agent_t> && std::is_same_v<P, client_t>;                  \
    static_assert(!agent_from_agent, "an agent_builder's only peer is acp::client: nothing comes from acp::agent");    \
    static_assert(!client_from_client, "a client_builder's only peer is acp::agent: nothing comes from acp::client");  \
    if constexpr (!agent_from_agent && !client_from_client) endpoint_builder::name(from, std::forward<A>(a)...);       \
    return static_cast<Derived&>(*this);                                                                               \
  }
  ACP_ONE_PEER_FORWARD(on_receive_request_from)
  ACP_ONE_PEER_FORWARD(on_receive_notification_from)
  ACP_ONE_PEER_FORWARD(on_observe_request_from)
  ACP_ONE_PEER_FORWARD(on_observe_notification_from)
  ACP_ONE_PEER_FORWARD(on_observe_response_to)
#undef ACP_ONE_PEER_FORWARD
};
} // namespace detail

template <class F> auto endpoint_builder::run_until(boost::asio::io_context& io, transport_ptr transport, F main) {
  static_assert(std::is_invocable_v<F&, context>, "run_until: main is boost::asio::awaitable<T> f(acp::context)");
  using value_type = typename std::invoke_result_t<F&, context>::value_type;
  if constexpr (std::is_void_v<value_type>) {
    run_main(io, std::move(transport), [main = std::move(main)](context cx) mutable -> boost::asio::awaitable<void> {
      co_await main(std::move(cx));
    });
  } else {
    auto out = std::make_shared<std::optional<value_type>>(); // shared: see run_main's early stop
    run_main(io, std::move(transport),
             [out, main = std::move(main)](context cx) mutable -> boost::asio::awaitable<void> {
               auto value = co_await main(std::move(cx));
               out->emplace(std::move(value));
             });
    return std::move(**out); // run_main has thrown when main did not complete
  }
}

/// An agent: its one peer is the client.
class agent_builder : public detail::one_peer_builder<agent_builder, client_t> {
public:
  agent_builder() : one_peer_builder(chain_role::agent) {}
};
/// A client: its one peer is the agent.
class client_builder : public detail::one_peer_builder<client_builder, agent_t> {
public:
  client_builder() : one_peer_builder(chain_role::client) {}
};

} // namespace acp

// The typed handler templates declared above are defined there: including this header is enough
// to use every handler form (declared-but-undefined templates would fail only at link time).
#include <acp/sdk/detail/typed.hpp>
