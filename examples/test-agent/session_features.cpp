// The test agent's optional session features (see session_features.hpp).
#include "session_features.hpp"

#include <boost/json/value.hpp>

#include <algorithm>

namespace acp::examples {
namespace json = boost::json;

namespace {

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string string_at(const json::value* params, std::string_view key) {
  if (!params || !params->is_object()) return {};
  const auto* v = params->get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object modes_json(const session_features& f, const std::string& current) {
  json::array available;
  for (const auto& m : f.modes) available.push_back(json::object{{"id", m}, {"name", m}});
  return json::object{{"currentModeId", current}, {"availableModes", std::move(available)}};
}

json::array options_json(const session_features& f, const std::map<std::string, std::string>& values) {
  json::array out;
  for (const auto& id : f.config_options) {
    const auto it = values.find(id);
    json::array choices{json::object{{"value", "off"}, {"name", "off"}}, json::object{{"value", "on"}, {"name", "on"}}};
    out.push_back(json::object{{"id", id},
                               {"name", id},
                               {"type", "select"},
                               {"currentValue", it == values.end() ? "off" : it->second},
                               {"options", std::move(choices)}});
  }
  return out;
}

} // namespace

json::array auth_methods_json(const session_features& f) {
  json::array out;
  for (const auto& id : f.auth_methods) out.push_back(json::object{{"id", id}, {"name", id}});
  return out;
}

std::optional<rpc_error> refuse_new_session(const session_features& f) {
  if (f.auth_methods.empty() || f.authenticated) return std::nullopt;
  return rpc_error{-32000, "Authentication required", {}};
}

void add_session_fields(session_features& f, const std::string& id, json::object& result) {
  if (!f.modes.empty()) {
    f.mode_of[id] = f.modes.front();
    result["modes"] = modes_json(f, f.modes.front());
  }
  if (!f.config_options.empty()) result["configOptions"] = options_json(f, f.values_of[id]);
}

void add_feature_handlers(agent_builder& agent, std::shared_ptr<session_features> f,
                          std::function<bool(const std::string&)> is_open) {
  agent.on_receive_request_from(acp::client, "authenticate", [f](jsonrpc::message& msg, responder& r, context&) {
    const auto id = string_at(msg.params(), "methodId");
    if (!has(f->auth_methods, id)) {
      r.respond_error(rpc_error::invalid_params("unknown auth method '" + id + "'"));
      return handled::yes;
    }
    f->authenticated = true;
    r.respond(json::value(json::object{}));
    return handled::yes;
  });
  agent.on_receive_request_from(
      acp::client, "session/set_mode", [f, is_open](jsonrpc::message& msg, responder& r, context& cx) {
        const auto session = string_at(msg.params(), "sessionId");
        const auto mode = string_at(msg.params(), "modeId");
        if (!is_open(session)) {
          r.respond_error(rpc_error::resource_not_found("no open session " + session));
        } else if (!has(f->modes, mode)) {
          r.respond_error(rpc_error::invalid_params("unknown mode '" + mode + "'"));
        } else {
          f->mode_of[session] = mode;
          json::object update{{"sessionUpdate", "current_mode_update"}, {"currentModeId", mode}};
          cx.send_notification_to(acp::client, "session/update",
                                  json::value(json::object{{"sessionId", session}, {"update", std::move(update)}}));
          r.respond(json::value(json::object{}));
        }
        return handled::yes;
      });
  agent.on_receive_request_from(
      acp::client, "session/set_config_option", [f, is_open](jsonrpc::message& msg, responder& r, context&) {
        const auto session = string_at(msg.params(), "sessionId");
        const auto option = string_at(msg.params(), "configId");
        const auto value = string_at(msg.params(), "value");
        if (!is_open(session)) {
          r.respond_error(rpc_error::resource_not_found("no open session " + session));
        } else if (!has(f->config_options, option) || (value != "on" && value != "off")) {
          r.respond_error(rpc_error::invalid_params("unknown option '" + option + "' or value '" + value + "'"));
        } else {
          f->values_of[session][option] = value;
          r.respond(json::value(json::object{{"configOptions", options_json(*f, f->values_of[session])}}));
        }
        return handled::yes;
      });
}

} // namespace acp::examples
