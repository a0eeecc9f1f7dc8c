#include <acp/protocol/envelope.hpp>

namespace acp::proxy_protocol {
namespace json = boost::json;

bool is_successor_method(std::string_view m) noexcept {
  if (!m.empty() && m.front() == '_') m.remove_prefix(1);
  return m == "proxy/successor" || m == "proxy/successor/request" || m == "proxy/successor/notification";
}

bool is_proxy_initialize_method(std::string_view m) noexcept {
  return m == initialize_method || m == "proxy/initialize";
}

namespace {

jsonrpc::message make_envelope(json::object params, std::optional<json::value> outer_id, generation gen) {
  std::string_view method = successor_method;
  if (gen == generation::legacy) method = outer_id ? legacy_successor_request : legacy_successor_notification;
  if (outer_id) return jsonrpc::message::request(std::move(*outer_id), method, json::value(std::move(params)));
  return jsonrpc::message::notification(method, json::value(std::move(params)));
}

bool check_envelope(const jsonrpc::message& envelope, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return false;
  };
  const auto* params = envelope.params();
  if (!params || !params->is_object()) return fail("params: expected an object with \"method\"");
  const auto& p = params->get_object();
  const auto* method = p.if_contains("method");
  if (!method) return fail("params.method: missing");
  if (!method->is_string()) return fail("params.method: expected string");
  if (const auto* inner = p.if_contains("params");
      inner && !inner->is_null() && !inner->is_object() && !inner->is_array())
    return fail("params.params: expected object, array or null");
  return true;
}

} // namespace

jsonrpc::message wrap(const inner_message& inner, std::optional<json::value> outer_id, generation gen) {
  json::object params;
  params.reserve(3);
  params["method"] = inner.method;
  params["params"] = inner.params ? *inner.params : json::value(nullptr);
  if (inner.meta) params["_meta"] = *inner.meta;
  return make_envelope(std::move(params), std::move(outer_id), gen);
}

jsonrpc::message wrap_message(jsonrpc::message inner, std::optional<json::value> outer_id, generation gen) {
  auto& obj = inner.json();
  json::object params;
  params.reserve(2);
  if (auto* m = obj.if_contains("method")) params["method"] = std::move(*m);
  auto* p = obj.if_contains("params");
  params["params"] = p ? std::move(*p) : json::value(nullptr);
  return make_envelope(std::move(params), std::move(outer_id), gen);
}

std::optional<inner_message> unwrap(const jsonrpc::message& envelope, std::string* error) {
  if (!check_envelope(envelope, error)) return std::nullopt;
  const auto& p = envelope.params()->get_object();
  inner_message out;
  out.method = p.at("method").get_string();
  if (const auto* inner = p.if_contains("params"); inner && !inner->is_null()) out.params = *inner;
  if (const auto* meta = p.if_contains("_meta")) out.meta = *meta;
  else if (const auto* legacy = p.if_contains("meta")) out.meta = *legacy;
  return out;
}

std::optional<jsonrpc::message> unwrap_message(jsonrpc::message envelope, std::string* error) {
  if (!check_envelope(envelope, error)) return std::nullopt;
  auto& p = envelope.params()->get_object();
  std::optional<json::value> params;
  if (auto* inner = p.if_contains("params"); inner && !inner->is_null()) params = std::move(*inner);
  const std::string method(p.at("method").get_string());
  if (envelope.is_request()) return jsonrpc::message::request(envelope.id(), method, std::move(params));
  return jsonrpc::message::notification(method, std::move(params));
}

} // namespace acp::proxy_protocol
