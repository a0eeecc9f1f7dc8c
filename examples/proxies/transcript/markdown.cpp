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

std::string fenced(std::string_view text) {
  const auto fence = fence_for(text);
  std::string out = fence + "\n" + std::string(text);
  if (!out.ends_with('\n')) out += '\n';
  return out + fence + "\n";
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
                        [](const text_content& t) { return t.text + "\n"; },
                        [](const resource_link& l) { return "Link: [" + l.name + "](<" + l.uri + ">)\n"; },
                        [](const embedded_resource& r) {
                          return std::visit(overloaded{
                                                [](const text_resource_contents& t) {
                                                  return "Attached `" + t.uri + "`:\n\n" + fenced(t.text);
                                                },
                                                [](const blob_resource_contents& b) {
                                                  return "Attached `" + b.uri + "` (binary" +
                                                         (b.mime_type ? ", " + *b.mime_type : "") + ")\n";
                                                },
                                            },
                                            r.resource);
                        },
                        [](const image_content& i) { return "_(image, " + i.mime_type + ")_\n"; },
                        [](const audio_content& a) { return "_(audio, " + a.mime_type + ")_\n"; },
                        [](const unknown_variant& u) {
                          const auto* type = u.json.if_contains("type");
                          return "_(content of type " +
                                 std::string(type && type->is_string() ? type->get_string() : "unknown") + ")_\n";
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
      h.loaded ? "\n# Session `" + h.session_id + "` loaded again\n\n" : "# Session `" + h.session_id + "`\n\n";
  out += "- Date: " + format_time(now) + "\n";
  if (!h.cwd.empty()) out += "- Working directory: `" + h.cwd + "`\n";
  if (!h.agent.empty()) out += "- Agent: " + h.agent + "\n";
  if (!h.client.empty()) out += "- Editor: " + h.client + "\n";
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
  if (!turn.thoughts.empty()) out += "<details><summary>Thoughts</summary>\n\n" + turn.thoughts + "\n\n</details>\n\n";
  if (!turn.text.empty()) out += turn.text + "\n\n";
  if (!turn.tool_calls.empty()) {
    out += "Tool calls:\n\n";
    for (const auto& c : turn.tool_calls) {
      out += "- " + (c.title.empty() ? std::string("(untitled)") : c.title) + " (`" + c.id + "`" +
             (c.kind.empty() ? "" : ", " + c.kind) + ")";
      for (std::size_t i = 0; i < c.statuses.size(); ++i) out += (i == 0 ? ": " : " \u2192 ") + c.statuses[i];
      out += "\n";
      for (const auto& l : c.locations) out += "  - `" + l + "`\n";
    }
    out += "\n";
  }
  for (const auto& p : turn.permissions) {
    out += "Permission requested: " + (p.title.empty() ? "`" + p.tool_call_id + "`" : p.title) + " \u2014 options: ";
    for (std::size_t i = 0; i < p.options.size(); ++i) out += (i ? ", " : "") + p.options[i];
    out += " \u2192 **" + (p.choice.empty() ? std::string("no answer") : p.choice) + "**\n\n";
  }
  if (turn.plan) {
    out += "Plan:\n\n";
    for (const auto& e : *turn.plan) {
      out += std::string(e.status == plan_entry_status::completed ? "- [x] " : "- [ ] ") + e.content;
      if (e.status == plan_entry_status::in_progress) out += " _(in progress)_";
      if (!e.priority.empty()) out += " _(" + e.priority + ")_";
      out += "\n";
    }
    out += "\n";
  }
  if (!stop_reason.empty()) out += "_Stop reason: " + std::string(stop_reason) + "_\n\n";
  return out;
}

} // namespace acp::examples
