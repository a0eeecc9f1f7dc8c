#include "markdown.hpp"

#include <algorithm>
#include <ctime>

namespace acp::examples {

namespace {

template <class... F> struct overloaded : F... { using F::operator()...; };
template <class... F> overloaded(F...) -> overloaded<F...>;

// A code fence longer than any run of backticks inside `text`, so the text cannot close it.
std::string fence_for(std::string_view text) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A code span for one untrusted value: its backtick delimiters are longer than any run inside,
// padded when the value starts or ends with a backtick; line breaks and other control characters
// become spaces (a code span shows everything literally: no HTML, no emphasis).
std::string code(std::string_view text) {
  std::string body;
  body.reserve(text.size());
  for (char c : text) body += is_control(c) ? ' ' : c;
  std::size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string ticks(longest + 1, '`');
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return ticks + (pad ? " " : "") + body + (pad ? " " : "") + ticks;
}

} // namespace

std::string fenced(std::string_view text) {
  const auto fence = fence_for(text);
  std::string out = fence + "\n" + std::string(text);
  if (!out.ends_with('\n')) out += '\n';
  return out + fence + "\n";
}

std::string escape_inline(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_control(c)) {
      out += ' ';
      continue;
    }
    switch (c) {
    case '\\':
    case '`':
    case '<':
    case '>':
    case '&':
    case '[':
    case ']':
    case '#':
    case '*':
      out += '\\';
      break;
    default:
      break;
    }
    out += c;
  }
  return out;
}

namespace {

// A link destination between < and >: the characters that could end or escape it, and control
// characters, percent-encoded.
std::string link_target(std::string_view uri) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (is_control(c) || c == '<' || c == '>' || c == '\\' || c == ' ') {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::string location_text(const tool_call_location& l) {
  return l.line ? l.path + ":" + std::to_string(*l.line) : l.path;
}

tool_call_record& find_call(std::vector<tool_call_record>& calls, const std::string& id) {
  for (auto& c : calls)
    if (c.id == id) return c;
  calls.push_back(tool_call_record{.id = id});
  return calls.back();
}

void add_status(tool_call_record& c, const std::optional<std::string>& status) {
  if (status && (c.statuses.empty() || c.statuses.back() != *status)) c.statuses.push_back(*status);
}

void add_locations(tool_call_record& c, const std::optional<std::vector<tool_call_location>>& locations) {
  if (!locations) return;
  for (const auto& l : *locations) {
    auto text = location_text(l);
    if (std::find(c.locations.begin(), c.locations.end(), text) == c.locations.end()) c.locations.push_back(text);
  }
}

std::string block_text(const content_block& block) {
  return std::visit(overloaded{
                        [](const text_content& t) { return fenced(t.text); },
                        [](const resource_link& l) {
                          return "Link: [" + escape_inline(l.name) + "](<" + link_target(l.uri) + ">)\n";
                        },
                        [](const embedded_resource& r) {
                          return std::visit(overloaded{
                                                [](const text_resource_contents& t) {
                                                  return "Attached " + code(t.uri) + ":\n\n" + fenced(t.text);
                                                },
                                                [](const blob_resource_contents& b) {
                                                  return "Attached " + code(b.uri) + " (binary" +
                                                         (b.mime_type ? ", " + escape_inline(*b.mime_type) : "") +
                                                         ")\n";
                                                },
                                            },
                                            r.resource);
                        },
                        [](const image_content& i) { return "_(image, " + escape_inline(i.mime_type) + ")_\n"; },
                        [](const audio_content& a) { return "_(audio, " + escape_inline(a.mime_type) + ")_\n"; },
                        [](const unknown_variant& u) {
                          const auto* type = u.json.if_contains("type");
                          return "_(content of type " +
                                 escape_inline(type && type->is_string() ? std::string_view(type->get_string())
                                                                         : std::string_view("unknown")) +
                                 ")_\n";
                        },
                    },
                    block);
}

} // namespace

void turn_record::apply(const session_update& update) {
  std::visit(overloaded{
                 [&](const agent_message_chunk& c) {
                   if (const auto* t = std::get_if<text_content>(&c.content)) text += t->text;
                 },
                 [&](const agent_thought_chunk& c) {
                   if (const auto* t = std::get_if<text_content>(&c.content)) thoughts += t->text;
                 },
                 [&](const tool_call& t) {
                   auto& c = find_call(tool_calls, t.tool_call_id);
                   c.title = t.title;
                   if (t.kind) c.kind = *t.kind;
                   add_status(c, t.status ? t.status : std::optional<std::string>("pending"));
                   add_locations(c, t.locations);
                 },
                 [&](const tool_call_update& t) {
                   auto& c = find_call(tool_calls, t.tool_call_id);
                   if (t.title) c.title = *t.title;
                   if (t.kind) c.kind = *t.kind;
                   add_status(c, t.status);
                   add_locations(c, t.locations);
                 },
                 [&](const acp::plan& p) { plan = p.entries; },
                 [](const auto&) {}, // user chunks echo the prompt; the rest is editor UI state
             },
             update);
}

std::size_t turn_record::add_permission(const request_permission_request& request) {
  permission_record p;
  p.tool_call_id = request.tool_call.tool_call_id;
  if (request.tool_call.title) p.title = *request.tool_call.title;
  for (const auto& c : tool_calls)
    if (p.title.empty() && c.id == p.tool_call_id) p.title = c.title;
  for (const auto& o : request.options) p.options.push_back(o.name + " (" + o.kind + ")");
  permissions.push_back(std::move(p));
  return permissions.size() - 1;
}

void turn_record::answer_permission(std::size_t index, const request_permission_request& request,
                                    const request_permission_response* response, std::string_view error) {
  if (index >= permissions.size()) return;
  auto& choice = permissions[index].choice;
  if (!response) {
    choice = "error: " + std::string(error);
    return;
  }
  std::visit(overloaded{
                 [&](const selected_permission_outcome& s) {
                   choice = s.option_id;
                   for (const auto& o : request.options)
                     if (o.option_id == s.option_id) choice = o.name;
                 },
                 [&](const cancelled_permission_outcome&) { choice = "cancelled"; },
                 [&](const unknown_variant&) { choice = "unknown outcome"; },
             },
             response->outcome);
}

bool turn_record::empty() const noexcept {
  return text.empty() && thoughts.empty() && tool_calls.empty() && permissions.empty() && !plan;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string(buf, n);
}

std::string describe(const implementation& who) {
  std::string out = who.name;
  if (!who.version.empty()) out += " " + who.version;
  if (who.title && *who.title != who.name) out += " (" + *who.title + ")";
  return out;
}

std::string render_header(const session_header& h, std::chrono::system_clock::time_point now) {
  std::string out =
      h.loaded ? "\n# Session " + code(h.session_id) + " loaded again\n\n" : "# Session " + code(h.session_id) + "\n\n";
  out += "- Date: " + format_time(now) + "\n";
  if (!h.cwd.empty()) out += "- Working directory: " + code(h.cwd) + "\n";
  if (!h.agent.empty()) out += "- Agent: " + escape_inline(h.agent) + "\n";
  if (!h.client.empty()) out += "- Editor: " + escape_inline(h.client) + "\n";
  return out + "\n";
}

std::string render_prompt(int turn, const std::vector<content_block>& prompt,
                          std::chrono::system_clock::time_point now) {
  std::string out = "## Turn " + std::to_string(turn) + " \u2014 " + format_time(now) + "\n\n**User**\n\n";
  for (const auto& block : prompt) out += block_text(block) + "\n";
  return out;
}

std::string render_reply(const turn_record& turn, std::string_view heading, std::string_view stop_reason) {
  std::string out = "**" + std::string(heading) + "**\n\n";
  if (!turn.thoughts.empty())
    out += "<details><summary>Thoughts</summary>\n\n" + fenced(turn.thoughts) + "\n</details>\n\n";
  if (!turn.text.empty()) out += fenced(turn.text) + "\n";
  if (!turn.tool_calls.empty()) {
    out += "Tool calls:\n\n";
    for (const auto& c : turn.tool_calls) {
      out += "- " + (c.title.empty() ? std::string("(untitled)") : escape_inline(c.title)) + " (" + code(c.id) +
             (c.kind.empty() ? "" : ", " + escape_inline(c.kind)) + ")";
      for (std::size_t i = 0; i < c.statuses.size(); ++i)
        out += (i == 0 ? ": " : " \u2192 ") + escape_inline(c.statuses[i]);
      out += "\n";
      for (const auto& l : c.locations) out += "  - " + code(l) + "\n";
    }
    out += "\n";
  }
  for (const auto& p : turn.permissions) {
    out += "Permission requested: " + (p.title.empty() ? code(p.tool_call_id) : escape_inline(p.title)) +
           " \u2014 options: ";
    for (std::size_t i = 0; i < p.options.size(); ++i) out += (i ? ", " : "") + escape_inline(p.options[i]);
    out += " \u2192 **" + (p.choice.empty() ? std::string("no answer") : escape_inline(p.choice)) + "**\n\n";
  }
  if (turn.plan) {
    out += "Plan:\n\n";
    for (const auto& e : *turn.plan) {
      out += std::string(e.status == plan_entry_status::completed ? "- [x] " : "- [ ] ") + escape_inline(e.content);
      if (e.status == plan_entry_status::in_progress) out += " _(in progress)_";
      if (!e.priority.empty()) out += " _(" + escape_inline(e.priority) + ")_";
      out += "\n";
    }
    out += "\n";
  }
  if (!stop_reason.empty()) out += "_Stop reason: " + escape_inline(stop_reason) + "_\n\n";
  return out;
}

bool starts_turn(std::string_view line, std::string& open_fence) {
  std::size_t ticks = 0;
  while (ticks < line.size() && line[ticks] == '`') ++ticks;
  if (!open_fence.empty()) { // inside a fence: only a line of at least as many backticks ends it
    if (ticks >= open_fence.size() && line.find_first_not_of(" \t\r", ticks) == std::string_view::npos)
      open_fence.clear();
    return false;
  }
  if (ticks >= 3) {
    open_fence.assign(ticks, '`');
    return false;
  }
  return line.starts_with("## Turn ");
}

} // namespace acp::examples
