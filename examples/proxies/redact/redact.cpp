#include "redact.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <ostream>

namespace acp::examples {
namespace json = boost::json;

namespace {

// How much of each side of a join between two prompt blocks is searched for a secret that
// crosses it. Longer than any builtin token.
constexpr std::size_t join_window = 512;

bool routing_key(std::string_view key) { return key == "sessionId" || key == "type" || key == "mimeType"; }
bool base64_key(std::string_view key) { return key == "blob" || key == "data"; }

constexpr std::string_view base64_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::optional<std::string> base64_decode(std::string_view in) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t i = 0; i < base64_chars.size(); ++i) value[static_cast<unsigned char>(base64_chars[i])] = int(i);
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xffu);
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  unsigned acc = 0;
  int bits = 0;
  for (const char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += base64_chars[(acc >> bits) & 0x3fu];
    }
  }
  if (bits > 0) out += base64_chars[(acc << (6 - bits)) & 0x3fu];
  while (out.size() % 4) out += '=';
  return out;
}

// Redacts every string under a value; `extra` holds hits found across block joins.
struct walker {
  const redactor& rules;
  redact_deadline deadline;
  std::map<const json::string*, std::vector<redactor::hit>> extra;
  tally t;

  bool text(json::string& s) {
    const auto found = extra.find(&s);
    auto r = rules.redact(s, deadline, found == extra.end() ? std::vector<redactor::hit>{} : found->second);
    if (!r) return false;
    t.add(*r);
    return true;
  }

  bool encoded(json::string& s) {
    auto r = rules.redact_encoded(s, deadline);
    if (!r) return false;
    t.add(*r);
    if (r->total() > 0) return true; // already changed: no longer the payload it was
    auto decoded = base64_decode(s);
    if (!decoded) return true;
    json::string inner(*decoded);
    auto d = rules.redact(inner, deadline);
    if (!d) return false;
    if (d->total() > 0) {
      t.add(*d);
      s = base64_encode(inner);
    }
    return true;
  }

  bool value(json::value& v) {
    if (auto* s = v.if_string()) return text(*s);
    if (auto* a = v.if_array()) {
      for (auto& e : *a)
        if (!value(e)) return false;
    } else if (auto* o = v.if_object()) {
      for (auto& [key, e] : *o) {
        if (routing_key(key)) continue;
        if (base64_key(key) && e.is_string()) {
          if (!encoded(e.get_string())) return false;
        } else if (!value(e)) {
          return false;
        }
      }
    }
    return true;
  }
};

json::string* string_member(json::value* v, std::string_view key) {
  auto* o = v ? v->if_object() : nullptr;
  auto* m = o ? o->if_contains(key) : nullptr;
  return m ? m->if_string() : nullptr;
}

// The text a prompt block carries: `text` of a text block, `resource.text` of a resource.
json::string* block_text(json::value& block) {
  if (auto* s = string_member(&block, "text")) return s;
  auto* o = block.if_object();
  return o ? string_member(o->if_contains("resource"), "text") : nullptr;
}

// Secrets that cross the join of two adjacent blocks: each half goes into `w.extra`.
bool find_across_joins(json::value& params, walker& w) {
  auto* p = params.if_object();
  auto* prompt = p ? p->if_contains("prompt") : nullptr;
  if (!prompt || !prompt->is_array()) return true;
  auto& blocks = prompt->get_array();
  for (std::size_t i = 0; i + 1 < blocks.size(); ++i) {
    json::string* a = block_text(blocks[i]);
    json::string* b = block_text(blocks[i + 1]);
    if (!a || !b) continue;
    const std::size_t ta = std::min(a->size(), join_window), hb = std::min(b->size(), join_window);
    std::string join(a->data() + a->size() - ta, ta);
    join.append(b->data(), hb);
    auto hits = w.rules.find(join, w.deadline);
    // What the tail of `a` holds by itself: a secret that ends with `a` is whole there, and
    // the next block only happens to continue it with token characters.
    auto alone = w.rules.find(std::string_view(join).substr(0, ta), w.deadline);
    if (!hits || !alone) return false;
    for (const auto& h : *hits) {
      if (h.begin >= ta || h.end <= ta) continue;
      if (std::any_of(alone->begin(), alone->end(), [&](const auto& x) { return x.end == ta && x.begin <= h.begin; }))
        continue;
      w.extra[a].push_back({a->size() - ta + h.begin, a->size(), h.rule});
      w.extra[b].push_back({0, h.end - ta, h.rule});
    }
  }
  return true;
}

struct proxy_state {
  std::shared_ptr<const redactor> rules;
  std::shared_ptr<redact_totals> totals;
  std::ostream* log;

  [[nodiscard]] redact_deadline deadline() const {
    const auto budget = rules->budget();
    return budget.count() > 0 ? std::chrono::steady_clock::now() + budget : no_deadline;
  }

  void report(const tally& t, std::string_view what) const {
    if (t.total() == 0) return;
    totals->removed.add(t);
    ++totals->messages;
    *log << "redact: " << t.total() << " secret(s) removed from " << what << " (" << rules->describe(t) << ")"
         << std::endl;
  }

  // The message is not passed on: say so on stderr, and return the error for its sender.
  [[nodiscard]] rpc_error over_budget(std::string_view what, std::string_view instead) const {
    ++totals->over_budget;
    const std::string text = "redaction of " + std::string(what) + " took longer than its budget of " +
                             std::to_string(rules->budget().count()) + " ms; " + std::string(instead);
    *log << "redact: " << text << std::endl;
    return rpc_error::internal_error("acp-redact-proxy: " + text);
  }
};

} // namespace

std::optional<tally> redact_prompt(const redactor& rules, json::value& params, redact_deadline deadline) {
  walker w{rules, deadline, {}, {}};
  w.t.per_rule.resize(rules.rule_names().size());
  if (!find_across_joins(params, w) || !w.value(params)) return std::nullopt;
  return w.t;
}

std::optional<tally> redact_result(const redactor& rules, std::string_view method, json::value& result,
                                   redact_deadline deadline) {
  walker w{rules, deadline, {}, {}};
  w.t.per_rule.resize(rules.rule_names().size());
  if (method != "fs/read_text_file" && method != "terminal/output") return w.t;
  if (!w.value(result)) return std::nullopt;
  return w.t;
}

proxy_builder make_redact_proxy(std::shared_ptr<const redactor> rules, std::shared_ptr<redact_totals> totals,
                                std::ostream& log) {
  auto state = std::make_shared<proxy_state>(proxy_state{std::move(rules), std::move(totals), &log});
  proxy_builder proxy;

  // Client -> agent: edit the prompt in place; `handled::no` lets the default forwarding send
  // the edited message on. Out of time: the prompt is answered with an error, never sent.
  proxy.on_receive_request_from(acp::client, "session/prompt", [state](jsonrpc::message& msg, responder& r, context&) {
    auto* params = msg.params();
    if (!params) return handled::no;
    const auto t = redact_prompt(*state->rules, *params, state->deadline());
    if (!t) {
      r.respond_error(state->over_budget("session/prompt", "the prompt was not sent to the agent"));
      return handled::yes;
    }
    state->report(*t, "session/prompt");
    return handled::no;
  });

  // Agent -> client: the secret is in the client's *answer*. Send the request on ourselves and
  // patch the answer before it is relayed (`forward_response_to` with an observer that edits the
  // outcome; it runs later, on the connection's thread — never wait for it here).
  auto patch_result = [state](jsonrpc::message& msg, responder& r, context& cx) {
    std::string method(msg.method());
    cx.forward_request_to(acp::client, std::move(msg)) // its params as they came: bytes untouched
        .forward_response_to(std::move(r), [state, method](rpc_result& outcome) {
          if (!outcome) return;
          const auto t = redact_result(*state->rules, method, *outcome, state->deadline());
          if (!t) {
            outcome = state->over_budget(method + " result", "the agent got an error instead");
            return;
          }
          state->report(*t, method + " result");
        });
    return handled::yes;
  };
  proxy.on_receive_request_from(acp::agent, "fs/read_text_file", patch_result);
  proxy.on_receive_request_from(acp::agent, "terminal/output", patch_result);
  return proxy;
}

std::string summary_line(const redactor& rules, const redact_totals& totals) {
  std::string out = totals.removed.total() == 0
                        ? "redact: no secrets found"
                        : "redact: " + std::to_string(totals.removed.total()) + " secret(s) removed from " +
                              std::to_string(totals.messages) + " message(s) (" + rules.describe(totals.removed) + ")";
  if (totals.over_budget > 0) out += "; " + std::to_string(totals.over_budget) + " message(s) refused over budget";
  return out;
}

} // namespace acp::examples
