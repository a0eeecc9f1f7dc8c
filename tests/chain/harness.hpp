#pragma once
// A scripted editor for end-to-end tests: runs a program (normally acp-conductor) with piped
// stdin/stdout, sends JSON lines, reads JSON lines with deadlines, and checks that the
// program's whole process tree is gone afterwards. Every wait is bounded.

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace acp::test {

using namespace std::chrono_literals;

class scripted_peer {
public:
  /// Starts `argv` (argv[0] is a path) in its own process group; stderr goes to `stderr_file`
  /// (kept for the test's messages).
  explicit scripted_peer(std::vector<std::string> argv, std::vector<std::string> extra_env = {});
  ~scripted_peer();
  scripted_peer(const scripted_peer&) = delete;
  scripted_peer& operator=(const scripted_peer&) = delete;

  void send_line(const std::string& line);
  void send(const boost::json::value& v);
  /// The next message (any line that parses as JSON), or nullopt after `timeout`/EOF.
  std::optional<boost::json::value> read(std::chrono::milliseconds timeout = 10s);
  /// Reads until a response with this id arrives; notifications and requests seen on the way are
  /// appended to `seen`. nullopt on timeout/EOF.
  std::optional<boost::json::value> read_response(const boost::json::value& id, std::vector<boost::json::value>* seen,
                                                  std::chrono::milliseconds timeout = 10s);
  /// True when stdout reaches EOF within `timeout` with no more messages (unexpected lines are
  /// appended to `extra`).
  bool read_eof(std::chrono::milliseconds timeout, std::vector<std::string>* extra = nullptr);
  void close_stdin();
  /// Stops reading the program's output and closes it (the program's writes then fail: EPIPE).
  void close_stdout();
  /// The exit code (128+signal for a signal), or nullopt if still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s);
  void signal(int sig);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] std::string stderr_text() const;
  /// Pids of every process descending from this one, seen now (via /proc).
  [[nodiscard]] std::vector<pid_t> descendants() const;

  /// Sends `initialize` with id 0 and returns the response.
  std::optional<boost::json::value> initialize();
  /// Sends `session/new` and returns the session id ("" on failure).
  std::string new_session();

private:
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string stderr_path_;
  std::string buffer_;
  bool eof_ = false;
  std::optional<int> exit_code_;
};

/// True when none of `pids` exists any more (zombies of already-dead parents count as gone).
bool all_gone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout = 5s);

/// Paths of built programs (from compile definitions).
std::string conductor_path();
std::string test_agent_path();
std::string arrow_path();
std::string component_path(); // acp-chain-test-component

/// A shell-quoted component string for `path args...`.
std::string component(const std::string& path, const std::vector<std::string>& args = {});

boost::json::value request(const boost::json::value& id, std::string_view method, boost::json::value params);
/// A `session/prompt` request with one text block.
boost::json::value prompt_request(const boost::json::value& id, const std::string& session, const std::string& text);
/// The argv of `acp-conductor [options…] agent components…`.
std::vector<std::string> chain(std::vector<std::string> components, std::vector<std::string> options = {});
/// The text of every agent_message_chunk among `updates`, concatenated in order.
std::string chunk_text(const std::vector<boost::json::value>& messages);

} // namespace acp::test
