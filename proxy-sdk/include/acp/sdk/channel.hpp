#pragma once
// Message channels: whole JSON-RPC messages in and out, whatever carries them.
//
// A `connection` (connection.hpp) works on a `message_channel` and never sees bytes. The channel
// owns the framing: NDJSON over a byte transport (one message per line, what ACP uses over
// stdio; `make_ndjson_channel`), and later one message per WebSocket frame, or messages in HTTP
// bodies and SSE events. The connection keeps the policy: dispatch order, pending requests,
// batches, answering invalid input, congestion and the flow gate.
//
// Design
//   Reading: `read()` waits for the next input; `poll()` returns input already received without
//   waiting (the connection drains it before it next looks at its flow gate, so one transport
//   read of many small messages costs one wait). An input is one unit of the framing (an NDJSON
//   line, a frame, a body) already parsed: message(s) or invalid messages, as
//   `jsonrpc::parsed_line`; or an event of the framing (a message over the limit, an LSP header);
//   or the end of reading with its reason.
//   Writing is two steps so that the caller knows at once what a send costs. `queue(msg)` frames
//   the message into the channel's pending output synchronously and returns its size, or
//   `message_too_large` (nothing queued): the limit check, the size and the byte accounting of
//   congestion happen at send time. `flush()` writes queued output; one writer calls it while
//   `queued_bytes()` is not zero. A channel may take a large message's text buffer instead of
//   copying it (the NDJSON channel writes a text message of `text_buffer::large_bytes` or more
//   from its own buffer), so `queue` takes the message by reference.
//
// Ownership and ordering
//   One owner (the connection) runs one reader (`read`/`poll`) and one writer (`flush`) at a
//   time, on one executor; `queue` and the accessors run on the same executor between them.
//   Output is written in the order it was queued.
//
// Errors are values: `read` reports the end of reading as an input (`ended`, with a
// `close_info`), `flush` returns an error code, `queue` returns `message_too_large`. None of them
// throws for I/O or framing problems.

#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace acp {

/// Why a connection (or a channel's reading) ended.
enum class close_reason { eof, read_error, write_error, oversized_message, closed_locally };
[[nodiscard]] std::string_view to_string(close_reason r) noexcept;

struct close_info {
  close_reason reason = close_reason::eof;
  boost::system::error_code ec; ///< the I/O error, when there was one
  std::string detail;           ///< for logs and error data
};

/// Errors of message channels (category "acp.channel").
enum class channel_errc {
  message_too_large = 1, ///< over the channel's max_message_bytes: not queued
};
[[nodiscard]] const boost::system::error_category& channel_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(channel_errc e) noexcept;

} // namespace acp

template <> struct boost::system::is_error_code_enum<acp::channel_errc> : std::true_type {};

namespace acp {

/// One thing read from a channel.
struct channel_input {
  enum class kind {
    /// `parsed`: one unit of input (an NDJSON line, a frame, a body): a message, an invalid
    /// message, or a batch. A text message may own the buffer it was read into.
    messages,
    /// An LSP `Content-Length:` header: the peer speaks another framing. `sample`: the line (a
    /// printable sample). The connection answers -32700 and reads on.
    content_length_header,
    /// A message over the limit was dropped; `size`: the bytes seen (at least). Its id is
    /// unknown: the connection answers -32600 with a null id and ends (`oversized_message`).
    oversized,
    /// Reading has ended; `end` says why (eof, read_error, closed_locally). Every later read
    /// returns it again.
    ended,
  };
  kind type = kind::messages;
  jsonrpc::parsed_line parsed;
  std::string sample;
  std::size_t size = 0;
  close_info end;
};

/// What `queue` did: `ec` is empty, or `message_too_large` (nothing was queued). `size`: the
/// message's JSON text in bytes, framing not counted (what max_message_bytes limits).
struct queue_result {
  boost::system::error_code ec;
  std::size_t size = 0;
};

class message_channel {
public:
  virtual ~message_channel() = default;

  // ---- reading (one reader) ----

  /// Waits for the next input. After `close_read` or `close`, completes with `ended`
  /// (`closed_locally`).
  [[nodiscard]] virtual boost::asio::awaitable<channel_input> read() = 0;
  /// The next input already received, without waiting: nullopt when `read` would have to wait.
  /// The default has none (every input comes from `read`).
  [[nodiscard]] virtual std::optional<channel_input> poll() { return std::nullopt; }

  // ---- writing (one writer; `queue` from anywhere on the executor) ----

  /// Frames `msg` into the pending output (FIFO) and returns its size. A large text message's
  /// buffer may be taken (the message is left empty; do not use it after a successful queue).
  /// Over `max_message_bytes`: `message_too_large`, nothing queued, `msg` left as it was.
  [[nodiscard]] virtual queue_result queue(jsonrpc::message& msg) = 0;
  /// The same for a message held as a JSON object (sent as it is), and for a batch (a JSON
  /// array of messages, sent as one unit).
  [[nodiscard]] virtual queue_result queue(const boost::json::object& msg) = 0;
  [[nodiscard]] virtual queue_result queue(const boost::json::array& batch) = 0;
  /// Writes the oldest queued output (at least one message; a channel may write in steps, as
  /// NDJSON writes each large message on its own, so its owner can update its accounting in
  /// between): call again while `queued_bytes()` is not zero. It takes the output it writes
  /// out of `queued_bytes()` (into `flushing_bytes()`) before it first suspends. Returns the
  /// write error, if any; then the channel cannot write any more.
  [[nodiscard]] virtual boost::asio::awaitable<boost::system::error_code> flush() = 0;
  /// Writes queued output now, as far as the transport takes it without waiting, when no flush
  /// is in progress; what it does not take stays queued, in order, for the next `flush`. True
  /// when nothing is left queued. An error is not reported here: the bytes stay queued and the
  /// next `flush` meets it. For a sender that has just queued a few messages on an idle link
  /// (a request, its response): they go out without waking the writer. A channel may leave a
  /// large backlog to `flush` (NDJSON: more than a pipe holds). The default writes nothing.
  [[nodiscard]] virtual bool write_now() noexcept { return queued_bytes() == 0; }
  /// Output bytes queued and not yet taken by a flush (framing included). Not zero while
  /// anything is queued.
  [[nodiscard]] virtual std::size_t queued_bytes() const noexcept = 0;
  /// Bytes the flush in progress has taken and not finished writing.
  [[nodiscard]] virtual std::size_t flushing_bytes() const noexcept = 0;
  /// Drops the queued output (not what a flush in progress has taken) and frees its memory.
  virtual void drop_queued() noexcept = 0;

  // ---- ending (idempotent) ----

  /// No more output: the peer sees the end (end of stream, a close frame). After the last flush.
  virtual void shutdown_write() noexcept = 0;
  /// Stops reading: a pending `read` completes with `ended` (`closed_locally`).
  virtual void close_read() noexcept = 0;
  /// Stops everything: pending operations complete (reading `closed_locally`, a flush with an error).
  virtual void close() noexcept = 0;

  // ---- facts ----

  /// The largest message, in JSON text bytes, read or written.
  [[nodiscard]] virtual std::size_t max_message_bytes() const noexcept = 0;
  /// Bytes read from and written to the wire so far (framing included).
  [[nodiscard]] virtual std::uint64_t bytes_read() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t bytes_written() const noexcept = 0;
  /// A short description for logs ("ndjson over stdio").
  [[nodiscard]] virtual std::string_view describe() const noexcept = 0;
};

using message_channel_ptr = std::unique_ptr<message_channel>;

struct ndjson_options {
  /// The largest line, read or written (JSON text without the '\n').
  std::size_t max_message_bytes = framing::default_max_line_bytes;
};

/// One JSON message per line ('\n'-terminated; a trailing '\r' and blank lines are accepted)
/// over a byte transport (pipes, stdio, TCP, Unix sockets, a socketpair; not null), taking
/// ownership of it.
/// Reading: 64 KiB per transport read, 1 MiB while inside a large line; a line over the limit
/// is reported (`oversized`) and its bytes dropped up to its '\n', so memory stays bounded; a
/// line of `text_buffer::large_bytes` or more is handed to its message without a copy; a final
/// line without '\n' at end of stream is still read. Writing: small messages are serialized
/// into one buffer and written together; a large text message is written from its own buffer
/// (one flush step each). `ex` is the executor the channel's operations run on.
[[nodiscard]] message_channel_ptr make_ndjson_channel(const boost::asio::any_io_executor& ex, transport_ptr transport,
                                                      ndjson_options options = {});

} // namespace acp
