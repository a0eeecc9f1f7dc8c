#include <acp/sdk/forwarding.hpp>

#include <acp/sdk/connection.hpp>
#include <acp/sdk/log.hpp>

namespace acp {
namespace json = boost::json;
using jsonrpc::message;

namespace {
std::string table_key(link_id link, const json::value& id) { return std::to_string(link) + ":" + jsonrpc::id_key(id); }
} // namespace

// ---- inbound_request ---------------------------------------------------------------------

void inbound_request::on_cancel(unique_function<void()> f) {
  if (answered_) return;
  if (cancelled_) return f();
  on_cancel_.push_back(std::move(f));
}

void inbound_request::on_answer(unique_function<void(const message&)> f) {
  if (answered_) return;
  on_answer_.push_back(std::move(f));
}

bool inbound_request::answer(message response) {
  auto t = table_.lock();
  if (!t) {
    answered_ = true;
    return false;
  }
  return (*t)->answer(*this, std::move(response));
}

bool inbound_request::answer_error(const rpc_error& error) { return answer(message::error_response(id_, error)); }

inbound_request::~inbound_request() {
  if (answered_) return;
  if (auto t = table_.lock()) (*t)->dropped(*this);
}

// ---- inbound_table -----------------------------------------------------------------------

inbound_table::inbound_table(reply_function reply)
    : reply_(std::move(reply)), self_(std::make_shared<inbound_table*>(this)) {}

inbound_table::~inbound_table() {
  self_.reset(); // requests still held elsewhere no longer reach this table
}

inbound_ptr inbound_table::accept(link_id link, const message& request) {
  auto key = table_key(link, request.id());
  auto& slot = active_[key];
  if (auto existing = slot.lock(); existing && !existing->answered_) return nullptr;
  auto in = inbound_ptr(new inbound_request(self_, link, request.id(), std::string(request.method())));
  in->key_ = std::move(key);
  slot = in;
  return in;
}

bool inbound_table::answer(inbound_request& in, message answer) {
  if (in.answered_) {
    log::error("forwarding", "a second answer to " + in.method_ + " (id " + jsonrpc::id_key(in.id_) + ") was not sent");
    return false;
  }
  in.answered_ = true;
  in.on_cancel_.clear();
  forget(in);
  answer.set_id(in.id_);
  auto observers = std::move(in.on_answer_);
  in.on_answer_.clear();
  for (auto& observe : observers) {
    try {
      observe(answer);
    } catch (const std::exception& e) {
      log::error("forwarding", "an observer of the answer to " + in.method_ + " failed: " + e.what());
    }
  }
  if (reply_) reply_(in.link_, std::move(answer));
  return true;
}

void inbound_table::dropped(inbound_request& in) noexcept {
  try {
    log::error("forwarding", "request " + in.method_ + " (id " + jsonrpc::id_key(in.id_) +
                                 ") was dropped without an answer; answering -32603");
    json::object data;
    data["reason"] = "request_dropped";
    data["method"] = in.method_;
    (void)answer(in, message::error_response(in.id_, rpc_error::internal_error("request dropped without an answer",
                                                                               json::value(std::move(data)))));
  } catch (...) {
    in.answered_ = true; // out of memory while answering in a destructor: nothing better to do
    forget(in);
  }
}

void inbound_table::forget(const inbound_request& in) noexcept {
  auto it = active_.find(in.key_);
  if (it == active_.end()) return;
  // Only the entry of this request: a later request may have reused the id once it was answered.
  if (auto cur = it->second.lock(); cur && cur.get() != &in) return;
  active_.erase(it);
}

bool inbound_table::cancel(link_id link, const json::value& id) {
  auto in = find(link, id);
  if (!in || in->cancelled_) return false;
  in->cancelled_ = true;
  auto callbacks = std::move(in->on_cancel_);
  in->on_cancel_.clear();
  for (auto& cb : callbacks) {
    if (in->answered_) break; // a callback answered it: the others have nothing left to cancel
    cb();
  }
  return true;
}

inbound_ptr inbound_table::find(link_id link, const json::value& id) const {
  auto it = active_.find(table_key(link, id));
  if (it == active_.end()) return nullptr;
  auto in = it->second.lock();
  return in && !in->answered_ ? in : nullptr;
}

void inbound_table::fail_link(link_id link, const rpc_error& error, bool send) {
  std::vector<inbound_ptr> failed;
  for (auto& [key, weak] : active_)
    if (auto in = weak.lock(); in && in->link_ == link && !in->answered_) failed.push_back(std::move(in));
  for (auto& in : failed) {
    if (send) {
      (void)answer(*in, message::error_response(in->id_, error));
    } else {
      in->answered_ = true;
      in->on_cancel_.clear();
      in->on_answer_.clear();
      forget(*in);
    }
  }
}

void inbound_table::fail_all(const rpc_error& error) {
  std::vector<inbound_ptr> failed;
  for (auto& [key, weak] : active_)
    if (auto in = weak.lock(); in && !in->answered_) failed.push_back(std::move(in));
  for (auto& in : failed) (void)answer(*in, message::error_response(in->id_, error));
}

void inbound_table::reply_now(link_id link, const json::value& id, const rpc_error& error) {
  if (reply_) reply_(link, message::error_response(id, error));
}

rpc_error inbound_table::duplicate_id_error(const json::value& id) {
  json::object data;
  data["reason"] = "duplicate_id";
  data["id"] = id;
  return rpc_error::invalid_request("Invalid request: id " + jsonrpc::id_key(id) +
                                        " is already in use by a request in flight",
                                    json::value(std::move(data)));
}

// ---- forwarding --------------------------------------------------------------------------

bool issue_cancel(connection& conn, const json::value& wire_id, const std::function<message(message)>& wrap) {
  if (!conn.has_pending(wire_id)) return false;
  json::object params;
  params["requestId"] = wire_id;
  auto cancel = message::notification("$/cancel_request", json::value(std::move(params)));
  conn.send(wrap ? wrap(std::move(cancel)) : std::move(cancel));
  return true;
}

json::value forward(const inbound_ptr& in, connection& dest, message outgoing, forward_options options) {
  auto wire = std::make_shared<json::value>();
  auto hook = std::make_shared<decltype(options.on_response)>(std::move(options.on_response));
  *wire = dest.send_request(std::move(outgoing), [in, wire, hook](message response) {
    if (*hook) {
      try {
        if (!(*hook)(response, *wire)) return;
      } catch (const std::exception& e) {
        // The hook failed (it may read the response's DOM): the request is still answered.
        log::error("forwarding", "handling the response to " + in->method() + " failed: " + e.what());
        (void)in->answer_error(rpc_error::internal_error(std::string("cannot relay the response: ") + e.what()));
        return;
      }
    }
    (void)in->answer(std::move(response));
  });
  // The connection may have answered at once (closed, oversized): then there is nothing to cancel.
  if (!in->answered()) {
    in->on_cancel([weak = dest.weak_from_this(), wire, wrap = std::move(options.wrap)] {
      if (auto c = weak.lock()) (void)issue_cancel(*c, *wire, wrap);
    });
  }
  return *wire;
}

} // namespace acp
