#include "scripted_peer.hpp"

#include <acp/conductor/router.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <sstream>

namespace acp::conductor::test {
namespace asio = boost::asio;

// ---- messages --------------------------------------------------------------------------------

json::object make_request(json::value id, std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", std::move(params)}};
}

json::object make_notification(std::string_view method, json::value params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

json::object make_result(json::value id, json::value result) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(result)}};
}

json::object make_error(json::value id, std::int64_t code, std::string_view message) {
  return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"error", {{"code", code}, {"message", message}}}};
}

json::object successor_request(json::value id, std::string_view method, json::value params, std::string_view envelope) {
  return make_request(std::move(id), envelope, json::object{{"method", method}, {"params", std::move(params)}});
}

json::object successor_notification(std::string_view method, json::value params, std::string_view envelope) {
  return make_notification(envelope, json::object{{"method", method}, {"params", std::move(params)}});
}

// ---- expectations ----------------------------------------------------------------------------

expected expected::wrapped(std::string_view envelope_method) const {
  auto e = *this;
  e.envelope = envelope_method;
  return e;
}
expected expected::with_id(json::value v) const {
  auto e = *this;
  e.id = std::move(v);
  return e;
}
expected expected::with_params(json::value subset) const {
  auto e = *this;
  e.params_has = std::move(subset);
  return e;
}
expected expected::with_exact_params(json::value v) const {
  auto e = *this;
  e.params_are = std::move(v);
  return e;
}
expected expected::without_param(std::string name) const {
  auto e = *this;
  e.params_lack.push_back(std::move(name));
  return e;
}
expected expected::with_result(json::value v) const {
  auto e = *this;
  e.result = std::move(v);
  return e;
}
expected expected::with_data(json::value subset) const {
  auto e = *this;
  e.data_has = std::move(subset);
  return e;
}
expected expected::with_message(std::string substring) const {
  auto e = *this;
  e.message_has = std::move(substring);
  return e;
}

expected request(std::string_view method) { return {.what = expected::kind::request, .method = std::string(method)}; }
expected notification(std::string_view method) {
  return {.what = expected::kind::notification, .method = std::string(method)};
}
expected result_for(json::value id) { return {.what = expected::kind::response, .id = std::move(id)}; }
expected error_for(json::value id, std::int64_t code) {
  return {.what = expected::kind::response, .id = std::move(id), .error_code = code};
}

namespace {

const json::value null_value;

const json::value& member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? *v : null_value;
}

/// Params of a request or notification: the inner ones when it is an envelope (`wrapped`).
const json::value& params_of(const json::object& m, bool wrapped) {
  const auto& p = member(m, "params");
  if (!wrapped) return p;
  return p.is_object() ? member(p.get_object(), "params") : null_value;
}

/// Whether `actual` holds everything of `subset` (objects member by member, recursively; any
/// other value equal).
bool contains(const json::value& actual, const json::value& subset) {
  if (!subset.is_object()) return actual == subset;
  if (!actual.is_object()) return false;
  for (const auto& [key, value] : subset.get_object()) {
    const auto* a = actual.get_object().if_contains(key);
    if (!a || !contains(*a, value)) return false;
  }
  return true;
}

std::string describe(const expected& e) {
  std::ostringstream out;
  switch (e.what) {
  case expected::kind::request:
    out << "request \"" << e.method << '"';
    break;
  case expected::kind::notification:
    out << "notification \"" << e.method << '"';
    break;
  case expected::kind::response:
    out << (e.error_code ? "error response " + std::to_string(*e.error_code) : "result");
    break;
  }
  if (!e.envelope.empty()) out << " inside " << e.envelope;
  if (e.id) out << " with id " << json::serialize(*e.id);
  if (e.params_has) out << ", params containing " << json::serialize(*e.params_has);
  if (e.params_are) out << ", params exactly " << json::serialize(*e.params_are);
  for (const auto& name : e.params_lack) out << ", params without \"" << name << '"';
  if (e.result) out << ", result " << json::serialize(*e.result);
  if (e.data_has) out << ", error.data containing " << json::serialize(*e.data_has);
  if (!e.message_has.empty()) out << ", error.message containing \"" << e.message_has << '"';
  return out.str();
}

/// Why `v` does not meet `e` (empty when it does).
std::string mismatch(const expected& e, const json::value& v) {
  if (!v.is_object()) return "not a JSON object";
  const auto& m = v.get_object();
  if (member(m, "jsonrpc") != "2.0") return "jsonrpc is not \"2.0\"";
  const bool has_id = m.contains("id");
  const bool has_method = m.contains("method");
  if (e.what == expected::kind::response) {
    if (has_method || !has_id) return "not a response";
    if (e.id && member(m, "id") != *e.id) return "another id";
    const bool is_error = m.contains("error");
    if (is_error == m.contains("result")) return "not exactly one of result and error";
    if (e.error_code) {
      if (!is_error) return "a result, not an error";
      const auto& err = member(m, "error");
      if (!err.is_object() || member(err.get_object(), "code") != json::value(*e.error_code))
        return "another error code";
      if (e.data_has && !contains(member(err.get_object(), "data"), *e.data_has)) return "error.data differs";
      const auto& text = member(err.get_object(), "message");
      if (!e.message_has.empty() &&
          (!text.is_string() || std::string_view(text.get_string()).find(e.message_has) == std::string_view::npos))
        return "error.message differs";
      return {};
    }
    if (is_error) return "an error, not a result";
    if (e.result && member(m, "result") != *e.result) return "another result";
    return {};
  }
  if (!has_method) return "a response";
  if (e.what == expected::kind::request && !has_id) return "a notification, not a request";
  if (e.what == expected::kind::notification && has_id) return "a request, not a notification";
  if (e.id && member(m, "id") != *e.id) return "another id";
  const bool wrapped = !e.envelope.empty();
  if (wrapped) {
    if (member(m, "method") != json::string_view(e.envelope)) return "not inside " + e.envelope;
    const auto& p = member(m, "params");
    if (!p.is_object() || member(p.get_object(), "method") != json::string_view(e.method))
      return "another inner method";
  } else if (member(m, "method") != json::string_view(e.method)) {
    return "another method";
  }
  const auto& params = params_of(m, wrapped);
  if (e.params_are && params != *e.params_are) return "other params";
  if (e.params_has && !contains(params, *e.params_has)) return "params differ";
  for (const auto& name : e.params_lack)
    if (params.is_object() && params.get_object().contains(name)) return "params have \"" + name + '"';
  return {};
}

} // namespace

received::received(json::object message) : ok_(true), message_(std::move(message)) {}

const json::value& received::id() const noexcept { return member(message_, "id"); }

const json::value& received::params() const noexcept {
  const auto& method = member(message_, "method");
  const bool wrapped = method.is_string() && std::string_view(method.get_string()).starts_with(successor);
  return params_of(message_, wrapped);
}

const json::value& received::result() const noexcept { return member(message_, "result"); }

// ---- a scripted peer -------------------------------------------------------------------------

struct scripted_peer::state {
  state(asio::io_context& io, std::string n, transport_ptr t)
      : name(std::move(n)), link(std::move(t)), wake(io, asio::steady_timer::time_point::max()) {}

  std::string name;
  transport_ptr link;
  asio::steady_timer wake; // the writer waits here for output
  std::deque<std::string> outbox;
  bool close_after_writes = false;
  bool stopped = false;
  std::string partial; // bytes of a line not yet ended
  std::deque<line> inbox;
  bool eof = false;
  std::string failure;
};

scripted_peer::scripted_peer(asio::io_context& io, std::string name, transport_ptr end)
    : state_(std::make_shared<state>(io, std::move(name), std::move(end))) {
  auto s = state_;
  auto record = [s](const char* what) {
    return [s, what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        s->failure = std::string(what) + ": " + ex.what();
      }
    };
  };
  asio::co_spawn(io, read_lines(s), record("reading"));
  asio::co_spawn(io, write_lines(s), record("writing"));
}

scripted_peer::~scripted_peer() {
  state_->stopped = true;
  state_->wake.cancel();
  state_->link->close();
}

void scripted_peer::send(const json::object& message) { send_together({message}); }

void scripted_peer::send_together(const std::vector<json::object>& messages) {
  std::string bytes;
  for (const auto& m : messages) {
    bytes += json::serialize(m);
    bytes += '\n';
  }
  send_raw(bytes);
}

void scripted_peer::send_raw(std::string_view bytes) {
  state_->outbox.emplace_back(bytes);
  state_->wake.cancel();
}

void scripted_peer::close_write() {
  state_->close_after_writes = true;
  state_->wake.cancel();
}

const std::string& scripted_peer::name() const noexcept { return state_->name; }
bool scripted_peer::has_line() const noexcept { return !state_->inbox.empty(); }
bool scripted_peer::at_eof() const noexcept { return state_->eof; }
const std::string& scripted_peer::failure() const noexcept { return state_->failure; }

std::vector<std::string> scripted_peer::unread() const {
  std::vector<std::string> out;
  for (const auto& l : state_->inbox) out.push_back(l.text);
  return out;
}

scripted_peer::line scripted_peer::take_line() {
  auto l = std::move(state_->inbox.front());
  state_->inbox.pop_front();
  return l;
}

asio::awaitable<void> scripted_peer::read_lines(std::shared_ptr<state> s) {
  std::array<char, 4096> chunk{};
  for (;;) {
    const auto [ec, n] = co_await s->link->read_some(chunk);
    if (ec || n == 0) {
      if (ec && ec != asio::error::eof && ec != asio::error::operation_aborted) s->failure = "reading: " + ec.message();
      s->eof = true;
      co_return;
    }
    s->partial.append(chunk.data(), n);
    for (auto end = s->partial.find('\n'); end != std::string::npos; end = s->partial.find('\n')) {
      line l{s->partial.substr(0, end), {}};
      s->partial.erase(0, end + 1);
      boost::system::error_code parse_ec;
      l.value = json::parse(l.text, parse_ec);
      if (parse_ec) l.value = nullptr;
      s->inbox.push_back(std::move(l));
    }
  }
}

asio::awaitable<void> scripted_peer::write_lines(std::shared_ptr<state> s) {
  for (;;) {
    while (!s->outbox.empty() && !s->stopped) {
      auto bytes = std::move(s->outbox.front());
      s->outbox.pop_front();
      const auto ec = co_await s->link->write_all(bytes);
      if (ec) {
        s->failure = "writing: " + ec.message();
        co_return;
      }
    }
    if (s->stopped) co_return;
    if (s->close_after_writes) {
      s->link->shutdown_write();
      co_return;
    }
    s->wake.expires_at(asio::steady_timer::time_point::max());
    (void)co_await s->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// ---- the chain -------------------------------------------------------------------------------

scripted_chain::scripted_chain(std::vector<std::string> names, enum conductor_options::mode mode) {
  log::set_level(log::level::error); // refusals the tests provoke are logged as warnings
  options_.mode = mode;
  options_.stderr_mode = stderr_mode::discard;
  options_.grace_period = 5s; // no child to wait for: only bounds the final flush
  // The routing rules are checked on messages as the components sent them: no MCP bridge, which
  // would add `mcpCapabilities.acp` to the agent's `initialize` result (tests/mcp tests it).
  options_.mcp_bridge = conductor_options::mcp_bridge::off;
  std::vector<transport_ptr> ends;
  auto [up_ours, up_theirs] = make_memory_duplex(io_.get_executor()).value();
  peers_.push_back(std::make_unique<scripted_peer>(io_, mode == conductor_options::mode::agent ? "editor" : "parent",
                                                   std::move(up_ours)));
  for (auto& name : names) {
    auto [ours, theirs] = make_memory_duplex(io_.get_executor()).value();
    peers_.push_back(std::make_unique<scripted_peer>(io_, name, std::move(ours)));
    ends.push_back(std::move(theirs));
    component_spec spec;
    spec.name = name;
    spec.command = "in-process";
    options_.components.push_back(std::move(spec));
  }
  router_ = start_in_process(io_, options_, std::move(up_theirs), std::move(ends));
}

scripted_chain::~scripted_chain() {
  // A chain still running ends as an editor ends it; its remaining output is not checked.
  editor().close_write();
  (void)run_until([this] { return editor().at_eof(); }, 5s);
  peers_.clear(); // closes our ends
  router_.reset();
  settle();
}

bool scripted_chain::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io_.stopped()) io_.restart(); // the router stops the io_context when the chain ends
    io_.run_one_for(deadline - now);
  }
  return true;
}

void scripted_chain::settle() {
  int idle = 0;
  for (int round = 0; round < 100000 && idle < 3; ++round) {
    if (io_.stopped()) io_.restart();
    idle = io_.poll() == 0 ? idle + 1 : 0;
  }
}

std::string scripted_chain::link_summary() const {
  std::string out;
  out += "\nthe links:";
  for (const auto& p : peers_) {
    const auto lines = p->unread();
    out += "\n  " + p->name() + ": " + std::to_string(lines.size()) + " unread" + (p->at_eof() ? ", ended" : "") +
           (p->failure().empty() ? "" : ", " + p->failure());
    for (const auto& l : lines) out += "\n    " + l;
  }
  return out;
}

received scripted_chain::expect(scripted_peer& link, const expected& what, where at) {
  if (::testing::Test::HasFailure()) return {};
  if (!run_until([&] { return link.has_line() || link.at_eof(); }, timeout)) {
    ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": nothing arrived within " << timeout.count()
                                              << " ms; expected " << describe(what) << link_summary();
    return {};
  }
  if (!link.has_line()) {
    ADD_FAILURE_AT(at.file_name(), at.line())
        << link.name() << ": the conductor ended the link; expected " << describe(what) << link_summary();
    return {};
  }
  auto l = link.take_line();
  if (const auto why = mismatch(what, l.value); !why.empty()) {
    ADD_FAILURE_AT(at.file_name(), at.line())
        << link.name() << ": expected " << describe(what) << "\n  got " << l.text << "\n  (" << why << ")";
    return {};
  }
  return received(l.value.get_object());
}

std::vector<received> scripted_chain::expect_in_any_order(scripted_peer& link, const std::vector<expected>& what,
                                                          where at) {
  std::vector<received> out(what.size());
  std::vector<bool> met(what.size(), false);
  for (std::size_t n = 0; n < what.size(); ++n) {
    if (::testing::Test::HasFailure()) return out;
    if (!run_until([&] { return link.has_line() || link.at_eof(); }, timeout) || !link.has_line()) {
      ADD_FAILURE_AT(at.file_name(), at.line())
          << link.name() << ": " << what.size() - n << " more messages expected, none arrived" << link_summary();
      return out;
    }
    auto l = link.take_line();
    bool matched = false;
    for (std::size_t i = 0; i < what.size() && !matched; ++i) {
      if (met[i] || !mismatch(what[i], l.value).empty()) continue;
      met[i] = matched = true;
      out[i] = received(l.value.get_object());
    }
    if (!matched) {
      std::string all;
      for (std::size_t i = 0; i < what.size(); ++i)
        if (!met[i]) all += "\n  " + describe(what[i]);
      ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": got " << l.text << "\n  expected one of" << all;
      return out;
    }
  }
  return out;
}

std::optional<json::value> scripted_chain::next_value(scripted_peer& link, where at) {
  if (::testing::Test::HasFailure()) return std::nullopt;
  if (!run_until([&] { return link.has_line() || link.at_eof(); }, timeout) || !link.has_line()) {
    ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": no line arrived" << link_summary();
    return std::nullopt;
  }
  return link.take_line().value;
}

void scripted_chain::expect_nothing(scripted_peer& link, where at) {
  settle();
  while (link.has_line())
    ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": unexpected " << link.take_line().text;
}

void scripted_chain::expect_quiet(where at) {
  settle();
  for (auto& p : peers_)
    while (p->has_line())
      ADD_FAILURE_AT(at.file_name(), at.line()) << p->name() << ": unexpected " << p->take_line().text;
}

void scripted_chain::expect_eof(scripted_peer& link, where at) {
  if (::testing::Test::HasFailure()) return;
  if (!run_until([&] { return link.has_line() || link.at_eof(); }, timeout)) {
    ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": still open after " << timeout.count() << " ms";
    return;
  }
  while (link.has_line())
    ADD_FAILURE_AT(at.file_name(), at.line()) << link.name() << ": unexpected " << link.take_line().text;
}

json::value scripted_chain::init_params() {
  return {{"protocolVersion", 1}, {"clientCapabilities", {{"fs", {{"readTextFile", true}}}}}};
}

json::value scripted_chain::agent_init_result() {
  return {{"protocolVersion", 1}, {"agentCapabilities", {{"loadSession", true}}}};
}

received scripted_chain::initialize(where at) {
  const bool agent_mode = options_.mode == conductor_options::mode::agent;
  const std::size_t proxies = agent_mode ? components() - 1 : components();
  editor().send(make_request(0, agent_mode ? "initialize" : "_proxy/initialize", init_params()));
  std::vector<json::value> proxy_ids; // the id each proxy's `_proxy/initialize` came with
  for (std::size_t k = 0; k < proxies; ++k) {
    auto got = expect(component(k), request("_proxy/initialize").with_exact_params(init_params()), at);
    proxy_ids.push_back(got.id());
    component(k).send(successor_request(json::string(component(k).name() + "-init"), "initialize", init_params()));
  }
  if (agent_mode) {
    auto got = expect(agent(), request("initialize").with_exact_params(init_params()), at);
    agent().send(make_result(got.id(), agent_init_result()));
  } else {
    auto got = expect(editor(), request("initialize").wrapped().with_exact_params(init_params()), at);
    editor().send(make_result(got.id(), agent_init_result()));
  }
  for (std::size_t k = proxies; k-- > 0;) {
    (void)expect(component(k), result_for(json::string(component(k).name() + "-init")).with_result(agent_init_result()),
                 at);
    component(k).send(make_result(proxy_ids[k], agent_init_result()));
  }
  return expect(editor(), result_for(0).with_result(agent_init_result()), at);
}

} // namespace acp::conductor::test
