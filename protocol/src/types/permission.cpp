// session/request_permission.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(permission_option, ACP_F("optionId", option_id), ACP_F("name", name), ACP_F("kind", kind), ACP_META)
ACP_STRUCT(request_permission_request, ACP_F("sessionId", session_id), ACP_F("toolCall", tool_call),
           ACP_F("options", options), ACP_META)
ACP_STRUCT(cancelled_permission_outcome)
ACP_STRUCT(selected_permission_outcome, ACP_F("optionId", option_id), ACP_META)
ACP_TAGGED_UNION(request_permission_outcome, "outcome", "cancelled", "selected")
ACP_STRUCT(request_permission_response, ACP_F("outcome", outcome), ACP_META)

} // namespace acp
