// acp::net::listener against clients no one here wrote: the `ws` npm package over ws:// and
// wss://, and Node's `tls` over tls:// (js/listen_ws_client.mjs, js/listen_tls_client.mjs). The
// server runs on its own thread; the test reads the client's output lines, each within a bound.

#include "listen_support.hpp"
#include "support.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <thread>

namespace {
using namespace acp::net::listen_test;
namespace t = acp::net::test;

/// An echoing server (listen_support.hpp) running on a thread of its own.
class threaded_server {
public:
  threaded_server(url where, listen_options options) : srv_(ioc_, std::move(where), std::move(options), true) {
    if (srv_.error.empty()) thread_ = std::thread([this] { ioc_.run(); });
  }
  /// Stops the thread; then the server (its listener and channels) goes, as in the other tests.
  ~threaded_server() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  threaded_server(const threaded_server&) = delete;
  threaded_server& operator=(const threaded_server&) = delete;

  [[nodiscard]] const std::string& error() const { return srv_.error; }
  [[nodiscard]] unsigned short port() const { return srv_.port(); }
  [[nodiscard]] std::size_t handed_over() const { return srv_.handed_over; }
  [[nodiscard]] std::size_t echo_failures() const { return srv_.echo_failures; }

private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  server srv_;
  std::thread thread_;
};

std::string script(const std::string& name) { return t::node_dir() + "/" + name; }
std::string token_env(const std::string& token) { return "ACP_TEST_TOKEN=" + token; }

/// `result.params.prompt[0].text` of an echo answer with id `id`, or what was wrong.
std::string answer_text(const std::string& line, int id) {
  error_code ec;
  auto v = json::parse(line, ec);
  if (ec || !v.is_object()) return "not JSON: " + line;
  const auto& o = v.get_object();
  if (!o.contains("id") || o.at("id") != json::value(id)) return "wrong id: " + line;
  const auto* r = o.if_contains("result");
  if (!r || !r->is_object() || !r->get_object().contains("params")) return "no result: " + line;
  return std::string(r->at("params").at("prompt").at(0).at("text").as_string());
}

#define SKIP_WITHOUT_NODE()                                                                                            \
  if (auto why = t::node_skip_reason()) GTEST_SKIP() << *why

TEST(listen_node, ws_package_client_gets_its_prompts_answered) {
  SKIP_WITHOUT_NODE();
  threaded_server srv(tcp_url(scheme::ws, "/acp"), with_token());
  ASSERT_EQ(srv.error(), "");
  t::child_process node;
  ASSERT_TRUE(
      node.start({"node", script("listen_ws_client.mjs"), "ws://127.0.0.1:" + std::to_string(srv.port()) + "/acp", "3"},
                 {token_env(secret)}));
  for (int i = 1; i <= 3; ++i) {
    const auto line = node.read_line(10s);
    ASSERT_TRUE(line) << "answer " << i;
    EXPECT_EQ(answer_text(*line, i), "hello " + std::to_string(i));
  }
  EXPECT_EQ(node.read_line(10s), "closed 1000");
  EXPECT_EQ(srv.handed_over(), 1u);
  EXPECT_EQ(srv.echo_failures(), 0u);
}

TEST(listen_node, ws_package_client_without_or_with_a_wrong_token_is_refused) {
  SKIP_WITHOUT_NODE();
  threaded_server srv(tcp_url(scheme::ws, "/acp"), with_token());
  ASSERT_EQ(srv.error(), "");
  const auto where = "ws://127.0.0.1:" + std::to_string(srv.port()) + "/acp";
  {
    t::child_process node;
    ASSERT_TRUE(node.start({"node", script("listen_ws_client.mjs"), where, "1"}));
    EXPECT_EQ(node.read_line(10s), "refused 401");
  }
  {
    t::child_process node;
    ASSERT_TRUE(node.start({"node", script("listen_ws_client.mjs"), where, "1"}, {token_env("not-the-token")}));
    EXPECT_EQ(node.read_line(10s), "refused 403");
  }
  EXPECT_EQ(srv.handed_over(), 0u);
}

TEST(listen_node, ws_package_client_over_wss_with_generated_certificates) {
  SKIP_WITHOUT_NODE();
  std::string why;
  const auto* certs = t::certificates(&why);
  if (!certs) GTEST_SKIP() << why;
  auto opt = with_token();
  opt.tls.cert_file = certs->server_cert;
  opt.tls.key_file = certs->server_key;
  threaded_server srv(tcp_url(scheme::wss, "/acp"), opt);
  ASSERT_EQ(srv.error(), "");
  t::child_process node;
  ASSERT_TRUE(node.start({"node", script("listen_ws_client.mjs"),
                          "wss://127.0.0.1:" + std::to_string(srv.port()) + "/acp", "1", certs->ca_cert},
                         {token_env(secret)}));
  const auto line = node.read_line(10s);
  ASSERT_TRUE(line);
  EXPECT_EQ(answer_text(*line, 1), "hello 1");
  EXPECT_EQ(node.read_line(10s), "closed 1000");
  EXPECT_EQ(srv.handed_over(), 1u);
}

TEST(listen_node, node_tls_client_over_tls_ndjson) {
  SKIP_WITHOUT_NODE();
  std::string why;
  const auto* certs = t::certificates(&why);
  if (!certs) GTEST_SKIP() << why;
  auto opt = with_token();
  opt.tls.cert_file = certs->server_cert;
  opt.tls.key_file = certs->server_key;
  threaded_server srv(tcp_url(scheme::tls), opt);
  ASSERT_EQ(srv.error(), "");
  const auto port = std::to_string(srv.port());
  {
    t::child_process node;
    ASSERT_TRUE(
        node.start({"node", script("listen_tls_client.mjs"), "127.0.0.1", port, certs->ca_cert}, {token_env(secret)}));
    const auto line = node.read_line(10s);
    ASSERT_TRUE(line);
    EXPECT_EQ(answer_text(*line, 1), "hello over tls");
    EXPECT_EQ(node.read_line(10s), "closed");
  }
  {
    // Without the token: the error line, then the end.
    t::child_process node;
    ASSERT_TRUE(node.start({"node", script("listen_tls_client.mjs"), "127.0.0.1", port, certs->ca_cert}));
    const auto line = node.read_line(10s);
    ASSERT_TRUE(line);
    EXPECT_EQ(error_of(*line), (std::pair<std::int64_t, std::string>{-32001, "unauthorized: missing token"}));
    EXPECT_EQ(node.read_line(10s), "closed");
  }
  EXPECT_EQ(srv.handed_over(), 1u);
}

} // namespace
