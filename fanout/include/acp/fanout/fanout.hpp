#pragma once
// acp-fanout: an ACP agent that runs several agents and looks like one agent to whatever is in
// front of it (an editor, a conductor chain).
//
//   acp-conductor agent acp-policy-proxy "acp-fanout claude-agent-acp codex-acp"
//
// What it does with each message from the client (details: man/acp-fanout.1):
//   initialize        starts every agent (child processes, each its own process group) and
//                     initializes them all; answers the merged result (acp/fanout/merge.hpp:
//                     the intersection of the capabilities, every agent's auth methods with ids
//                     `NAME/ID`). An agent that fails to start or to initialize fails
//                     `initialize` with an error naming it (`data.agent`).
//   authenticate      to the agent named by the method id's prefix, the prefix removed.
//   session/new       a session in every agent; the upstream id encodes theirs (merge.hpp).
//                     An agent that refuses is left out of the session (`_meta.fanout.refused`,
//                     an update naming it); only when all refuse is it an error: the first
//                     refusal with its code and message intact (an agent's auth error).
//   session/load, session/set_mode, session/cancel, session/close and any other request or
//                     notification with a known `sessionId`: to every agent with its own id;
//                     session/set_config_option only to the agents that offered the option.
//   session/prompt    to every agent at once; updates are streamed as they arrive, tagged
//                     (`_meta.fanout.agent`, tool-call ids `NAME/ID`) and message chunks framed
//                     with a heading line `[NAME]` when an agent starts speaking or speakers
//                     switch. `turn_mode::all` answers when every agent has ended (end_turn only
//                     if all did, else the most serious reason); `turn_mode::first` answers with
//                     the first agent to end and cancels the others, dropping their late updates;
//                     a loser that has not ended its cancelled turn within `grace` is left out
//                     of the session (an update, `_meta.fanout.agents.NAME.leftOut`).
//                     An agent that fails mid-turn (an error, a crash) is shown as an update
//                     naming it and recorded in the answer's `_meta.fanout.agents`; only when
//                     every agent failed is the prompt answered with an error.
// Requests from an agent (permission, fs/*, terminal/*, extensions) go to the client with the
// upstream session id, `_meta.fanout.agent` and, for permissions, the title prefixed `[NAME]`;
// the answer goes back to the agent that asked.
//
// Lifetime: when the client closes (or SIGINT/SIGTERM), every agent's input is closed, and each
// gets the grace period to exit before its process group is terminated. No process is left.

#include <acp/fanout/merge.hpp>
#include <acp/sdk/process_spec.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace acp::fanout {

/// One agent to run: `spec.name` is its (unique) name.
struct agent_spec {
  process_spec spec;
};

struct fanout_options {
  std::vector<agent_spec> agents;
  turn_mode mode = turn_mode::all;
  /// At shutdown: how long an agent may take to exit after its input closed; in `first` mode
  /// also how long a cancelled loser may take to end its turn before it is left out.
  std::chrono::milliseconds grace{2000};
};

/// Parses component strings (the conductor's syntax: shell-like words, leading NAME=value env
/// words, or a JSON spec whose `name` sets the agent's name) into agents with unique names.
/// Remote addresses are refused. The error is one sentence naming the bad string.
[[nodiscard]] std::vector<agent_spec> parse_agents(const std::vector<std::string>& components, std::string& error);

/// Serves stdin/stdout as one agent until the client closes; returns the exit code (0: the
/// client closed, 1: the connection failed, 128 + N after signal N).
int run_fanout(const fanout_options& options);

} // namespace acp::fanout
