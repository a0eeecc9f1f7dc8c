#pragma once
// The pure part of acp-fanout: names, id namespacing, the merged `initialize` result, stop
// reasons and the framing of session updates. No Asio, no processes: everything here is a
// function of JSON values, tested on its own (tests/fanout/merge_test.cpp).
//
// Conventions (docs: man/acp-fanout.1, README "Several agents at once"):
//   - every agent has a name, unique within one fan-out: `codex-acp`, `codex-acp#2`;
//   - ids an agent chooses that reach the client (tool-call ids, auth method ids) are
//     namespaced `NAME/ID`, so two agents never collide and an answer finds its agent;
//   - the upstream session id is the agents' own session ids, percent-encoded and joined:
//     `fanout:ID1,ID2` (an agent without a session: empty). It needs no table, so a
//     `session/load` in a later process maps back to every agent's session.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acp::fanout {

/// How a prompt turn ends: `all` waits for every agent; `first` ends with the first agent to
/// end its turn and cancels the others.
enum class turn_mode { all, first };

/// Makes names unique in order: the second `x` becomes `x#2`, the third `x#3`, …
[[nodiscard]] std::vector<std::string> unique_names(const std::vector<std::string>& names);

/// `NAME/ID`.
[[nodiscard]] std::string prefixed_id(std::string_view agent, std::string_view id);
/// The agent a `NAME/ID` belongs to (its index in `names`) and the agent's own id; nullopt when
/// no name matches or the id after it is empty (the longest matching name wins: `a/b` beats `a`
/// for `a/b/c`).
[[nodiscard]] std::optional<std::pair<std::size_t, std::string>>
split_prefixed_id(const std::vector<std::string>& names, std::string_view id);

/// `fanout:` and the per-agent session ids (empty: that agent has none), percent-encoded.
[[nodiscard]] std::string encode_session_id(const std::vector<std::string>& ids);
/// The per-agent ids of an id made by `encode_session_id` for `agents` agents; nullopt when
/// `id` is not one.
[[nodiscard]] std::optional<std::vector<std::string>> decode_session_id(std::string_view id, std::size_t agents);

/// The `initialize` result offered upward from each agent's result (`names[i]` answered
/// `results[i]`): protocolVersion the lowest; loadSession and every prompt and MCP capability
/// only when all agents have it (the intersection); authMethods of all, ids prefixed `NAME/`;
/// agentInfo names acp-fanout; `_meta.fanout.agents` lists each agent's name and agentInfo.
[[nodiscard]] boost::json::object merge_initialize(const std::vector<std::string>& names,
                                                   const std::vector<boost::json::object>& results,
                                                   std::string_view version);

/// How serious a stop reason is: end_turn 0, max_turn_requests 1, max_tokens 2, an unknown
/// reason 3, cancelled 4, refusal 5.
[[nodiscard]] int stop_reason_severity(std::string_view reason);
/// `end_turn` when every reason is, otherwise the most serious one (empty input: end_turn).
[[nodiscard]] std::string merge_stop_reasons(const std::vector<std::string>& reasons);

/// Marks a `session/update`'s params as coming from `agent`: `update._meta.fanout.agent`, and
/// the tool-call id of `tool_call` / `tool_call_update` namespaced. The session id is the
/// caller's business.
void tag_update(boost::json::object& params, std::string_view agent);
/// Namespaces `toolCall.toolCallId` of a `session/request_permission`, prefixes its title with
/// `[NAME] ` and sets `_meta.fanout.agent`. Other requests only get the `_meta`.
void tag_agent_request(std::string_view method, boost::json::object& params, std::string_view agent);

/// Whether an update (params of `session/update`) is a text chunk of the agent's message, and
/// its text.
[[nodiscard]] std::optional<std::string> message_chunk_text(const boost::json::object& params);

/// Who spoke last in a session, to frame message chunks: a heading line when an agent starts
/// speaking or speakers switch.
class speaker_framing {
public:
  /// The heading text to send before a message chunk of `agent` (nullopt: same speaker). It
  /// starts on a new line: `\n` first when the text so far did not end with one.
  [[nodiscard]] std::optional<std::string> before_chunk(std::string_view agent);
  /// Records the text of a message chunk sent.
  void sent(std::string_view text);
  /// A notice about `agent` that is not its speech (a failure): `text` on a line of its own;
  /// the next chunk gets a heading again.
  [[nodiscard]] std::string notice(std::string_view text);
  /// A new turn: the next chunk gets a heading again.
  void reset();

private:
  std::string speaker_;
  bool spoken_ = false;
  bool at_line_start_ = true;
};

/// The result of `session/new` (or `session/load`, `session/set_config_option`) offered upward
/// from the agents' results (nullptr: that agent was not asked): `sessionId` is `session_id`
/// when not empty; `modes` offers the modes every agent that has modes offers (current: the
/// first agent's); `configOptions` is the union by id (the first agent's entry for an id);
/// `_meta.fanout.sessions` maps each agent's name to its own session id (`ids`, when given).
[[nodiscard]] boost::json::object merge_session_results(const std::vector<std::string>& names,
                                                        const std::vector<const boost::json::object*>& results,
                                                        std::string_view session_id,
                                                        const std::vector<std::string>& ids = {});
/// The ids of a result's `configOptions`.
[[nodiscard]] std::vector<std::string> config_option_ids(const boost::json::object& result);

/// A `session/update` params with one text message chunk (a heading, a failure notice), with
/// `_meta.fanout` set to `meta`.
[[nodiscard]] boost::json::object text_update(std::string_view session_id, std::string text, boost::json::object meta);

} // namespace acp::fanout
