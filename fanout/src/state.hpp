#pragma once
// acp-fanout's running state (private): the agents it runs, the sessions it maps, and the
// helpers that send one request to several agents. One io_context, one thread: no locking.

#include <acp/fanout/fanout.hpp>
#include <acp/sdk/endpoint.hpp>
#include <acp/sdk/process.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace acp::fanout::detail {

/// One agent: its process and the client endpoint that talks to it.
struct member {
  std::string name;
  process_spec spec;
  std::optional<child_process> child;
  std::optional<endpoint> ep;
  /// Its connection is open (a crashed agent's is not).
  [[nodiscard]] bool alive() const { return ep && !ep->cx().conn().close_status(); }
};

/// One upstream session: each agent's own session in it.
struct session {
  std::vector<std::string> ids;                     ///< per agent; empty: none
  std::vector<std::vector<std::string>> config_ids; ///< per agent: the options it offered
  speaker_framing framing;
  std::vector<bool> dropping; ///< per agent: a `first`-mode loser whose late updates are dropped
  /// Per agent: the next prompt, held while that agent is a loser still ending its turn; called
  /// with nullptr to send it, or with the error that ends it unsent (a newer prompt replaced
  /// it, the agent was left out).
  std::vector<std::function<void(const rpc_error* give_up)>> waiting;
  /// Per agent: the deadline (the grace period) of a `first`-mode loser to end its cancelled turn.
  std::vector<std::shared_ptr<boost::asio::steady_timer>> deadlines;
  /// Per agent: why it is left out of this session (a loser that missed its deadline, an agent
  /// that refused session/new): it gets no more requests and its updates are dropped.
  std::vector<std::optional<rpc_error>> left_out;
  [[nodiscard]] bool in(std::size_t i) const { return !ids[i].empty() && !left_out[i]; }
};

struct state {
  fanout_options opts;
  std::vector<member> members;
  std::vector<std::string> names;
  std::map<std::string, session> sessions; ///< by upstream id
  /// Per agent: its own session id -> the upstream id.
  std::vector<std::unordered_map<std::string, std::string>> upstream_of;
  std::optional<context> up; ///< the client side, set at `initialize`
  enum class phase { fresh, initializing, ready, failed } stage = phase::fresh;
};
using state_ptr = std::shared_ptr<state>;

/// Per asked agent the outcome; nullopt: that agent was not asked.
using outcomes = std::vector<std::optional<rpc_result>>;

/// Sends `method` to each agent in `asks` (index, params) and calls `done` once all answered
/// (an agent whose connection is closed answers at once with an error naming it).
void gather(const state_ptr& st, std::vector<std::pair<std::size_t, boost::json::object>> asks,
            const std::string& method, unique_function<void(outcomes)> done);

/// The first error among the outcomes, as an error naming its agent ("agent NAME: METHOD
/// failed: MESSAGE", data.agent), or nullopt.
[[nodiscard]] std::optional<rpc_error> first_failure(const state_ptr& st, const outcomes& o, std::string_view method);

/// Starts agent `i` on `ex`; false with `error` set when it cannot be started.
bool start_member(const state_ptr& st, std::size_t i, const boost::asio::any_io_executor& ex, std::string& error);

/// Ends every agent in order: its input closes, it gets `grace` to exit, then its process group
/// is terminated.
boost::asio::awaitable<void> stop_members(state_ptr st);

/// The upstream session of agent `i`'s session `id`, if known.
[[nodiscard]] const std::string* upstream_session(const state& st, std::size_t i, std::string_view id);

/// A `session/prompt` for upstream session `up_id`: sent to every agent of it (turn.cpp).
void run_turn(const state_ptr& st, const std::string& up_id, const boost::json::object& params, responder r);

/// After a `first`-mode win: loser `i` of session `up_id` gets the grace period to end its
/// cancelled turn, or is left out of the session (turn.cpp).
void start_deadline(const state_ptr& st, const std::string& up_id, std::size_t i);

/// Sends `session/cancel` to agent `i` for its session `own_id` (when it is still running).
void send_cancel(const state_ptr& st, std::size_t i, const std::string& own_id);

/// The agent-facing handlers of the upstream endpoint (agent.cpp).
[[nodiscard]] agent_builder make_upstream(const state_ptr& st);

} // namespace acp::fanout::detail
