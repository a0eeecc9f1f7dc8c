// fuzz_mcp_http: the MCP bridge's HTTP side (mcp-bridge/src/http_server.cpp) fed one client
// connection per input over loopback TCP, with a fake provider answering mcp/connect and
// mcp/message in this process.
//
// Input: the bytes the client sends, then it closes its write side. Placeholders are replaced
// first, so the fuzzer can reach past the checks: "@P" the declaration's path, "@T" its token,
// "@S" the Mcp-Session-Id of a session opened at start-up.
// Checks:
//   - the bridge closes the connection after the client's EOF within 3 s (no hang, no slot kept);
//   - what it writes is empty or starts with an HTTP/1.1 (or, to 1.0 clients, 1.0) status line;
//   - the token never appears in what it writes.
#include "fuzz_check.hpp"

#include <acp/mcp_bridge/bridge.hpp>
#include <acp/sdk.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

struct world {
  asio::io_context io;
  std::shared_ptr<acp::mcp_bridge::bridge> bridge;
  std::optional<acp::endpoint> bridge_ep, provider_ep;
  unsigned short port = 0;
  std::string path, token, session;
};

/// Sends `request` on a new connection; once the bridge has been quiet for 30 ms, closes the
/// write side (a client closing mid-call is a path of its own) and reads until the bridge closes
/// (or 3 s pass).
std::optional<std::string> talk(world& w, const std::string& request) {
  tcp::socket s(w.io);
  boost::system::error_code ec;
  // Connect and write asynchronously: a blocking connect that has to wait (loopback on a busy
  // machine) fails with EINTR when libFuzzer's SIGALRM arrives (its -timeout handler is installed
  // without SA_RESTART); a CI run failed so after 17,410 inputs.
  std::optional<boost::system::error_code> connected;
  bool written = false; // a write error is not checked: the bridge may close first (a 503, say)
  s.async_connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), w.port), [&](boost::system::error_code e) {
    connected = e;
    if (e) return;
    asio::async_write(s, asio::buffer(request), [&](boost::system::error_code, std::size_t) { written = true; });
  });
  const auto connect_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(connected && (*connected || written)) && std::chrono::steady_clock::now() < connect_deadline) {
    if (w.io.stopped()) w.io.restart();
    w.io.run_one_for(std::chrono::milliseconds(5));
  }
  FUZZ_CHECK(connected.has_value(), "no connection to the bridge within 5 s");
  FUZZ_CHECK(!*connected, "cannot connect to the bridge: " + connected->message());
  FUZZ_CHECK(written, "the request was not written within 5 s");
  std::string out;
  bool done = false;
  auto last = std::chrono::steady_clock::now();
  std::array<char, 4096> buf{};
  std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code e,
                                                                            std::size_t n) {
    out.append(buf.data(), n);
    last = std::chrono::steady_clock::now();
    if (e) {
      done = true;
      return;
    }
    s.async_read_some(asio::buffer(buf), on_read);
  };
  s.async_read_some(asio::buffer(buf), on_read);
  bool half_closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (w.io.stopped()) w.io.restart();
    w.io.run_one_for(std::chrono::milliseconds(5));
    if (!half_closed && std::chrono::steady_clock::now() - last > std::chrono::milliseconds(30)) {
      s.shutdown(tcp::socket::shutdown_send, ec);
      half_closed = true;
    }
  }
  if (!done) return std::nullopt;
  return out;
}

world& the_world() {
  static world* w = [] {
    std::signal(SIGPIPE, SIG_IGN);
    acp::log::set_level(acp::log::level::error);
    auto* nw = new world;
    auto pair = acp::make_memory_duplex(nw->io.get_executor()).value();
    nw->bridge =
        acp::mcp_bridge::bridge::create(nw->io.get_executor(), {.max_body_bytes = 4096,
                                                                .header_timeout = std::chrono::milliseconds(200),
                                                                .body_timeout = std::chrono::milliseconds(200),
                                                                .idle_timeout = std::chrono::milliseconds(200),
                                                                .call_timeout = std::chrono::milliseconds(500)});
    acp::agent_builder side;
    nw->bridge->install(side, acp::peer::client);
    nw->bridge_ep = side.connect_to(nw->io.get_executor(), std::move(pair.first));
    nw->bridge->start(nw->bridge_ep->cx());
    acp::client_builder provider;
    provider.on_receive_request_from(acp::agent, "mcp/connect",
                                     [](acp::jsonrpc::message&, acp::responder& r, acp::context&) {
                                       r.respond(json::object{{"connectionId", "k"}});
                                       return acp::handled::yes;
                                     });
    provider.on_receive_request_from(
        acp::agent, "mcp/message", [](acp::jsonrpc::message& m, acp::responder& r, acp::context& cx) {
          // every other call also sends a notification first
          static int n = 0;
          if (++n % 2 == 0)
            cx.send_notification_to(
                acp::agent, "mcp/message",
                json::object{{"connectionId", "k"}, {"method", "notifications/tools/list_changed"}});
          r.respond(json::object{{"echo", m.params() ? *m.params() : json::value()}});
          return acp::handled::yes;
        });
    nw->provider_ep = provider.connect_to(nw->io.get_executor(), std::move(pair.second));
    json::value params{
        {"mcpServers", json::array{json::object{{"type", "acp"}, {"name", "t"}, {"serverId", "mcp-server:x"}}}}};
    FUZZ_CHECK(nw->bridge->rewrite_declarations(params) == 1, "no declaration rewritten");
    const auto& d = params.at("mcpServers").at(0);
    const std::string url(d.at("url").as_string());
    nw->port = nw->bridge->http_port();
    nw->path = url.substr(url.find('/', 7));
    nw->token = std::string(d.at("headers").at(0).at("value").as_string()).substr(7);
    const std::string body = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})";
    auto reply = talk(*nw, "POST " + nw->path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + nw->token +
                               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    FUZZ_CHECK(reply, "the start-up initialize got no answer");
    const auto at = reply->find("Mcp-Session-Id: ");
    FUZZ_CHECK(at != std::string::npos, "no session id in: " + *reply);
    nw->session = reply->substr(at + 16, 32);
    return nw;
  }();
  return *w;
}

std::string substitute(const world& w, std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '@' && i + 1 < in.size()) {
      const char k = in[i + 1];
      if (k == 'P' || k == 'T' || k == 'S') {
        out += k == 'P' ? w.path : k == 'T' ? w.token : w.session;
        ++i;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = the_world();
  const auto request = substitute(w, std::string_view(reinterpret_cast<const char*>(data), size));
  const auto reply = talk(w, request);
  FUZZ_CHECK(reply, "the bridge kept the connection open 3 s after the client's EOF");
  FUZZ_CHECK(reply->empty() || reply->starts_with("HTTP/1.1 ") || reply->starts_with("HTTP/1.0 "),
             "not an HTTP response: " + reply->substr(0, 200));
  FUZZ_CHECK(reply->find(w.token) == std::string::npos, "the token was echoed");
  return 0;
}
