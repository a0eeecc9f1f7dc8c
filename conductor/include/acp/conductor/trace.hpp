#pragma once
// The `--trace FILE` writer: one JSON event per line, in the Rust reference conductor's trace
// schema (so its sequence-diagram viewer reads our files):
//
//   {"type":"request","ts":1.250000,"protocol":"acp","from":"Client","to":"Proxy(0)","id":1,
//    "method":"session/prompt","session":"s1","params":{...}}
//   {"type":"response","ts":1.500000,"from":"Proxy(0)","to":"Client","id":1,"is_error":false,
//    "payload":{...}}
//   {"type":"notification","ts":1.300000,"protocol":"acp","from":"Agent","to":"Proxy(0)",
//    "method":"session/update","session":"s1","params":{...}}
//
// `ts` is seconds since the writer was opened (microseconds, taken when the event is traced, not
// when it reaches the file). `session` is params.sessionId when that is a string, and absent
// otherwise. Absent params are written as null. Endpoints are logical chain positions (`Client`,
// `Proxy(N)`, `Agent`), and the caller traces messages with envelopes already stripped. The file
// holds prompts and file contents: it is created with mode 0600.
//
// From the message's text. A text message (`jsonrpc::message::is_text`) is traced without a DOM:
// its params or result text is copied into the event as it arrived (numbers, escapes and key
// order as written; a newline between tokens becomes a space so that the event stays one line),
// and `session` is found with `json_scan`, which stops at the first `sessionId` member (of
// duplicate keys the first counts, where a DOM keeps the last; a key spelled with escapes is not
// recognized). Tracing never materializes the message. Only a DOM message has its params, result
// or error serialized.
//
// Off the routing thread. The caller (the conductor's one routing thread) only composes the event
// and appends it to an in-memory queue; a writer thread of this object takes the whole queue at
// once and writes it with one writev(2). It gathers events for 5 ms before each write, on its own
// timer while events keep coming, so that one write carries many events and a steady stream
// costs the routing thread no wake-up calls (only the first event after a pause, or a queue half
// full, wakes the writer); `tail -f` sees an event within a few milliseconds. With
// `publish_on_request` (the conductor uses it), the caller also gathers its events in a batch of
// its own and hands them to the queue together: one lock per batch instead of one per event.
// A thread, not a coroutine: a regular file cannot be written asynchronously with Asio here
// (epoll does not poll regular files; `asio::stream_file` needs io_uring, which Boost 1.81 enables
// only on request and this build does not), and a write to a slow or full disk, or to a FIFO
// nobody reads, must not stall routing. The thread blocks every signal and touches only the queue
// and the descriptor (which is close-on-exec), so forking children while it runs is safe.
//
// Bounded. Events waiting for the writer (the owner's batch, the queue and the batch being
// written) may take at most `trace_options::max_queued_bytes`; beyond that an event is dropped
// and counted. The trace then says so itself: before the next event that fits (or at close) a marker line
//   {"type":"dropped","ts":2.000000,"count":N}
// records the N events dropped since the previous marker (`dropped_events()` gives the total).
// One event larger than the bound is still accepted when nothing else is waiting. The queue is a
// chain of 64 KiB blocks written with writev(2); up to 2 MiB of them are kept for reuse.
//
// Complete on exit: `close()` (also run by the destructor) waits until everything traced is
// written. A failed write is remembered in `last_error()` and never reported otherwise: tracing
// must not break the chain (later batches are still attempted).
//
// A tap. `trace_options::tap`, when set, is called by the writer thread with each batch right
// after it is written (or instead of writing it, for a writer made by `without_file`): the pieces
// in order, whose concatenation is whole event lines, each ending with '\n' (the `dropped` marker
// included). The routing thread never calls it. It must return quickly (copy what it needs, do
// not block on a network peer): the next batch waits for it, and events queue up meanwhile.
//
// Threads: the tracing functions, `publish_on_request`, `publish`, `close` and the destructor are
// called from one thread at a time (the owner: the routing thread); `flush`, `last_error` and
// `dropped_events` from any thread.

#include <acp/protocol/jsonrpc.hpp>
#include <acp/sdk/peer.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace acp::conductor {

/// A logical position in the chain, spelled as the Rust conductor spells it: the client, the
/// proxy at `index`, or the agent (the same roles as the SDK's `acp::chain_role`).
struct chain_position {
  chain_role which = chain_role::client;
  std::size_t index = 0; ///< proxy index, for `proxy`

  [[nodiscard]] static constexpr chain_position client() noexcept { return {chain_role::client, 0}; }
  [[nodiscard]] static constexpr chain_position proxy(std::size_t i) noexcept { return {chain_role::proxy, i}; }
  [[nodiscard]] static constexpr chain_position agent() noexcept { return {chain_role::agent, 0}; }
  friend constexpr bool operator==(const chain_position&, const chain_position&) = default;
};

/// "Client", "Proxy(0)", "Agent".
[[nodiscard]] std::string to_string(const chain_position& e);

/// The `protocol` field: ACP messages, or MCP-over-ACP messages.
enum class trace_protocol { acp, mcp };
[[nodiscard]] std::string_view to_string(trace_protocol p) noexcept; ///< "acp" | "mcp"

struct trace_options {
  static constexpr std::size_t default_max_queued_bytes = std::size_t{16} << 20;
  /// Bytes of events waiting to be written beyond which new events are dropped (see the top).
  std::size_t max_queued_bytes = default_max_queued_bytes;
  /// Called on the writer thread with each batch of whole event lines (see the top); empty: none.
  std::function<void(std::span<const std::string_view> batch)> tap;
};

class trace_writer {
public:
  /// Creates (or truncates) `path` with mode 0600 and starts the writer thread. A symbolic link
  /// at `path`, a file that is not regular, owned by another user or with more than one hard link
  /// is refused untouched (`acp::private_file_errc`, acp/sdk/private_file.hpp). Other errors: the
  /// errno of open/ftruncate/fchmod, or of creating the thread.
  [[nodiscard]] static boost::system::result<trace_writer> open(const std::filesystem::path& path,
                                                                trace_options options = {});
  /// Writes to `fd` (a pipe, a socket, a file opened elsewhere), which the writer then owns and
  /// closes. Errors as for `open` (`fd` is closed then too).
  [[nodiscard]] static boost::system::result<trace_writer> adopt(int fd, trace_options options = {});

  /// Writes nowhere: each batch only goes to `options.tap` (`--serve` without `--trace`). Errors:
  /// creating the thread.
  [[nodiscard]] static boost::system::result<trace_writer> without_file(trace_options options);

  trace_writer(trace_writer&& other) noexcept;
  trace_writer& operator=(trace_writer&& other) noexcept;
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;
  /// `close()`.
  ~trace_writer();

  /// A request, notification or response, as an event from its text (see the top): the way to
  /// trace a message. For a response, the `id` is the message's own.
  void message(chain_position from, chain_position to, const jsonrpc::message& m,
               trace_protocol protocol = trace_protocol::acp);
  /// A request under the id it has on the `from` -> `to` link (the id its receiver sees, which the
  /// conductor gives it when it passes it on), from its text as `message` does.
  void request(chain_position from, chain_position to, const boost::json::value& id, const jsonrpc::message& m,
               trace_protocol protocol = trace_protocol::acp);
  /// A response with the id it has on the `from` -> `to` link (its result or error as `payload`).
  void response(chain_position from, chain_position to, const boost::json::value& id, const jsonrpc::message& resp);

  /// DOM forms, for callers that hold the parts rather than a message. `params` may be null
  /// (absent params); `payload` is the result, or the error object when `is_error`.
  void request(chain_position from, chain_position to, const boost::json::value& id, std::string_view method,
               const boost::json::value* params, trace_protocol protocol = trace_protocol::acp);
  void response(chain_position from, chain_position to, const boost::json::value& id, bool is_error,
                const boost::json::value& payload);
  void notification(chain_position from, chain_position to, std::string_view method, const boost::json::value* params,
                    trace_protocol protocol = trace_protocol::acp);

  /// Batching on the owner's side. From this call on, traced events gather in a batch of the
  /// owner's, which goes to the writer thread when `publish()` is called, when it reaches 64 KiB
  /// (an event that large goes at once, after the batch), or at `close()`. `request` is called on
  /// the owner's thread when the first event of a batch is gathered; it must arrange for
  /// `publish()` to be called on that thread soon, and not call it itself (the conductor starts a
  /// 1 ms timer on its event loop). Without this (the default), each event goes to the writer as
  /// it is traced.
  void publish_on_request(std::function<void()> request);
  /// Hands the owner's batch (see `publish_on_request`) to the writer thread. Owner only.
  void publish();

  /// Blocks until every event handed to the writer thread before the call (with batching, the
  /// owner's batch is not) has been written (or its write failed), or until `timeout` has passed
  /// (then false). For tests and shutdown: never call it on the routing thread while the chain
  /// runs.
  [[nodiscard]] bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Writes what is queued (and a pending `dropped` marker), stops the writer thread and closes
  /// the descriptor. Events traced afterwards are ignored. Idempotent.
  void close();

  /// The first write error, if any.
  [[nodiscard]] boost::system::error_code last_error() const;
  /// Events dropped because the queue was full, in total.
  [[nodiscard]] std::uint64_t dropped_events() const;

private:
  struct state;
  explicit trace_writer(std::unique_ptr<state> s) noexcept;

  std::unique_ptr<state> state_; // null when moved from
};

} // namespace acp::conductor
