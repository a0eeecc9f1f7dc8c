#include "redact.hpp"

#include <ostream>

namespace acp::examples {
namespace json = boost::json;

namespace {

json::string* string_member(json::value* v, std::string_view key) {
  auto* o = v ? v->if_object() : nullptr;
  auto* m = o ? o->if_contains(key) : nullptr;
  return m ? m->if_string() : nullptr;
}

struct proxy_state {
  std::shared_ptr<const redactor> rules;
  std::shared_ptr<redact_totals> totals;
  std::ostream* log;

  void report(const tally& t, std::string_view what) const {
    if (t.total() == 0) return;
    totals->removed.add(t);
    ++totals->messages;
    *log << "redact: " << t.total() << " secret(s) removed from " << what << " (" << rules->describe(t) << ")"
         << std::endl;
  }
};

} // namespace

tally redact_prompt(const redactor& rules, json::value& params) {
  tally t;
  auto* p = params.if_object();
  auto* prompt = p ? p->if_contains("prompt") : nullptr;
  if (!prompt || !prompt->is_array()) return t;
  for (auto& block : prompt->get_array()) {
    const auto* type = block.is_object() ? block.get_object().if_contains("type") : nullptr;
    if (!type || !type->is_string()) continue;
    json::string* text = nullptr;
    if (type->get_string() == "text")
      text = string_member(&block, "text");
    else if (type->get_string() == "resource")
      text = string_member(block.get_object().if_contains("resource"), "text");
    if (text) t.add(rules.redact(*text));
  }
  return t;
}

tally redact_result(const redactor& rules, std::string_view method, json::value& result) {
  json::string* text = nullptr;
  if (method == "fs/read_text_file")
    text = string_member(&result, "content");
  else if (method == "terminal/output")
    text = string_member(&result, "output");
  return text ? rules.redact(*text) : tally{};
}

proxy_builder make_redact_proxy(std::shared_ptr<const redactor> rules, std::shared_ptr<redact_totals> totals,
                                std::ostream& log) {
  auto state = std::make_shared<proxy_state>(proxy_state{std::move(rules), std::move(totals), &log});
  proxy_builder proxy;

  // Client -> agent: edit the prompt in place; `handled::no` lets the default forwarding send
  // the edited message on.
  proxy.on_receive_request_from(acp::client, "session/prompt", [state](jsonrpc::message& msg, responder&, context&) {
    if (auto* params = msg.params()) state->report(redact_prompt(*state->rules, *params), "session/prompt");
    return handled::no;
  });

  // Agent -> client: the secret is in the client's *answer*. `forward_response_to` would relay
  // it before we see it, so send the request on ourselves and answer the agent once the result
  // is patched. Never wait for it here (the deadlock rule): `on_receiving_result` runs later.
  auto patch_result = [state](jsonrpc::message& msg, responder& r, context& cx) {
    std::string method(msg.method());
    std::optional<json::value> params;
    if (auto* p = msg.params()) params = std::move(*p);
    auto sent = cx.send_request_to(acp::client, method, std::move(params));
    r.on_cancel([sent] { sent.cancel(); }); // what forward_response_to does for us otherwise
    std::move(sent).on_receiving_result([state, method, r = std::move(r)](rpc_result outcome) mutable {
      if (outcome) state->report(redact_result(*state->rules, method, *outcome), method + " result");
      r.respond_with(std::move(outcome)); // the result value itself, every other member kept
    });
    return handled::yes;
  };
  proxy.on_receive_request_from(acp::agent, "fs/read_text_file", patch_result);
  proxy.on_receive_request_from(acp::agent, "terminal/output", patch_result);
  return proxy;
}

std::string summary_line(const redactor& rules, const redact_totals& totals) {
  if (totals.removed.total() == 0) return "redact: no secrets found";
  return "redact: " + std::to_string(totals.removed.total()) + " secret(s) removed from " +
         std::to_string(totals.messages) + " message(s) (" + rules.describe(totals.removed) + ")";
}

} // namespace acp::examples
