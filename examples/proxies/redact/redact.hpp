#pragma once
// acp-redact-proxy: removes secrets from what flows to the agent.
//
// Client -> agent: every string value of a `session/prompt`'s params is redacted in place (text
// blocks, embedded resources, resource links, `_meta`, unknown blocks and members), then the
// request is forwarded as usual. A secret split across two adjacent blocks of the prompt is found
// on their join and redacted in both.
// Agent -> client: `fs/read_text_file` and `terminal/output` requests are sent on to the client;
// every string value of its result is redacted (`content`, `output`, `_meta`, …), and the patched
// result answers the agent. Errors are relayed unchanged.
//
// Left alone: `sessionId`, `type` and `mimeType` values (routing, not content) and object keys.
// `blob` and `data` values are base64: they are scanned as they are (all rules but the
// high-entropy one) and decoded; a secret found in the decoded bytes is replaced there and the
// payload encoded again.
//
// Time: each message has a budget (`redactor::budget()`). When redacting it takes longer, the
// message is not passed on: the prompt is answered with an error and not sent to the agent; the
// read's result is replaced by an error to the agent. Each such case is one line on `log`.
//
// Only JSON string values are edited, so every message stays valid JSON. What the agent sends
// toward the client is not redacted: it can only contain what it was given.
//
// Each message that had secrets removed is reported on `log` in one line:
//   redact: 2 secret(s) removed from fs/read_text_file result (github-token×1, env:.env×1)

#include "redact_rules.hpp"

#include <acp/sdk/endpoint.hpp>

#include <boost/json/value.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace acp::examples {

/// What the proxy removed so far (read it after `run_stdio` returns for the summary).
struct redact_totals {
  tally removed;
  std::size_t messages = 0;    ///< messages that had at least one secret removed
  std::size_t over_budget = 0; ///< messages refused because redacting them took too long
};

/// Redacts `session/prompt` params: every string value, and secrets across adjacent blocks.
/// nullopt: `deadline` passed first (params are then partly edited: do not send them).
[[nodiscard]] std::optional<tally> redact_prompt(const redactor& rules, boost::json::value& params,
                                                 redact_deadline deadline = no_deadline);

/// Redacts every string value of the result of an agent -> client `fs/read_text_file` or
/// `terminal/output` request; other methods are left alone. nullopt: `deadline` passed first.
[[nodiscard]] std::optional<tally> redact_result(const redactor& rules, std::string_view method,
                                                 boost::json::value& result, redact_deadline deadline = no_deadline);

/// A proxy applying `rules`; it adds to `totals` and reports on `log`.
[[nodiscard]] proxy_builder make_redact_proxy(std::shared_ptr<const redactor> rules,
                                              std::shared_ptr<redact_totals> totals, std::ostream& log);

/// The exit summary: "redact: 3 secret(s) removed from 2 message(s) (github-token×2, …)".
[[nodiscard]] std::string summary_line(const redactor& rules, const redact_totals& totals);

} // namespace acp::examples
