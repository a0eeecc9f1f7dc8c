#pragma once
// The state behind an endpoint: handler tables, the connection, active requests, tasks.

#include <acp/sdk/endpoint.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <list>
#include <unordered_map>

namespace acp::detail {

struct sent_state {
  std::weak_ptr<runtime> rt;
  peer to = peer::agent;
  boost::json::value wire_id;
  std::optional<jsonrpc::message> response;
  unique_function<void(jsonrpc::message)> consumer;
  std::unique_ptr<boost::asio::steady_timer> waiter;
  void complete(jsonrpc::message msg);
};

struct request_entry {
  peer from;
  std::string method;
  raw_request_handler fn;
};
struct notification_entry {
  peer from;
  std::string method;
  raw_notification_handler fn;
};

/// Handlers added at run time for one session id (copy-on-write: dispatch holds a snapshot).
struct session_handlers {
  std::vector<request_entry> requests;
  std::vector<notification_entry> notifications;
};

class runtime : public std::enable_shared_from_this<runtime> {
public:
  explicit runtime(chain_role r);

  void start(const boost::asio::any_io_executor& ex, message_channel_ptr channel);
  sent_request send_request(peer to, jsonrpc::message request);
  void send_notification(peer to, jsonrpc::message notification);
  void cancel_sent(const sent_state& st);
  void spawn(boost::asio::awaitable<void> task);
  void begin_shutdown();
  void add_session_request_handler(std::string session_id, request_entry entry);
  void add_session_notification_handler(std::string session_id, notification_entry entry);
  void forget_session(const std::string& session_id);
  [[nodiscard]] const std::optional<close_info>& close_status() const noexcept;
  /// Drops every handler (the builder's copies and the per-session ones) once the endpoint has
  /// finished: handlers that captured a `context` would otherwise keep the runtime alive.
  void release_handlers();

  chain_role role_;
  endpoint_options opts_;
  std::vector<request_entry> requests_;
  std::vector<notification_entry> notifications_;
  boost::asio::any_io_executor ex_;
  std::shared_ptr<connection> conn_;
  std::unique_ptr<boost::asio::steady_timer> done_wake_; // created by start
  bool done_ = false;

private:
  void on_message(jsonrpc::message msg);
  void dispatch_request(peer from, jsonrpc::message& msg);
  void dispatch_notification(peer from, jsonrpc::message& msg);
  void forward_default(peer from, jsonrpc::message msg, responder r);
  void handle_cancel(peer from, const jsonrpc::message& msg);
  /// True when the chain ended dispatch (handled, or failed and answered).
  bool run_request_handlers(const std::vector<request_entry>& chain, peer from, jsonrpc::message& msg, responder& r,
                            context& cx);
  bool run_notification_handlers(const std::vector<notification_entry>& chain, peer from, jsonrpc::message& msg,
                                 context& cx);
  [[nodiscard]] std::shared_ptr<const session_handlers> session_handlers_for(const jsonrpc::message& msg) const;
  void on_closed(const close_info& info);
  void task_finished();
  void start_task(boost::asio::awaitable<void> task);
  void finish_shutdown();
  [[nodiscard]] peer only_peer() const noexcept { return role_ == chain_role::agent ? peer::client : peer::agent; }
  [[nodiscard]] bool wraps(peer to) const noexcept { return role_ == chain_role::proxy && to == peer::agent; }
  /// Requests are registered per peer: the client's and the agent's ids are separate spaces.
  [[nodiscard]] static link_id link_of(peer p) noexcept { return p == peer::client ? 0 : 1; }
  void reply(jsonrpc::message answer);

  std::shared_ptr<runtime> self_; // alive while running
  inbound_table inbound_;         // requests received and not yet answered (the forwarding core)
  std::unordered_map<std::string, std::shared_ptr<const session_handlers>> sessions_;
  std::list<boost::asio::cancellation_signal> tasks_;
  std::deque<boost::asio::awaitable<void>> waiting_; // spawned over max_running_tasks
  bool reading_paused_ = false;                      // we closed the gate for waiting_
  std::optional<boost::asio::steady_timer> grace_timer_;
  bool shutting_down_ = false;
  bool grace_expired_ = false; // the grace period's end cancelled the running tasks
  bool closed_ = false;
  std::optional<close_info> status_;
};

} // namespace acp::detail
