#pragma once
// The `--trace FILE` writer: one JSON event per line, in the Rust reference conductor's trace
// schema (so its sequence-diagram viewer reads our files):
//
//   {"type":"request","ts":1.25,"protocol":"acp","from":"Client","to":"Proxy(0)","id":1,
//    "method":"session/prompt","session":"s1","params":{...}}
//   {"type":"response","ts":1.5,"from":"Proxy(0)","to":"Client","id":1,"is_error":false,
//    "payload":{...}}
//   {"type":"notification","ts":1.3,"protocol":"acp","from":"Agent","to":"Proxy(0)",
//    "method":"session/update","session":"s1","params":{...}}
//
// `ts` is seconds since the writer was opened. `session` is params.sessionId when that is a
// string, and absent otherwise. Absent params are written as null. Endpoints are logical chain
// positions (`Client`, `Proxy(N)`, `Agent`), and the caller traces messages with envelopes
// already stripped. The file holds prompts and file contents: it is created with mode 0600.
//
// Each event is written with one write(2) call (no user-space buffering), so `tail -f` shows
// it immediately. A failed write is remembered in `last_error()` and never reported otherwise:
// tracing must not break the chain. Not thread-safe (one conductor thread).

#include <acp/protocol/jsonrpc.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace acp::conductor {

/// A logical position in the chain, spelled as the Rust conductor spells it.
struct endpoint {
  enum class kind { client, proxy, agent };
  kind which = kind::client;
  std::size_t index = 0; ///< proxy index, for `proxy`

  [[nodiscard]] static constexpr endpoint client() noexcept { return {kind::client, 0}; }
  [[nodiscard]] static constexpr endpoint proxy(std::size_t i) noexcept { return {kind::proxy, i}; }
  [[nodiscard]] static constexpr endpoint agent() noexcept { return {kind::agent, 0}; }
  friend constexpr bool operator==(const endpoint&, const endpoint&) = default;
};

/// "Client", "Proxy(0)", "Agent".
[[nodiscard]] std::string to_string(const endpoint& e);

/// The `protocol` field: ACP messages, or MCP-over-ACP messages.
enum class trace_protocol { acp, mcp };
[[nodiscard]] std::string_view to_string(trace_protocol p) noexcept; ///< "acp" | "mcp"

class trace_writer {
public:
  /// Creates (or truncates) `path` with mode 0600. Errors: the errno of open/fchmod.
  [[nodiscard]] static boost::system::result<trace_writer> open(const std::filesystem::path& path);

  trace_writer(trace_writer&& other) noexcept;
  trace_writer& operator=(trace_writer&& other) noexcept;
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;
  ~trace_writer();

  /// `params` may be null (absent params).
  void request(endpoint from, endpoint to, const boost::json::value& id, std::string_view method,
               const boost::json::value* params, trace_protocol protocol = trace_protocol::acp);
  /// `payload` is the result, or the error object when `is_error`.
  void response(endpoint from, endpoint to, const boost::json::value& id, bool is_error,
                const boost::json::value& payload);
  void notification(endpoint from, endpoint to, std::string_view method,
                    const boost::json::value* params,
                    trace_protocol protocol = trace_protocol::acp);

  /// Any of the three, from a message (request, notification or response).
  void message(endpoint from, endpoint to, const jsonrpc::message& m,
               trace_protocol protocol = trace_protocol::acp);

  /// The first write error, if any.
  [[nodiscard]] boost::system::error_code last_error() const noexcept { return error_; }

private:
  explicit trace_writer(int fd) noexcept;
  [[nodiscard]] double elapsed() const noexcept;
  void write_event(const boost::json::value& event);

  int fd_ = -1;
  std::chrono::steady_clock::time_point start_;
  boost::system::error_code error_;
};

} // namespace acp::conductor
