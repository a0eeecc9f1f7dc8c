// The MCP client's Streamable HTTP transport (MCP 2025-06-18 "Streamable HTTP"), with
// Boost.Beast; the only file of the test agent that includes Beast. Plain http:// only: an
// https:// URL is refused with a clear error.
//
// Each message is one POST on a connection of its own (connect deadline, then one deadline for
// writing the request and reading the answer). A request's answer is an application/json body
// (a response, or a batch holding it) or a text/event-stream whose `data:` events are read until
// the response with the request's id arrives; other events (notifications, server requests)
// are skipped. The server's `Mcp-Session-Id` (from the initialize answer) and the negotiated
// `MCP-Protocol-Version` go with every later message; the session is DELETEd at the end.
#include "mcp_transports.hpp"

#include <acp/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::examples::mcp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct http_link {
  asio::any_io_executor ex;
  std::string url; // for messages
  std::string host;
  std::string port;
  std::string target;
  std::string host_header;
  std::vector<std::pair<std::string, std::string>> headers; // declared by the client
  std::string session_id;
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

/// "http://host[:port][/path][?query]" into the link; an empty string or why not.
std::string parse_url(std::string_view url, http_link& h) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "not an http:// URL: " + std::string(url);
  const auto scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https") return "https:// is not supported by acp-test-agent (plain http:// only): " + std::string(url);
  if (scheme != "http") return "not an http:// URL: " + std::string(url);
  auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? "/" : rest.substr(authority_end);
  target = target.substr(0, target.find('#'));
  if (target.empty() || target.front() == '?')
    h.target = "/" + std::string(target);
  else
    h.target = std::string(target);
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return "the URL has no host (or has user info, which is not supported): " + std::string(url);
  h.host_header = std::string(authority);
  std::string_view host = authority;
  std::string_view port = "80";
  if (host.front() == '[') { // [v6]:port
    const auto close = host.find(']');
    if (close == std::string_view::npos) return "bad IPv6 address in " + std::string(url);
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return "bad port in " + std::string(url);
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty() || port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "bad host or port in " + std::string(url);
  h.host = std::string(host);
  h.port = std::string(port);
  return {};
}

bool valid_header_text(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

/// `data:` events of a text/event-stream, fed in pieces.
class sse_reader {
public:
  explicit sse_reader(std::size_t limit) : limit_(limit) {}
  /// Calls `on_event(data)` for each complete event; false when a line or event is over the limit.
  template <class F> bool feed(std::string_view bytes, F&& on_event) {
    for (const char c : bytes) {
      if (c != '\n') {
        line_ += c;
        if (line_.size() > limit_) return false;
        continue;
      }
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      if (line_.empty()) {
        if (has_data_) on_event(std::string_view(data_));
        data_.clear();
        has_data_ = false;
      } else if (line_.rfind("data:", 0) == 0) {
        std::string_view value(line_);
        value.remove_prefix(5);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (has_data_) data_ += '\n';
        data_ += value;
        has_data_ = true;
        if (data_.size() > limit_) return false;
      } // comments (":"), event, id and retry fields do not matter here
      line_.clear();
    }
    return true;
  }

private:
  std::size_t limit_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
};

/// The response with `id` in a JSON-RPC text (a response or a batch), if there is one.
std::optional<rpc_result> find_response(std::string_view text, const json::value& id) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return std::nullopt;
  const auto match = [&](const json::value& m) -> std::optional<rpc_result> {
    const auto* o = m.if_object();
    if (!o || o->contains("method") || !o->contains("id") || o->at("id") != id) return std::nullopt;
    return outcome_of_response(*o);
  };
  if (const auto* batch = v.if_array()) {
    for (const auto& m : *batch)
      if (auto r = match(m)) return r;
    return std::nullopt;
  }
  return match(v);
}

struct exchange_result {
  std::string error; // empty when the exchange worked (whatever the status)
  unsigned status = 0;
  std::optional<rpc_result> answer; // for a request: the response with its id
};

/// One HTTP exchange on a connection of its own. `id`: the request's id (null for a
/// notification or a DELETE: no answer expected).
asio::awaitable<exchange_result> exchange(std::shared_ptr<http_link> h, client_options opts,
                                          std::string protocol_version, http::verb verb, std::string body,
                                          json::value id) {
  exchange_result out;
  const std::string what = std::string(http::to_string(verb)) + " " + h->url;
  // Resolving has the connect deadline too (a timer that cancels the resolver it shares).
  auto resolver = std::make_shared<tcp::resolver>(h->ex);
  auto stream = std::make_shared<beast::tcp_stream>(h->ex);
  // A cancelled turn stops whatever is pending (the DELETE at the end has no interrupter).
  const armed guard(opts.interrupt, [resolver, weak = std::weak_ptr<beast::tcp_stream>(stream)] {
    resolver->cancel();
    if (auto s = weak.lock()) s->cancel();
  });
  asio::steady_timer resolve_deadline(h->ex);
  resolve_deadline.expires_after(opts.connect_timeout);
  resolve_deadline.async_wait([resolver](boost::system::error_code ec) {
    if (!ec) resolver->cancel();
  });
  auto [rec, endpoints] = co_await resolver->async_resolve(h->host, h->port, use_tuple);
  resolve_deadline.cancel();
  if (rec) {
    out.error = rec == asio::error::operation_aborted
                    ? "cannot resolve " + h->host + " within " + std::to_string(opts.connect_timeout.count()) + " ms"
                    : "cannot resolve " + h->host + ": " + rec.message();
    co_return out;
  }
  stream->expires_after(opts.connect_timeout);
  auto [cec, ep] = co_await stream->async_connect(endpoints, use_tuple);
  (void)ep;
  if (cec) {
    out.error = cec == beast::error::timeout
                    ? "no connection to " + h->url + " within " + std::to_string(opts.connect_timeout.count()) + " ms"
                    : "cannot connect to " + h->url + ": " + cec.message();
    co_return out;
  }

  http::request<http::string_body> req{verb, h->target, 11};
  req.set(http::field::host, h->host_header);
  req.set(http::field::user_agent, "acp-test-agent/" ACP_VERSION);
  for (const auto& [name, value] : h->headers) req.set(name, value);
  if (verb == http::verb::post) {
    req.set(http::field::accept, "application/json, text/event-stream");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  if (!h->session_id.empty()) req.set("Mcp-Session-Id", h->session_id);
  if (!protocol_version.empty()) req.set("MCP-Protocol-Version", protocol_version);
  req.prepare_payload();

  const auto failed = [&](const boost::system::error_code& ec) {
    return ec == beast::error::timeout
               ? what + ": no answer within " + std::to_string(opts.request_timeout.count()) + " ms"
               : what + ": " + ec.message();
  };
  stream->expires_after(opts.request_timeout);
  auto [wec, wn] = co_await http::async_write(*stream, req, use_tuple);
  (void)wn;
  if (wec) {
    out.error = failed(wec);
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(opts.max_message_bytes);
  auto [hec, hn] = co_await http::async_read_header(*stream, buffer, parser, use_tuple);
  (void)hn;
  if (hec) {
    out.error = failed(hec);
    co_return out;
  }
  auto& res = parser.get();
  out.status = res.result_int();
  if (h->session_id.empty() && res.count("Mcp-Session-Id") != 0) h->session_id = std::string(sv(res["Mcp-Session-Id"]));
  const auto type = lower(sv(res[http::field::content_type]));
  const bool is_sse = type.rfind("text/event-stream", 0) == 0;
  const bool ok = out.status >= 200 && out.status < 300;

  std::string text; // the body, unless it is an event stream being answered
  sse_reader events(opts.max_message_bytes);
  std::array<char, 16 * 1024> piece{};
  while (!parser.is_done() && !out.answer) {
    res.body().data = piece.data();
    res.body().size = piece.size();
    auto [bec, bn] = co_await http::async_read(*stream, buffer, parser, use_tuple);
    (void)bn;
    const std::string_view got(piece.data(), piece.size() - res.body().size);
    if (is_sse && ok && !id.is_null()) {
      const bool fits = events.feed(got, [&](std::string_view data) {
        if (!out.answer) out.answer = find_response(data, id);
      });
      if (!fits) {
        out.error = what + ": an event larger than " + std::to_string(opts.max_message_bytes) + " bytes";
        co_return out;
      }
    } else if (text.size() < opts.max_message_bytes) {
      text += got;
    }
    if (bec && bec != http::error::need_buffer) {
      if (out.answer) break;
      out.error = bec == http::error::body_limit
                      ? what + ": an answer larger than " + std::to_string(opts.max_message_bytes) + " bytes"
                      : failed(bec);
      co_return out;
    }
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);

  if (!ok) {
    if (text.size() > 200) text = text.substr(0, 200) + "…";
    out.error = what + ": HTTP " + std::to_string(out.status) + " " + std::string(sv(res.reason())) +
                (text.empty() ? "" : ": " + text);
    co_return out;
  }
  if (id.is_null() || out.answer) co_return out;
  if (is_sse) {
    out.error = what + ": the event stream ended without the response";
  } else if (type.rfind("application/json", 0) == 0) {
    out.answer = find_response(text, id);
    if (!out.answer) out.error = what + ": the JSON answer is not the response to the request";
  } else {
    out.error = what + ": unexpected Content-Type \"" + type + "\" for a request's answer";
  }
  co_return out;
}

} // namespace

std::string http_open(const link_ptr& conn, const asio::any_io_executor& ex) {
  auto h = std::make_shared<http_link>();
  h->ex = ex;
  const auto& d = conn->decl.json;
  const auto* url = d.if_contains("url");
  if (!url || !url->is_string()) return "the http declaration has no url";
  h->url = std::string(url->as_string());
  auto error = parse_url(h->url, *h);
  if (!error.empty()) return error;
  if (const auto* headers = d.if_contains("headers")) {
    if (!headers->is_array()) return "the http declaration's headers is not an array";
    for (const auto& e : headers->as_array()) {
      const auto* o = e.if_object();
      const auto* name = o ? o->if_contains("name") : nullptr;
      const auto* value = o ? o->if_contains("value") : nullptr;
      if (!name || !name->is_string() || !value || !value->is_string() || name->as_string().empty() ||
          !valid_header_text(name->as_string()) || !valid_header_text(value->as_string()))
        return "the http declaration's headers has an entry without a valid name and value";
      h->headers.emplace_back(std::string(name->as_string()), std::string(value->as_string()));
    }
  }
  conn->http = std::move(h);
  return {};
}

asio::awaitable<rpc_result> http_request(link_ptr conn, json::object message) {
  json::value id = message.at("id");
  if (interrupted(conn->opts)) co_return transport_failure("cancelled");
  auto r = co_await exchange(conn->http, conn->opts, conn->protocol_version, http::verb::post, json::serialize(message),
                             std::move(id));
  if (interrupted(conn->opts)) co_return transport_failure("cancelled");
  if (!r.error.empty()) co_return transport_failure(std::move(r.error));
  co_return std::move(*r.answer);
}

asio::awaitable<std::string> http_notify(link_ptr conn, json::object message) {
  auto r = co_await exchange(conn->http, conn->opts, conn->protocol_version, http::verb::post, json::serialize(message),
                             nullptr);
  co_return std::move(r.error);
}

asio::awaitable<void> http_close(link_ptr conn) {
  auto h = std::move(conn->http);
  conn->http.reset();
  if (!h || h->session_id.empty()) co_return;
  auto opts = conn->opts;
  opts.interrupt.reset(); // the session is deleted even when the turn was cancelled
  opts.request_timeout = std::min(opts.request_timeout, std::chrono::milliseconds(2000));
  auto r = co_await exchange(h, opts, conn->protocol_version, http::verb::delete_, std::string(), nullptr);
  (void)r; // 405 (the server keeps sessions itself) or a vanished server: nothing to do
}

} // namespace acp::examples::mcp
