#pragma once
// Agent -> client file system and terminal methods: fs/read_text_file, fs/write_text_file,
// terminal/create|output|release|wait_for_exit|kill.

#include <acp/protocol/types/session.hpp>

namespace acp {

struct write_text_file_request {
  std::string session_id;
  std::string path;
  std::string content;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct read_text_file_request {
  std::string session_id;
  std::string path;
  std::optional<std::uint32_t> line;  ///< 1-based
  std::optional<std::uint32_t> limit; ///< lines
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct read_text_file_response {
  std::string content;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct create_terminal_request {
  std::string session_id;
  std::string command;
  std::optional<std::vector<std::string>> args;
  std::optional<std::vector<env_variable>> env;
  std::optional<std::string> cwd;
  std::optional<std::uint64_t> output_byte_limit;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct create_terminal_response {
  std::string terminal_id;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct terminal_exit_status {
  std::optional<std::uint32_t> exit_code;
  std::optional<std::string> signal;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct terminal_output_response {
  std::string output;
  bool truncated = false;
  std::optional<terminal_exit_status> exit_status;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct wait_for_terminal_exit_response {
  std::optional<std::uint32_t> exit_code;
  std::optional<std::string> signal;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Requests naming a terminal of a session: output, release, wait_for_exit, kill.
#define ACP_TERMINAL_MESSAGE(name)                                                                                     \
  struct name {                                                                                                        \
    std::string session_id;                                                                                            \
    std::string terminal_id;                                                                                           \
    std::optional<boost::json::value> meta;                                                                            \
    boost::json::object extra;                                                                                         \
  };                                                                                                                   \
  ACP_DECLARE_CODEC(name)

ACP_EMPTY_MESSAGE(write_text_file_response);
ACP_TERMINAL_MESSAGE(terminal_output_request);
ACP_TERMINAL_MESSAGE(release_terminal_request);
ACP_EMPTY_MESSAGE(release_terminal_response);
ACP_TERMINAL_MESSAGE(wait_for_terminal_exit_request);
ACP_TERMINAL_MESSAGE(kill_terminal_request);
ACP_EMPTY_MESSAGE(kill_terminal_response);
#undef ACP_TERMINAL_MESSAGE

ACP_DECLARE_CODEC(write_text_file_request);
ACP_DECLARE_CODEC(read_text_file_request);
ACP_DECLARE_CODEC(read_text_file_response);
ACP_DECLARE_CODEC(create_terminal_request);
ACP_DECLARE_CODEC(create_terminal_response);
ACP_DECLARE_CODEC(terminal_exit_status);
ACP_DECLARE_CODEC(terminal_output_response);
ACP_DECLARE_CODEC(wait_for_terminal_exit_response);

} // namespace acp
