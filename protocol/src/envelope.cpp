#include <acp/protocol/envelope.hpp>
#include <acp/protocol/json_scan.hpp>

#include <boost/json/serialize.hpp>

#include <array>
#include <cstring>

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

namespace {

std::string_view envelope_method(const std::optional<json::value>& outer_id, generation gen) {
  if (gen == generation::legacy) return outer_id ? legacy_successor_request : legacy_successor_notification;
  return successor_method;
}

/// Whether `s` needs no escaping as a JSON string.
bool is_plain_string(std::string_view s) noexcept {
  for (const char c : s)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}
} // namespace

namespace {

/// In place, when the inner message's own line already holds the envelope's params: a line that
/// ends `,"method":"NAME","params":PARAMS}` (the member order and spacing writers use) holds
/// `{"method":"NAME","params":PARAMS}` once that comma is a brace, and the envelope's method fits
/// in the bytes before it (`{"jsonrpc":"2.0"`, and the id of a request). The buffer is the
/// message's own; nothing is copied or allocated. nullopt when the line is not so.
std::optional<jsonrpc::message> wrap_in_place(jsonrpc::message& inner, std::optional<json::value>& outer_id,
                                              std::string_view method) {
  if (!inner.is_text() || inner.is_response()) return std::nullopt;
  const auto payload = inner.payload_text();
  if (!payload || payload->empty()) return std::nullopt;
  const auto span = inner.payload_span();
  const auto bytes_in = inner.text_bytes();
  const char* base = bytes_in.data();
  const std::size_t size = span.offset + span.size + 1; // the line: through the closing brace
  if (size > bytes_in.size()) return std::nullopt;
  const auto name = inner.method();
  if (name.data() < base || name.data() + name.size() > base + span.offset) return std::nullopt; // a set method
  constexpr std::string_view before = R"(,"method":")";
  constexpr std::string_view after = R"(","params":)";
  const auto name_at = static_cast<std::size_t>(name.data() - base);
  if (name_at < before.size() + method.size()) return std::nullopt;
  const std::size_t open = name_at - before.size(); // the comma that becomes `{`
  const std::string_view line(base, size);
  if (line.substr(open, before.size()) != before || line.substr(name_at + name.size(), after.size()) != after ||
      name_at + name.size() + after.size() != span.offset || line.back() != '}' || !is_plain_string(name))
    return std::nullopt;
  auto buffer = std::move(inner).take_text_buffer();
  char* bytes = buffer.data();
  bytes[open] = '{';
  std::memcpy(bytes, method.data(), method.size());
  const auto kind = outer_id ? jsonrpc::message_kind::request : jsonrpc::message_kind::notification;
  return jsonrpc::message::from_text(kind, outer_id ? std::move(*outer_id) : json::value(), std::move(buffer),
                                     {0, method.size()}, {open, size - open});
}

} // namespace

jsonrpc::message wrap_message(jsonrpc::message inner, std::optional<json::value> outer_id, generation gen) {
  if (auto in_place = wrap_in_place(inner, outer_id, envelope_method(outer_id, gen))) return std::move(*in_place);
  if (const auto payload = inner.payload_text(); payload && !inner.is_response()) {
    // Text form: splice the params text into the envelope; nothing is parsed or re-serialized.
    const auto method = envelope_method(outer_id, gen);
    const auto name = inner.method();
    const auto params = payload->empty() ? std::string_view("null") : *payload;
    text_buffer text;
    const std::size_t begin = method.size();
    if (is_plain_string(name)) {
      // One allocation, no intermediate copy: the envelope's method, then the inner message.
      text.reserve(method.size() + name.size() + params.size() + 24);
      text.append(method);
      text.append(R"({"method":")");
      text.append(name);
      text.append(R"(","params":)");
    } else {
      std::string head(method);
      head.append(R"({"method":)");
      jsonrpc::append_json_string(head, name);
      head.append(R"(,"params":)");
      text.reserve(head.size() + params.size() + 1);
      text.append(head);
    }
    text.append(params);
    text.append("}");
    const auto kind = outer_id ? jsonrpc::message_kind::request : jsonrpc::message_kind::notification;
    const jsonrpc::message::span params_span{begin, text.size() - begin}; // before `text` is moved
    return jsonrpc::message::from_text(kind, outer_id ? std::move(*outer_id) : json::value(), std::move(text),
                                       {0, method.size()}, params_span);
  }
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
  if (const auto* meta = p.if_contains("_meta"))
    out.meta = *meta;
  else if (const auto* legacy = p.if_contains("meta"))
    out.meta = *legacy;
  return out;
}

namespace {

/// Text form: the envelope's inner message, cut out of its params text. nullopt when the params
/// hold anything but `method` (a plain string) and `params` (the DOM path handles the rest).
std::optional<jsonrpc::message> unwrap_text(jsonrpc::message& envelope) {
  const auto payload = envelope.payload_text();
  if (!payload || payload->empty() || envelope.is_response()) return std::nullopt;
  std::array<json_scan::member, 2> members;
  auto n = envelope.scanned_params_members(members); // recorded when the line was validated
  if (!n) n = json_scan::members_of_valid_object(*payload, members);
  if (!n) return std::nullopt;
  const json_scan::member* method = nullptr;
  const json_scan::member* params = nullptr;
  for (std::size_t i = 0; i < *n; ++i) {
    const auto& m = members[i];
    if (m.key_escaped) return std::nullopt;
    if (m.key == "method" && !method)
      method = &m;
    else if (m.key == "params" && !params)
      params = &m;
    else
      return std::nullopt;
  }
  const auto name = method ? json_scan::plain_string(method->value) : std::nullopt;
  if (!name || (params && !json_scan::is_params_value(params->value))) return std::nullopt;
  const bool no_params = !params || params->value == "null"; // "no params" on unwrap
  // The inner message is a slice of the same buffer: nothing is copied.
  const auto base = envelope.payload_span().offset;
  const auto at = [&](std::string_view part) {
    return jsonrpc::message::span{base + static_cast<std::size_t>(part.data() - payload->data()), part.size()};
  };
  const auto method_span = at(*name);
  const auto params_span = no_params ? jsonrpc::message::span{} : at(params->value);
  const auto kind = envelope.is_request() ? jsonrpc::message_kind::request : jsonrpc::message_kind::notification;
  json::value id = envelope.id();
  return jsonrpc::message::from_text(kind, std::move(id), std::move(envelope).take_text_buffer(), method_span,
                                     params_span);
}

} // namespace

std::optional<jsonrpc::message> unwrap_message(jsonrpc::message envelope, std::string* error) {
  if (auto inner = unwrap_text(envelope)) return inner;
  if (!check_envelope(envelope, error)) return std::nullopt;
  auto& p = envelope.params()->get_object();
  std::optional<json::value> params;
  if (auto* inner = p.if_contains("params"); inner && !inner->is_null()) params = std::move(*inner);
  const std::string method(p.at("method").get_string());
  if (envelope.is_request()) return jsonrpc::message::request(envelope.id(), method, std::move(params));
  return jsonrpc::message::notification(method, std::move(params));
}

} // namespace acp::proxy_protocol
