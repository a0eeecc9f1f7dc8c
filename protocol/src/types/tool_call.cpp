// Tool calls and their content.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(content, ACP_F("content", content), ACP_META)
ACP_STRUCT(diff, ACP_F("path", path), ACP_F("oldText", old_text), ACP_F("newText", new_text), ACP_META)
ACP_STRUCT(terminal, ACP_F("terminalId", terminal_id), ACP_META)
ACP_TAGGED_UNION(tool_call_content, "type", "content", "diff", "terminal")
ACP_STRUCT(tool_call_location, ACP_F("path", path), ACP_F("line", line), ACP_META)
ACP_STRUCT(tool_call, ACP_F("toolCallId", tool_call_id), ACP_F("title", title), ACP_F("kind", kind),
           ACP_F("status", status), ACP_F("content", content), ACP_F("locations", locations),
           ACP_F("rawInput", raw_input), ACP_F("rawOutput", raw_output), ACP_META)
ACP_STRUCT(tool_call_update, ACP_F("toolCallId", tool_call_id), ACP_F("kind", kind), ACP_F("status", status),
           ACP_F("title", title), ACP_F("content", content), ACP_F("locations", locations),
           ACP_F("rawInput", raw_input), ACP_F("rawOutput", raw_output), ACP_META)

} // namespace acp
