// The fake provider, the io-thread fixture and the raw HTTP client of bridge_support.hpp.

#include "bridge_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace acp::mcp_bridge::test {

namespace {

json::object text_result(std::string text, bool is_error = false) {
  json::object r{{"content", json::array{json::object{{"type", "text"}, {"text", std::move(text)}}}}};
  if (is_error) r["isError"] = true;
  return r;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

handled mcp_request(const std::shared_ptr<provider_log>& log, jsonrpc::message& m, responder& r, context& cx) {
  const auto& p = m.params()->as_object();
  const auto method = str(p, "method");
  const auto conn = str(p, "connectionId");
  const json::object empty;
  const auto* inner_v = p.if_contains("params");
  const auto& inner = inner_v && inner_v->is_object() ? inner_v->get_object() : empty;
  log->record("request " + method);
  if (method == "initialize") {
    auto version = str(inner, "protocolVersion");
    if (version != "2025-06-18" && version != "2025-03-26" && version != "2024-11-05") version = "2025-06-18";
    r.respond(json::object{{"protocolVersion", version},
                           {"capabilities", {{"tools", {{"listChanged", true}}}}},
                           {"serverInfo", {{"name", "fake-provider"}, {"version", "1.0.0"}}}});
  } else if (method == "ping") {
    r.respond(json::object{});
  } else if (method == "tools/list") {
    json::array tools;
    for (const char* name : {"echo", "fail", "slow", "notify", "ask", "hang"})
      tools.push_back(json::object{{"name", name},
                                   {"description", std::string("the ") + name + " tool"},
                                   {"inputSchema", {{"type", "object"}}}});
    r.respond(json::object{{"tools", std::move(tools)}});
  } else if (method == "tools/call") {
    const auto name = str(inner, "name");
    const json::object* args = inner.contains("arguments") ? inner.at("arguments").if_object() : nullptr;
    if (name == "echo") {
      r.respond(text_result(args ? str(*args, "text") : ""));
    } else if (name == "fail") {
      r.respond(text_result("the tool failed on purpose", true));
    } else if (name == "slow") {
      const auto ms = args && args->contains("ms") ? args->at("ms").to_number<int>() : 100;
      const auto tag = args ? str(*args, "tag") : "";
      cx.spawn([ms, tag, rr = std::move(r)]() mutable -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
        co_await t.async_wait(asio::use_awaitable);
        rr.respond(text_result("slept " + tag));
      });
    } else if (name == "notify") {
      cx.send_notification_to(acp::agent, "mcp/message",
                              json::object{{"connectionId", conn}, {"method", "notifications/tools/list_changed"}});
      r.respond(text_result("sent"));
    } else if (name == "ask") {
      cx.send_request_to(acp::agent, "mcp/message",
                         json::object{{"connectionId", conn}, {"method", "roots/list"}, {"params", json::object{}}})
          .on_receiving_result([log](rpc_result out) {
            std::lock_guard lock(log->m);
            log->client_answers.push_back(out ? *out : json::value(out.error().to_json()));
          });
      r.respond(text_result("asked"));
    } else if (name == "hang") {
      r.on_cancel([log] { log->record("cancelled"); });
      log->hung.push_back(std::move(r));
    } else {
      r.respond_error(rpc_error::invalid_params("unknown tool: " + name));
    }
  } else {
    r.respond_error(rpc_error::method_not_found(method));
  }
  return handled::yes;
}

} // namespace

void add_fake_provider(acp::client_builder& p, std::shared_ptr<provider_log> log) {
  p.on_receive_request_from(acp::agent, "mcp/connect", [log](jsonrpc::message& m, responder& r, context&) {
    if (str(m.params()->as_object(), "serverId") != "mcp-server:tools") {
      r.respond_error(rpc_error::invalid_params("unknown MCP server", json::object{{"reason", "unknown_server"}}));
      return handled::yes;
    }
    const auto id = "conn-" + std::to_string(++log->next_conn);
    log->record("connect " + id);
    r.respond(json::object{{"connectionId", id}});
    return handled::yes;
  });
  p.on_receive_request_from(acp::agent, "_mcp/connect", [log](jsonrpc::message& m, responder& r, context&) {
    const auto id = "old-" + std::to_string(++log->next_conn);
    log->record("_connect " + str(m.params()->as_object(), "acp_url"));
    r.respond(json::object{{"connection_id", id}});
    return handled::yes;
  });
  p.on_receive_request_from(acp::agent, "mcp/disconnect", [log](jsonrpc::message& m, responder& r, context&) {
    log->record("disconnect " + str(m.params()->as_object(), "connectionId"));
    r.respond(json::object{});
    return handled::yes;
  });
  p.on_receive_notification_from(acp::agent, "_mcp/disconnect", [log](jsonrpc::message& m, context&) {
    log->record("_disconnect " + str(m.params()->as_object(), "connection_id"));
    return handled::yes;
  });
  for (const char* method : {"mcp/message", "_mcp/message"}) {
    p.on_receive_request_from(acp::agent, method, [log](jsonrpc::message& m, responder& r, context& cx) {
      return mcp_request(log, m, r, cx);
    });
    p.on_receive_notification_from(acp::agent, method, [log](jsonrpc::message& m, context&) {
      log->record("notification " + str(m.params()->as_object(), "method"));
      return handled::yes;
    });
  }
}

void bridge_fixture::start(options o) {
  auto pair = make_memory_duplex(io_.get_executor());
  ASSERT_TRUE(pair.has_value());
  bridge_ = bridge::create(io_.get_executor(), std::move(o));
  acp::agent_builder side;
  bridge_->install(side, acp::peer::client);
  bridge_ep_ = side.connect_to(io_.get_executor(), std::move(pair->first));
  bridge_->start(bridge_ep_->cx());
  acp::client_builder provider;
  add_fake_provider(provider, log_);
  provider_ep_ = provider.connect_to(io_.get_executor(), std::move(pair->second));
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

void bridge_fixture::TearDown() {
  if (!thread_.joinable()) return;
  on_io([this] {
    bridge_->close();
    log_->hung.clear();
    bridge_ep_->shutdown();
    provider_ep_->shutdown();
    return 0;
  });
  std::this_thread::sleep_for(50ms);
  work_.reset();
  io_.stop();
  thread_.join();
}

json::value bridge_fixture::rewrite(json::value decl) {
  return on_io([this, decl] {
    json::value params{{"sessionId", "s"}, {"cwd", "/"}, {"mcpServers", json::array{decl}}};
    EXPECT_EQ(bridge_->rewrite_declarations(params), 1u);
    return json::value(params.at("mcpServers").at(0));
  });
}

void bridge_fixture::kill_provider() {
  on_io([this] {
    provider_ep_->cx().conn().abort();
    return 0;
  });
}

json::value http_reply::json_body() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value() : v;
}

int connect_local(unsigned short port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

http_reply read_reply(int fd) {
  std::string data;
  char buf[8192];
  http_reply r;
  std::size_t head_end = std::string::npos;
  std::optional<std::size_t> length;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = data.substr(0, head_end);
        std::size_t pos = head.find("\r\n");
        const auto status_line = head.substr(0, pos);
        if (status_line.size() >= 12) r.status = std::atoi(status_line.c_str() + 9);
        while (pos != std::string::npos && pos < head.size()) {
          const auto next = head.find("\r\n", pos + 2);
          const auto line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
          const auto colon = line.find(':');
          if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers[name] = value;
          }
          pos = next;
        }
        if (r.headers.contains("content-length")) length = std::stoul(r.headers["content-length"]);
      }
    }
    if (head_end != std::string::npos && length && data.size() >= head_end + 4 + *length) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  if (head_end != std::string::npos) r.body = data.substr(head_end + 4, length ? *length : std::string::npos);
  return r;
}

std::string read_until(int fd, std::string_view needle) {
  std::string data;
  char buf[4096];
  while (data.find(needle) == std::string::npos) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

http_reply exchange(unsigned short port, const std::string& request) {
  const int fd = connect_local(port);
  if (fd < 0) return {};
  http_reply r;
  if (send_all(fd, request)) r = read_reply(fd);
  ::close(fd);
  return r;
}

std::string post(const std::string& path, const std::string& token, const std::string& body,
                 const std::string& extra_headers) {
  std::string r = "POST " + path +
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  "Accept: application/json, text/event-stream\r\nConnection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  r += extra_headers;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

std::string path_of(const json::value& decl) {
  const std::string url(decl.at("url").as_string());
  return url.substr(url.find('/', std::string("http://").size()));
}

std::string token_of(const json::value& decl) {
  const std::string value(decl.at("headers").at(0).at("value").as_string());
  return value.substr(std::string("Bearer ").size());
}

unsigned short port_of(const json::value& decl) {
  const std::string url(decl.at("url").as_string());
  const auto colon = url.rfind(':');
  return static_cast<unsigned short>(std::stoi(url.substr(colon + 1)));
}

} // namespace acp::mcp_bridge::test
