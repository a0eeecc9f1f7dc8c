#pragma once
// Shared support for the acp::net tests: an io_context fixture whose every wait is bounded,
// a temporary directory, test certificates made with the `openssl` command-line tool, and a
// runner for the node peers in tests/net/js/.

#include <acp/net/connect.hpp>
#include <acp/sdk/channel.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acp::net::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// An io_context and bounded ways to run it.
class io_test : public ::testing::Test {
protected:
  asio::io_context io;

  [[nodiscard]] asio::any_io_executor ex() { return io.get_executor(); }

  /// Runs handlers until `done()` holds (true) or `timeout` passes (false).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s);
  /// Runs for a fixed time (to check that something does not happen).
  void run_for(std::chrono::milliseconds d);

  /// Starts `task`; an exception escaping it fails the test with `what`.
  void spawn(asio::awaitable<void> task, std::string what);
};

/// An io_test with channels: connect, send, read, each bounded. Channels kept by `keep` are
/// closed at the end of the test (TearDown). Nothing runs after the test body: coroutines still
/// suspended are destroyed with the io_context, never resumed into the test's finished locals.
class channel_test : public io_test {
protected:
  using outcome = boost::system::result<message_channel_ptr, std::string>;
  void TearDown() override;

  /// connect(`text`, `o`) run to its end (the error "the test's wait ran out" after `wait`).
  outcome connect_to(const std::string& text, connect_options o = {}, std::chrono::milliseconds wait = 30s);
  outcome connect_to(const url& target, connect_options o = {}, std::chrono::milliseconds wait = 30s);
  /// The channel of a successful outcome, kept until the end of the test; null (and a failure
  /// naming the error) otherwise.
  message_channel* keep(outcome& r);
  /// Queues `m` and flushes until nothing is queued: whether that worked.
  bool send(message_channel& ch, const boost::json::object& m, std::chrono::milliseconds wait = 60s);
  /// The next input of `ch` (nullopt when none came within `wait`).
  std::optional<channel_input> read_one(message_channel& ch, std::chrono::milliseconds wait = 10s);
  /// Starts a read of `ch` whose input lands in the returned slot.
  std::shared_ptr<std::optional<channel_input>> start_read(message_channel& ch);
  /// The method of the one message `in` holds, or "(no message)" / "(invalid)".
  static std::string method_of(const std::optional<channel_input>& in);

  std::vector<message_channel_ptr> kept;
};

/// A directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// `path()/name`.
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

/// Writes `text` to `path` (mode 0600). false on failure.
bool write_file(const std::string& path, const std::string& text);

/// PEM files for TLS tests, made once per test process (see certificates()).
struct test_certificates {
  std::string dir;
  std::string ca_cert;     ///< the test CA
  std::string server_cert; ///< signed by the CA; SAN IP:127.0.0.1, IP:::1, DNS:localhost
  std::string server_key;
  std::string client_cert; ///< signed by the CA; CN acp-test-client, clientAuth
  std::string client_key;
  std::string other_ca_cert; ///< a CA that signed nothing here (a wrong trust anchor)
  std::string other_cert;    ///< self-signed by other_ca, SAN DNS:other.invalid (a wrong name)
  std::string other_key;
};

/// The test certificates, generated with the `openssl` CLI into a temporary directory on first
/// use (removed at exit). The error (e.g. "openssl: not found") when they could not be made.
[[nodiscard]] const test_certificates* certificates(std::string* error = nullptr);

/// Output and exit status of a command run through /bin/sh (stderr merged into stdout).
struct command_result {
  int status = -1; ///< exit code, or -1 when it could not run / was killed
  std::string output;
};
[[nodiscard]] command_result run_command(const std::string& command);

/// A background child process (a node peer): started with `argv` (argv[0] looked up on PATH),
/// its stdout read line by line. Killed (its process group) on destruction.
class child_process {
public:
  child_process() = default;
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Starts the program; `env` entries "NAME=value" are added to the environment. false when
  /// it could not start.
  bool start(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  /// The next line of its stdout within `timeout` (nullopt: none, or it ended).
  [[nodiscard]] std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
  /// Kills it (SIGKILL to its process group) and reaps it. Idempotent.
  void stop();
  [[nodiscard]] int pid() const noexcept { return pid_; }

private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
};

/// The build tree's node directory for the net tests (ACP_NET_NODE_DIR), or empty when this
/// executable has none; the reason the npm fixture skipped, when it did.
[[nodiscard]] std::string node_dir();
[[nodiscard]] std::optional<std::string> node_skip_reason();

} // namespace acp::net::test
