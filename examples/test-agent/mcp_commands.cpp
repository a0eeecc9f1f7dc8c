// `mcp list` and `mcp call` (see mcp_commands.hpp).
#include "mcp_commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

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

asio::awaitable<void> call(std::string args, std::vector<server_decl> decls, context cx, command_settings settings,
                           chunk_sink say) {
  auto [server, rest] = split_word(args);
  auto [tool, arguments_text] = split_word(rest);
  std::vector<std::string> out;
  json::value arguments = json::object();
  const server_decl* found = nullptr;
  for (const auto& d : decls)
    if (!found && d.name == server) found = &d;
  if (server.empty() || tool.empty()) {
    out.push_back("mcp call: expected SERVER TOOL {json arguments}");
  } else if (!found) {
    std::vector<std::string> known;
    for (const auto& d : decls) known.push_back(display_name(d));
    out.push_back("mcp: no MCP server named \"" + server +
                  "\" (known: " + (known.empty() ? std::string("none") : join(known)) + ")");
  } else if (!arguments_text.empty()) {
    boost::system::error_code ec;
    arguments = json::parse(arguments_text, ec);
    if (ec || !arguments.is_object())
      out.push_back("mcp error: the arguments are not a JSON object: " + arguments_text);
  }
  if (out.empty()) {
    server_decl d = *found;
    if (!advertised(settings.advertised, d.transport))
      out.push_back("mcp: " + server + " uses transport " + d.transport + ", which this agent does not advertise");
    auto connected = co_await connect(d, cx, settings.client);
    if (!connected.conn) {
      out.push_back("mcp error: " + connected.error);
    } else {
      json::object params{{"name", tool}, {"arguments", std::move(arguments)}};
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

} // namespace

asio::awaitable<void> run_command(std::string args, json::value servers, context cx, command_settings settings,
                                  chunk_sink say) {
  auto [sub, rest] = split_word(args);
  auto decls = read_declarations(servers);
  if (sub == "list") {
    co_await list(std::move(decls), cx, settings, std::move(say));
  } else if (sub == "call") {
    co_await call(std::move(rest), std::move(decls), cx, settings, std::move(say));
  } else {
    const bool sent = co_await say("mcp: expected 'mcp list' or 'mcp call SERVER TOOL {json arguments}'");
    (void)sent;
  }
}

} // namespace acp::examples::mcp
