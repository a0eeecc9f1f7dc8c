#pragma once
// Support for the remote-chain tests (issue 13): a background server (`acp-conductor serve` or
// `acp-test-agent --listen`) whose address is read from its `serving on URL` log line, the
// editor's whole turn through a scripted peer, token files, and raw loopback sockets. Every wait
// is bounded. The editor side reuses tests/chain/harness.hpp; certificates, temporary
// directories and node peers come from tests/net/support.hpp.

#include "harness.hpp"
#include "support.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace acp::remote_test {

using acp::test::scripted_peer;
using namespace std::chrono_literals;

/// A server process started in its own process group; its stderr is kept. On destruction:
/// SIGTERM (an orderly stop of every chain), then SIGKILL to its group and to the groups of any
/// descendant still there, so that a failed test leaves no process behind.
class server {
public:
  /// Starts `argv` and waits up to `timeout` for `serving on URL` on its stderr.
  explicit server(std::vector<std::string> argv, std::vector<std::string> env = {},
                  std::chrono::milliseconds timeout = 15s);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The URL from the `serving on` line ("" when it never came: see log()).
  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  /// The port of url() (0 for unix: or when there is none).
  [[nodiscard]] int port() const;
  [[nodiscard]] std::string log() const { return peer_->stderr_text(); }
  /// True when the log contains `text` within `timeout`.
  [[nodiscard]] bool wait_log(const std::string& text, std::chrono::milliseconds timeout = 10s) const;
  /// True when one line of the log contains `first` and, after it, `then` within `timeout`.
  [[nodiscard]] bool wait_line(const std::string& first, const std::string& then,
                               std::chrono::milliseconds timeout = 10s) const;
  [[nodiscard]] std::vector<pid_t> descendants() const { return peer_->descendants(); }
  /// True when the server has no descendant (within `timeout`).
  [[nodiscard]] bool no_descendants(std::chrono::milliseconds timeout = 10s) const;
  [[nodiscard]] pid_t pid() const noexcept { return peer_->pid(); }
  scripted_peer& process() noexcept { return *peer_; }

private:
  std::unique_ptr<scripted_peer> peer_;
  std::string url_;
};

/// `acp-conductor [global...] serve --listen URL [serve_options...] agent components...`
[[nodiscard]] std::vector<std::string> serve_argv(const std::string& listen, std::vector<std::string> serve_options,
                                                  std::vector<std::string> components,
                                                  std::vector<std::string> global = {});
/// `acp-conductor [global...] connect URL`
[[nodiscard]] std::vector<std::string> connect_argv(const std::string& url, std::vector<std::string> global = {});
/// The shell-quoted component string of the test agent (its full path, then `args`).
[[nodiscard]] std::string test_agent(const std::vector<std::string>& args = {});

/// The outcome of one editor turn.
struct turn_result {
  bool initialized = false;                 ///< initialize answered with a result
  std::optional<boost::json::value> init;   ///< the initialize answer (result or error)
  std::string session;                      ///< "" when session/new failed
  std::optional<boost::json::value> answer; ///< the prompt's answer (result or error)
  std::string text;                         ///< the agent_message_chunk texts, in order
  std::string stop_reason;                  ///< result.stopReason ("" when none)
};
/// initialize, session/new, then a session/prompt with `text`. Stops at the first failure.
turn_result run_turn(scripted_peer& editor, const std::string& text, std::chrono::milliseconds timeout = 20s);

/// A token file with `token` in `dir` (mode 0600); its path.
[[nodiscard]] std::string token_file(const acp::net::test::temp_dir& dir, const std::string& token);

/// A blocking TCP socket connected to 127.0.0.1:`port`, or -1.
[[nodiscard]] int connect_loopback(int port);
/// Waits until `fd` is closed by the peer (read returns 0 or fails) within `timeout`; bytes read
/// on the way are appended to `got`. False on timeout.
bool wait_closed(int fd, std::chrono::milliseconds timeout, std::string* got = nullptr);

/// The `error` object of a JSON-RPC answer, or nullptr.
[[nodiscard]] const boost::json::object* error_of(const std::optional<boost::json::value>& answer);
/// `error.data.reason` of an answer ("" when absent).
[[nodiscard]] std::string error_reason(const std::optional<boost::json::value>& answer);

/// Milliseconds since `t`.
[[nodiscard]] long long ms_since(std::chrono::steady_clock::time_point t);

} // namespace acp::remote_test
