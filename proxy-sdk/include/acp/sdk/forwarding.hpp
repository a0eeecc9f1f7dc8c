#pragma once
// The forwarding core: requests received on links, answered exactly once, and passed on.
//
// Everything that receives a request and may pass it to another link uses this one piece: the
// SDK runtime (a proxy's default forwarding, `forward_response_to`), the conductor's router,
// and later an MCP bridge or a fan-out agent. It is the twin of CAF's `delegate`:
//
//   inbound_table    the requests received and not yet answered, keyed by (link, id). A second
//                    request with an id already in flight on that link is refused (`accept`
//                    returns null; the caller answers `duplicate_id_error`), so the first one's
//                    cancel and response are never lost.
//   inbound_request  one of them. Answered at most once (`inbound_table::answer`; a second
//                    answer is logged and dropped); cancel callbacks run once when the peer sends
//                    `$/cancel_request`; an entry whose last handle goes away unanswered is
//                    answered -32603 (reason `request_dropped`), so no request is left hanging.
//   forward()        sends the request on another link with that link's fresh id (the
//                    connection assigns it), answers the inbound request with the response under
//                    the original id, and re-issues a cancel downstream with the downstream id.
//   issue_cancel()   `$/cancel_request` for a request we sent, optionally inside an envelope.
//
// Closing: when the downstream link closes, its connection answers every request pending on it
// (`connection::fail_pending`), which answers the inbound requests forwarded there. When an
// upstream link closes, `fail_link` answers (or, when nothing can be sent any more, forgets)
// every request received on it. Both happen exactly once per request.
//
// Threading: one executor, no locking (as the connection). Answers are sent synchronously
// through the table's reply function, in the order they are given.

#include <acp/protocol/jsonrpc.hpp>
#include <acp/protocol/rpc_error.hpp>
#include <acp/sdk/unique_function.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace acp {

class connection;

/// A link's identity inside one process (the conductor's editor link and each component link,
/// a runtime's peers): names, not chain positions.
using link_id = std::uint32_t;

class inbound_table;

/// A request received on a link, waiting for its answer. Shared by whoever will answer it
/// (a responder, a forwarded request's response callback, a hold queue).
class inbound_request {
public:
  [[nodiscard]] link_id link() const noexcept { return link_; }
  /// The id as the peer sent it: the answer carries it.
  [[nodiscard]] const boost::json::value& id() const noexcept { return id_; }
  [[nodiscard]] const std::string& method() const noexcept { return method_; }
  [[nodiscard]] bool answered() const noexcept { return answered_; }
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }
  /// Runs `f` when the peer cancels this request (at once when it already has). Not run once
  /// the request is answered.
  void on_cancel(unique_function<void()> f);
  /// Runs `f` with the answer (its id already the peer's) just before it is sent, whoever gives
  /// it: a responder, a forwarded request's response, a close. Run once, in registration order;
  /// an exception from `f` is logged and the answer is still sent. Not run when the request is
  /// forgotten without an answer (`fail_link` with `send` false) or already answered.
  void on_answer(unique_function<void(const jsonrpc::message& answer)> f);
  /// Answers through the table (see `inbound_table::answer`); false when already answered or
  /// the table is gone.
  bool answer(jsonrpc::message response);
  bool answer_error(const rpc_error& error);

  inbound_request(const inbound_request&) = delete;
  inbound_request& operator=(const inbound_request&) = delete;
  ~inbound_request();

private:
  friend class inbound_table;
  inbound_request(std::weak_ptr<inbound_table*> table, link_id link, boost::json::value id, std::string method)
      : table_(std::move(table)), link_(link), id_(std::move(id)), method_(std::move(method)) {}

  std::weak_ptr<inbound_table*> table_;
  link_id link_;
  boost::json::value id_;
  std::string method_;
  std::string key_;
  bool answered_ = false;
  bool cancelled_ = false;
  std::vector<unique_function<void()>> on_cancel_;
  std::vector<unique_function<void(const jsonrpc::message&)>> on_answer_;
};

using inbound_ptr = std::shared_ptr<inbound_request>;

class inbound_table {
public:
  /// Sends an answer on `link` (the id is already the peer's own). Called synchronously.
  using reply_function = std::function<void(link_id link, jsonrpc::message answer)>;

  explicit inbound_table(reply_function reply);
  ~inbound_table();
  inbound_table(const inbound_table&) = delete;
  inbound_table& operator=(const inbound_table&) = delete;

  /// Registers `request` received on `link`. Null when a request with the same id is still in
  /// flight on that link: the caller answers `duplicate_id_error()` with `reply_now` and does
  /// not route the duplicate.
  [[nodiscard]] inbound_ptr accept(link_id link, const jsonrpc::message& request);
  /// Answers `in` with `answer` (its id replaced by the peer's). False when it was already
  /// answered (the second answer is logged and dropped).
  bool answer(inbound_request& in, jsonrpc::message answer);
  /// `$/cancel_request` from `link` for `id`: runs the request's cancel callbacks once. False
  /// when no such request is in flight (already answered: nothing to do).
  bool cancel(link_id link, const boost::json::value& id);
  /// The request in flight on `link` with `id`, or null.
  [[nodiscard]] inbound_ptr find(link_id link, const boost::json::value& id) const;
  /// Answers every request still in flight from `link` with `error` (`send`: false when the
  /// link cannot carry answers any more: they are only marked answered).
  void fail_link(link_id link, const rpc_error& error, bool send = true);
  /// Answers every request still in flight with `error`.
  void fail_all(const rpc_error& error);
  [[nodiscard]] std::size_t size() const noexcept { return active_.size(); }

  /// Sends an answer that belongs to no registered request (a refused duplicate, a request the
  /// caller rejects before accepting it).
  void reply_now(link_id link, const boost::json::value& id, const rpc_error& error);

  /// -32600 "Invalid request: id already in use", with data.reason `duplicate_id`.
  [[nodiscard]] static rpc_error duplicate_id_error(const boost::json::value& id);

private:
  friend class inbound_request;
  void forget(const inbound_request& in) noexcept;
  void dropped(inbound_request& in) noexcept;

  reply_function reply_;
  std::unordered_map<std::string, std::weak_ptr<inbound_request>> active_;
  std::shared_ptr<inbound_table*> self_; // inbound requests outliving the table see it gone
};

/// Sends `$/cancel_request {requestId: wire_id}` on `conn` for a request still pending there;
/// `wrap`, when set, puts it in the envelope that link needs. False when nothing was pending.
bool issue_cancel(connection& conn, const boost::json::value& wire_id,
                  const std::function<jsonrpc::message(jsonrpc::message)>& wrap = {});

struct forward_options {
  /// The envelope for messages on the destination link (null: plain). Used for the cancel.
  std::function<jsonrpc::message(jsonrpc::message)> wrap;
  /// Sees the response before it answers the inbound request; returns false when it has taken
  /// the response over (it must then answer the inbound request itself, e.g. after a retry).
  unique_function<bool(jsonrpc::message& response, const boost::json::value& wire_id)> on_response;
};

/// Sends `outgoing` (already enveloped for `dest` if needed) as a request on `dest` with a
/// fresh id, and returns that id. Its response answers `in` under the original id; a cancel of
/// `in` is re-issued on `dest` with the new id. The connection answers it with -32603 when
/// `dest` closes first, so `in` is always answered.
boost::json::value forward(const inbound_ptr& in, connection& dest, jsonrpc::message outgoing,
                           forward_options options = {});

} // namespace acp
