#pragma once
// Drives acp-fanout as a subprocess: JSON-RPC lines out, every line in kept, every wait bounded.

#include "process_helpers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace acp::fanout_test {

namespace json = boost::json;
using namespace std::chrono_literals;

inline std::string quoted(std::string_view word) { return "'" + std::string(word) + "'"; }

/// A JSON component spec naming the test agent `name`, with extra arguments.
inline std::string named_agent(std::string_view name, const std::vector<std::string>& args = {}) {
  json::array a;
  for (const auto& x : args) a.emplace_back(x);
  return json::serialize(json::object{{"command", ACP_TEST_AGENT_BIN}, {"args", a}, {"name", name}});
}

class fanout_driver {
public:
  explicit fanout_driver(std::vector<std::string> args, const std::vector<std::string>& env = {})
      : child_(with_program(std::move(args)), env) {}

  [[nodiscard]] bool started() const { return child_.started(); }
  e2e::line_child& child() { return child_; }

  /// Requests from the agents, answered by `on_request` (nullopt: not answered yet, kept).
  std::function<std::optional<json::value>(const json::object& request)> on_request;
  std::vector<json::object> updates;  ///< session/update params, in arrival order
  std::vector<json::object> requests; ///< requests from the agents, in arrival order

  std::int64_t send(std::string_view method, json::object params) {
    const auto id = next_id_++;
    child_.send(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}));
    return id;
  }
  void notify(std::string_view method, json::object params) {
    child_.send(json::serialize(json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}));
  }
  void answer(const json::value& id, json::value result) {
    child_.send(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}));
  }

  /// Reads until the response to `id` (nullopt after `timeout` or at the end of output).
  std::optional<json::object> response(std::int64_t id, e2e::clock::duration timeout = 15s) {
    const auto deadline = e2e::clock::now() + timeout;
    while (e2e::clock::now() < deadline) {
      auto msg = next(deadline);
      if (!msg) return std::nullopt;
      if (msg->contains("method")) continue;
      if (const auto* i = msg->if_contains("id"); i && *i == id) return msg;
    }
    return std::nullopt;
  }

  /// Reads and handles messages for `d` (nothing expected to end it).
  void drain(e2e::clock::duration d) {
    const auto deadline = e2e::clock::now() + d;
    while (e2e::clock::now() < deadline && next(deadline)) {
    }
  }

  /// Reads until `n` requests from the agents have arrived.
  bool wait_requests(std::size_t n, e2e::clock::duration timeout = 15s) {
    const auto deadline = e2e::clock::now() + timeout;
    while (requests.size() < n && e2e::clock::now() < deadline)
      if (!next(deadline)) return false;
    return requests.size() >= n;
  }

  /// initialize + session/new; the upstream session id (empty on failure).
  std::string open_session() {
    const auto init = response(send("initialize", json::object{{"protocolVersion", 1}}));
    if (!init || !init->contains("result")) return {};
    const auto created = response(send("session/new", json::object{{"cwd", "/tmp"}, {"mcpServers", json::array{}}}));
    if (!created || !created->contains("result")) return {};
    return std::string(created->at("result").at("sessionId").as_string());
  }

  static json::object prompt(const std::string& session, std::string_view text) {
    return json::object{{"sessionId", session},
                        {"prompt", json::array{json::object{{"type", "text"}, {"text", text}}}}};
  }

  /// The texts of the message chunks of `agent` (by _meta.fanout.agent), headings excluded.
  [[nodiscard]] std::vector<std::string> chunks_of(std::string_view agent) const {
    std::vector<std::string> out;
    for (const auto& u : updates) {
      const auto& up = u.at("update").as_object();
      if (up.at("sessionUpdate") != "agent_message_chunk") continue;
      const auto* meta = up.if_contains("_meta");
      if (!meta || meta->at("fanout").at("agent") != json::value(agent)) continue;
      if (meta->at("fanout").as_object().contains("heading")) continue;
      out.emplace_back(up.at("content").at("text").as_string());
    }
    return out;
  }

  /// Everything the client would show, in order.
  [[nodiscard]] std::string transcript() const {
    std::string out;
    for (const auto& u : updates) {
      const auto& up = u.at("update").as_object();
      if (up.at("sessionUpdate") == "agent_message_chunk") out += up.at("content").at("text").as_string();
    }
    return out;
  }

private:
  static std::vector<std::string> with_program(std::vector<std::string> args) {
    args.insert(args.begin(), ACP_FANOUT_BIN);
    return args;
  }

  std::optional<json::object> next(e2e::clock::time_point deadline) {
    const auto left = deadline - e2e::clock::now();
    if (left <= e2e::clock::duration::zero()) return std::nullopt;
    auto line = child_.read_line(left);
    if (!line) return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(*line, ec);
    if (ec || !v.is_object()) return json::object{{"unparsed", *line}};
    auto msg = v.as_object();
    if (msg.contains("method") && msg.at("method") == "session/update") {
      updates.push_back(msg.at("params").as_object());
    } else if (msg.contains("method") && msg.contains("id")) {
      requests.push_back(msg);
      if (on_request)
        if (auto result = on_request(msg)) answer(msg.at("id"), std::move(*result));
    }
    return msg;
  }

  e2e::line_child child_;
  std::int64_t next_id_ = 1;
};

} // namespace acp::fanout_test
