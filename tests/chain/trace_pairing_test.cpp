// The trace pairs every response with exactly one request (issue: trace parity with the Rust
// reference): each event carries the id used on the link it travelled, the id its receiver saw.
// A 3-proxy chain where the editor reuses its ids, the agent asks the editor, and a cancel is
// passed on.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <unistd.h>

namespace {
using namespace acp::test;
namespace json = boost::json;

std::vector<json::object> read_events(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::vector<json::object> events;
  for (std::string line; std::getline(f, line);) events.push_back(json::parse(line).as_object());
  return events;
}

using pair_key = std::tuple<std::string, std::string, std::string>; // from, to, id (serialized)

pair_key request_key(const json::object& e) {
  return {std::string(e.at("from").as_string()), std::string(e.at("to").as_string()), json::serialize(e.at("id"))};
}
/// A response travels the other way: its request went `to` -> `from`.
pair_key response_key(const json::object& e) {
  return {std::string(e.at("to").as_string()), std::string(e.at("from").as_string()), json::serialize(e.at("id"))};
}

TEST(trace_pairing, every_response_pairs_with_exactly_one_request_in_a_three_proxy_chain) {
  const auto path = std::filesystem::temp_directory_path() / ("acp-pairing-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    const auto pass = component(component_path(), {"pass-proxy"});
    scripted_peer editor(
        chain({pass, pass, pass, component(component_path(), {"echo-agent"})}, {"--trace", path.string()}));
    ASSERT_TRUE(editor.initialize());
    // The editor reuses id 1 once each request is answered (allowed by JSON-RPC): on each link
    // the conductor sends it under an id of its own.
    for (int round = 0; round < 3; ++round) {
      editor.send(request(1, "vendor/echo", json::object{{"round", round}}));
      ASSERT_TRUE(editor.read_response(1, nullptr));
    }
    // The agent asks the editor (requests toward the client, with the agent's own ids), twice.
    for (int round = 0; round < 2; ++round) {
      editor.send(request(2, "test/ask-client", json::object{{"method", "vendor/ask"}, {"params", json::object()}}));
      auto asked = editor.read(10s);
      ASSERT_TRUE(asked);
      ASSERT_EQ(asked->at("method"), "vendor/ask");
      if (round == 1) {
        // Cancelled by the editor while the agent waits: the conductor passes the cancel on.
        editor.send(json::object{
            {"jsonrpc", "2.0"}, {"method", "$/cancel_request"}, {"params", json::object{{"requestId", 2}}}});
      }
      editor.send(json::object{{"jsonrpc", "2.0"}, {"id", asked->at("id")}, {"result", json::object{{"ok", true}}}});
      ASSERT_TRUE(editor.read_response(2, nullptr));
    }
    editor.close_stdin();
    ASSERT_EQ(editor.wait_exit(10s), 0);
  }
  const auto events = read_events(path);
  std::filesystem::remove(path);

  std::map<pair_key, int> requests;
  std::map<pair_key, int> responses;
  int cancels = 0;
  for (const auto& e : events) {
    if (e.at("type") == "request") ++requests[request_key(e)];
    if (e.at("type") == "response") ++responses[response_key(e)];
  }
  for (const auto& [key, n] : requests) {
    EXPECT_EQ(n, 1) << "two requests traced as " << std::get<0>(key) << " -> " << std::get<1>(key) << " id "
                    << std::get<2>(key);
    EXPECT_EQ(responses.count(key), 1u) << "no response to " << std::get<0>(key) << " -> " << std::get<1>(key) << " id "
                                        << std::get<2>(key);
  }
  for (const auto& [key, n] : responses) {
    EXPECT_EQ(n, 1) << "two responses for one request";
    EXPECT_EQ(requests.count(key), 1u) << "a response with no request: " << std::get<1>(key) << " -> "
                                       << std::get<0>(key) << " id " << std::get<2>(key);
  }
  // initialize, 3 x vendor/echo, 2 x (test/ask-client and vendor/ask), each over 4 hops.
  EXPECT_EQ(requests.size(), (1u + 3u + 2u * 2u) * 4u);

  // The cancel went down the chain under the id each link used for the cancelled request.
  for (const auto& e : events) {
    if (e.at("type") != "notification" || e.at("method") != "$/cancel_request") continue;
    ++cancels;
    const pair_key cancelled{std::string(e.at("from").as_string()), std::string(e.at("to").as_string()),
                             json::serialize(e.at("params").at("requestId"))};
    ASSERT_EQ(requests.count(cancelled), 1u) << json::serialize(e);
  }
  EXPECT_GE(cancels, 1); // at least Client -> Proxy(0); the proxies pass it on too
}

} // namespace
