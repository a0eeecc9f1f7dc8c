#pragma once
// The test agent's optional session features (see test_agent.hpp): advertised auth methods that
// session/new requires, session modes and select config options, for tests of whatever routes
// `authenticate`, `session/set_mode` and `session/set_config_option`.

#include <acp/sdk/endpoint.hpp>

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acp::examples {

struct session_features {
  std::vector<std::string> auth_methods;   ///< ids offered in initialize; session/new needs one
  std::vector<std::string> modes;          ///< ids; the first is current in a new session
  std::vector<std::string> config_options; ///< ids of select options with values "off" / "on"
  bool authenticated = false;
  /// Per session: its current mode and option values.
  std::map<std::string, std::string> mode_of;
  std::map<std::string, std::map<std::string, std::string>> values_of;
};

/// initialize's `authMethods`: each id with its id as name.
[[nodiscard]] boost::json::array auth_methods_json(const session_features& f);

/// session/new's refusal (-32000 "Authentication required") while auth methods are offered and
/// none was used; nullopt: the session may be created.
[[nodiscard]] std::optional<rpc_error> refuse_new_session(const session_features& f);

/// Adds `modes` and `configOptions` of a new session `id` to its result.
void add_session_fields(session_features& f, const std::string& id, boost::json::object& result);

/// Handlers of `authenticate`, `session/set_mode` and `session/set_config_option`; `is_open`
/// says whether a session id is open.
void add_feature_handlers(agent_builder& agent, std::shared_ptr<session_features> f,
                          std::function<bool(const std::string&)> is_open);

} // namespace acp::examples
