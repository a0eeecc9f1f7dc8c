#pragma once
// One JSON-RPC connection over a message channel: the runtime under proxies, agents, clients
// and the conductor.
//
// The connection sees whole messages: a `message_channel` (channel.hpp) frames them (NDJSON
// over a byte transport for stdio and sockets; `create(ex, transport)` makes that channel).
//
// Threading and ordering
//   Everything runs on one executor (one io_context, one thread). Per connection there is one
//   reader coroutine and one writer coroutine, and nobody else touches the channel. The reader
//   handles each incoming message to completion before it reads the next: requests and
//   notifications go to the message handler, responses complete the pending request's callback,
//   both synchronously and in arrival order. Sending never blocks: it queues the message in the
//   channel (FIFO; its size is known at once) and wakes the writer, which flushes everything
//   queued. So a message handled before another is also sent before it, responses included.
//
// Back-pressure
//   When the bytes queued for writing pass `write_high_watermark`, the connection's flow gate
//   closes: every reader sharing that gate stops reading until the queue drains to half. Memory
//   stays bounded when a peer floods and the other side reads slowly. Connections of one process
//   that forward to each other (the conductor) share one gate. A connection's own reader is
//   paused by its own congestion only while more than half the watermark waits behind the write
//   in progress: two peers each blocked writing a large message to the other keep reading, and
//   both get through; memory stays below the batch being written plus half the watermark.
//
// Errors
//   Malformed input never ends a connection: a line that is not JSON is answered -32700, an
//   invalid message -32600 (with its id when one can be recovered), a `Content-Length:` header
//   -32700 with a diagnostic; reading goes on. A message over the channel's `max_message_bytes`
//   is answered and ends the connection (reason `oversized_message`): its id is unknown, so
//   closing is the only way to resolve the sender's request. When reading ends, the close
//   handler runs, then every request still pending is answered with -32603 and `data.reason`.
//   A request sent once no response can arrive any more (the writer has finished, or reading
//   has ended with `fail_pending_on_close`) is answered -32603 too, from a posted handler
//   (`data.reason` "connection_closed"), never from inside `send_request`.

#include <acp/protocol/framing.hpp>
#include <acp/protocol/jsonrpc.hpp>
#include <acp/sdk/channel.hpp>
#include <acp/sdk/transport.hpp>
#include <acp/sdk/unique_function.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace acp {

/// A pause switch shared by readers: closed while any connection using it is congested.
class flow_gate {
public:
  explicit flow_gate(const boost::asio::any_io_executor& ex);
  [[nodiscard]] bool is_open() const noexcept { return congested_ == 0; }
  /// How many connections sharing the gate are congested now.
  [[nodiscard]] int congested() const noexcept { return congested_; }
  void congest() noexcept;
  void relieve() noexcept;
  /// Completes when the gate is open, or early when `interrupt` is called (callers re-check
  /// `is_open()`). Any number of coroutines may wait at once.
  boost::asio::awaitable<void> wait_open();
  /// Wakes every waiter without opening the gate (a connection closing while paused).
  void interrupt() noexcept;

private:
  int congested_ = 0;
  std::uint64_t generation_ = 0;
  boost::asio::steady_timer wake_;
};

struct connection_options {
  std::string name = "peer"; ///< for logs and error data
  /// Reading and writing, for the NDJSON channel `create(ex, transport)` makes; a channel given
  /// to `create(ex, channel)` has its own limit (message_channel::max_message_bytes).
  std::size_t max_message_bytes = framing::default_max_line_bytes;
  std::size_t write_high_watermark = std::size_t{8} << 20; ///< queued bytes that close the gate
  std::shared_ptr<flow_gate> gate;                         ///< null: the connection makes its own
  /// Whether this connection's own congestion pauses its own reader. True for an endpoint with
  /// one link (its reads produce its writes). A hub whose links forward to each other (the
  /// conductor) sets false: reading from a peer is what lets that peer drain the queue we hold
  /// for it, so pausing it on its own congestion could deadlock the two.
  bool pause_on_own_congestion = true;
  bool fail_pending_on_close = true; ///< false: the close handler resolves pending requests itself
  /// Output queued while a connection's reader handles what one read brought in (the conductor
  /// forwarding a request, a proxy answering) is written by that reader when it is done with
  /// the read, if this link's writer is idle and has not written for this long: a non-blocking
  /// write, the writer taking what does not fit. A lone request or response then goes out
  /// without a round through the scheduler to wake the writer; streamed output, whose writes
  /// follow each other closely, still gathers in the writer. Negative: always the writer.
  /// 50 µs: round trips through 3 proxies took 0.77–0.92x the time, streaming unchanged
  /// (docs/PERFORMANCE.md, "The streaming loss found; direct writes on by default").
  std::chrono::microseconds direct_write_after_idle{50};
};

/// Receives the response to a request we sent: a response message (result or error). Called
/// exactly once: with the peer's response, or with a -32603 error when the connection closes.
using response_callback = unique_function<void(jsonrpc::message)>;

class connection : public std::enable_shared_from_this<connection> {
public:
  using message_handler = std::function<void(jsonrpc::message)>;
  using close_handler = std::function<void(const close_info&)>;
  using own_message_handler = std::function<void(const jsonrpc::message&)>;

  /// A connection on `channel` (not null), which it owns.
  [[nodiscard]] static std::shared_ptr<connection> create(boost::asio::any_io_executor ex, message_channel_ptr channel,
                                                          connection_options options = {});
  /// A connection on `transport` (not null) framed as NDJSON (make_ndjson_channel with
  /// `options.max_message_bytes`).
  [[nodiscard]] static std::shared_ptr<connection> create(boost::asio::any_io_executor ex, transport_ptr transport,
                                                          connection_options options = {});
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Incoming requests and notifications, in arrival order. Set before `start`.
  void on_message(message_handler handler) { on_message_ = std::move(handler); }
  /// Called once when reading ends (end of stream, error, oversized message, or `close`).
  /// Both handlers are released once reading and writing have finished, so they may capture
  /// shared_ptrs to this connection without leaking it.
  void on_close(close_handler handler) { on_close_ = std::move(handler); }
  /// Sees each message the connection makes and sends by itself, as it is queued: the answers to
  /// input it could not take (a line that is not JSON, an invalid message, an LSP header, a line
  /// over the limit, a request nobody handles) and the error that replaces a response over the
  /// limit. For traces; it must not send. Set before `start`.
  void on_own_message(own_message_handler handler) { on_own_message_ = std::move(handler); }
  /// Starts the reader and the writer.
  void start();

  /// Queues a message as it is (responses, notifications, or requests whose ids you manage).
  /// Over `max_message_bytes` it is not sent: a response is replaced by an error response; a
  /// request or notification is dropped with an error in the log (a request of yours over the
  /// limit is only answered when sent with `send_request`, whose callback gets the error).
  void send(jsonrpc::message msg);
  void send(const boost::json::object& msg);
  /// Sends a request with a fresh id (returned); `on_response` gets its response. When no
  /// response can come any more (see Errors above) it gets -32603 from a posted handler.
  boost::json::value send_request(std::string_view method, std::optional<boost::json::value> params,
                                  response_callback on_response);
  /// Sends `request` (a request or notification-shaped message) with its id replaced by a fresh one.
  boost::json::value send_request(jsonrpc::message request, response_callback on_response);
  /// The id the next `send_request` will give its request (ids are 1, 2, 3, ... per connection):
  /// for a caller that must name the request before sending it (the conductor's trace).
  [[nodiscard]] std::int64_t next_request_id() const noexcept { return next_id_ + 1; }
  void send_notification(std::string_view method, std::optional<boost::json::value> params = {});
  void send_result(boost::json::value id, boost::json::value result);
  void send_error(boost::json::value id, const rpc_error& error);

  /// Sends `$/cancel_request` for a request we sent that is still pending. The request still
  /// gets exactly one response. False when it is not pending.
  bool cancel_request(const boost::json::value& id);

  /// Whether a request we sent with this id still waits for its response.
  [[nodiscard]] bool has_pending(const boost::json::value& id) const noexcept {
    return id.is_int64() && pending_.contains(id.get_int64());
  }
  /// Answers every pending request with `error` (its callbacks run now).
  void fail_pending(const rpc_error& error);

  /// Stops reading, writes what is queued, then ends the stream. Messages sent before the
  /// writer has finished (answers to pending requests failed by the close included) are still
  /// written; after that, sends are dropped. Idempotent.
  void close();
  /// Ends the output once what is queued is written (the peer reads end of stream) and goes on
  /// reading until the peer ends its own output: a peer told to stop is still heard, and never
  /// writes into a closed pipe. Later sends are dropped. Idempotent; `close` still ends reading.
  /// After `close` or `end_output` a write that meets a broken pipe (the peer went away while
  /// we said goodbye) is logged at debug level, not as a warning.
  void end_output();
  /// Stops at once: queued output is dropped. Idempotent.
  void abort();
  /// Completes when reading and writing have both finished.
  boost::asio::awaitable<void> wait_closed();

  [[nodiscard]] const std::string& name() const noexcept { return options_.name; }
  /// Whether the gate lets this connection's reader go on (see pause_on_own_congestion). Its
  /// own congestion pauses it only while bytes wait for a flush to take them: the write in
  /// progress does not count, or two peers each blocked writing a large message to the other
  /// would wait for each other forever.
  [[nodiscard]] bool may_read() const noexcept {
    if (gate_->congested() - (congested_ ? 1 : 0) > 0) return false;
    if (!congested_ || !options_.pause_on_own_congestion) return true;
    return channel_->queued_bytes() <= options_.write_high_watermark / 2;
  }
  /// The gate this connection's reader waits at (shared with others in the conductor).
  [[nodiscard]] flow_gate& gate() const noexcept { return *gate_; }
  [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return ex_; }
  [[nodiscard]] bool reading() const noexcept { return reading_; }
  [[nodiscard]] bool closed() const noexcept { return reader_done_ && writer_done_; }
  [[nodiscard]] std::size_t pending_requests() const noexcept { return pending_.size(); }
  /// Output bytes not yet written: queued, and taken by the flush in progress.
  [[nodiscard]] std::size_t queued_bytes() const noexcept {
    return channel_->queued_bytes() + channel_->flushing_bytes();
  }
  [[nodiscard]] const std::optional<close_info>& close_status() const noexcept { return close_info_; }

  struct stats {
    std::uint64_t messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0;
  };
  /// Messages counted by the connection, bytes by the channel (on the wire, framing included).
  [[nodiscard]] const stats& statistics() const noexcept {
    stats_.bytes_in = channel_->bytes_read();
    stats_.bytes_out = channel_->bytes_written();
    return stats_;
  }
  /// The channel (for its description and limits; reading and writing are the connection's).
  [[nodiscard]] const message_channel& channel() const noexcept { return *channel_; }

private:
  connection(boost::asio::any_io_executor ex, message_channel_ptr channel, connection_options options);

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  void handle_input(channel_input&& in);
  void handle_messages(jsonrpc::parsed_line& parsed);
  void handle_response(jsonrpc::message&& msg);
  /// Sends an error the connection makes itself (after showing it to `on_own_message`).
  void send_own_error(boost::json::value id, const rpc_error& error);
  void handle_invalid(jsonrpc::invalid_message bad, bool in_batch);
  void reading_ended(close_info info);
  /// The writer stopped (a write error, or the writer failed): output is dropped, the channel
  /// closed, and reading ends with `info` unless it has already ended.
  void writer_failed(close_info info);
  /// Queues a message (a large text message's buffer may be taken, not copied); `ours`: a
  /// request we sent (an oversized one is failed locally, so is one no response can come to).
  void enqueue(jsonrpc::message& msg, bool ours);
  /// Queues the responses to a batch we received as one array.
  void queue_batch(boost::json::array responses);
  /// An outgoing message the channel refused: a response is replaced by an error (true: that
  /// error was queued), our own request is failed locally.
  bool replace_refused(const queue_result& refused, const boost::json::value* id, bool response, bool ours);
  /// Answers our request `id` with -32603 from a posted handler (not re-entrantly).
  void fail_later(const boost::json::value& id, rpc_error error);
  /// -32603 for a request sent when no response can arrive (data.reason "connection_closed").
  [[nodiscard]] rpc_error closed_error() const;
  [[nodiscard]] bool writable();
  /// One more message queued: count it, wake the writer, check the watermark.
  void message_queued();
  void update_congestion();
  void reader_may_resume();
  void wake_writer();
  /// Whether output queued now may be written by the reader at the end of its read.
  [[nodiscard]] bool may_write_directly() const noexcept;
  /// At the end of a read: writes what was queued meanwhile (write_now), or wakes the writer.
  void write_directly() noexcept;
  friend class read_scope;
  void relieve_congestion();
  void notify_closed();

  boost::asio::any_io_executor ex_;
  message_channel_ptr channel_;
  connection_options options_;
  std::shared_ptr<flow_gate> gate_;
  message_handler on_message_;
  close_handler on_close_;
  own_message_handler on_own_message_;

  boost::asio::steady_timer writer_wake_;
  boost::asio::steady_timer closed_wake_;
  bool writer_idle_ = false;                           // the writer waits for output
  bool direct_pending_ = false;                        // queued output waits for the end of a read (write_directly)
  std::chrono::steady_clock::time_point last_write_{}; // the end of the last write
  bool congested_ = false;
  bool started_ = false;
  bool reading_ = false;
  bool closing_ = false; // close requested: writer flushes then ends
  bool ending_ = false;  // end_output requested: writer flushes then ends; reading goes on
  bool aborted_ = false; // abort: queued and later output is dropped
  bool reader_done_ = false;
  bool writer_done_ = false;
  std::optional<close_info> close_info_;

  std::int64_t next_id_ = 0;
  std::unordered_map<std::int64_t, response_callback> pending_;

  // Batches we received: responses to their requests are collected and sent as one array.
  struct batch {
    std::size_t outstanding = 0;
    boost::json::array responses;
  };
  std::unordered_map<std::string, std::shared_ptr<batch>> batch_ids_;
  mutable stats stats_; // bytes: refreshed from the channel by statistics()
};

} // namespace acp
