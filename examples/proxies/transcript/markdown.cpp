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

void add_status(tool_call_record& c, const std::optional<tool_call_status>& status) {
  if (status && (c.statuses.empty() || c.statuses.back() != status->str())) c.statuses.push_back(status->str());
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

std::size_t turn_record::add(turn_entry entry) {
  text_open_ = false;
  entries.push_back(std::move(entry));
  return entries.size() - 1;
}

namespace {

tool_call_record& find_call(turn_record& turn, const std::string& id) {
  for (auto& e : turn.entries)
    if (auto* c = std::get_if<tool_call_record>(&e); c && c->id == id) return *c;
  return std::get<tool_call_record>(turn.entries[turn.add(tool_call_record{.id = id})]);
}

} // namespace

void turn_record::apply(const session_update& update) {
  auto chunk = [&](bool thought, const auto& c) { // an agent message or thought chunk
    const auto* t = std::get_if<text_content>(&c.content);
    if (!t || t->text.empty()) return; // nothing to show; the open record stays open
    auto* open = text_open_ && !entries.empty() ? std::get_if<text_record>(&entries.back()) : nullptr;
    if (open && open->thought == thought && open->message_id == c.message_id) {
      open->text += t->text;
      return;
    }
    add(text_record{thought, t->text, c.message_id});
    text_open_ = true;
  };
  std::visit(overloaded{
                 [&](const agent_message_chunk& c) { chunk(false, c); },
                 [&](const agent_thought_chunk& c) { chunk(true, c); },
                 [&](const tool_call& t) {
                   text_open_ = false;
                   auto& c = find_call(*this, t.tool_call_id);
                   c.title = t.title;
                   if (t.kind) c.kind = t.kind->str();
                   add_status(c, t.status ? *t.status : tool_call_status(tool_call_status::pending));
                   add_locations(c, t.locations);
                 },
                 [&](const tool_call_update& t) {
                   text_open_ = false;
                   auto& c = find_call(*this, t.tool_call_id);
                   if (t.title) c.title = *t.title;
                   if (t.kind) c.kind = t.kind->str();
                   add_status(c, t.status);
                   add_locations(c, t.locations);
                 },
                 [&](const acp::plan& p) { plan = p.entries; },
                 [](const auto&) {}, // user chunks echo the prompt; the rest is editor UI state
             },
             update);
}

terminal_record& turn_record::terminal(std::string_view terminal_id) {
  for (auto& e : entries)
    if (auto* t = std::get_if<terminal_record>(&e); t && t->terminal_id == terminal_id) return *t;
  return std::get<terminal_record>(entries[add(terminal_record{.terminal_id = std::string(terminal_id)})]);
}

std::size_t turn_record::add_permission(const request_permission_request& request) {
  permission_record p;
  p.tool_call_id = request.tool_call.tool_call_id;
  if (request.tool_call.title) p.title = *request.tool_call.title;
  for (const auto& e : entries) {
    const auto* c = std::get_if<tool_call_record>(&e);
    if (c && p.title.empty() && c->id == p.tool_call_id) p.title = c->title;
  }
  for (const auto& o : request.options) p.options.push_back(o.name + " (" + o.kind.str() + ")");
  return add(std::move(p));
}

void turn_record::answer_permission(std::size_t index, const request_permission_request& request,
                                    const request_permission_response* response, std::string_view error) {
  auto* p = at<permission_record>(index);
  if (!p) return;
  auto& choice = p->choice;
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

bool turn_record::empty() const noexcept { return entries.empty() && !plan; }

std::size_t count_lines(std::string_view text) noexcept {
  const auto breaks = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return breaks + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

namespace {

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

} // namespace

std::string excerpt_head(std::string_view text) {
  std::size_t end = 0;
  for (std::size_t lines = 0; end < text.size() && lines < excerpt_max_lines; ++lines) {
    const auto nl = text.find('\n', end);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  if (end > excerpt_max_bytes) {
    end = excerpt_max_bytes;
    while (end > 0 && utf8_continuation(text[end])) --end;
  }
  return std::string(text.substr(0, end));
}

std::string excerpt_tail(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size(); // where the line being counted ends
  if (end > 0 && text[end - 1] == '\n') --end;
  for (std::size_t lines = 0; lines < excerpt_max_lines; ++lines) {
    const auto nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    if (nl == std::string_view::npos) {
      begin = 0;
      break;
    }
    begin = nl + 1;
    end = nl;
  }
  if (text.size() - begin > excerpt_max_bytes) {
    begin = text.size() - excerpt_max_bytes;
    while (begin < text.size() && utf8_continuation(text[begin])) ++begin;
  }
  return std::string(text.substr(begin));
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

namespace {

// One entry on paper: list lines (tool calls, editor requests) and a block below them (text,
// a permission, an excerpt). Either may be empty.
struct rendered {
  std::string item;
  std::string block;
};

std::string size_text(std::size_t bytes, std::size_t lines) {
  return std::to_string(bytes) + (bytes == 1 ? " byte, " : " bytes, ") + std::to_string(lines) +
         (lines == 1 ? " line" : " lines");
}

// An excerpt in its fence, and what was left out.
std::string excerpt_block(const std::string& excerpt, std::size_t whole, bool head) {
  if (excerpt.empty()) return {};
  std::string out = fenced(excerpt);
  if (excerpt.size() < whole)
    out += std::string("_(") + (head ? "first " : "last ") + std::to_string(excerpt.size()) + " of " +
           std::to_string(whole) + " bytes)_\n";
  return out + "\n";
}

rendered render_entry(const text_record& t) {
  if (t.thought) return {{}, "<details><summary>Thoughts</summary>\n\n" + fenced(t.text) + "\n</details>\n\n"};
  return {{}, fenced(t.text) + "\n"};
}

rendered render_entry(const tool_call_record& c) {
  std::string out = "- " + (c.title.empty() ? std::string("(untitled)") : escape_inline(c.title)) + " (" + code(c.id) +
                    (c.kind.empty() ? "" : ", " + escape_inline(c.kind)) + ")";
  for (std::size_t i = 0; i < c.statuses.size(); ++i)
    out += (i == 0 ? ": " : " \u2192 ") + escape_inline(c.statuses[i]);
  out += "\n";
  for (const auto& l : c.locations) out += "  - " + code(l) + "\n";
  return {out, {}};
}

rendered render_entry(const permission_record& p) {
  std::string out = "Permission requested: " + (p.title.empty() ? code(p.tool_call_id) : escape_inline(p.title)) +
                    " \u2014 options: ";
  for (std::size_t i = 0; i < p.options.size(); ++i) out += (i ? ", " : "") + escape_inline(p.options[i]);
  out += " \u2192 **" + (p.choice.empty() ? std::string("no answer") : escape_inline(p.choice)) + "**\n\n";
  return {{}, out};
}

rendered render_entry(const file_record& f) {
  std::string out = std::string(f.write ? "- Editor write " : "- Editor read ") + code(f.path);
  if (f.write) {
    out += " (" + size_text(f.bytes, f.lines) + ")";
  } else if (f.line || f.limit) {
    out += " (";
    if (f.line) out += "from line " + std::to_string(*f.line);
    if (f.limit) out += std::string(f.line ? ", " : "") + "at most " + std::to_string(*f.limit) + " lines";
    out += ")";
  }
  out += " \u2192 ";
  if (f.answer.empty())
    out += "no answer";
  else if (f.answer != "ok")
    out += escape_inline(f.answer);
  else
    out += f.write ? "written" : size_text(f.bytes, f.lines);
  return {out + "\n", f.write ? excerpt_block(f.excerpt, f.bytes, true) : std::string()};
}

rendered render_entry(const terminal_record& t) {
  std::string out = "- Editor terminal";
  if (!t.terminal_id.empty()) out += " " + code(t.terminal_id);
  if (!t.command.empty()) {
    out += ": " + code(t.command);
    for (const auto& a : t.args) out += " " + code(a);
  }
  if (!t.cwd.empty()) out += " in " + code(t.cwd);
  std::vector<std::string> facts;
  if (!t.error.empty()) facts.push_back(escape_inline(t.error));
  if (!t.exit.empty()) facts.push_back(escape_inline(t.exit));
  if (t.killed) facts.emplace_back("killed");
  for (std::size_t i = 0; i < facts.size(); ++i) out += (i == 0 ? " \u2192 " : ", ") + facts[i];
  std::string block = excerpt_block(t.output, t.output_bytes, false);
  if (t.truncated) block += "_(the editor truncated the output)_\n\n";
  return {out + "\n", block};
}

} // namespace

std::string render_reply(const turn_record& turn, std::string_view heading, std::string_view stop_reason) {
  std::string out = "**" + std::string(heading) + "**\n\n";
  bool in_list = false;
  for (const auto& entry : turn.entries) {
    const auto r = std::visit([](const auto& e) { return render_entry(e); }, entry);
    if (!r.item.empty()) {
      out += r.item;
      in_list = true;
    }
    if (!r.block.empty()) {
      if (in_list) out += "\n";
      out += r.block;
      in_list = false;
    }
  }
  if (in_list) out += "\n";
  if (turn.plan) {
    out += "Plan:\n\n";
    for (const auto& e : *turn.plan) {
      out += std::string(e.status == plan_entry_status::completed ? "- [x] " : "- [ ] ") + escape_inline(e.content);
      if (e.status == plan_entry_status::in_progress) out += " _(in progress)_";
      if (!e.priority.empty()) out += " _(" + escape_inline(e.priority.str()) + ")_";
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
