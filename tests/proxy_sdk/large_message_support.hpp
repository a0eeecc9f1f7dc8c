#pragma once
// Shared by the large-message tests (large_message_test.cpp, large_message_flow_test.cpp):
// payloads of an exact size in canonical JSON, text messages around them, and a fixture of two
// connected connections.

#include "test_support.hpp"

#include <acp/protocol/text_buffer.hpp>

#include <csignal>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace acp::test {

using jsonrpc::message;
using jsonrpc::message_kind;

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = KiB * KiB;

/// JSON text of exactly `size` bytes: `head`, a string body, `tail`. The body mixes letters,
/// escapes and multi-byte UTF-8 without a small period, and the whole is in Boost.JSON's
/// canonical form (serialize(parse(x)) == x), so the text and DOM paths agree byte for byte.
inline std::string json_text(std::size_t size, unsigned seed, std::string_view head, std::string_view tail) {
  std::string s(head);
  s.reserve(size);
  const std::size_t end = size - tail.size();
  std::uint32_t x = seed * 2654435761u + 0x9E3779B9u;
  constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_/{}[]";
  while (s.size() < end) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    std::string_view tok;
    switch (x % 97) {
    case 0:
      tok = "\\n";
      break;
    case 1:
      tok = "\\\"";
      break;
    case 2:
      tok = "\\\\";
      break;
    case 3:
      tok = "\xC3\xA9";
      break; // é
    case 4:
      tok = "\xE2\x82\xAC";
      break; // €
    case 5:
      tok = "\\t";
      break;
    default:
      tok = letters.substr((x >> 8) % letters.size(), 1);
    }
    if (s.size() + tok.size() > end) tok = "z";
    s.append(tok);
  }
  s.append(tail);
  return s;
}

/// An object `{"seed":N,"data":"..."}` of exactly `size` bytes.
inline std::string payload(std::size_t size, unsigned seed) {
  return json_text(size, seed, R"({"seed":)" + std::to_string(seed) + R"(,"data":")", R"("})");
}

inline message text_notification(std::string_view method, std::string_view params) {
  return message::from_text(message_kind::notification, nullptr, method, params);
}
inline message text_request(std::string_view method, std::string_view params) {
  return message::from_text(message_kind::request, 0, method, params);
}
inline message text_response(json::value id, std::string_view result) {
  return message::from_text(message_kind::response, std::move(id), "", result);
}

/// The payload (params or result) of `m` as text, whichever form it is in.
inline std::string payload_of(const message& m) {
  if (auto t = m.payload_text()) return std::string(*t);
  if (m.is_response()) return m.result() ? json::serialize(*m.result()) : std::string();
  return m.params() ? json::serialize(*m.params()) : std::string();
}

inline ::testing::AssertionResult same_payload(const message& m, std::string_view want) {
  const auto got = payload_of(m);
  if (got == want) return ::testing::AssertionSuccess();
  const auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  return ::testing::AssertionFailure() << "payload of " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at byte " << (diff.first - got.begin());
}

/// The line a text message goes over the wire as.
inline std::string wire_line(const message& m) {
  std::string s;
  m.write_to(s);
  return s;
}

class large_message_test : public sdk_test {
protected:
  void SetUp() override {
    // A peer that closes its end turns our write into EPIPE, not into a signal (as every ACP
    // program using the SDK sets up in main).
    std::signal(SIGPIPE, SIG_IGN);
  }

  /// Two connected connections; `a` records every message and response it gets, in order.
  void connect(connection_options oa = {}, connection_options ob = {}) {
    auto [ta, tb] = make_memory_duplex(ex()).value();
    oa.name = "a";
    ob.name = "b";
    a = raw(std::move(ta), std::move(oa));
    b = raw(std::move(tb), std::move(ob));
    a->on_message([this](message m) { log.push_back(std::move(m)); });
  }
  void start() {
    a->start();
    b->start();
  }
  /// A callback that appends the response to the log.
  response_callback record() {
    return [this](message m) { log.push_back(std::move(m)); };
  }
  [[nodiscard]] bool wait_log(std::size_t n, std::chrono::milliseconds t = 5s) {
    return run_until([&] { return log.size() >= n; }, t);
  }
  /// The method of each logged message ("<response>" for a response).
  [[nodiscard]] std::vector<std::string> log_methods() const {
    std::vector<std::string> out;
    for (const auto& m : log) out.push_back(m.is_response() ? "<response>" : std::string(m.method()));
    return out;
  }

  std::shared_ptr<connection> a, b;
  std::vector<message> log;
};

} // namespace acp::test
