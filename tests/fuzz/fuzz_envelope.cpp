// fuzz_envelope: the `_proxy/successor` envelope (docs/PROTOCOL.md §4.1) on arbitrary JSON.
//
// Byte 0 chooses how the rest (JSON) becomes an envelope: as a whole message, or as the params
// of a `_proxy/successor` request / notification (current or older spelling). Checks:
//   - unwrap and unwrap_message agree (success, method, params; the outer id for a request);
//   - unwrap(wrap(unwrap(x))) == unwrap(x), for both generations, request and notification;
//   - unwrap_message(wrap_message(unwrap_message(x))) carries the same method and params;
//   - a successful unwrap's params are an object or an array; an error names a `params` path.
#include "fuzz_check.hpp"

#include <acp/protocol/envelope.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace {
namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::message;

bool same(const pp::inner_message& a, const pp::inner_message& b) {
  return a.method == b.method && a.params == b.params && a.meta == b.meta;
}

std::string show(const json::value& v) { return json::serialize(v).substr(0, 300); }

void check_envelope(const message& env) {
  std::string why1, why2;
  auto inner = pp::unwrap(env, &why1);
  auto plain = pp::unwrap_message(env, &why2);
  FUZZ_CHECK(inner.has_value() == plain.has_value(), "unwrap and unwrap_message disagree on " + show(env.json()));
  if (!inner) {
    FUZZ_CHECK(why1 == why2 && why1.rfind("params", 0) == 0, "error without a params path: " + why1);
    return;
  }
  FUZZ_CHECK(!inner->params || inner->params->is_object() || inner->params->is_array(), "inner params kind");
  FUZZ_CHECK(plain->method() == inner->method, "method");
  FUZZ_CHECK(plain->kind() ==
                 (env.is_request() ? acp::jsonrpc::message_kind::request : acp::jsonrpc::message_kind::notification),
             "kind of the unwrapped message");
  if (env.is_request()) FUZZ_CHECK(plain->id() == env.id(), "outer id not kept");
  const json::value* pp_params = plain->params();
  FUZZ_CHECK((pp_params == nullptr) == !inner->params, "params presence");
  if (pp_params) FUZZ_CHECK(*pp_params == *inner->params, "params value");

  for (auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (bool request : {true, false}) {
      std::optional<json::value> id;
      if (request) id = env.is_request() ? env.id() : json::value(7);
      auto wrapped = pp::wrap(*inner, id, gen);
      FUZZ_CHECK(pp::is_successor_method(wrapped.method()), "wrap's method");
      FUZZ_CHECK(wrapped.is_request() == request, "wrap's kind");
      auto back = pp::unwrap(wrapped);
      FUZZ_CHECK(back && same(*back, *inner), "unwrap(wrap(x)) != x for " + show(env.json()));
      if (gen == pp::generation::current)
        FUZZ_CHECK(wrapped.json().at("params").get_object().contains("params"), "params member omitted");

      auto wrapped_msg = pp::wrap_message(*plain, id, gen);
      auto back_msg = pp::unwrap_message(std::move(wrapped_msg));
      FUZZ_CHECK(back_msg.has_value(), "unwrap_message(wrap_message(x)) failed");
      FUZZ_CHECK(back_msg->method() == plain->method(), "method after wrap_message");
      const auto* bp = back_msg->params();
      FUZZ_CHECK((bp == nullptr) == (pp_params == nullptr) && (!bp || *bp == *pp_params), "params after wrap_message");
      if (request) FUZZ_CHECK(back_msg->id() == *id, "id after wrap_message");
    }
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return 0;
  static constexpr std::string_view methods[] = {"_proxy/successor", "proxy/successor", "_proxy/successor/request",
                                                 "_proxy/successor/notification"};
  const auto method = methods[(mode >> 1) % 4];
  std::optional<message> env;
  switch (mode % 2 ? 1 : (mode & 0x40 ? 2 : 0)) {
  case 0: { // the input is the whole message
    auto checked = acp::jsonrpc::check(std::move(v));
    if (auto* m = std::get_if<message>(&checked); m && !m->is_response()) env = std::move(*m);
    break;
  }
  case 1:
    if (v.is_object() || v.is_array() || v.is_null())
      env = message::request(json::value(static_cast<std::int64_t>(mode)), method, std::move(v));
    break;
  case 2:
    if (v.is_object() || v.is_array() || v.is_null()) env = message::notification(method, std::move(v));
    break;
  }
  if (env) check_envelope(*env);
  return 0;
}
