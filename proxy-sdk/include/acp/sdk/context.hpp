#pragma once
// What handlers work with: responders, sent requests and the context (sends, spawns, session
// handlers). The rules they follow (directions, ordering, the deadlock rule, responders) are at
// the top of <acp/sdk/endpoint.hpp>, which includes this header.

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
/// A request sent as typed params; defined in <acp/sdk/typed_request.hpp>.
template <class Request> class typed_sent_request;
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
  /// A typed request: the method comes from `acp::method_traits<T>`; the handle's `response()`
  /// and `on_receiving_result` give the typed response (<acp/sdk/typed_request.hpp>).
  template <peer_tag P, class T>
  requires(!std::is_convertible_v<T, std::string_view>) typed_sent_request<T> send_request_to(P to, const T& typed);

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
  /// `f` is a callable returning `awaitable<void>`, typically a lambda coroutine; it is moved
  /// into the task and lives until the coroutine ends, so its captures stay valid (as with
  /// `co_spawn(ex, f)`): `cx.spawn([state, cx]() -> boost::asio::awaitable<void> { … })`.
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > &&std::same_as<std::invoke_result_t<std::decay_t<F>&>, boost::asio::awaitable<void>> void spawn(F&& f) {
    spawn(call_kept(std::decay_t<F>(std::forward<F>(f))));
  }
  /// An awaitable already created: for a coroutine *function* called with its arguments by value
  /// (`cx.spawn(run_turn(env, std::move(r)))`). Never `spawn([&]() -> awaitable<void> {…}())`:
  /// the lambda is a temporary and its captures dangle once the coroutine suspends; pass the
  /// lambda itself to the overload above.
  void spawn(boost::asio::awaitable<void> task);

  [[nodiscard]] chain_role endpoint_role() const noexcept;
  [[nodiscard]] boost::asio::any_io_executor get_executor() const;
  /// Orderly shutdown: running tasks get the grace period, then the connection closes.
  void shutdown() const;
  [[nodiscard]] connection& conn() const;

private:
  // The frame holds `f` (a by-value parameter) for the whole coroutine.
  template <class F> static boost::asio::awaitable<void> call_kept(F f) { co_await f(); }
  std::shared_ptr<detail::runtime> rt_;
};
} // namespace acp
