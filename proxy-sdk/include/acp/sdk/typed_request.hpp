#pragma once
// A request sent as a typed params value, whose response is read as the typed response:
//
//   auto sent = cx.send_request_to(acp::agent, prompt);      // acp::typed_sent_request<acp::prompt_request>
//   acp::typed_result<acp::prompt_response> answer = co_await std::move(sent).response();
//
// Included by <acp/sdk.hpp> (via <acp/sdk/detail/typed.hpp>). The deadlock rule of
// <acp/sdk/endpoint.hpp> holds as for `sent_request`: `response()` only in a spawned task.

#include <acp/protocol/types.hpp>
#include <acp/sdk/context.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace acp {

/// A typed response's outcome: the decoded response, or the error. A result that does not decode
/// as `Response` is an error too: -32603 "invalid <method> result: <path>: <problem>" with
/// `data.reason` "invalid_result" and `data.path` (never an exception).
template <class Response> using typed_result = boost::system::result<Response, rpc_error>;

/// `rpc_result` read as the response of `Request` (see `typed_result`).
template <class Request> typed_result<typename method_traits<Request>::response> typed_outcome(rpc_result outcome) {
  using response_t = typename method_traits<Request>::response;
  if (!outcome) return {boost::system::in_place_error, std::move(outcome.error())};
  auto typed = acp::decode_result<response_t>(&*outcome);
  if (!typed) {
    boost::json::object data;
    data["reason"] = "invalid_result";
    data["path"] = typed.error().path;
    return {boost::system::in_place_error,
            rpc_error::internal_error("invalid " + std::string(method_traits<Request>::method) +
                                          " result: " + typed.error().what(),
                                      boost::json::value(std::move(data)))};
  }
  return {boost::system::in_place_value, std::move(*typed)};
}

/// A request sent as `Request` params (`cx.send_request_to(peer, Request{…})`): the same handle
/// as `sent_request`, with the response decoded as `method_traits<Request>::response`. Say what
/// happens to the response, or drop the handle to ignore it. Converts to the untyped
/// `sent_request` (`sent_request s = cx.send_request_to(…)` or `std::move(t).untyped()`).
template <class Request> class [[nodiscard]] typed_sent_request {
public:
  using request_type = Request;
  using response_type = typename method_traits<Request>::response;

  explicit typed_sent_request(sent_request untyped) noexcept : sent_(std::move(untyped)) {}

  /// Relays the response unchanged (it is not decoded); cancelling `r` cancels this.
  void forward_response_to(responder r) && { std::move(sent_).forward_response_to(std::move(r)); }
  /// The same with an observer of the raw outcome, as `sent_request::forward_response_to`.
  template <class F> void forward_response_to(responder r, F observe) && {
    std::move(sent_).forward_response_to(std::move(r), std::move(observe));
  }
  /// Runs `f` with the outcome, in arrival order on the connection's thread:
  /// `void f(typed_result<response_type>)`, or the raw `void f(rpc_result)`.
  template <class F> void on_receiving_result(F f) && {
    if constexpr (std::is_invocable_v<F&, typed_result<response_type>&&>) {
      std::move(sent_).on_receiving_result(
          [f = std::move(f)](rpc_result outcome) mutable { f(typed_outcome<Request>(std::move(outcome))); });
    } else {
      static_assert(std::is_invocable_v<F&, rpc_result&&>, "on_receiving_result: the callback is void(acp::typed_"
                                                           "result<Response>) or void(acp::rpc_result)");
      std::move(sent_).on_receiving_result(std::move(f));
    }
  }
  /// Waits for the outcome, decoded. Only from a spawned task, never inside a handler.
  boost::asio::awaitable<typed_result<response_type>> response() && { return await(std::move(sent_)); }
  /// Sends `$/cancel_request` for it.
  void cancel() const { sent_.cancel(); }

  /// The untyped handle (raw `rpc_result` outcomes).
  [[nodiscard]] sent_request untyped() && noexcept { return std::move(sent_); }
  operator sent_request() && noexcept { return std::move(sent_); } // NOLINT(google-explicit-constructor)

private:
  // A coroutine of its own holding the handle by value (the typed handle may be gone).
  // GCC 12 takes Asio's frame allocator (aligned_alloc with a class-specific delete) for a
  // mismatched new/delete once this is inlined; a false positive, silenced here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
  static boost::asio::awaitable<typed_result<response_type>> await(sent_request sent) {
    rpc_result outcome = co_await std::move(sent).response();
    co_return typed_outcome<Request>(std::move(outcome));
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  sent_request sent_;
};

} // namespace acp
