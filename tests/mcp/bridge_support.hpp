#pragma once
// Test support for the MCP bridge: a bridge in an agent endpoint wired in memory to a fake
// provider (a client endpoint answering mcp/connect and mcp/message with a few tools), run on an
// io thread; and a blocking raw HTTP client with timeouts.

#include <acp/mcp_bridge/bridge.hpp>
#include <acp/sdk.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace acp::mcp_bridge::test {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

/// What the fake provider saw (written on the io thread, read from the test thread).
struct provider_log {
  std::mutex m;
  std::vector<std::string> events;
  std::vector<acp::responder> hung; ///< io thread only
  std::vector<json::value> client_answers;
  int next_conn = 0;
  void record(std::string e) {
    std::lock_guard lock(m);
    events.push_back(std::move(e));
  }
  bool has(const std::string& e) {
    std::lock_guard lock(m);
    for (const auto& x : events)
      if (x == e) return true;
    return false;
  }
  /// Waits up to `timeout` for event `e`.
  bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (has(e)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return has(e);
  }
};

/// The fake provider's MCP server: initialize, ping, tools/list and the tools echo, fail, slow,
/// notify (sends tools/list_changed first), ask (sends a roots/list request to the client) and
/// hang (never answers; records a cancellation).
void add_fake_provider(acp::client_builder& p, std::shared_ptr<provider_log> log);

class bridge_fixture : public ::testing::Test {
protected:
  void start(options o = {});
  void TearDown() override;

  /// Runs `f` on the io thread and returns its value (fails the test after 10 s).
  template <class F> auto on_io(F f) -> decltype(f()) {
    using R = decltype(f());
    std::packaged_task<R()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(io_, [&task] { task(); });
    if (fut.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "the io thread did not run a task within 10 s";
      std::abort();
    }
    return fut.get();
  }

  /// Rewrites one declaration (on the io thread) and returns the rewritten entry.
  json::value rewrite(json::value decl);
  /// Shuts the provider's endpoint down (its connection closes).
  void kill_provider();

  asio::io_context io_;
  std::shared_ptr<bridge> bridge_;
  std::optional<acp::endpoint> bridge_ep_, provider_ep_;
  std::shared_ptr<provider_log> log_ = std::make_shared<provider_log>();
  std::thread thread_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
};

// ---- raw HTTP -----------------------------------------------------------------------------------

struct http_reply {
  int status = 0;                             ///< 0: no status line (closed or timed out)
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;
  [[nodiscard]] json::value json_body() const;
};

/// Connects to 127.0.0.1:port; -1 on failure. Reads time out after `timeout`.
int connect_local(unsigned short port, std::chrono::milliseconds timeout = 10s);
bool send_all(int fd, std::string_view bytes);
/// Reads one response (Content-Length delimited, or to EOF).
http_reply read_reply(int fd);
/// Reads until `needle` appears in what was read (or EOF / timeout); returns all read.
std::string read_until(int fd, std::string_view needle);
/// One request on a fresh connection (Connection: close).
http_reply exchange(unsigned short port, const std::string& request);

/// A POST request's text.
std::string post(const std::string& path, const std::string& token, const std::string& body,
                 const std::string& extra_headers = {});
/// The path and token of a rewritten http declaration.
std::string path_of(const json::value& decl);
std::string token_of(const json::value& decl);
unsigned short port_of(const json::value& decl);

} // namespace acp::mcp_bridge::test
