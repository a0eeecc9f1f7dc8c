// `mcp list`, `mcp call` and `mcp bench` (see mcp_commands.hpp).
#include "mcp_commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::examples::mcp {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

/// At most this many tools/list pages are read per server.
constexpr int max_list_pages = 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// The first word and the rest.
std::pair<std::string, std::string> split_word(std::string_view s) {
  s = trim(s);
  const auto end = s.find_first_of(" \t\r\n");
  if (end == std::string_view::npos) return {std::string(s), {}};
  return {std::string(s.substr(0, end)), std::string(trim(s.substr(end)))};
}

bool advertised(const capability_set& caps, std::string_view transport) {
  if (transport == "http") return caps.http;
  if (transport == "sse") return caps.sse;
  if (transport == "acp") return caps.acp;
  return true; // stdio: every agent supports it, none advertises it
}

std::string display_name(const server_decl& d) { return d.name.empty() ? std::string("(unnamed)") : d.name; }

/// " (via acp, not advertised)" when the agent did not advertise the server's transport.
std::string transport_note(const capability_set& caps, const server_decl& d) {
  if (advertised(caps, d.transport)) return {};
  return " (via " + d.transport + ", not advertised)";
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// The tool names of every page of tools/list, or an error.
asio::awaitable<std::string> list_tools(link_ptr conn, std::vector<std::string>& names) {
  json::value cursor;
  for (int page = 0; page < max_list_pages; ++page) {
    json::object params;
    if (!cursor.is_null()) params["cursor"] = cursor;
    auto listed = co_await request(conn, "tools/list", std::move(params));
    if (!listed) co_return listed.error().message;
    const auto* result = listed->if_object();
    const auto* tools = result ? result->if_contains("tools") : nullptr;
    if (!tools || !tools->is_array()) co_return std::string("the tools/list result has no tools array");
    for (const auto& t : tools->as_array()) {
      const auto* o = t.if_object();
      const auto* name = o ? o->if_contains("name") : nullptr;
      names.push_back(name && name->is_string() ? std::string(name->as_string()) : std::string("(unnamed)"));
    }
    const auto* next = result->if_contains("nextCursor");
    if (!next || !next->is_string()) co_return std::string();
    cursor = *next;
  }
  co_return std::string();
}

asio::awaitable<std::string> list_line(server_decl d, context cx, command_settings settings) {
  // "NAME: tools" first, so that the line reads the same whatever the transport.
  const std::string head = display_name(d) + ": ";
  const std::string note = transport_note(settings.advertised, d);
  auto connected = co_await connect(d, cx, settings.client);
  if (!connected.conn) co_return head + "mcp error: " + connected.error + note;
  std::vector<std::string> names;
  auto error = co_await list_tools(connected.conn, names);
  co_await close(connected.conn);
  if (!error.empty()) co_return head + "mcp error: " + error + note;
  co_return head + (names.empty() ? std::string("(no tools)") : join(names)) + note;
}

asio::awaitable<void> list(std::vector<server_decl> decls, context cx, command_settings settings, chunk_sink say) {
  if (decls.empty()) {
    const bool sent = co_await say("mcp: this session has no MCP servers");
    (void)sent;
    co_return;
  }
  for (auto& d : decls) {
    auto line = co_await list_line(std::move(d), cx, settings);
    const bool go_on = co_await say(std::move(line));
    if (!go_on) co_return;
  }
}

/// The chunks a tools/call outcome becomes.
std::vector<std::string> call_chunks(const rpc_result& outcome) {
  if (!outcome) return {"mcp error: " + outcome.error().message};
  const auto* result = outcome->if_object();
  if (!result) return {"mcp error: the tools/call result is not an object"};
  std::vector<std::string> texts;
  if (const auto* content = result->if_contains("content"); content && content->is_array()) {
    for (const auto& item : content->as_array()) {
      const auto* o = item.if_object();
      const auto* type = o ? o->if_contains("type") : nullptr;
      const auto* text = o ? o->if_contains("text") : nullptr;
      if (type && *type == "text" && text && text->is_string())
        texts.emplace_back(text->as_string());
      else
        texts.push_back("[" + (type && type->is_string() ? std::string(type->as_string()) : std::string("unknown")) +
                        " content]");
    }
  }
  const auto* is_error = result->if_contains("isError");
  if (is_error && *is_error == true) {
    std::string message;
    for (const auto& t : texts) message += (message.empty() ? "" : " ") + t;
    return {"mcp error: " + (message.empty() ? std::string("the tool reported an error") : message)};
  }
  if (texts.empty()) {
    if (const auto* structured = result->if_contains("structuredContent")) return {json::serialize(*structured)};
    return {"mcp: the tool returned no content"};
  }
  return texts;
}

/// SERVER, TOOL and the arguments of `mcp call` / `mcp bench`, checked before connecting.
struct call_target {
  const server_decl* decl = nullptr;
  std::string tool;
  json::value arguments = json::object();
  std::string error; ///< set when the target cannot be used
};

call_target read_target(const std::string& server, std::string tool, const std::string& arguments_text,
                        const std::vector<server_decl>& decls, std::string_view usage) {
  call_target t;
  t.tool = std::move(tool);
  for (const auto& d : decls)
    if (!t.decl && d.name == server) t.decl = &d;
  if (server.empty() || t.tool.empty()) {
    t.error = std::string(usage);
  } else if (!t.decl) {
    std::vector<std::string> known;
    for (const auto& d : decls) known.push_back(display_name(d));
    t.error = "mcp: no MCP server named \"" + server +
              "\" (known: " + (known.empty() ? std::string("none") : join(known)) + ")";
  } else if (!arguments_text.empty()) {
    boost::system::error_code ec;
    t.arguments = json::parse(arguments_text, ec);
    if (ec || !t.arguments.is_object()) t.error = "mcp error: the arguments are not a JSON object: " + arguments_text;
  }
  return t;
}

std::string not_advertised_note(const command_settings& settings, const std::string& server, const server_decl& d) {
  if (advertised(settings.advertised, d.transport)) return {};
  return "mcp: " + server + " uses transport " + d.transport + ", which this agent does not advertise";
}

asio::awaitable<void> call(std::string args, std::vector<server_decl> decls, context cx, command_settings settings,
                           chunk_sink say) {
  auto [server, rest] = split_word(args);
  auto [tool, arguments_text] = split_word(rest);
  std::vector<std::string> out;
  auto target =
      read_target(server, std::move(tool), arguments_text, decls, "mcp call: expected SERVER TOOL {json arguments}");
  if (!target.error.empty()) out.push_back(std::move(target.error));
  if (out.empty()) {
    server_decl d = *target.decl;
    if (auto note = not_advertised_note(settings, server, d); !note.empty()) out.push_back(std::move(note));
    auto connected = co_await connect(d, cx, settings.client);
    if (!connected.conn) {
      out.push_back("mcp error: " + connected.error);
    } else {
      json::object params{{"name", target.tool}, {"arguments", std::move(target.arguments)}};
      auto outcome = co_await request(connected.conn, "tools/call", std::move(params));
      co_await close(connected.conn);
      for (auto& c : call_chunks(outcome)) out.push_back(std::move(c));
    }
  }
  for (auto& text : out) {
    const bool go_on = co_await say(std::move(text));
    if (!go_on) co_return;
  }
}

/// Why a tools/call outcome failed (a JSON-RPC error or an `isError` result), or empty.
std::string call_failure(const rpc_result& outcome) {
  if (!outcome) return outcome.error().message;
  const auto* result = outcome->if_object();
  if (!result) return "the tools/call result is not an object";
  if (const auto* e = result->if_contains("isError"); e && *e == true) return "the tool reported an error";
  return {};
}

/// "calls=N p50_us=… p90_us=… p99_us=… mean_us=… max_us=…" (nearest-rank percentiles).
std::string latency_summary(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, k == 0 ? 0 : k - 1)];
  };
  double sum = 0;
  for (const double v : us) sum += v;
  std::array<char, 160> line{};
  std::snprintf(line.data(), line.size(), "calls=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f",
                us.size(), rank(0.50), rank(0.90), rank(0.99), sum / static_cast<double>(us.size()), us.back());
  return line.data();
}

/// `mcp bench SERVER TOOL N {json}`: one connection, N sequential tools/call, one line of
/// latencies (connect and initialize excluded).
asio::awaitable<void> bench(std::string args, std::vector<server_decl> decls, context cx, command_settings settings,
                            chunk_sink say) {
  constexpr std::string_view usage = "mcp bench: expected SERVER TOOL N {json arguments} (N from 1 to 1000000)";
  auto [server, rest] = split_word(args);
  auto [tool, rest2] = split_word(rest);
  auto [count_text, arguments_text] = split_word(rest2);
  std::vector<std::string> out;
  std::size_t count = 0;
  const auto* end = count_text.data() + count_text.size();
  const auto [ptr, ec] = std::from_chars(count_text.data(), end, count);
  auto target = read_target(server, std::move(tool), arguments_text, decls, usage);
  if (!target.error.empty())
    out.push_back(std::move(target.error));
  else if (ec != std::errc() || ptr != end || count < 1 || count > 1000000)
    out.push_back(std::string(usage));
  if (out.empty()) {
    server_decl d = *target.decl;
    if (auto note = not_advertised_note(settings, server, d); !note.empty()) out.push_back(std::move(note));
    auto connected = co_await connect(d, cx, settings.client);
    if (!connected.conn) {
      out.push_back("mcp error: " + connected.error);
    } else {
      const json::value params = json::object{{"name", target.tool}, {"arguments", std::move(target.arguments)}};
      std::vector<double> us;
      us.reserve(count);
      std::string failure;
      for (std::size_t i = 0; i < count && failure.empty(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        auto outcome = co_await request(connected.conn, "tools/call", params);
        const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
        failure = call_failure(outcome);
        if (!failure.empty())
          failure = "mcp error: call " + std::to_string(i + 1) + " of " + std::to_string(count) + ": " + failure;
        us.push_back(took.count());
      }
      co_await close(connected.conn);
      out.push_back(failure.empty() ? "mcp bench " + server + " " + target.tool + ": " + latency_summary(std::move(us))
                                    : std::move(failure));
    }
  }
  for (auto& text : out) {
    const bool go_on = co_await say(std::move(text));
    if (!go_on) co_return;
  }
}

} // namespace

asio::awaitable<void> run_command(std::string args, json::value servers, context cx, command_settings settings,
                                  chunk_sink say) {
  auto [sub, rest] = split_word(args);
  auto decls = read_declarations(servers);
  if (sub == "list") {
    co_await list(std::move(decls), cx, settings, std::move(say));
  } else if (sub == "call") {
    co_await call(std::move(rest), std::move(decls), cx, settings, std::move(say));
  } else if (sub == "bench") {
    co_await bench(std::move(rest), std::move(decls), cx, settings, std::move(say));
  } else {
    const bool sent = co_await say("mcp: expected 'mcp list', 'mcp call SERVER TOOL {json arguments}' or "
                                   "'mcp bench SERVER TOOL N {json arguments}'");
    (void)sent;
  }
}

} // namespace acp::examples::mcp
