#include <acp/protocol/jsonrpc.hpp>

#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/json_write.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace acp::jsonrpc {
namespace json = boost::json;

std::string_view to_string(message_kind k) noexcept {
  switch (k) {
  case message_kind::request:
    return "request";
  case message_kind::notification:
    return "notification";
  case message_kind::response:
    return "response";
  }
  return "unknown";
}

namespace {
const json::value null_value;
} // namespace

std::string_view message::method() const noexcept {
  if (text_) {
    if (kind_ == message_kind::response) return {};
    if (method_is_set_) return method_set_;
    if (method_.offset + method_.size > buf_.size()) return {}; // moved from
    return buf_.view().substr(method_.offset, method_.size);
  }
  if (const auto* m = dom().if_contains("method"); m && m->is_string()) return m->get_string();
  return {};
}

const json::value& message::id() const noexcept {
  if (text_) return id_ ? *id_ : null_value;
  if (const auto* i = dom().if_contains("id")) return *i;
  return null_value;
}

const json::object& message::json() const {
  build_dom();
  return dom();
}

json::object& message::json() {
  make_mutable();
  return dom();
}

json::object message::release() && {
  make_mutable();
  original_ = false;
  buf_.reset();
  return std::move(dom());
}

const json::value* message::params() const {
  build_dom();
  const auto* p = dom().if_contains("params");
  return (p && !p->is_null()) ? p : nullptr;
}

json::value* message::params() {
  make_mutable();
  auto* p = dom().if_contains("params");
  return (p && !p->is_null()) ? p : nullptr;
}

bool message::is_error() const noexcept {
  return kind_ == message_kind::response && !text_ && dom().contains("error"); // text: never an error
}

const json::value* message::result() const {
  if (kind_ != message_kind::response) return nullptr;
  build_dom();
  return dom().if_contains("result");
}

std::optional<rpc_error> message::error() const {
  if (!is_error()) return std::nullopt;
  if (auto e = rpc_error::from_json(dom().at("error"))) return e;
  // A malformed error object still is an error: keep what it said.
  return rpc_error::internal_error("malformed error object", dom().at("error"));
}

void message::set_id(json::value id) {
  if (kind_ == message_kind::notification) return;
  if (!text_ || dom_) dom()["id"] = id; // the DOM, or the DOM a text message keeps beside its text
  if (text_) id_ = std::move(id);
}

void message::make_request(json::value id) {
  if (kind_ == message_kind::response) return;
  kind_ = message_kind::request;
  if (!text_ || dom_) dom()["id"] = id;
  if (text_) id_ = std::move(id);
}

void message::set_method(std::string_view method) {
  if (kind_ == message_kind::response) return;
  if (!text_ || dom_) dom()["method"] = method;
  if (text_) {
    method_set_ = method;
    method_is_set_ = true;
  }
}

namespace {

const json::parse_options& payload_parse_options() {
  static const json::parse_options options = [] {
    json::parse_options o;
    o.max_depth = line_parser::default_max_depth;
    return o;
  }();
  return options;
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  bool plain = true;
  for (const char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
  } else {
    out.append(json::serialize(json::string_view(s.data(), s.size())));
  }
}

namespace {

void append_id(std::string& out, const json::value& id) {
  if (id.is_int64()) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, id.get_int64());
    out.append(buf, r.ptr);
  } else if (id.is_string()) {
    append_json_string(out, id.get_string());
  } else {
    out.append(json::serialize(id));
  }
}

} // namespace

json::value message::parse_payload() const {
  // Parsed in place, with the bytes that followed it in the line after it: Boost.JSON 1.81
  // rounds some long decimals differently when few bytes follow a number, and this way the
  // payload reads exactly as it did inside the whole line.
  // One parser per thread, reused (building one costs more than parsing a small payload);
  // a large payload gets its own, so that its working memory is not kept.
  thread_local json::parser reused(json::storage_ptr(), payload_parse_options());
  std::optional<json::parser> own;
  if (payload_.size > line_parser::big_line_bytes) own.emplace(json::storage_ptr(), payload_parse_options());
  json::parser& p = own ? *own : reused;
  p.reset();
  boost::system::error_code ec;
  const char* begin = buf_.data() + payload_.offset;
  const auto consumed = p.write_some(begin, buf_.size() - payload_.offset, ec);
  if (ec || consumed < payload_.size) {
    p.reset();
    throw std::logic_error("acp::jsonrpc::message: text payload is not one JSON value");
  }
  return p.release();
}

void message::build_dom() const {
  if (!text_ || dom_) return;
  json::object o;
  o.reserve(4);
  o["jsonrpc"] = "2.0";
  if (kind_ != message_kind::notification) o["id"] = id_ ? *id_ : null_value;
  if (kind_ != message_kind::response) o["method"] = method();
  if (payload_.size != 0) o[kind_ == message_kind::response ? "result" : "params"] = parse_payload();
  obj_ = std::move(o);
  dom_ = true;
}

void message::make_mutable() {
  build_dom();
  if (!text_) return;
  // From here on the DOM is the message. The text stays: while the DOM still says what it said,
  // the message is written as the bytes it arrived as (`payload_text`).
  text_ = false;
  dom_ = false;
  original_ = true;
  id_.reset();
  method_is_set_ = false;
  std::string().swap(method_set_);
}

bool message::unchanged() const noexcept {
  try {
    const char* payload_key = kind_ == message_kind::response ? "result" : "params";
    const json::value* payload = nullptr;
    bool has_id = false;
    bool has_method = false;
    for (const auto& m : dom()) {
      if (m.key() == "jsonrpc" && m.value() == "2.0") continue;
      if (m.key() == "id" && kind_ != message_kind::notification && is_valid_id(m.value()))
        has_id = true;
      else if (m.key() == "method" && kind_ != message_kind::response && m.value().is_string())
        has_method = true;
      else if (m.key() == payload_key)
        payload = &m.value();
      else
        return false; // a member added (or `error`): the DOM is the message
    }
    if ((kind_ != message_kind::notification && !has_id) || (kind_ != message_kind::response && !has_method))
      return false;
    if ((payload_.size == 0) != (payload == nullptr)) return false;
    return !payload || *payload == parse_payload();
  } catch (...) {
    return false; // out of memory while comparing: the DOM is written; it is the same message
  }
}

std::optional<std::size_t> message::scanned_params_members(std::span<json_scan::member> out) const noexcept {
  if (!text_ || params_member_count_ < 0) return std::nullopt;
  const auto n = static_cast<std::size_t>(params_member_count_);
  if (n > out.size()) return std::nullopt;
  const auto text = buf_.view();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = params_members_[i];
    if (m.value.offset + m.value.size > text.size()) return std::nullopt; // moved from
    out[i] = {text.substr(m.key.offset, m.key.size), text.substr(m.value.offset, m.value.size), m.key_escaped};
  }
  return n;
}

void message::write_head(std::string& out) const {
  const auto name = method();
  out.append(R"({"jsonrpc":"2.0")");
  if (kind_ != message_kind::notification) {
    out.append(R"(,"id":)");
    append_id(out, id()); // from the DOM when it is the message
  }
  if (kind_ != message_kind::response) {
    out.append(R"(,"method":)");
    append_json_string(out, name);
  }
  if (payload_.size != 0) out.append(kind_ == message_kind::response ? R"(,"result":)" : R"(,"params":)");
}

void message::write_to(std::string& out) const {
  const auto text = payload_text();
  if (!text) {
    json_write::append(out, dom()); // numbers as people write them (json_write.hpp)
    return;
  }
  const auto payload = *text;
  out.reserve(out.size() + payload.size() + method().size() + 64);
  write_head(out);
  out.append(payload);
  out.push_back('}');
}

message message::from_text(message_kind kind, json::value id, text_buffer buffer, span method, span payload) {
  return {kind, std::move(id), std::move(buffer), method, payload};
}

message message::from_text(message_kind kind, json::value id, std::string_view method, std::string_view payload) {
  text_buffer buffer;
  buffer.reserve(method.size() + payload.size());
  buffer.append(method);
  buffer.append(payload);
  return from_text(kind, std::move(id), std::move(buffer), {0, method.size()}, {method.size(), payload.size()});
}

std::optional<message> message::scan(std::string_view line, std::size_t max_depth, text_buffer* owner) {
  // One line: a newline (JSON whitespace) would be copied into the output and split the frame.
  std::array<json_scan::member, 5> members;
  std::array<json_scan::member, 2> params_members;
  json_scan::nested_members nested{.key = "params", .out = params_members};
  const auto n = json_scan::scan_object(line, members, max_depth, /*one_line=*/true, nested);
  if (!n) return std::nullopt;
  const json_scan::member* version = nullptr;
  const json_scan::member* id = nullptr;
  const json_scan::member* method = nullptr;
  const json_scan::member* params = nullptr;
  const json_scan::member* result = nullptr;
  for (std::size_t i = 0; i < *n; ++i) {
    const auto& m = members[i];
    if (m.key_escaped) return std::nullopt;
    const json_scan::member** slot = nullptr;
    if (m.key == "jsonrpc")
      slot = &version;
    else if (m.key == "id")
      slot = &id;
    else if (m.key == "method")
      slot = &method;
    else if (m.key == "params")
      slot = &params;
    else if (m.key == "result")
      slot = &result;
    else
      return std::nullopt;          // an error response or unknown members: the DOM path keeps them
    if (*slot) return std::nullopt; // duplicates: the DOM path decides
    *slot = &m;
  }
  if (!version || version->value != R"("2.0")") return std::nullopt;

  json::value id_value;
  if (id) {
    const auto t = id->value;
    if (t == "null") {
      id_value = nullptr;
    } else if (t.front() == '"') {
      const auto body = json_scan::plain_string(t);
      if (!body) return std::nullopt;
      id_value = json::string(*body);
    } else {
      // Integers only, as Boost.JSON reads them into int64 (no "-0": it would not echo as sent).
      if (t == "-0" || t.find_first_of(".eE") != std::string_view::npos) return std::nullopt;
      std::int64_t v = 0;
      const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size()) return std::nullopt;
      id_value = v;
    }
  }

  // Spans are relative to the buffer the message keeps: a copy of the line, or `owner`.
  const char* base = owner ? owner->data() : line.data();
  const auto at = [&](std::string_view part) {
    return span{static_cast<std::size_t>(part.data() - base), part.size()};
  };
  const auto keep = [&] { return owner ? std::move(*owner) : text_buffer(line); };
  if (method) {
    const auto name = json_scan::plain_string(method->value);
    if (result || !name || (params && !json_scan::is_params_value(params->value))) return std::nullopt;
    auto msg = from_text(id ? message_kind::request : message_kind::notification, std::move(id_value), keep(),
                         at(*name), params ? at(params->value) : span{});
    if (nested.recorded) {
      for (std::size_t i = 0; i < nested.count; ++i) {
        const auto& m = params_members[i];
        msg.params_members_[i] = {at(m.key), at(m.value), m.key_escaped};
      }
      msg.params_member_count_ = static_cast<signed char>(nested.count);
    }
    return msg;
  }
  if (!id || !result || params) return std::nullopt;
  return from_text(message_kind::response, std::move(id_value), keep(), {}, at(result->value));
}

message message::request(json::value id, std::string_view method, std::optional<json::value> params) {
  json::object o;
  o.reserve(4);
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["method"] = method;
  if (params) o["params"] = std::move(*params);
  return {message_kind::request, std::move(o)};
}

message message::notification(std::string_view method, std::optional<json::value> params) {
  json::object o;
  o.reserve(3);
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  if (params) o["params"] = std::move(*params);
  return {message_kind::notification, std::move(o)};
}

message message::response(json::value id, json::value result) {
  json::object o;
  o.reserve(3);
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["result"] = std::move(result);
  return {message_kind::response, std::move(o)};
}

message message::error_response(json::value id, const rpc_error& error) {
  json::object o;
  o.reserve(3);
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["error"] = error.to_json();
  return {message_kind::response, std::move(o)};
}

bool is_valid_id(const json::value& v) noexcept {
  return v.is_int64() || v.is_uint64() || v.is_string() || v.is_null();
}

std::string id_key(const json::value& id) { return json::serialize(id); }

namespace {

invalid_message invalid(std::string why, json::value id = nullptr, bool response_shaped = false) {
  return {rpc_error::invalid_request("Invalid request: " + why), std::move(id), response_shaped};
}

} // namespace

checked check(json::value v) {
  auto* obj = v.if_object();
  if (!obj) return invalid(std::string("expected a JSON object, got ") + std::string(json::to_string(v.kind())));

  const json::value* idp = obj->if_contains("id");
  json::value id = (idp && is_valid_id(*idp)) ? *idp : json::value(nullptr);

  const auto* version = obj->if_contains("jsonrpc");
  if (!version || !version->is_string() || version->get_string() != "2.0")
    return invalid("\"jsonrpc\" must be \"2.0\"", std::move(id));

  if (idp && !is_valid_id(*idp)) return invalid("\"id\" must be an integer, a string or null");

  if (const auto* method = obj->if_contains("method")) {
    if (!method->is_string()) return invalid("\"method\" must be a string", std::move(id));
    if (const auto* params = obj->if_contains("params");
        params && !params->is_object() && !params->is_array() && !params->is_null())
      return invalid("\"params\" must be an object or an array", std::move(id));
    if (obj->contains("result") || obj->contains("error"))
      return invalid("a request must not carry \"result\" or \"error\"", std::move(id));
    return message(idp ? message_kind::request : message_kind::notification, std::move(*obj));
  }

  const bool has_result = obj->contains("result");
  const bool has_error = obj->contains("error");
  if (!idp) {
    if (has_result || has_error) return invalid("a response must carry \"id\"", nullptr, true);
    return invalid("neither \"method\" nor \"result\"/\"error\"");
  }
  if (!has_result && !has_error)
    return invalid("a message with \"id\" needs \"method\", \"result\" or \"error\"", std::move(id));
  if (has_result && has_error)
    return invalid("a response must not carry both \"result\" and \"error\"", std::move(id), true);
  if (has_error && !rpc_error::from_json(obj->at("error")))
    return invalid("\"error\" must be an object with integer \"code\" and string \"message\"", std::move(id), true);
  return message(message_kind::response, std::move(*obj));
}

namespace {

bool has_non_finite(const json::value& v) {
  switch (v.kind()) {
  case json::kind::double_:
    return !std::isfinite(v.get_double());
  case json::kind::array:
    for (const auto& e : v.get_array())
      if (has_non_finite(e)) return true;
    return false;
  case json::kind::object:
    for (const auto& e : v.get_object())
      if (has_non_finite(e.value())) return true;
    return false;
  default:
    return false;
  }
}

} // namespace

line_parser::line_parser(std::size_t max_depth, std::size_t sample_bytes)
    : max_depth_(max_depth), options_([&] {
        json::parse_options opt;
        opt.max_depth = max_depth;
        return opt;
      }()),
      sample_bytes_(sample_bytes) {
  parser_.emplace(json::storage_ptr(), options_);
}

checked& checked_list::at(std::size_t i) {
  if (i >= size()) throw std::out_of_range("checked_list::at");
  return (*this)[i];
}

const checked& checked_list::at(std::size_t i) const {
  if (i >= size()) throw std::out_of_range("checked_list::at");
  return (*this)[i];
}

void checked_list::reserve(std::size_t n) {
  if (n > 1) many_.reserve(n);
}

void checked_list::spill() {
  if (!one_) return;
  many_.reserve(2);
  many_.push_back(std::move(*one_));
  one_.reset();
}

parsed_line line_parser::parse(std::string_view line, text_buffer* owner) {
  parsed_line out;
  if (auto fast = message::scan(line, max_depth_, owner)) {
    out.items.emplace_back(std::move(*fast));
    return out;
  }
  parser_->reset();
  boost::system::error_code ec;
  parser_->write(line.data(), line.size(), ec);
  json::value v;
  if (!ec) v = parser_->release();
  if (line.size() > big_line_bytes) {
    // The parser keeps its working memory for the next line; after a large one, let it go.
    parser_.emplace(json::storage_ptr(), options_);
  }
  std::string why = ec ? ec.message() : std::string();
  if (!ec && has_non_finite(v)) {
    // Boost.JSON reads numbers beyond a double's range as infinity (and some zeros with a huge
    // exponent as NaN) and would write them back as `Infinity` / `NaN`, which is not JSON.
    why = "number out of range for a double";
  }
  if (!why.empty()) {
    json::object data;
    data["line"] = utf8_sample(line, sample_bytes_);
    data["reason"] = why;
    out.items.emplace_back(
        invalid_message{rpc_error::parse_error("Parse error: " + why, json::value(std::move(data))), nullptr, false});
    return out;
  }
  if (auto* arr = v.if_array()) {
    if (arr->empty()) {
      out.items.emplace_back(invalid("empty batch"));
      return out;
    }
    out.batch = true;
    out.items.reserve(arr->size());
    for (auto& item : *arr) out.items.push_back(check(std::move(item)));
    return out;
  }
  out.items.push_back(check(std::move(v)));
  return out;
}

std::string utf8_sample(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 4);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    if (c < 0x80)
      len = 1;
    else if ((c & 0xE0) == 0xC0 && c >= 0xC2)
      len = 2;
    else if ((c & 0xF0) == 0xE0)
      len = 3;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
      len = 4;
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    const std::size_t add = ok ? len : 3;
    if (out.size() + add > max_bytes) {
      out += "\xE2\x80\xA6"; // …
      break;
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD"; // U+FFFD
      i += 1;
    }
  }
  return out;
}

} // namespace acp::jsonrpc
