// `--serve`: the live trace viewer's server, with a raw-socket HTTP client (every wait bounded).
#include "../../conductor/src/live_view.hpp"

#include <acp/conductor/options.hpp>
#include <acp/conductor/trace.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acp::conductor {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

/// A blocking TCP client whose every read has a deadline.
class raw_client {
public:
  explicit raw_client(std::uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  void send(const std::string& s) { ASSERT_EQ(::write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  void get(const std::string& target, const std::string& extra = {}) {
    send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
  }

  /// Reads until `what` has been received (true), the end of the stream or the deadline (false).
  bool read_until(const std::string& what, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(what) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  /// Reads until the server closes (true) or the deadline (false).
  bool read_to_eof(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_)
      if (!read_some(deadline)) return eof_;
    return true;
  }
  [[nodiscard]] const std::string& received() const { return received_; }
  [[nodiscard]] std::string body() const {
    const auto p = received_.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : received_.substr(p + 4);
  }
  [[nodiscard]] bool eof() const { return eof_; }

private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    received_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string received_;
};

std::string event(int i) {
  return R"({"type":"notification","ts":)" + std::to_string(i) +
         R"(,"protocol":"acp","from":"Agent","to":"Client","method":"session/update","params":{"n":)" +
         std::to_string(i) + "}}";
}

void publish(live_view& v, const std::string& lines) {
  const std::string_view piece(lines);
  v.publish(std::span<const std::string_view>(&piece, 1));
}

std::unique_ptr<live_view> start(live_view_options o = {}) {
  o.page = [] { return std::string("<!doctype html><title>viewer</title>"); };
  auto v = live_view::start(std::move(o));
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error());
  return v ? std::move(*v) : nullptr;
}

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(live_view, binds_loopback_on_a_random_port_with_an_unguessable_token) {
  auto v = start();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->loopback());
  EXPECT_NE(v->port(), 0);
  EXPECT_EQ(v->token().size(), 32u);
  EXPECT_EQ(v->token().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(v->url(), "http://127.0.0.1:" + std::to_string(v->port()) + "/?token=" + v->token());
  auto w = start();
  ASSERT_TRUE(w);
  EXPECT_NE(v->token(), w->token());
}

TEST(live_view, a_non_loopback_address_is_served_and_flagged) {
  auto v = start(live_view_options{.address = "0.0.0.0:0"});
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->loopback()); // the conductor prints a warning for it (entry.cpp)
  EXPECT_EQ(v->url().rfind("http://0.0.0.0:" + std::to_string(v->port()) + "/?token=", 0), 0u) << v->url();
  raw_client c(v->port()); // reachable on loopback too
  ASSERT_TRUE(c.connected());
  c.get("/?token=" + v->token());
  ASSERT_TRUE(c.read_to_eof());
  EXPECT_EQ(c.received().rfind("HTTP/1.1 200", 0), 0u);
}

TEST(live_view, bad_addresses_are_one_line_errors) {
  for (const char* a : {"nonsense", "127.0.0.1:99999", "example.com:80", ":80", "127.0.0.1:"}) {
    auto v = live_view::start(live_view_options{.address = a});
    ASSERT_FALSE(v.has_value()) << a;
    EXPECT_EQ(v.error().find('\n'), std::string::npos);
    EXPECT_EQ(v.error().rfind("--serve: ", 0), 0u) << v.error();
  }
}

TEST(live_view, token_path_and_method_are_checked) {
  auto v = start();
  ASSERT_TRUE(v);
  struct probe {
    std::string request;
    std::string status;
  };
  const std::string t = v->token();
  std::string wrong = t;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  const std::vector<probe> probes{
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
      {"GET /?token=" + wrong + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
      {"GET /?token=" + t + "x HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
      {"GET /events?token=" + wrong + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 403"},
      {"GET /other?token=" + t + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404"},
      {"POST /events?token=" + t + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405"},
      {"DELETE /?token=" + t + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405"},
      {"GET /?token=" + t + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200"},
      {"garbage\r\n\r\n", "HTTP/1.1 400"},
  };
  for (const auto& p : probes) {
    raw_client c(v->port());
    ASSERT_TRUE(c.connected());
    c.send(p.request);
    EXPECT_TRUE(c.read_to_eof()) << p.request;
    EXPECT_EQ(c.received().rfind(p.status, 0), 0u) << p.request << " -> " << c.received();
  }
  raw_client page(v->port());
  page.get("/?token=" + t);
  ASSERT_TRUE(page.read_to_eof());
  EXPECT_NE(page.received().find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(page.received().find("Referrer-Policy: no-referrer"), std::string::npos);
  EXPECT_EQ(page.body(), "<!doctype html><title>viewer</title>");
}

TEST(live_view, events_without_event_stream_accept_are_a_json_array) {
  auto v = start();
  ASSERT_TRUE(v);
  publish(*v, event(1) + "\n" + event(2) + "\n");
  publish(*v, event(3) + "\n");
  ASSERT_TRUE(eventually([&] { return v->held_events() == 3; }));
  raw_client c(v->port());
  c.get("/events?token=" + v->token());
  ASSERT_TRUE(c.read_to_eof());
  EXPECT_NE(c.received().find("Content-Type: application/json"), std::string::npos);
  const auto arr = json::parse(c.body()).as_array();
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr[2].at("params").at("n").as_int64(), 3);

  live_view_options none;
  auto empty = start(none);
  raw_client e(empty->port());
  e.get("/events?token=" + empty->token());
  ASSERT_TRUE(e.read_to_eof());
  EXPECT_EQ(e.body(), "[]");
}

TEST(live_view, sse_replays_then_streams_live_events_and_keep_alives) {
  auto v = start(live_view_options{.keep_alive = 200ms});
  ASSERT_TRUE(v);
  publish(*v, event(1) + "\n" + event(2) + "\n");
  raw_client c(v->port());
  c.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(c.read_until("data: " + event(2) + "\n\n"));
  EXPECT_NE(c.received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(c.received().find("\r\n\r\ndata: " + event(1) + "\n\ndata: " + event(2) + "\n\n"), std::string::npos);
  EXPECT_EQ(c.received().find("event: skipped"), std::string::npos);
  // A batch may end inside a line: the line is sent once it is complete.
  const std::string third = event(3);
  publish(*v, third.substr(0, 10));
  publish(*v, third.substr(10) + "\n");
  ASSERT_TRUE(c.read_until("data: " + third + "\n\n"));
  ASSERT_TRUE(c.read_until(": keep-alive\n\n", 2s));
  EXPECT_FALSE(c.eof());
}

TEST(live_view, history_is_bounded_and_new_clients_are_told_how_many_were_skipped) {
  const std::size_t one = event(10).size() + 1;
  auto v = start(live_view_options{.max_history_bytes = one * 3});
  ASSERT_TRUE(v);
  std::string lines;
  for (int i = 10; i < 20; ++i) lines += event(i) + "\n";
  publish(*v, lines);
  EXPECT_EQ(v->held_events(), 3u);
  EXPECT_EQ(v->dropped_events(), 7u);
  raw_client c(v->port());
  c.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(c.read_until("data: " + event(19) + "\n\n"));
  EXPECT_NE(c.received().find("\r\n\r\nevent: skipped\ndata: 7\n\ndata: " + event(17) + "\n\n"), std::string::npos)
      << c.received();
  EXPECT_EQ(c.received().find(event(16)), std::string::npos);
}

TEST(live_view, a_slow_client_is_dropped_and_never_blocks_the_publisher) {
  auto v = start(live_view_options{.max_client_backlog = 256 << 10});
  ASSERT_TRUE(v);
  raw_client slow(v->port(), 4096); // connects, asks, then never reads
  slow.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(slow.read_until("\r\n\r\n"));
  std::string big;
  for (int i = 0; i < 200; ++i) big += event(i) + std::string(4000, ' ') + "\n";
  const auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < 40; ++round) { // ~32 MB in all
    publish(*v, big);
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s); // publish never waited for the client
  EXPECT_TRUE(eventually([&] { return v->dropped_clients() == 1; }));
  // A reader that keeps up is still served.
  raw_client ok(v->port());
  ok.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(ok.read_until("\r\n\r\n"));
  publish(*v, event(9999) + "\n");
  EXPECT_TRUE(ok.read_until("data: " + event(9999) + "\n\n", 10s));
}

TEST(live_view, too_many_clients_get_503) {
  auto v = start(live_view_options{.max_clients = 2});
  ASSERT_TRUE(v);
  raw_client a(v->port()), b(v->port());
  a.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  b.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(a.read_until("\r\n\r\n"));
  ASSERT_TRUE(b.read_until("\r\n\r\n"));
  raw_client third(v->port());
  ASSERT_TRUE(third.read_to_eof());
  EXPECT_EQ(third.received().rfind("HTTP/1.1 503", 0), 0u) << third.received();
}

TEST(live_view, a_silent_connection_is_closed_after_the_header_deadline) {
  auto v = start(live_view_options{.header_timeout = 200ms});
  ASSERT_TRUE(v);
  raw_client c(v->port());
  c.send("GET /?tok");
  EXPECT_TRUE(c.read_to_eof(3s));
}

TEST(live_view, stop_sends_what_is_left_closes_every_client_and_joins) {
  auto v = start();
  ASSERT_TRUE(v);
  raw_client c(v->port());
  c.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(c.read_until("\r\n\r\n"));
  publish(*v, event(1) + "\n");
  const auto t0 = std::chrono::steady_clock::now();
  v->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(c.read_to_eof());
  EXPECT_NE(c.received().find("data: " + event(1) + "\n\n"), std::string::npos);
  raw_client late(v->port());
  EXPECT_FALSE(late.connected() && late.read_until("HTTP", 500ms));
  v->stop(); // idempotent
}

TEST(live_view, the_trace_writer_taps_its_batches_to_the_viewer_without_a_file) {
  auto v = start();
  ASSERT_TRUE(v);
  raw_client c(v->port());
  c.get("/events?token=" + v->token(), "Accept: text/event-stream\r\n");
  ASSERT_TRUE(c.read_until("\r\n\r\n"));
  auto w = trace_writer::without_file(trace_options{.tap = v->tap()});
  ASSERT_TRUE(w.has_value());
  const json::value params = {{"sessionId", "s1"}};
  w->notification(chain_position::agent(), chain_position::proxy(0), "session/update", &params);
  w->request(chain_position::client(), chain_position::agent(), json::value(7), "session/prompt", nullptr);
  ASSERT_TRUE(w->flush());
  ASSERT_TRUE(c.read_until(R"("method":"session/prompt")"));
  ASSERT_TRUE(c.read_until("\n\n", 1s));
  EXPECT_NE(c.received().find(R"(data: {"type":"notification",)"), std::string::npos);
  EXPECT_NE(c.received().find(R"x("from":"Agent","to":"Proxy(0)","method":"session/update","session":"s1")x"),
            std::string::npos);
  w->close();
  v->stop();
  EXPECT_TRUE(c.read_to_eof());
}

TEST(live_view, the_tap_sees_exactly_the_bytes_written_to_the_file) {
  char tmpl[] = "/tmp/acp-live-tap-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/t.jsons";
  std::mutex mu;
  std::string tapped;
  std::size_t batches = 0;
  auto w = trace_writer::open(path, trace_options{.tap = [&](std::span<const std::string_view> batch) {
                                const std::lock_guard lk(mu);
                                ++batches;
                                for (auto piece : batch) tapped += piece;
                                EXPECT_EQ(tapped.back(), '\n'); // whole lines only
                              }});
  ASSERT_TRUE(w.has_value());
  const json::value params = {{"text", std::string(100000, 'x')}}; // spans several queue blocks
  for (int i = 0; i < 50; ++i)
    w->request(chain_position::client(), chain_position::proxy(0), json::value(i), "m", &params);
  w->close();
  std::ifstream f(path);
  const std::string file((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 50);
  const std::lock_guard lk(mu);
  EXPECT_EQ(tapped, file);
  EXPECT_GE(batches, 1u);
  std::system(("rm -rf '" + std::string(tmpl) + "'").c_str());
}

TEST(live_view, command_line_serve_history_and_no_live_view_in_serve_mode) {
  const char* ok[] = {"acp-conductor", "--serve", "--serve-history", "1MiB", "agent", "x"};
  auto r = parse_command_line(6, ok);
  ASSERT_TRUE(std::holds_alternative<conductor_options>(r));
  EXPECT_EQ(std::get<conductor_options>(r).live_view, "127.0.0.1:0");
  EXPECT_EQ(std::get<conductor_options>(r).live_view_history, std::size_t{1} << 20);
  const char* bad[] = {"acp-conductor", "--serve-history", "lots", "agent", "x"};
  auto b = parse_command_line(5, bad);
  ASSERT_TRUE(std::holds_alternative<early_exit>(b));
  EXPECT_EQ(std::get<early_exit>(b).code, 2);
  const char* both[] = {"acp-conductor", "--serve", "serve", "--listen", "tcp://127.0.0.1:0", "agent", "x"};
  auto s = parse_command_line(7, both);
  ASSERT_TRUE(std::holds_alternative<early_exit>(s));
  EXPECT_EQ(std::get<early_exit>(s).code, 2);
  EXPECT_NE(std::get<early_exit>(s).text.find("--serve"), std::string::npos);
}

} // namespace
} // namespace acp::conductor
