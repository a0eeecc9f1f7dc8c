// acp-chain-test-component: small components for the conductor's end-to-end tests.
//   echo-agent          an agent answering every request with {"method", "params"} exactly as
//                       received; notifications come back as `test/echoed` notifications;
//                       `test/ask-client {method, params}` sends that request to the client and
//                       answers with the client's result or error.
//   forward-proxy-init  a broken proxy that forwards `_proxy/initialize` to its successor.
//   pass-proxy          an empty proxy (pure pass-through).
//   fault-proxy FAULT [WHEN]
//                       a pass-through proxy that misbehaves at WHEN (see fault_proxy): crash
//                       (SIGKILL itself), exit (status 0), hang (stops serving), garbage (a
//                       non-JSON line on stdout, then passes the message on), overlong (a 200 KiB
//                       line on stdout, then passes the message on), badutf8 (a line with invalid
//                       UTF-8), close-stdout (closes its protocol output and stays alive).
//   stream-agent [ignore-cancel] [ignore-eof] [every=MS]
//                       an agent written without the SDK, as the agents people run: a prompt
//                       streams agent_message_chunk updates every MS ms (default 5) until a
//                       `session/cancel` for its session arrives (then stopReason "cancelled");
//                       stderr says "received session/cancel" and "received EOF", and
//                       "write failed: EPIPE" when its output is closed under it (as real
//                       agents complain). ignore-cancel: keeps streaming after the cancel;
//                       ignore-eof: stays alive after EOF (until a signal).
#include <acp/sdk.hpp>

#include <boost/json/serialize.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <boost/json/parse.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace json = boost::json;

namespace {

json::value echo_of(const acp::jsonrpc::message& msg) {
  json::object o;
  o["method"] = msg.method();
  o["params"] = msg.params() ? *msg.params() : json::value(nullptr);
  return o;
}

int echo_agent() {
  acp::agent_builder agent;
  agent.on_receive_request_from(acp::client, "initialize",
                                [](acp::jsonrpc::message& msg, acp::responder& r, acp::context&) {
                                  json::object result;
                                  result["protocolVersion"] = 1;
                                  result["agentCapabilities"] = json::object();
                                  json::object meta;
                                  meta["received"] = echo_of(msg);
                                  result["_meta"] = meta;
                                  r.respond(result);
                                  return acp::handled::yes;
                                });
  agent.on_receive_request_from(
      acp::client, "test/ask-client", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context& cx) {
        const auto& p = msg.params()->as_object();
        auto sent = cx.send_request_to(acp::client, p.at("method").as_string(), p.at("params"));
        std::move(sent).forward_response_to(std::move(r));
        return acp::handled::yes;
      });
  agent.on_receive_request_from(acp::client, "", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context&) {
    r.respond(echo_of(msg));
    return acp::handled::yes;
  });
  agent.on_receive_notification_from(acp::client, "", [](acp::jsonrpc::message& msg, acp::context& cx) {
    cx.send_notification_to(acp::client, "test/echoed", echo_of(msg));
    return acp::handled::yes;
  });
  return agent.run_stdio();
}

int forward_proxy_init() {
  acp::proxy_builder proxy;
  proxy.on_receive_request_from(
      acp::client, "initialize", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context& cx) {
        auto params = msg.params() ? std::optional<json::value>(*msg.params()) : std::nullopt;
        cx.send_request_to(acp::agent, "_proxy/initialize", std::move(params)).forward_response_to(std::move(r));
        return acp::handled::yes;
      });
  return proxy.run_stdio();
}

void write_raw(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

/// Misbehaves as `fault` says; returns when the message should then be passed on.
void misbehave(const std::string& fault, int raw_out) {
  if (fault == "crash") ::kill(::getpid(), SIGKILL);
  if (fault == "exit") std::_Exit(0);
  if (fault == "hang")
    for (;;) ::pause();
  if (fault == "garbage") write_raw(raw_out, "this is not JSON\n");
  if (fault == "badutf8")
    write_raw(raw_out, "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"t\":\"\xff\xfe\"}}\n");
  if (fault == "close-stdout") {
    // Close every descriptor of the protocol output (ours and the SDK's), then stay alive.
    struct stat out {};
    ::fstat(raw_out, &out);
    for (int fd = 0; fd < 1024; ++fd) {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino) ::close(fd);
    }
    for (;;) ::pause();
  }
  if (fault == "overlong")
    write_raw(raw_out, "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"" + std::string(200 * 1024, 'a') + "\"}\n");
}

/// `when`: prompt (a session/prompt whose text contains FAULT), initialize (its
/// `_proxy/initialize`), permission (a session/request_permission coming from the agent), or
/// notice (a `test/fault-now` notification from the client, when nothing is in flight).
int fault_proxy(const std::string& fault, const std::string& when) {
  // The protocol stdout as the SDK will use it, kept for writing raw bytes behind its back.
  static int raw_out = ::dup(STDOUT_FILENO);
  acp::proxy_builder proxy;
  auto on_request = [fault](acp::jsonrpc::message& msg, acp::responder&, acp::context&) {
    if (msg.method() != "session/prompt" || json::serialize(msg.json()).find("FAULT") != std::string::npos)
      misbehave(fault, raw_out);
    return acp::handled::no; // and pass it on
  };
  if (when == "prompt") proxy.on_receive_request_from(acp::client, "session/prompt", on_request);
  if (when == "initialize") proxy.on_receive_request_from(acp::client, "initialize", on_request);
  if (when == "permission") proxy.on_receive_request_from(acp::agent, "session/request_permission", on_request);
  if (when == "notice")
    proxy.on_receive_notification_from(acp::client, "test/fault-now", [fault](acp::jsonrpc::message&, acp::context&) {
      misbehave(fault, raw_out);
      return acp::handled::yes;
    });
  return proxy.run_stdio();
}

// ---- stream-agent ------------------------------------------------------------------------

struct stream_agent {
  bool ignore_cancel = false;
  bool ignore_eof = false;
  int every_ms = 5;
  std::optional<json::value> turn_id; // the prompt being streamed
  json::value turn_session;
  int chunks = 0;
  bool broken = false; // EPIPE seen: said once

  void say(const std::string& line) {
    const std::string text = line + "\n";
    (void)!::write(STDERR_FILENO, text.data(), text.size());
  }
  void send(const json::value& v) {
    const std::string line = json::serialize(v) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
      const auto n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (errno == EPIPE) say("write failed: EPIPE");
        broken = true;
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  void answer(const json::value& id, json::value result) {
    send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  }
  void handle(const json::object& m) {
    const auto* method = m.if_contains("method");
    if (!method || !method->is_string()) return;
    const auto* params = m.if_contains("params");
    const json::value session = params && params->is_object() && params->as_object().contains("sessionId")
                                    ? params->as_object().at("sessionId")
                                    : json::value();
    if (*method == "initialize")
      return answer(m.at("id"), json::object{{"protocolVersion", 1}, {"agentCapabilities", json::object()}});
    if (*method == "session/new") return answer(m.at("id"), json::object{{"sessionId", "stream-1"}});
    if (*method == "session/prompt") {
      turn_id = m.at("id");
      turn_session = session;
      return;
    }
    if (*method == "session/cancel") {
      say("received session/cancel");
      if (ignore_cancel || !turn_id || session != turn_session) return;
      answer(*turn_id, json::object{{"stopReason", "cancelled"}});
      turn_id.reset();
      return;
    }
    if (m.contains("id")) answer(m.at("id"), json::object());
  }
  void stream_one() {
    json::object content{{"type", "text"}, {"text", "chunk " + std::to_string(++chunks)}};
    json::object update{{"sessionUpdate", "agent_message_chunk"}, {"content", content}};
    send(json::object{{"jsonrpc", "2.0"},
                      {"method", "session/update"},
                      {"params", json::object{{"sessionId", turn_session}, {"update", update}}}});
  }
  int run() {
    std::signal(SIGPIPE, SIG_IGN); // a closed output is a failed write, as in Node and Rust agents
    std::string buffer;
    bool eof = false;
    for (;;) {
      pollfd in{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&in, eof ? 0 : 1, turn_id ? every_ms : -1);
      if (ready < 0 && errno != EINTR) return 1;
      if (ready > 0) {
        char chunk[4096];
        const auto n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n <= 0) {
          say("received EOF");
          if (!ignore_eof) return 0;
          eof = true;
          continue;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
          const auto line = buffer.substr(0, nl);
          buffer.erase(0, nl + 1);
          boost::system::error_code ec;
          auto v = json::parse(line, ec);
          if (!ec && v.is_object()) handle(v.as_object());
        }
      }
      if (turn_id && !broken) stream_one();
      if (eof && !turn_id) ::pause(); // ignore-eof: wait for a signal
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "echo-agent") return echo_agent();
  if (role == "forward-proxy-init") return forward_proxy_init();
  if (role == "pass-proxy") return acp::proxy_builder().run_stdio();
  if (role == "stream-agent") {
    stream_agent a;
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "ignore-cancel") a.ignore_cancel = true;
      if (arg == "ignore-eof") a.ignore_eof = true;
      if (arg.rfind("every=", 0) == 0) a.every_ms = std::atoi(arg.c_str() + 6);
    }
    return a.run();
  }
  if (role == "fault-proxy" && argc > 2) return fault_proxy(argv[2], argc > 3 ? argv[3] : "prompt");
  std::fprintf(
      stderr,
      "usage: acp-chain-test-component echo-agent|forward-proxy-init|pass-proxy|fault-proxy FAULT|stream-agent\n");
  return 2;
}
