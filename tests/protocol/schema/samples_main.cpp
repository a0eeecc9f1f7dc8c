// Prints typed ACP values, encoded, one JSON line each: {"def": "<$defs name>", "value": ...}.
// Every optional member is set (so the schema check covers it) and every union alternative
// appears at least once. tests/protocol/schema_check.py validates the output.
#include <acp/protocol/types.hpp>

#include <boost/json/serialize.hpp>

#include <iostream>

namespace {

using boost::json::object;
using boost::json::value;

value meta() { return object{{"trace", "sample"}}; }

template <class T> void emit(std::string_view def, const T& x) {
  object line;
  line["def"] = def;
  line["value"] = acp::encode(x);
  std::cout << boost::json::serialize(line) << '\n';
}

acp::annotations annotations() {
  return {.audience = std::vector<acp::role>{acp::role::user, acp::role::assistant},
          .last_modified = "2025-01-01T00:00:00Z",
          .priority = 0.5,
          .meta = meta()};
}

std::vector<acp::content_block> all_content_blocks() {
  return {
      acp::text_content{.annotations = annotations(), .text = "hello", .meta = meta()},
      acp::image_content{.annotations = annotations(),
                         .data = "aGk=",
                         .mime_type = "image/png",
                         .uri = "file:///a.png",
                         .meta = meta()},
      acp::audio_content{.annotations = annotations(), .data = "aGk=", .mime_type = "audio/wav", .meta = meta()},
      acp::resource_link{.annotations = annotations(),
                         .description = "a file",
                         .mime_type = "text/plain",
                         .name = "a.txt",
                         .size = 12,
                         .title = "A",
                         .uri = "file:///a.txt",
                         .meta = meta()},
      acp::embedded_resource{.annotations = annotations(),
                             .resource =
                                 acp::text_resource_contents{
                                     .mime_type = "text/plain", .text = "body", .uri = "file:///b.txt", .meta = meta()},
                             .meta = meta()},
      acp::embedded_resource{.annotations = annotations(),
                             .resource = acp::blob_resource_contents{.blob = "AAEC",
                                                                     .mime_type = "application/octet-stream",
                                                                     .uri = "file:///c.bin",
                                                                     .meta = meta()},
                             .meta = meta()},
  };
}

std::vector<acp::tool_call_content> all_tool_call_content() {
  return {
      acp::content{.content = acp::text_content{.text = "output"}, .meta = meta()},
      acp::diff{.path = "/p/a.txt", .old_text = "old", .new_text = "new", .meta = meta()},
      acp::terminal{.terminal_id = "term-1", .meta = meta()},
  };
}

std::vector<acp::tool_call_location> locations() { return {{.path = "/p/a.txt", .line = 3, .meta = meta()}}; }

acp::tool_call_update tool_call_update() {
  return {.tool_call_id = "call-1",
          .kind = acp::tool_kind::edit,
          .status = acp::tool_call_status::in_progress,
          .title = "Edit a.txt",
          .content = all_tool_call_content(),
          .locations = locations(),
          .raw_input = value(object{{"path", "/p/a.txt"}}),
          .raw_output = value("done"),
          .meta = meta()};
}

acp::session_mode_state modes() {
  return {.current_mode_id = "ask",
          .available_modes = {{.id = "ask", .name = "Ask", .description = "asks first", .meta = meta()}},
          .meta = meta()};
}

std::vector<acp::session_config_option> config_options() {
  acp::session_config_option select{.id = "model",
                                    .name = "Model",
                                    .description = "which model",
                                    .category = acp::session_config_option_category::model,
                                    .meta = meta()};
  select.kind =
      acp::session_config_select{.current_value = "fast",
                                 .options = std::vector<acp::session_config_select_option>{
                                     {.value = "fast", .name = "Fast", .description = "quick", .meta = meta()}}};
  acp::session_config_option grouped{.id = "effort",
                                     .name = "Effort",
                                     .description = "d",
                                     .category = acp::session_config_option_category::thought_level,
                                     .meta = meta()};
  grouped.kind = acp::session_config_select{
      .current_value = "low",
      .options = std::vector<acp::session_config_select_group>{
          {.group = "g", .name = "Group", .options = {{.value = "low", .name = "Low"}}, .meta = meta()}}};
  acp::session_config_option boolean{.id = "think",
                                     .name = "Think",
                                     .description = "d",
                                     .category = acp::session_config_option_category::mode,
                                     .meta = meta()};
  boolean.kind = acp::session_config_boolean{.current_value = true};
  return {select, grouped, boolean};
}

std::vector<acp::mcp_server> mcp_servers() {
  return {
      acp::mcp_server_http{.name = "web",
                           .url = "https://x/mcp",
                           .headers = {{.name = "Authorization", .value = "Bearer t", .meta = meta()}},
                           .meta = meta()},
      acp::mcp_server_sse{.name = "sse", .url = "https://x/sse", .headers = {}, .meta = meta()},
      acp::mcp_server_stdio{.name = "fs",
                            .command = "/bin/mcp",
                            .args = {"-v"},
                            .env = {{.name = "K", .value = "V", .meta = meta()}},
                            .meta = meta()},
  };
}

void initialize_samples() {
  emit("InitializeRequest",
       acp::initialize_request{
           .protocol_version = 1,
           .client_capabilities =
               acp::client_capabilities{
                   .fs = acp::file_system_capabilities{.read_text_file = true, .write_text_file = true, .meta = meta()},
                   .terminal = true,
                   .session =
                       acp::client_session_capabilities{
                           .config_options =
                               acp::session_config_options_capabilities{
                                   .boolean = acp::boolean_config_option_capabilities{.meta = meta()}, .meta = meta()},
                           .meta = meta()},
                   .auth = acp::auth_capabilities{.terminal = true, .meta = meta()},
                   .elicitation =
                       acp::elicitation_capabilities{.form = acp::elicitation_form_capabilities{.meta = meta()},
                                                     .url = acp::elicitation_url_capabilities{.meta = meta()},
                                                     .meta = meta()},
                   .meta = meta()},
           .client_info = acp::implementation{.name = "editor", .title = "Editor", .version = "1.0", .meta = meta()},
           .meta = meta()});
  emit("InitializeResponse",
       acp::initialize_response{
           .protocol_version = 1,
           .agent_capabilities =
               acp::agent_capabilities{
                   .load_session = true,
                   .prompt_capabilities =
                       acp::prompt_capabilities{.image = true, .audio = true, .embedded_context = true, .meta = meta()},
                   .mcp_capabilities = acp::mcp_capabilities{.http = true, .sse = true, .meta = meta()},
                   .session_capabilities =
                       acp::session_capabilities{.list = acp::session_list_capabilities{.meta = meta()},
                                                 .delete_ = acp::session_delete_capabilities{.meta = meta()},
                                                 .additional_directories =
                                                     acp::session_additional_directories_capabilities{.meta = meta()},
                                                 .resume = acp::session_resume_capabilities{.meta = meta()},
                                                 .close = acp::session_close_capabilities{.meta = meta()},
                                                 .meta = meta()},
                   .auth = acp::agent_auth_capabilities{.logout = acp::logout_capabilities{.meta = meta()},
                                                        .meta = meta()},
                   .meta = meta()},
           .auth_methods =
               std::vector<acp::auth_method>{
                   acp::auth_method_agent{.id = "login", .name = "Log in", .description = "d", .meta = meta()},
                   acp::auth_method_terminal{.id = "tui",
                                             .name = "TUI",
                                             .description = "d",
                                             .args = std::vector<std::string>{"--login"},
                                             .env = std::map<std::string, std::string>{{"A", "1"}},
                                             .meta = meta()}},
           .agent_info = acp::implementation{.name = "agent", .title = "Agent", .version = "2.0", .meta = meta()},
           .meta = meta()});
  emit("AuthenticateRequest", acp::authenticate_request{.method_id = "login", .meta = meta()});
  emit("AuthenticateResponse", acp::authenticate_response{.meta = meta()});
  emit("LogoutRequest", acp::logout_request{.meta = meta()});
  emit("LogoutResponse", acp::logout_response{.meta = meta()});
}

void session_samples() {
  emit("NewSessionRequest", acp::new_session_request{.cwd = "/p",
                                                     .additional_directories = std::vector<std::string>{"/q"},
                                                     .mcp_servers = mcp_servers(),
                                                     .meta = meta()});
  emit("NewSessionResponse",
       acp::new_session_response{
           .session_id = "s1", .modes = modes(), .config_options = config_options(), .meta = meta()});
  emit("LoadSessionRequest", acp::load_session_request{.mcp_servers = mcp_servers(),
                                                       .cwd = "/p",
                                                       .additional_directories = std::vector<std::string>{"/q"},
                                                       .session_id = "s1",
                                                       .meta = meta()});
  emit("LoadSessionResponse",
       acp::load_session_response{.modes = modes(), .config_options = config_options(), .meta = meta()});
  emit("ListSessionsRequest", acp::list_sessions_request{.cwd = "/p", .cursor = "c1", .meta = meta()});
  emit("ListSessionsResponse",
       acp::list_sessions_response{.sessions = {{.session_id = "s1",
                                                 .cwd = "/p",
                                                 .additional_directories = std::vector<std::string>{"/q"},
                                                 .title = "T",
                                                 .updated_at = "2025-01-01T00:00:00Z",
                                                 .meta = meta()}},
                                   .next_cursor = "c2",
                                   .meta = meta()});
  emit("DeleteSessionRequest", acp::delete_session_request{.session_id = "s1", .meta = meta()});
  emit("DeleteSessionResponse", acp::delete_session_response{.meta = meta()});
  emit("ResumeSessionRequest", acp::resume_session_request{.session_id = "s1",
                                                           .cwd = "/p",
                                                           .additional_directories = std::vector<std::string>{"/q"},
                                                           .mcp_servers = mcp_servers(),
                                                           .meta = meta()});
  emit("ResumeSessionResponse",
       acp::resume_session_response{.modes = modes(), .config_options = config_options(), .meta = meta()});
  emit("CloseSessionRequest", acp::close_session_request{.session_id = "s1", .meta = meta()});
  emit("CloseSessionResponse", acp::close_session_response{.meta = meta()});
  emit("SetSessionModeRequest", acp::set_session_mode_request{.session_id = "s1", .mode_id = "code", .meta = meta()});
  emit("SetSessionModeResponse", acp::set_session_mode_response{.meta = meta()});
  emit("SetSessionConfigOptionRequest",
       acp::set_session_config_option_request{
           .session_id = "s1", .config_id = "model", .value = std::string("fast"), .meta = meta()});
  emit("SetSessionConfigOptionRequest",
       acp::set_session_config_option_request{
           .session_id = "s1", .config_id = "think", .type = "boolean", .value = false, .meta = meta()});
  emit("SetSessionConfigOptionResponse",
       acp::set_session_config_option_response{.config_options = config_options(), .meta = meta()});
  emit("PromptRequest", acp::prompt_request{.session_id = "s1", .prompt = all_content_blocks(), .meta = meta()});
  emit("PromptResponse", acp::prompt_response{.stop_reason = acp::stop_reason::end_turn, .meta = meta()});
  emit("CancelNotification", acp::cancel_notification{.session_id = "s1", .meta = meta()});
  emit("CancelRequestNotification", acp::cancel_request_notification{.request_id = 7, .meta = meta()});
  emit("CancelRequestNotification", acp::cancel_request_notification{.request_id = "req-7"});
}

void session_update_samples() {
  acp::tool_call call{.tool_call_id = "call-1",
                      .title = "Read",
                      .kind = acp::tool_kind::read,
                      .status = acp::tool_call_status::pending,
                      .content = all_tool_call_content(),
                      .locations = locations(),
                      .raw_input = value(object{{"path", "/p"}}),
                      .raw_output = value(1),
                      .meta = meta()};
  const std::vector<acp::session_update> updates{
      acp::user_message_chunk{.content = acp::text_content{.text = "hi"}, .message_id = "m1", .meta = meta()},
      acp::agent_message_chunk{.content = acp::text_content{.text = "hi"}, .message_id = "m1", .meta = meta()},
      acp::agent_thought_chunk{.content = acp::text_content{.text = "hi"}, .message_id = "m1", .meta = meta()},
      call,
      tool_call_update(),
      acp::plan{.entries = {{.content = "step",
                             .priority = acp::plan_entry_priority::high,
                             .status = acp::plan_entry_status::pending,
                             .meta = meta()}},
                .meta = meta()},
      acp::available_commands_update{
          .available_commands = {{.name = "web",
                                  .description = "Search",
                                  .input = acp::unstructured_command_input{.hint = "q", .meta = meta()},
                                  .meta = meta()}},
          .meta = meta()},
      acp::current_mode_update{.current_mode_id = "code", .meta = meta()},
      acp::config_option_update{.config_options = config_options(), .meta = meta()},
      acp::session_info_update{.title = "T", .updated_at = "2025-01-01T00:00:00Z", .meta = meta()},
      acp::usage_update{.used = 100,
                        .size = 2000,
                        .cost = acp::cost{.amount = 0.25, .currency = "USD", .meta = meta()},
                        .meta = meta()},
  };
  for (const auto& u : updates) {
    emit("SessionNotification", acp::session_notification{.session_id = "s1", .update = u, .meta = meta()});
  }
}

void client_samples() {
  emit("RequestPermissionRequest",
       acp::request_permission_request{
           .session_id = "s1",
           .tool_call = tool_call_update(),
           .options =
               {{.option_id = "o1", .name = "Allow", .kind = acp::permission_option_kind::allow_once, .meta = meta()},
                {.option_id = "o2", .name = "Reject", .kind = acp::permission_option_kind::reject_always}},
           .meta = meta()});
  emit("RequestPermissionResponse",
       acp::request_permission_response{.outcome = acp::selected_permission_outcome{.option_id = "o1", .meta = meta()},
                                        .meta = meta()});
  emit("RequestPermissionResponse", acp::request_permission_response{.outcome = acp::cancelled_permission_outcome{}});
  emit("ReadTextFileRequest",
       acp::read_text_file_request{.session_id = "s1", .path = "/p/a", .line = 1, .limit = 10, .meta = meta()});
  emit("ReadTextFileResponse", acp::read_text_file_response{.content = "text", .meta = meta()});
  emit("WriteTextFileRequest",
       acp::write_text_file_request{.session_id = "s1", .path = "/p/a", .content = "x", .meta = meta()});
  emit("WriteTextFileResponse", acp::write_text_file_response{.meta = meta()});
  emit("CreateTerminalRequest",
       acp::create_terminal_request{.session_id = "s1",
                                    .command = "ls",
                                    .args = std::vector<std::string>{"-l"},
                                    .env = std::vector<acp::env_variable>{{.name = "A", .value = "B", .meta = meta()}},
                                    .cwd = "/p",
                                    .output_byte_limit = 4096,
                                    .meta = meta()});
  emit("CreateTerminalResponse", acp::create_terminal_response{.terminal_id = "term-1", .meta = meta()});
  emit("TerminalOutputRequest",
       acp::terminal_output_request{.session_id = "s1", .terminal_id = "term-1", .meta = meta()});
  emit("TerminalOutputResponse",
       acp::terminal_output_response{.output = "out",
                                     .truncated = true,
                                     .exit_status =
                                         acp::terminal_exit_status{.exit_code = 0, .signal = "SIGTERM", .meta = meta()},
                                     .meta = meta()});
  emit("ReleaseTerminalRequest",
       acp::release_terminal_request{.session_id = "s1", .terminal_id = "term-1", .meta = meta()});
  emit("ReleaseTerminalResponse", acp::release_terminal_response{.meta = meta()});
  emit("WaitForTerminalExitRequest",
       acp::wait_for_terminal_exit_request{.session_id = "s1", .terminal_id = "term-1", .meta = meta()});
  emit("WaitForTerminalExitResponse",
       acp::wait_for_terminal_exit_response{.exit_code = 1, .signal = "SIGKILL", .meta = meta()});
  emit("KillTerminalRequest", acp::kill_terminal_request{.session_id = "s1", .terminal_id = "term-1", .meta = meta()});
  emit("KillTerminalResponse", acp::kill_terminal_response{.meta = meta()});
}

void elicitation_samples() {
  const std::vector<acp::enum_option> one_of{{.const_ = "r", .title = "Red", .description = "d", .meta = meta()}};
  std::map<std::string, acp::elicitation_property_schema> props;
  props["name"] = acp::string_property_schema{.title = "Name",
                                              .description = "d",
                                              .min_length = 1,
                                              .max_length = 50,
                                              .pattern = "^a",
                                              .format = acp::string_format::email,
                                              .default_ = "a@b",
                                              .enum_ = std::vector<std::string>{"a@b"},
                                              .one_of = one_of,
                                              .meta = meta()};
  props["n"] = acp::number_property_schema{
      .title = "N", .description = "d", .minimum = 0.5, .maximum = 9.5, .default_ = 1.5, .meta = meta()};
  props["i"] = acp::integer_property_schema{
      .title = "I", .description = "d", .minimum = -1, .maximum = 10, .default_ = 3, .meta = meta()};
  props["b"] = acp::boolean_property_schema{.title = "B", .description = "d", .default_ = true, .meta = meta()};
  props["tags"] =
      acp::multi_select_property_schema{.title = "Tags",
                                        .description = "d",
                                        .min_items = 1,
                                        .max_items = 2,
                                        .items = acp::string_multi_select_items{.enum_ = {"a", "b"}, .meta = meta()},
                                        .default_ = std::vector<std::string>{"a"},
                                        .meta = meta()};
  props["titled"] =
      acp::multi_select_property_schema{.title = "Titled",
                                        .description = "d",
                                        .min_items = 0,
                                        .max_items = 1,
                                        .items = acp::titled_multi_select_items{.any_of = one_of, .meta = meta()},
                                        .default_ = std::vector<std::string>{"r"},
                                        .meta = meta()};
  acp::elicitation_schema schema{.type = "object",
                                 .title = "Form",
                                 .properties = props,
                                 .required = std::vector<std::string>{"name"},
                                 .description = "d",
                                 .meta = meta()};
  emit("CreateElicitationRequest",
       acp::create_elicitation_request{.message = "Fill",
                                       .mode = acp::elicitation_form_mode{.requested_schema = schema},
                                       .session_id = "s1",
                                       .tool_call_id = "call-1",
                                       .meta = meta()});
  emit("CreateElicitationRequest",
       acp::create_elicitation_request{.message = "Open",
                                       .mode =
                                           acp::elicitation_url_mode{.elicitation_id = "e1", .url = "https://x/auth"},
                                       .request_id = value(7),
                                       .meta = meta()});
  std::map<std::string, acp::elicitation_content_value> content{{"name", std::string("a@b")},
                                                                {"n", 1.5},
                                                                {"i", std::int64_t{3}},
                                                                {"b", true},
                                                                {"tags", std::vector<std::string>{"a"}}};
  emit("CreateElicitationResponse",
       acp::create_elicitation_response{.action = acp::elicitation_action::accept, .content = content, .meta = meta()});
  emit("CreateElicitationResponse",
       acp::create_elicitation_response{.action = acp::elicitation_action::decline, .meta = meta()});
  emit("CreateElicitationResponse", acp::create_elicitation_response{.action = acp::elicitation_action::cancel});
  emit("CompleteElicitationNotification",
       acp::complete_elicitation_notification{.elicitation_id = "e1", .meta = meta()});
}

} // namespace

int main() {
  initialize_samples();
  session_samples();
  session_update_samples();
  client_samples();
  elicitation_samples();
  return std::cout.good() ? 0 : 1;
}
