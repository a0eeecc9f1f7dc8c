#pragma once
// acp-redact-proxy on a live link: the proxy on one end of an in-memory duplex, a scripted
// conductor on the other. Shared by tests/proxies/redact_test.cpp and tests/security.
#include "redact.hpp"

#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <sstream>
#include <variant>
#include <vector>

namespace acp::examples {

class redact_proxy_link : public ::testing::Test {
protected:
  using milliseconds = std::chrono::milliseconds;
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override {
    if (conductor_) conductor_->close();
    io_.run_for(milliseconds(50));
  }

  void start(const redact_options& o = {}) {
    auto loaded = load_redactor(o);
    ASSERT_TRUE(loaded.has_value());
    auto [ours, theirs] = make_memory_duplex(io_.get_executor()).value();
    rules_ = std::make_shared<const redactor>(std::move(*loaded));
    proxy_.emplace(make_redact_proxy(rules_, totals_, log_).connect_to(io_.get_executor(), std::move(theirs)));
    conductor_ = connection::create(io_.get_executor(), std::move(ours), connection_options{});
    conductor_->on_message([this](jsonrpc::message m) { received_.push_back(std::move(m)); });
    conductor_->start();
  }

  template <class Pred> bool run_until(Pred done, std::chrono::milliseconds timeout = milliseconds(20000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(5));
    return done();
  }

  /// Sends a request to the proxy; `from_agent` wraps it in `_proxy/successor`.
  void request(bool from_agent, std::string_view method, boost::json::value params,
               std::optional<jsonrpc::message>& answer) {
    boost::json::object msg{{"jsonrpc", "2.0"}, {"id", 0}, {"method", method}, {"params", std::move(params)}};
    if (from_agent)
      msg = boost::json::object{{"jsonrpc", "2.0"},
                                {"id", 0},
                                {"method", "_proxy/successor"},
                                {"params", boost::json::object{{"method", method}, {"params", msg["params"]}}}};
    auto checked = jsonrpc::check(boost::json::value(std::move(msg)));
    ASSERT_TRUE(std::holds_alternative<jsonrpc::message>(checked));
    (void)conductor_->send_request(std::get<jsonrpc::message>(std::move(checked)),
                                   [&answer](jsonrpc::message m) { answer = std::move(m); });
  }

  boost::asio::io_context io_;
  std::shared_ptr<connection> conductor_;
  std::optional<endpoint> proxy_;
  std::vector<jsonrpc::message> received_;
  std::shared_ptr<const redactor> rules_;
  std::shared_ptr<redact_totals> totals_ = std::make_shared<redact_totals>();
  std::ostringstream log_;
};

} // namespace acp::examples
