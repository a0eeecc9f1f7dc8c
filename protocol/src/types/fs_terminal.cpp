// File system and terminal methods.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(write_text_file_request, ACP_F("sessionId", session_id), ACP_F("path", path), ACP_F("content", content),
           ACP_META)
ACP_STRUCT(write_text_file_response, ACP_META)
ACP_STRUCT(read_text_file_request, ACP_F("sessionId", session_id), ACP_F("path", path), ACP_F("line", line),
           ACP_F("limit", limit), ACP_META)
ACP_STRUCT(read_text_file_response, ACP_F("content", content), ACP_META)
ACP_STRUCT(create_terminal_request, ACP_F("sessionId", session_id), ACP_F("command", command), ACP_F("args", args),
           ACP_F("env", env), ACP_F("cwd", cwd), ACP_F("outputByteLimit", output_byte_limit), ACP_META)
ACP_STRUCT(create_terminal_response, ACP_F("terminalId", terminal_id), ACP_META)
ACP_STRUCT(terminal_output_request, ACP_F("sessionId", session_id), ACP_F("terminalId", terminal_id), ACP_META)
ACP_STRUCT(terminal_exit_status, ACP_F("exitCode", exit_code), ACP_F("signal", signal), ACP_META)
ACP_STRUCT(terminal_output_response, ACP_F("output", output), ACP_F("truncated", truncated),
           ACP_F("exitStatus", exit_status), ACP_META)
ACP_STRUCT(release_terminal_request, ACP_F("sessionId", session_id), ACP_F("terminalId", terminal_id), ACP_META)
ACP_STRUCT(release_terminal_response, ACP_META)
ACP_STRUCT(wait_for_terminal_exit_request, ACP_F("sessionId", session_id), ACP_F("terminalId", terminal_id), ACP_META)
ACP_STRUCT(wait_for_terminal_exit_response, ACP_F("exitCode", exit_code), ACP_F("signal", signal), ACP_META)
ACP_STRUCT(kill_terminal_request, ACP_F("sessionId", session_id), ACP_F("terminalId", terminal_id), ACP_META)
ACP_STRUCT(kill_terminal_response, ACP_META)

} // namespace acp
