#pragma once
// Definitions of the typed handler and send templates declared in endpoint.hpp.
// Included by <acp/sdk.hpp>, which also brings the typed messages.

#include <acp/protocol/types.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/log.hpp>

#include <type_traits>

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

template <class T> std::string invalid_params_message(const decode_error& e) {
  return "Invalid params for " + std::string(method_traits<T>::method) + ": " + e.what();
}

} // namespace detail

template <class T>
requires(!std::is_convertible_v<T, boost::json::value>) void responder::respond(const T& typed) {
  respond(acp::encode(typed));
}

template <peer_tag P, class T>
requires(!std::is_convertible_v<T, std::string_view>) sent_request context::send_request_to(P to, const T& typed) {
  static_assert(method_traits<T>::is_request, "send_request_to needs a request params type");
  return send_request_to(to, method_traits<T>::method, acp::encode(typed));
}

template <peer_tag P, class T>
requires(!std::is_convertible_v<T, std::string_view>) void context::send_notification_to(P to, const T& typed) {
  static_assert(!method_traits<T>::is_request, "send_notification_to needs a notification params type");
  send_notification_to(to, method_traits<T>::method, acp::encode(typed));
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_receive_request_from(P from, F&& f) {
  using T = typename detail::callable_traits<F>::first;
  static_assert(method_traits<T>::is_request, "the handler's first parameter must be a request params type");
  return on_receive_request_from(
      from.value, std::string(method_traits<T>::method),
      [fn = std::forward<F>(f)](jsonrpc::message& msg, responder& r, context& cx) mutable -> handled {
        auto params = acp::decode_params<T>(msg.params());
        if (!params) {
          boost::json::object data;
          data["path"] = params.error().path;
          r.respond_error(rpc_error::invalid_params(detail::invalid_params_message<T>(params.error()),
                                                    boost::json::value(std::move(data))));
          return handled::yes;
        }
        fn(std::move(*params), std::move(r), cx);
        return handled::yes;
      });
}

template <peer_tag P, class F> endpoint_builder& endpoint_builder::on_receive_notification_from(P from, F&& f) {
  using T = typename detail::callable_traits<F>::first;
  static_assert(!method_traits<T>::is_request, "the handler's first parameter must be a notification params type");
  return on_receive_notification_from(from.value, std::string(method_traits<T>::method),
                                      [fn = std::forward<F>(f)](jsonrpc::message& msg, context& cx) mutable -> handled {
                                        auto params = acp::decode_params<T>(msg.params());
                                        if (!params) {
                                          log::warn("sdk", detail::invalid_params_message<T>(params.error()) +
                                                               "; passing it on untyped");
                                          return handled::no;
                                        }
                                        fn(std::move(*params), cx);
                                        return handled::yes;
                                      });
}

} // namespace acp
