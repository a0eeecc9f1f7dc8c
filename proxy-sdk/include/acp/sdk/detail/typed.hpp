#pragma once
// Definitions of the typed handler and send templates declared in endpoint.hpp.
// Included by <acp/sdk.hpp>, which also brings the typed messages.
//
// Each handler form is a concept (below); a handler of no form stops the build with one
// static_assert line saying which forms there are, instead of pages of overload candidates.

#include <acp/protocol/types.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/log.hpp>
#include <acp/sdk/typed_request.hpp>

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

namespace acp {
namespace detail {

template <class F> struct callable_traits : callable_traits<decltype(&std::decay_t<F>::operator())> {};
template <class C, class R, class A0, class... As> struct callable_traits<R (C::*)(A0, As...) const> {
  using first = std::decay_t<A0>;
};
template <class C, class R, class A0, class... As> struct callable_traits<R (C::*)(A0, As...)> {
  using first = std::decay_t<A0>;
};
template <class R, class A0, class... As> struct callable_traits<R (*)(A0, As...)> { using first = std::decay_t<A0>; };
template <class R, class A0, class... As> struct callable_traits<R(A0, As...)> { using first = std::decay_t<A0>; };

/// `F` has one call operator (not a generic lambda) whose first parameter is a params type.
template <class F>
concept typed_callable = requires {
  typename callable_traits<std::remove_cvref_t<F>>::first;
}
&&method_params<typename callable_traits<std::remove_cvref_t<F>>::first>;

template <class F, bool = typed_callable<F>> struct params_of { using type = void; };
template <class F> struct params_of<F, true> { using type = typename callable_traits<std::remove_cvref_t<F>>::first; };
/// The params type a typed handler handles (void when it has none).
template <class F> using params_of_t = typename params_of<F>::type;

template <class T, class R> constexpr bool returns_exactly = std::same_as<T, R>;
/// Whether `T` is a request params type (false for void and other non-params types).
template <class T>
constexpr bool is_request_v = [] {
  if constexpr (method_params<T>)
    return method_traits<T>::is_request;
  else
    return false;
}();

template <class T> std::string invalid_params_message(const decode_error& e) {
  return "Invalid params for " + std::string(method_traits<T>::method) + ": " + e.what();
}

/// Whether a message of `T` may come from peer `P` (the protocol says who receives each method).
template <class T, class P> constexpr bool comes_from() {
  constexpr std::optional<peer> receiver = method_traits<T>::receiver;
  if constexpr (!receiver)
    return true;
  else
    return (*receiver == peer::agent) == std::is_same_v<P, client_t>;
}

/// After a deciding handler returned `handled::no`: the params re-encoded into `msg` when the
/// handler changed them (`before` is their encoding as decoded); otherwise `msg` is untouched.
template <class T> void pass_on(jsonrpc::message& msg, const std::optional<boost::json::value>& before, const T& now) {
  if (!before) return; // the handler could not change them
  auto after = acp::encode(now);
  if (after == *before) return;
  if (auto* p = msg.params())
    *p = std::move(after);
  else
    msg.json()["params"] = std::move(after);
  // Changed: the text it arrived as is of no more use (else every write would parse it again to
  // compare it with the DOM).
  const auto kind = msg.kind();
  msg = jsonrpc::message(kind, std::move(msg).release());
}

} // namespace detail

namespace detail {
/// The trap: a handler that returns `handled` but takes the responder by value (it could not
/// pass the request on: the responder is gone when it returns).
template <class F, class T>
concept handled_with_responder_by_value = std::is_invocable_v<F&, T&&, responder&&, context&> &&
    std::same_as<std::invoke_result_t<F&, T&&, responder&&, context&>, handled>;
} // namespace detail

// ---- the handler forms -------------------------------------------------------------------

/// `void f(T params, responder r, context cx)`: answers (or hands on) the request itself.
template <class F, class T = detail::params_of_t<F>>
concept consuming_request_handler =
    method_params<T> && method_traits<T>::is_request && std::is_invocable_v<F&, T&&, responder&&, context&> &&
    std::is_void_v<std::invoke_result_t<F&, T&&, responder&&, context&>>;
/// `handled f(T& params, responder& r, context& cx)`: `handled::no` passes the request on.
template <class F, class T = detail::params_of_t<F>>
concept deciding_request_handler =
    method_params<T> && method_traits<T>::is_request && std::is_invocable_v<F&, T&, responder&, context&> &&
    detail::returns_exactly<std::invoke_result_t<F&, T&, responder&, context&>, handled>;
/// `void f(T params, context cx)`: the notification ends here.
template <class F, class T = detail::params_of_t<F>>
concept consuming_notification_handler =
    method_params<T> && !method_traits<T>::is_request && std::is_invocable_v<F&, T&&, context&> &&
    std::is_void_v<std::invoke_result_t<F&, T&&, context&>>;
/// `handled f(T& params, context& cx)`: `handled::no` passes the notification on.
template <class F, class T = detail::params_of_t<F>>
concept deciding_notification_handler =
    method_params<T> && !method_traits<T>::is_request && std::is_invocable_v<F&, T&, context&> &&
    detail::returns_exactly<std::invoke_result_t<F&, T&, context&>, handled>;
/// `void f(const T& params, context& cx)`: sees a request or notification, changes nothing.
template <class F, class T = detail::params_of_t<F>>
concept message_observer = method_params<T> && std::is_invocable_v<F&, const T&, context&> &&
    std::is_void_v<std::invoke_result_t<F&, const T&, context&>>;
/// `void f(const T& request, const rpc_result& outcome, context& cx)`: sees an answer.
template <class F, class T = detail::params_of_t<F>>
concept response_observer = method_params<T> && method_traits<T>::is_request &&
    std::is_invocable_v<F&, const T&, const rpc_result&, context&> &&
    std::is_void_v<std::invoke_result_t<F&, const T&, const rpc_result&, context&>>;

// ---- definitions -------------------------------------------------------------------------

template <class T>
requires(!std::is_convertible_v<T, boost::json::value>) void responder::respond(const T& typed) {
  respond(acp::encode(typed));
}

template <peer_tag P, class T>
requires(!std::is_convertible_v<T, std::string_view>) typed_sent_request<T> context::send_request_to(P to,
                                                                                                     const T& typed) {
  static_assert(method_traits<T>::is_request, "send_request_to needs a request params type");
  static_assert(detail::comes_from<T, std::conditional_t<std::is_same_v<P, client_t>, agent_t, client_t>>(),
                "send_request_to: this method is never sent to that peer (see acp::method_traits<T>::receiver)");
  return typed_sent_request<T>(send_request_to(to, method_traits<T>::method, acp::encode(typed)));
}

template <peer_tag P, class T>
requires(!std::is_convertible_v<T, std::string_view>) void context::send_notification_to(P to, const T& typed) {
  static_assert(!method_traits<T>::is_request, "send_notification_to needs a notification params type");
  static_assert(detail::comes_from<T, std::conditional_t<std::is_same_v<P, client_t>, agent_t, client_t>>(),
                "send_notification_to: this method is never sent to that peer (see acp::method_traits<T>::receiver)");
  send_notification_to(to, method_traits<T>::method, acp::encode(typed));
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_receive_request_from(P from, F&& f) {
  using Fn = std::decay_t<F>;
  using T = detail::params_of_t<Fn>;
  static_assert(detail::typed_callable<Fn>, "a typed handler's first parameter is a params type (acp::prompt_request, "
                                            "…); a raw handler needs a method name: (peer, \"method\", f)");
  if constexpr (!detail::typed_callable<Fn>) {
    return *this;
  } else if constexpr (!method_traits<T>::is_request) {
    static_assert(method_traits<T>::is_request, "on_receive_request_from: the first parameter is a notification type");
    return *this;
  } else if constexpr (detail::handled_with_responder_by_value<Fn, T>) {
    static_assert(detail::dependent_false<Fn>,
                  "a request handler that returns acp::handled takes acp::responder& (it may pass the request on)");
    return *this;
  } else if constexpr (!consuming_request_handler<Fn> && !deciding_request_handler<Fn>) {
    static_assert(detail::dependent_false<Fn>, "a typed request handler is void f(T, acp::responder, acp::context) "
                                               "or acp::handled f(T&, acp::responder&, acp::context&)");
    return *this;
  } else {
    static_assert(detail::comes_from<T, P>(), "on_receive_request_from: this method never comes from that peer (see "
                                              "acp::method_traits<T>::receiver)");
    return on_receive_request_from(
        from.value, std::string(method_traits<T>::method),
        [fn = std::forward<F>(f)](jsonrpc::message& msg, responder& r, context& cx) mutable -> handled {
          auto params = acp::decode_params<T>(std::as_const(msg).params());
          if (!params) {
            boost::json::object data;
            data["path"] = params.error().path;
            r.respond_error(rpc_error::invalid_params(detail::invalid_params_message<T>(params.error()),
                                                      boost::json::value(std::move(data))));
            return handled::yes;
          }
          if constexpr (consuming_request_handler<Fn>) {
            fn(std::move(*params), std::move(r), cx);
            return handled::yes;
          } else {
            // Only a handler taking `T&` can change the params: only then is there anything to compare.
            std::optional<boost::json::value> before;
            if constexpr (!std::is_invocable_v<Fn&, const T&, responder&, context&>) before = acp::encode(*params);
            const handled verdict = fn(*params, r, cx);
            if (verdict == handled::no) detail::pass_on(msg, before, *params);
            return verdict;
          }
        });
  }
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_receive_notification_from(P from, F&& f) {
  using Fn = std::decay_t<F>;
  using T = detail::params_of_t<Fn>;
  static_assert(detail::typed_callable<Fn>, "a typed handler's first parameter is a params type (acp::prompt_request, "
                                            "…); a raw handler needs a method name: (peer, \"method\", f)");
  if constexpr (!detail::typed_callable<Fn>) {
    return *this;
  } else if constexpr (method_traits<T>::is_request) {
    static_assert(!method_traits<T>::is_request, "on_receive_notification_from: the first parameter is a request type");
    return *this;
  } else if constexpr (!consuming_notification_handler<Fn> && !deciding_notification_handler<Fn>) {
    static_assert(detail::dependent_false<Fn>,
                  "a typed notification handler is void f(T, acp::context) or acp::handled f(T&, acp::context&)");
    return *this;
  } else {
    static_assert(detail::comes_from<T, P>(), "on_receive_notification_from: this method never comes from that peer "
                                              "(see acp::method_traits<T>::receiver)");
    return on_receive_notification_from(
        from.value, std::string(method_traits<T>::method),
        [fn = std::forward<F>(f)](jsonrpc::message& msg, context& cx) mutable -> handled {
          auto params = acp::decode_params<T>(std::as_const(msg).params());
          if (!params) {
            log::warn("sdk", detail::invalid_params_message<T>(params.error()) + "; passing it on untyped");
            return handled::no;
          }
          if constexpr (consuming_notification_handler<Fn>) {
            fn(std::move(*params), cx);
            return handled::yes;
          } else {
            std::optional<boost::json::value> before;
            if constexpr (!std::is_invocable_v<Fn&, const T&, context&>) before = acp::encode(*params);
            const handled verdict = fn(*params, cx);
            if (verdict == handled::no) detail::pass_on(msg, before, *params);
            return verdict;
          }
        });
  }
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_observe_request_from(P from, F&& f) {
  using Fn = std::decay_t<F>;
  using T = detail::params_of_t<Fn>;
  if constexpr (!message_observer<Fn> || !detail::is_request_v<T>) {
    static_assert(detail::dependent_false<Fn>,
                  "a request observer is void f(const T&, acp::context&), T a request params type");
    return *this;
  } else {
    static_assert(detail::comes_from<T, P>(), "on_observe_request_from: this method never comes from that peer (see "
                                              "acp::method_traits<T>::receiver)");
    return on_receive_request_from(from.value, std::string(method_traits<T>::method),
                                   [fn = std::forward<F>(f)](jsonrpc::message& msg, responder&, context& cx) mutable {
                                     if (auto params = acp::decode_params<T>(std::as_const(msg).params()))
                                       fn(std::as_const(*params), cx);
                                     return handled::no;
                                   });
  }
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_observe_notification_from(P from, F&& f) {
  using Fn = std::decay_t<F>;
  using T = detail::params_of_t<Fn>;
  if constexpr (!message_observer<Fn> || detail::is_request_v<T>) {
    static_assert(detail::dependent_false<Fn>,
                  "a notification observer is void f(const T&, acp::context&), T a notification params type");
    return *this;
  } else {
    static_assert(detail::comes_from<T, P>(), "on_observe_notification_from: this method never comes from that peer "
                                              "(see acp::method_traits<T>::receiver)");
    return on_receive_notification_from(from.value, std::string(method_traits<T>::method),
                                        [fn = std::forward<F>(f)](jsonrpc::message& msg, context& cx) mutable {
                                          if (auto params = acp::decode_params<T>(std::as_const(msg).params()))
                                            fn(std::as_const(*params), cx);
                                          return handled::no;
                                        });
  }
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_observe_response_to(P to, F&& f) {
  using Fn = std::decay_t<F>;
  using T = detail::params_of_t<Fn>;
  if constexpr (!response_observer<Fn>) {
    static_assert(detail::dependent_false<Fn>,
                  "a response observer is void f(const T& request, const acp::rpc_result&, acp::context&)");
    return *this;
  } else {
    static_assert(detail::comes_from<T, P>(),
                  "on_observe_response_to: that peer never sends this request (see acp::method_traits<T>::receiver)");
    // Shared: the observer runs once per answered request, after its registration handler is gone.
    auto shared = std::make_shared<Fn>(std::forward<F>(f));
    return on_receive_request_from(
        to.value, std::string(method_traits<T>::method), [shared](jsonrpc::message& msg, responder& r, context& cx) {
          auto params = acp::decode_params<T>(std::as_const(msg).params());
          if (!params) return handled::no;
          r.on_answer([shared, request = std::move(*params), cx](const jsonrpc::message& answer) mutable {
            (*shared)(std::as_const(request), outcome_of(answer), cx);
          });
          return handled::no;
        });
  }
}

} // namespace acp
