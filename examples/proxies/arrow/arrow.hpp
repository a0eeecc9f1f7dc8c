#pragma once
// The arrow proxy: the reference test proxy of the chain.
//
// Every `session/update` notification coming from the agent whose update is an
// `agent_message_chunk` with text content gets `>` prepended to its text, so a chain with two
// arrow proxies shows `>>hello`. The message is edited in place (docs/PROTOCOL.md §2): every other
// member, `_meta` and unknown fields included, is forwarded exactly as received. Everything else
// passes through untouched in both directions.

#include <acp/sdk/endpoint.hpp>

namespace acp::examples {

/// A proxy with the arrow handler installed; run it with `run_stdio()` or `connect_to(...)`.
[[nodiscard]] proxy_builder make_arrow_proxy();

/// Prepends `>` to the text of an `agent_message_chunk` update in `session/update` params.
/// Returns false (and leaves `params` alone) for anything else.
bool add_arrow(boost::json::value& params);

} // namespace acp::examples
