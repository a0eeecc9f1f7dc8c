#include <acp/fanout/merge.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <map>

namespace acp::fanout {
namespace json = boost::json;

std::vector<std::string> unique_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::map<std::string, int> count;
  const auto taken = [&](const std::string& n) { return std::find(out.begin(), out.end(), n) != out.end(); };
  for (const auto& name : names) {
    int& k = count[name];
    ++k;
    std::string candidate = k == 1 ? name : name + "#" + std::to_string(k);
    while (taken(candidate)) candidate = name + "#" + std::to_string(++k); // `x#2` was given as a name
    out.push_back(std::move(candidate));
  }
  return out;
}

std::string prefixed_id(std::string_view agent, std::string_view id) {
  std::string out(agent);
  out += '/';
  out += id;
  return out;
}

std::optional<std::pair<std::size_t, std::string>> split_prefixed_id(const std::vector<std::string>& names,
                                                                     std::string_view id) {
  std::optional<std::pair<std::size_t, std::string>> best;
  std::size_t best_len = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    if (id.size() > n.size() + 1 && id.substr(0, n.size()) == n && id[n.size()] == '/' &&
        (!best || n.size() > best_len)) {
      best.emplace(i, std::string(id.substr(n.size() + 1)));
      best_len = n.size();
    }
  }
  return best;
}

namespace {
constexpr std::string_view session_prefix = "fanout:";

std::string percent_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (c == ',' || c == '%' || c < 0x21 || c == 0x7f) {
      constexpr std::string_view hex = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool flag(const json::object* o, std::string_view key) {
  if (!o) return false;
  const auto* v = o->if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

/// Every boolean key of `key` objects that is true in all of them (the capability intersection).
json::object intersect_flags(const std::vector<const json::object*>& objects) {
  json::object out;
  if (objects.empty()) return out;
  if (objects.front()) {
    for (const auto& [k, v] : *objects.front()) {
      if (!v.is_bool()) continue;
      const bool all = std::all_of(objects.begin(), objects.end(), [&](const json::object* o) { return flag(o, k); });
      out[k] = all;
    }
  }
  return out;
}
} // namespace

std::string encode_session_id(const std::vector<std::string>& ids) {
  std::string out(session_prefix);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += percent_encode(ids[i]);
  }
  return out;
}

std::optional<std::vector<std::string>> decode_session_id(std::string_view id, std::size_t agents) {
  if (id.substr(0, session_prefix.size()) != session_prefix) return std::nullopt;
  id.remove_prefix(session_prefix.size());
  std::vector<std::string> out;
  for (;;) {
    const auto comma = id.find(',');
    auto part = percent_decode(id.substr(0, comma));
    if (!part) return std::nullopt;
    out.push_back(std::move(*part));
    if (comma == std::string_view::npos) break;
    id.remove_prefix(comma + 1);
  }
  if (out.size() != agents) return std::nullopt;
  return out;
}

json::object merge_initialize(const std::vector<std::string>& names, const std::vector<json::object>& results,
                              std::string_view version) {
  json::object out;
  std::int64_t protocol = -1;
  std::vector<const json::object*> caps, prompt_caps, mcp_caps;
  json::array auth, agents;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (const auto* pv = r.if_contains("protocolVersion"); pv && pv->is_int64())
      protocol = protocol < 0 ? pv->get_int64() : std::min(protocol, pv->get_int64());
    const auto* c = object_at(r, "agentCapabilities");
    caps.push_back(c);
    prompt_caps.push_back(c ? object_at(*c, "promptCapabilities") : nullptr);
    mcp_caps.push_back(c ? object_at(*c, "mcpCapabilities") : nullptr);
    if (const auto* methods = r.if_contains("authMethods"); methods && methods->is_array()) {
      for (const auto& m : methods->get_array()) {
        if (!m.is_object()) continue;
        auto copy = m.get_object();
        if (const auto* id = copy.if_contains("id"); id && id->is_string())
          copy["id"] = prefixed_id(names[i], id->get_string());
        if (const auto* n = copy.if_contains("name"); n && n->is_string())
          copy["name"] = "[" + names[i] + "] " + std::string(n->get_string());
        auth.push_back(std::move(copy));
      }
    }
    json::object entry{{"name", names[i]}};
    if (const auto* info = r.if_contains("agentInfo")) entry["agentInfo"] = *info;
    agents.push_back(std::move(entry));
  }
  out["protocolVersion"] = protocol < 0 ? 1 : protocol;
  json::object capabilities;
  capabilities["loadSession"] = !caps.empty() && std::all_of(caps.begin(), caps.end(), [](const json::object* o) {
    return flag(o, "loadSession");
  });
  capabilities["promptCapabilities"] = intersect_flags(prompt_caps);
  capabilities["mcpCapabilities"] = intersect_flags(mcp_caps);
  out["agentCapabilities"] = std::move(capabilities);
  out["authMethods"] = std::move(auth);
  std::string title = "acp-fanout (";
  for (std::size_t i = 0; i < names.size(); ++i) title += (i ? ", " : "") + names[i];
  title += ")";
  out["agentInfo"] = json::object{{"name", "acp-fanout"}, {"title", title}, {"version", version}};
  out["_meta"] = json::object{{"fanout", json::object{{"agents", std::move(agents)}}}};
  return out;
}

int stop_reason_severity(std::string_view reason) {
  if (reason == "end_turn") return 0;
  if (reason == "max_turn_requests") return 1;
  if (reason == "max_tokens") return 2;
  if (reason == "cancelled") return 4;
  if (reason == "refusal") return 5;
  return 3;
}

std::string merge_stop_reasons(const std::vector<std::string>& reasons) {
  std::string worst = "end_turn";
  for (const auto& r : reasons)
    if (stop_reason_severity(r) > stop_reason_severity(worst)) worst = r;
  return worst;
}

namespace {
json::object& meta_of(json::object& o) {
  auto& m = o["_meta"];
  if (!m.is_object()) m = json::object{};
  return m.get_object();
}

void set_agent_meta(json::object& o, std::string_view agent) {
  auto& fan = meta_of(o)["fanout"];
  if (!fan.is_object()) fan = json::object{};
  fan.get_object()["agent"] = agent;
}

void prefix_string(json::object& o, std::string_view key, std::string_view agent) {
  if (auto* v = o.if_contains(key); v && v->is_string()) *v = prefixed_id(agent, v->get_string());
}
} // namespace

void tag_update(json::object& params, std::string_view agent) {
  auto* u = params.if_contains("update");
  if (!u || !u->is_object()) {
    set_agent_meta(params, agent);
    return;
  }
  auto& update = u->get_object();
  const auto* kind = update.if_contains("sessionUpdate");
  if (kind && kind->is_string() && (kind->get_string() == "tool_call" || kind->get_string() == "tool_call_update"))
    prefix_string(update, "toolCallId", agent);
  set_agent_meta(update, agent);
}

void tag_agent_request(std::string_view method, json::object& params, std::string_view agent) {
  if (method == "session/request_permission") {
    if (auto* call = params.if_contains("toolCall"); call && call->is_object()) {
      auto& c = call->get_object();
      prefix_string(c, "toolCallId", agent);
      std::string title = "[" + std::string(agent) + "]";
      if (const auto* t = c.if_contains("title"); t && t->is_string()) title += " " + std::string(t->get_string());
      c["title"] = title;
    }
  }
  set_agent_meta(params, agent);
}

std::optional<std::string> message_chunk_text(const json::object& params) {
  const auto* u = object_at(params, "update");
  if (!u) return std::nullopt;
  const auto* kind = u->if_contains("sessionUpdate");
  if (!kind || !kind->is_string() || kind->get_string() != "agent_message_chunk") return std::nullopt;
  const auto* content = object_at(*u, "content");
  if (!content) return std::nullopt;
  const auto* text = content->if_contains("text");
  if (!text || !text->is_string()) return std::string();
  return std::string(text->get_string());
}

std::optional<std::string> speaker_framing::before_chunk(std::string_view agent) {
  if (spoken_ && speaker_ == agent) return std::nullopt;
  std::string heading = at_line_start_ ? "" : "\n";
  if (spoken_) heading += "\n";
  heading += "[" + std::string(agent) + "]\n";
  speaker_ = agent;
  spoken_ = true;
  at_line_start_ = true;
  return heading;
}

void speaker_framing::sent(std::string_view text) {
  if (!text.empty()) at_line_start_ = text.back() == '\n';
}

std::string speaker_framing::notice(std::string_view text) {
  std::string out = at_line_start_ ? "" : "\n";
  out += text;
  if (out.empty() || out.back() != '\n') out += '\n';
  spoken_ = false;
  speaker_.clear();
  at_line_start_ = true;
  return out;
}

void speaker_framing::reset() {
  spoken_ = false;
  at_line_start_ = true;
  speaker_.clear();
}

json::object merge_session_results(const std::vector<std::string>& names,
                                   const std::vector<const json::object*>& results, std::string_view session_id,
                                   const std::vector<std::string>& ids) {
  json::object out;
  if (!session_id.empty()) out["sessionId"] = session_id;
  const json::object* first_modes = nullptr;
  std::vector<const json::object*> all_modes;
  json::array options;
  std::vector<std::string> option_ids;
  for (const auto* r : results) {
    if (!r) continue;
    if (const auto* m = object_at(*r, "modes")) {
      if (!first_modes) first_modes = m;
      all_modes.push_back(m);
    }
    if (const auto* opts = r->if_contains("configOptions"); opts && opts->is_array()) {
      for (const auto& o : opts->get_array()) {
        const auto* id = o.is_object() ? o.get_object().if_contains("id") : nullptr;
        if (!id || !id->is_string()) continue;
        const std::string key(id->get_string());
        if (std::find(option_ids.begin(), option_ids.end(), key) != option_ids.end()) continue;
        option_ids.push_back(key);
        options.push_back(o);
      }
    }
  }
  if (first_modes) {
    const auto has_mode = [](const json::object* modes, const json::value& id) {
      const auto* list = modes->if_contains("availableModes");
      if (!list || !list->is_array()) return false;
      return std::any_of(list->get_array().begin(), list->get_array().end(), [&](const json::value& m) {
        return m.is_object() && m.get_object().if_contains("id") && *m.get_object().if_contains("id") == id;
      });
    };
    json::array available;
    if (const auto* list = first_modes->if_contains("availableModes"); list && list->is_array()) {
      for (const auto& m : list->get_array()) {
        const auto* id = m.is_object() ? m.get_object().if_contains("id") : nullptr;
        if (id &&
            std::all_of(all_modes.begin(), all_modes.end(), [&](const json::object* o) { return has_mode(o, *id); }))
          available.push_back(m);
      }
    }
    json::object modes{{"availableModes", std::move(available)}};
    if (const auto* current = first_modes->if_contains("currentModeId")) modes["currentModeId"] = *current;
    out["modes"] = std::move(modes);
  }
  if (!option_ids.empty()) out["configOptions"] = std::move(options);
  if (!ids.empty()) {
    json::object sessions;
    for (std::size_t i = 0; i < names.size() && i < ids.size(); ++i)
      if (!ids[i].empty()) sessions[names[i]] = ids[i];
    out["_meta"] = json::object{{"fanout", json::object{{"sessions", std::move(sessions)}}}};
  }
  return out;
}

std::vector<std::string> config_option_ids(const json::object& result) {
  std::vector<std::string> out;
  if (const auto* opts = result.if_contains("configOptions"); opts && opts->is_array())
    for (const auto& o : opts->get_array())
      if (const auto* id = o.is_object() ? o.get_object().if_contains("id") : nullptr; id && id->is_string())
        out.emplace_back(id->get_string());
  return out;
}

json::object text_update(std::string_view session_id, std::string text, json::object meta) {
  json::object update{{"sessionUpdate", "agent_message_chunk"},
                      {"content", json::object{{"type", "text"}, {"text", std::move(text)}}}};
  update["_meta"] = json::object{{"fanout", std::move(meta)}};
  return json::object{{"sessionId", session_id}, {"update", std::move(update)}};
}

} // namespace acp::fanout
