#pragma once
// acp-redact-proxy: removes secrets from what flows to the agent.
//
// Client -> agent: the text blocks of a `session/prompt` and the text of embedded resources are
// redacted in place, then the request is forwarded as usual.
// Agent -> client: `fs/read_text_file` and `terminal/output` requests are sent on to the client;
// its result comes back here, `content` (resp. `output`) is redacted, and the patched result
// answers the agent. Errors are relayed unchanged.
//
// Only JSON string values are edited, so every message stays valid JSON; every other member
// (`_meta`, unknown fields, other content blocks) is forwarded exactly as received. Everything
// else passes through untouched in both directions. What the agent sends toward the client is
// not redacted: it can only contain what it was given.
//
// Each message that had secrets removed is reported on `log` in one line:
//   redact: 2 secret(s) removed from fs/read_text_file result (github-token×1, env:.env×1)

#include "redact_rules.hpp"

#include <acp/sdk/endpoint.hpp>

#include <boost/json/value.hpp>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace acp::examples {

/// What the proxy removed so far (read it after `run_stdio` returns for the summary).
struct redact_totals {
  tally removed;
  std::size_t messages = 0; ///< messages that had at least one secret removed
};

/// Redacts `session/prompt` params: text blocks and embedded text resources of `prompt`.
tally redact_prompt(const redactor& rules, boost::json::value& params);

/// Redacts the result of an agent -> client request: `content` of `fs/read_text_file`,
/// `output` of `terminal/output`; other methods are left alone.
tally redact_result(const redactor& rules, std::string_view method, boost::json::value& result);

/// A proxy applying `rules`; it adds to `totals` and reports on `log`.
[[nodiscard]] proxy_builder make_redact_proxy(std::shared_ptr<const redactor> rules,
                                              std::shared_ptr<redact_totals> totals, std::ostream& log);

/// The exit summary: "redact: 3 secret(s) removed from 2 message(s) (github-token×2, …)".
[[nodiscard]] std::string summary_line(const redactor& rules, const redact_totals& totals);

} // namespace acp::examples
