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
// Handler forms (the typed ones are defined in <acp/sdk/detail/typed.hpp>, via <acp/sdk.hpp>;
// a handler of no form is a compile error with a one-line message)
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
//   `on_receiving_result(callback)`, or `cx.spawn(...)` a coroutine that `co_await`s `response()`.
//
// Responders
//   Move-only and single-shot. A responder destroyed without an answer sends -32603 and logs; a
//   second answer is logged and not sent. `$/cancel_request` from the peer marks the responder
//   cancelled and runs its `on_cancel` callbacks; it must still be answered once (-32800 or a
//   result). A forwarded request's cancellation is re-issued downstream with the downstream id.

#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/rpc_error.hpp>
#include <acp/sdk/connection.hpp>
#include <acp/sdk/forwarding.hpp>
#include <acp/sdk/peer.hpp>
#include <acp/sdk/unique_function.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace acp {

namespace detail {
class runtime;
struct sent_state;
/// For a static_assert that fires only when its branch is instantiated.
template <class> constexpr bool dependent_false = false;
} // namespace detail

/// A response's outcome: the result value or the error.
using rpc_result = boost::system::result<boost::json::value, rpc_error>;

/// Thrown only by `rpc_result::value()` on an error (call `has_value()` first to avoid it).
struct rpc_exception : std::runtime_error {
  explicit rpc_exception(rpc_error e);
  rpc_error error;
};
[[noreturn]] void throw_exception_from_error(const rpc_error& e, const boost::source_location& loc);

/// A response message's outcome (the `result` member, or the error).
[[nodiscard]] rpc_result outcome_of(const jsonrpc::message& response);

/// Answers one incoming request. Move-only, single-shot.
class [[nodiscard]] responder {
public:
  responder() noexcept = default;
  /// Answers `request` (an entry of the runtime's `inbound_table`, see forwarding.hpp).
  explicit responder(inbound_ptr request) noexcept : st_(std::move(request)) {}
  responder(responder&&) noexcept = default;
  responder& operator=(responder&& other) noexcept;
  responder(const responder&) = delete;
  responder& operator=(const responder&) = delete;
  ~responder();

  void respond(boost::json::value result);
  /// A typed result (any type with `acp::encode`).
  template <class T>
  requires(!std::is_convertible_v<T, boost::json::value>) void respond(const T& typed);
  void respond_error(rpc_error error);
  void respond_with(rpc_result outcome);
  /// Relays a response message (result or error) unchanged but for the id.
  void relay(jsonrpc::message response);

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(st_); }
  explicit operator bool() const noexcept { return valid(); }
  /// The request's id as the peer sent it (null for an empty responder).
  [[nodiscard]] const boost::json::value& id() const noexcept;
  [[nodiscard]] std::string_view method() const noexcept;
  /// The peer sent `$/cancel_request` for this request.
  [[nodiscard]] bool cancelled() const noexcept;
  /// Runs `f` when the peer cancels (at once if it already has).
  void on_cancel(unique_function<void()> f);
  /// Runs `f` with the answer just before it is sent, whoever answers (this responder, a
  /// forwarded request's response, the default forwarding, the close). See `on_observe_response_to`.
  void on_answer(unique_function<void(const jsonrpc::message& answer)> f);
  /// Hands the request over without answering it: whoever takes it answers it (or it answers
  /// -32603 itself when the last holder lets it go unanswered). For `acp::forward`.
  [[nodiscard]] inbound_ptr release() && noexcept { return std::move(st_); }

private:
  void finish(jsonrpc::message response);
  void drop() noexcept; // answers -32603 (reason responder_dropped) when still unanswered
  inbound_ptr st_;
};

/// A request we sent. Say what happens to its response — or drop it to ignore the response.
class [[nodiscard]] sent_request {
public:
  explicit sent_request(std::shared_ptr<detail::sent_state> st) noexcept : st_(std::move(st)) {}

  /// Relays the response (result or error) to `r` when it arrives; cancelling `r` cancels this.
  void forward_response_to(responder r) &&;
  /// The same, and `observe` sees the outcome first, on the connection's thread:
  ///   `void observe(const rpc_result&)`  reads it; the response is relayed exactly as it came;
  ///   `void observe(rpc_result&)`        may change it (patch the result, or assign an
  ///                                      `rpc_error`); `r` is answered with what it holds.
  /// An exception from `observe` is logged and answers `r` -32603.
  template <class F> void forward_response_to(responder r, F observe) &&;
  /// Runs `f` with the outcome, in arrival order on the connection's thread.
  void on_receiving_result(unique_function<void(rpc_result)> f) &&;
  /// Waits for the outcome. Only from a spawned task, never inside a handler (deadlock rule).
  boost::asio::awaitable<rpc_result> response() &&;
  /// Sends `$/cancel_request` for it.
  void cancel() const;

private:
  void relay_observed(responder r, unique_function<void(const rpc_result&)> observe) &&;
  void relay_edited(responder r, unique_function<void(rpc_result&)> edit) &&;
  std::shared_ptr<detail::sent_state> st_;
};

template <class F> void sent_request::forward_response_to(responder r, F observe) && {
  if constexpr (std::is_invocable_r_v<void, F&, const rpc_result&>) {
    std::move(*this).relay_observed(std::move(r), std::move(observe));
  } else {
    static_assert(std::is_invocable_r_v<void, F&, rpc_result&>,
                  "forward_response_to(r, observe): observe is void(const acp::rpc_result&) to read the "
                  "response or void(acp::rpc_result&) to change it");
    std::move(*this).relay_edited(std::move(r), std::move(observe));
  }
}

class context;
using raw_request_handler = std::function<handled(jsonrpc::message& msg, responder& r, context& cx)>;
using raw_notification_handler = std::function<handled(jsonrpc::message& msg, context& cx)>;

/// The raw handler forms (see the top of this file).
template <class F>
concept raw_request_handler_form = std::is_invocable_r_v<handled, F&, jsonrpc::message&, responder&, context&> &&
    std::same_as<std::invoke_result_t<F&, jsonrpc::message&, responder&, context&>, handled>;
template <class F>
concept raw_notification_handler_form = std::is_invocable_r_v<handled, F&, jsonrpc::message&, context&> &&
    std::same_as<std::invoke_result_t<F&, jsonrpc::message&, context&>, handled>;

/// What handlers use to send and spawn. Cheap to copy; valid while the endpoint lives.
class context {
public:
  explicit context(std::shared_ptr<detail::runtime> rt) noexcept : rt_(std::move(rt)) {}

  sent_request send_request_to(peer to, std::string_view method, std::optional<boost::json::value> params);
  template <peer_tag P>
  sent_request send_request_to(P, std::string_view method, std::optional<boost::json::value> params) {
    return send_request_to(P::value, method, std::move(params));
  }
  /// Sends a request a handler received on to `to` as it is: its params keep the bytes they
  /// arrived as (numbers, escapes), only its id is replaced by a fresh one. For a handler that
  /// passes a request on and still wants its answer:
  ///     cx.forward_request_to(acp::client, std::move(msg)).forward_response_to(std::move(r), observe);
  sent_request forward_request_to(peer to, jsonrpc::message request);
  template <peer_tag P> sent_request forward_request_to(P, jsonrpc::message request) {
    return forward_request_to(P::value, std::move(request));
  }
  /// A typed request: the method comes from `acp::method_traits<T>`.
  template <peer_tag P, class T>
  requires(!std::is_convertible_v<T, std::string_view>) sent_request send_request_to(P to, const T& typed);

  void send_notification_to(peer to, std::string_view method, std::optional<boost::json::value> params);
  template <peer_tag P>
  void send_notification_to(P, std::string_view method, std::optional<boost::json::value> params) {
    send_notification_to(P::value, method, std::move(params));
  }
  template <peer_tag P, class T>
  requires(!std::is_convertible_v<T, std::string_view>) void send_notification_to(P to, const T& typed);

  /// Per-session handlers: for messages from `from` whose `params.sessionId` is `session_id`,
  /// these run before the builder's handlers (falling through to them on `handled::no`), until
  /// `forget_session`. Typically added when a `session/new` response reveals the id.
  void on_session_request(std::string session_id, peer from, std::string method, raw_request_handler f);
  void on_session_notification(std::string session_id, peer from, std::string method, raw_notification_handler f);
  template <peer_tag P> void on_session_request(std::string session_id, P, std::string method, raw_request_handler f) {
    on_session_request(std::move(session_id), P::value, std::move(method), std::move(f));
  }
  template <peer_tag P>
  void on_session_notification(std::string session_id, P, std::string method, raw_notification_handler f) {
    on_session_notification(std::move(session_id), P::value, std::move(method), std::move(f));
  }
  void forget_session(const std::string& session_id);

  /// Runs a coroutine beside the handlers (it may await responses). A failure is logged.
  void spawn(boost::asio::awaitable<void> task);

  [[nodiscard]] chain_role endpoint_role() const noexcept;
  [[nodiscard]] boost::asio::any_io_executor get_executor() const;
  /// Orderly shutdown: running tasks get the grace period, then the connection closes.
  void shutdown() const;
  [[nodiscard]] connection& conn() const;

private:
  std::shared_ptr<detail::runtime> rt_;
};

struct endpoint_options {
  connection_options connection;
  std::chrono::milliseconds grace_period{2000}; ///< for running tasks at shutdown
  /// Spawned tasks that run at once; further ones wait their turn, in order.
  std::size_t max_running_tasks = 256;
  /// Waiting tasks above which the connection stops reading until half of them have started
  /// (back-pressure instead of memory growth). Reading resumes as running tasks finish, so a
  /// task must not need a *new* incoming request to finish — responses are fine once it runs.
  std::size_t max_waiting_tasks = 1024;
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

  /// Starts on `transport`; the handlers move into the endpoint.
  [[nodiscard]] endpoint connect_to(const boost::asio::any_io_executor& ex, transport_ptr transport);
  /// Serves stdin/stdout until the peer closes; returns the exit code (0: peer closed cleanly).
  int run_stdio();

private:
  std::shared_ptr<detail::runtime> rt_;
};

class proxy_builder : public endpoint_builder {
public:
  proxy_builder() : endpoint_builder(chain_role::proxy) {}
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
