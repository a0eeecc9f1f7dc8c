// acp-chain-test-component: small components for the conductor's end-to-end tests.
//   echo-agent          an agent answering every request with {"method", "params"} exactly as
//                       received; notifications come back as `test/echoed` notifications;
//                       `test/ask-client {method, params}` sends that request to the client and
//                       answers with the client's result or error.
//   forward-proxy-init  a broken proxy that forwards `_proxy/initialize` to its successor.
//   pass-proxy          an empty proxy (pure pass-through).
#include <acp/sdk.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <string>

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
  agent.on_receive_request_from(acp::client, "initialize", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context&) {
    json::object result;
    result["protocolVersion"] = 1;
    result["agentCapabilities"] = json::object();
    json::object meta;
    meta["received"] = echo_of(msg);
    result["_meta"] = meta;
    r.respond(result);
    return acp::handled::yes;
  });
  agent.on_receive_request_from(acp::client, "test/ask-client", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context& cx) {
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
  proxy.on_receive_request_from(acp::client, "initialize", [](acp::jsonrpc::message& msg, acp::responder& r, acp::context& cx) {
    auto params = msg.params() ? std::optional<json::value>(*msg.params()) : std::nullopt;
    cx.send_request_to(acp::agent, "_proxy/initialize", std::move(params)).forward_response_to(std::move(r));
    return acp::handled::yes;
  });
  return proxy.run_stdio();
}

} // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "echo-agent") return echo_agent();
  if (role == "forward-proxy-init") return forward_proxy_init();
  if (role == "pass-proxy") return acp::proxy_builder().run_stdio();
  std::fprintf(stderr, "usage: acp-chain-test-component echo-agent|forward-proxy-init|pass-proxy\n");
  return 2;
}
