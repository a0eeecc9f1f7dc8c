#pragma once
// `session/request_permission` (agent -> client).

#include <acp/protocol/types/tool_call.hpp>

namespace acp {

struct permission_option {
  std::string option_id;
  std::string name;
  permission_option_kind kind;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct request_permission_request {
  std::string session_id;
  tool_call_update tool_call;
  std::vector<permission_option> options;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"outcome":"cancelled"}`: the prompt turn was cancelled before the user chose.
struct cancelled_permission_outcome {
  boost::json::object extra;
};

/// `{"outcome":"selected"}`
struct selected_permission_outcome {
  std::string option_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Tagged by `outcome`; another value is kept as `unknown_variant`.
using request_permission_outcome =
    std::variant<cancelled_permission_outcome, selected_permission_outcome, unknown_variant>;

struct request_permission_response {
  request_permission_outcome outcome;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

ACP_DECLARE_CODEC(permission_option);
ACP_DECLARE_CODEC(request_permission_request);
ACP_DECLARE_CODEC(cancelled_permission_outcome);
ACP_DECLARE_CODEC(selected_permission_outcome);
ACP_DECLARE_CODEC(request_permission_outcome);
ACP_DECLARE_CODEC(request_permission_response);

} // namespace acp
