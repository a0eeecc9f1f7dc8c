#pragma once
// A deterministic harness for the conductor's routing rules (PROTOCOL.md §4–§6), in the style of
// CAF's `expect` tests. The conductor runs on the `start_in_process` seam
// (acp/conductor/router.hpp); the editor (the parent conductor in proxy mode) and every
// component are scripted peers on memory duplexes: no process, no thread, no sleep. The test
// drives the one io_context itself: `expect` runs it until the next message arrives on the named
// link and checks it, failing the test at a deadline; `expect_nothing` runs it until nothing is
// left to do and checks that the link received nothing.
//
// Ordering: a link is a FIFO byte stream, so what one peer sends arrives in order, and what a
// peer sends in one `send_together` arrives in one read. What two peers send is ordered only by
// the test running the conductor in between.
//
// Failures: the first failed expectation reports, at the test's line, what was expected and what
// the link held instead. Every later expectation of that test returns an empty `received` at
// once: one broken rule costs one timeout, not one per line.

#include <acp/conductor/options.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

namespace acp::conductor {
class router;
}

namespace acp::conductor::test {

namespace json = boost::json;
using namespace std::chrono_literals;

inline constexpr std::string_view successor = "_proxy/successor";
inline constexpr std::string_view older_successor_request = "_proxy/successor/request";
inline constexpr std::string_view older_successor_notification = "_proxy/successor/notification";

// ---- messages a peer sends -------------------------------------------------------------------

[[nodiscard]] json::object make_request(json::value id, std::string_view method, json::value params = json::object());
[[nodiscard]] json::object make_notification(std::string_view method, json::value params = json::object());
[[nodiscard]] json::object make_result(json::value id, json::value result = json::object());
[[nodiscard]] json::object make_error(json::value id, std::int64_t code, std::string_view message);
/// `method` inside the successor envelope (`envelope` names the spelling), as a request.
[[nodiscard]] json::object successor_request(json::value id, std::string_view method,
                                             json::value params = json::object(),
                                             std::string_view envelope = successor);
[[nodiscard]] json::object successor_notification(std::string_view method, json::value params = json::object(),
                                                  std::string_view envelope = successor);

// ---- what a peer must receive ----------------------------------------------------------------

/// The shape of the next message on a link. Build with `request`, `notification`, `result_for`,
/// `error_for`; refine with the `with_*` members. Unset parts are not checked.
struct expected {
  enum class kind { request, notification, response };
  kind what = kind::request;
  std::string method;                     ///< requests, notifications: the inner method when wrapped
  std::string envelope;                   ///< empty: plain; else the envelope's method
  std::optional<json::value> id;          ///< the outer id
  std::optional<json::value> params_has;  ///< a subset of the (inner) params, compared recursively
  std::optional<json::value> params_are;  ///< the (inner) params exactly; null: none
  std::vector<std::string> params_lack;   ///< top-level members the (inner) params must not have
  std::optional<json::value> result;      ///< success responses: the result exactly
  std::optional<std::int64_t> error_code; ///< set: an error response with this code
  std::optional<json::value> data_has;    ///< a subset of error.data
  std::string message_has;                ///< a substring of error.message

  [[nodiscard]] expected wrapped(std::string_view envelope_method = successor) const;
  [[nodiscard]] expected with_id(json::value v) const;
  [[nodiscard]] expected with_params(json::value subset) const;
  [[nodiscard]] expected with_exact_params(json::value v) const;
  [[nodiscard]] expected without_param(std::string name) const;
  [[nodiscard]] expected with_result(json::value v) const;
  [[nodiscard]] expected with_data(json::value subset) const;
  [[nodiscard]] expected with_message(std::string substring) const;
};

[[nodiscard]] expected request(std::string_view method);
[[nodiscard]] expected notification(std::string_view method);
[[nodiscard]] expected result_for(json::value id);
[[nodiscard]] expected error_for(json::value id, std::int64_t code);

/// The message that met an expectation (empty when it did not: every accessor then gives null).
class received {
public:
  received() = default;
  explicit received(json::object message);

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] const json::object& json() const noexcept { return message_; }
  [[nodiscard]] const json::value& id() const noexcept;     ///< the outer id
  [[nodiscard]] const json::value& params() const noexcept; ///< the inner params when wrapped
  [[nodiscard]] const json::value& result() const noexcept;

private:
  bool ok_ = false;
  json::object message_;
};

// ---- the peers and the chain -----------------------------------------------------------------

/// One scripted end of a link: it writes lines as told and keeps every line the conductor writes.
class scripted_peer {
public:
  struct line {
    std::string text;
    json::value value; ///< null when `text` is not JSON
  };

  scripted_peer(boost::asio::io_context& io, std::string name, transport_ptr end);
  ~scripted_peer();
  scripted_peer(const scripted_peer&) = delete;
  scripted_peer& operator=(const scripted_peer&) = delete;

  void send(const json::object& message);
  /// Several messages in one write: the conductor reads them together.
  void send_together(const std::vector<json::object>& messages);
  /// Bytes as they are (the caller writes the newlines).
  void send_raw(std::string_view bytes);
  /// End of stream for the conductor once what was sent is written (an editor's EOF, a
  /// component exiting).
  void close_write();

  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] bool has_line() const noexcept;
  [[nodiscard]] line take_line();
  /// The lines received and not taken yet (for failure messages).
  [[nodiscard]] std::vector<std::string> unread() const;
  /// The conductor ended the stream (lines before the end may still wait to be taken).
  [[nodiscard]] bool at_eof() const noexcept;
  /// A read or write that failed other than by end of stream (empty: none).
  [[nodiscard]] const std::string& failure() const noexcept;

private:
  struct state;
  static boost::asio::awaitable<void> read_lines(std::shared_ptr<state> s);
  static boost::asio::awaitable<void> write_lines(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

/// A conductor on `start_in_process` with scripted peers on every link.
class scripted_chain {
public:
  using where = std::source_location;

  /// Components named `names` (in agent mode the last one is the agent).
  explicit scripted_chain(std::vector<std::string> names,
                          enum conductor_options::mode mode = conductor_options::mode::agent);
  /// Ends a chain still running (the editor's EOF), then releases the links.
  ~scripted_chain();
  scripted_chain(const scripted_chain&) = delete;
  scripted_chain& operator=(const scripted_chain&) = delete;

  /// The upstream link: the editor, or the parent conductor in proxy mode.
  [[nodiscard]] scripted_peer& editor() { return *peers_.front(); }
  [[nodiscard]] scripted_peer& component(std::size_t k) { return *peers_.at(k + 1); }
  [[nodiscard]] scripted_peer& agent() { return *peers_.back(); }
  [[nodiscard]] std::size_t components() const noexcept { return peers_.size() - 1; }

  /// The next message on `link` must match `what` (within `timeout`).
  received expect(scripted_peer& link, const expected& what, where at = where::current());
  /// The next `what.size()` messages on `link` match `what` in some order (for answers the
  /// conductor sends in no defined order, e.g. when a link fails). Returned in `what`'s order.
  std::vector<received> expect_in_any_order(scripted_peer& link, const std::vector<expected>& what,
                                            where at = where::current());
  /// The next line on `link`, whatever it is (a batch, say).
  std::optional<json::value> next_value(scripted_peer& link, where at = where::current());
  /// Runs the conductor until nothing is left to do; `link` must have received nothing.
  void expect_nothing(scripted_peer& link, where at = where::current());
  /// Runs the conductor until nothing is left to do; no link may hold an unread message.
  void expect_quiet(where at = where::current());
  /// The conductor ends the stream on `link`, with nothing more before the end.
  void expect_eof(scripted_peer& link, where at = where::current());

  /// Runs the io_context until nothing is ready (a bounded number of rounds).
  void settle();

  /// The whole handshake: the editor's `initialize` (id 0, `init_params()`) goes through every
  /// proxy (each forwards it with the id "<name>-init") to the agent, which answers
  /// `agent_init_result()`; the answers come back. In proxy mode the parent sends
  /// `_proxy/initialize` and answers the last proxy's forward. Returns the editor's response.
  received initialize(where at = where::current());

  [[nodiscard]] static json::value init_params();
  [[nodiscard]] static json::value agent_init_result();

  std::chrono::milliseconds timeout = 5s;

private:
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit);
  [[nodiscard]] std::string link_summary() const;

  boost::asio::io_context io_;
  conductor_options options_;
  std::vector<std::unique_ptr<scripted_peer>> peers_; // [0] upstream, [1 + k] component k
  std::shared_ptr<router> router_;
};

} // namespace acp::conductor::test
