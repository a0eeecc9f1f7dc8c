// acp-interop-legacy-proxy: a proxy of the older generation (docs/PROTOCOL.md §4.7), written for the
// interop tests with the SDK's raw connection. It never speaks `_proxy/initialize` (answers it
// -32601 like any unknown method) and expects a plain `initialize` carrying the proxy flag in
// `_meta`, which it echoes in its result's `_meta`. It reaches its successor with
// `_proxy/successor/request` / `_proxy/successor/notification` and receives its successor's
// messages in the same envelopes. It prefixes '~' to the text of every agent_message_chunk.
//   --no-echo       answer `initialize` without echoing the proxy flag (a broken proxy)
//   --pass-through  forward every message untouched (no '~'; for the benchmarks)
#include <acp/protocol/envelope.hpp>
#include <acp/sdk/connection.hpp>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::message;

namespace {

void add_tilde(json::value* params) {
  auto* p = params ? params->if_object() : nullptr;
  auto* update = p ? p->if_contains("update") : nullptr;
  auto* u = update ? update->if_object() : nullptr;
  if (!u || !u->contains("sessionUpdate") || u->at("sessionUpdate") != "agent_message_chunk") return;
  auto* content = u->if_contains("content");
  auto* text = content && content->is_object() ? content->get_object().if_contains("text") : nullptr;
  if (text && text->is_string()) text->get_string().insert(0, "~");
}

/// Sends `msg` (a request) on `conn` with a fresh id and answers `id` on `conn` with the response.
void relay_request(const std::shared_ptr<acp::connection>& conn, message msg, json::value id,
                   bool echo_proxy_flag = false) {
  std::weak_ptr<acp::connection> weak = conn;
  (void)conn->send_request(std::move(msg), [weak, id, echo_proxy_flag](message resp) {
    auto c = weak.lock();
    if (!c) return;
    if (echo_proxy_flag && !resp.is_error()) {
      auto& result = resp.json()["result"];
      if (!result.is_object()) result = json::object();
      auto& meta = result.get_object()["_meta"];
      if (!meta.is_object()) meta = json::object();
      meta.get_object()["proxy"] = true;
    }
    resp.set_id(id);
    c->send(std::move(resp));
  });
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  bool echo = true;
  bool mark = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-echo") == 0)
      echo = false;
    else if (std::strcmp(argv[i], "--pass-through") == 0)
      mark = false;
    else {
      std::fprintf(stderr, "acp-interop-legacy-proxy: unknown option '%s' (known: --no-echo, --pass-through)\n",
                   argv[i]);
      return 2;
    }
  }
  boost::asio::io_context io;
  acp::connection_options co;
  co.name = "conductor";
  auto conn = acp::connection::create(io.get_executor(), acp::make_stdio_transport(io.get_executor()), co);
  std::weak_ptr<acp::connection> weak = conn;
  conn->on_message([weak, echo, mark](message msg) {
    auto c = weak.lock();
    if (!c) return;
    const std::string method(msg.method());
    if (method == pp::legacy_successor_request || method == pp::legacy_successor_notification) {
      // From the successor: unwrap and send it plain toward the client.
      const bool is_request = msg.is_request();
      const json::value id = msg.id();
      auto inner = pp::unwrap_message(std::move(msg));
      if (!inner) {
        if (is_request) c->send_error(id, acp::rpc_error::invalid_params("bad envelope"));
        return;
      }
      if (mark && inner->method() == "session/update") add_tilde(inner->params());
      if (!is_request) return c->send(std::move(*inner));
      return relay_request(c, std::move(*inner), id);
    }
    if (method.rfind("_proxy/", 0) == 0) {
      // `_proxy/initialize` and the current `_proxy/successor` are not of our generation.
      if (msg.is_request()) c->send_error(msg.id(), acp::rpc_error::method_not_found(method));
      return;
    }
    // From the client: wrap it for the successor.
    if (!msg.is_request()) {
      return c->send(pp::wrap_message(std::move(msg), std::nullopt, pp::generation::legacy));
    }
    const json::value id = msg.id();
    const bool is_init = method == "initialize";
    if (is_init) {
      // Our role flag is for us; the successor gets the request without it.
      if (auto* p = msg.params(); p && p->is_object())
        if (auto* meta = p->get_object().if_contains("_meta"); meta && meta->is_object())
          meta->get_object().erase("proxy");
    }
    relay_request(c, pp::wrap_message(std::move(msg), json::value(0), pp::generation::legacy), id, is_init && echo);
  });
  conn->on_close([weak](const acp::close_info&) {
    if (auto c = weak.lock()) c->close();
  });
  conn->start();
  io.run();
  return 0;
}
