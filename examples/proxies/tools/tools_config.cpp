// acp-tools-proxy: the config file and the argv templates.
#include "tools_proxy.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace acp::examples {

namespace json = boost::json;

namespace {

/// One piece of an argv template: literal text or a placeholder.
struct piece {
  bool placeholder = false;
  std::string text; ///< the literal, or the argument name
};

/// Splits a template word; an error for an unbalanced brace.
boost::system::result<std::vector<piece>, std::string> split_word(std::string_view word) {
  std::vector<piece> out;
  std::string literal;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char ch = word[i];
    if ((ch == '{' || ch == '}') && i + 1 < word.size() && word[i + 1] == ch) {
      literal += ch;
      ++i;
    } else if (ch == '{') {
      const auto end = word.find('}', i + 1);
      if (end == std::string_view::npos) return std::string("unclosed '{' (write '{{' for a brace)");
      if (!literal.empty()) out.push_back({false, std::exchange(literal, {})});
      out.push_back({true, std::string(word.substr(i + 1, end - i - 1))});
      i = end;
    } else if (ch == '}') {
      return std::string("unmatched '}' (write '}}' for a brace)");
    } else {
      literal += ch;
    }
  }
  if (!literal.empty()) out.push_back({false, std::move(literal)});
  return out;
}

/// The JSON Schema type of property `name` ("string", "integer", "number", "boolean").
std::string_view property_type(const tool_command& t, std::string_view name) {
  const auto* props = t.input_schema.if_contains("properties");
  const auto* p = props != nullptr && props->is_object() ? props->get_object().if_contains(name) : nullptr;
  const auto* type = p != nullptr && p->is_object() ? p->get_object().if_contains("type") : nullptr;
  return type != nullptr && type->is_string() ? std::string_view(type->get_string()) : std::string_view();
}

bool is_required(const tool_command& t, std::string_view name) {
  const auto* req = t.input_schema.if_contains("required");
  if (req == nullptr || !req->is_array()) return false;
  for (const auto& r : req->get_array())
    if (r.is_string() && r.get_string() == name) return true;
  return false;
}

config_error at(std::string_view origin, const std::string& path, std::string_view what) {
  return {std::string(origin) + ": " + path + ": " + std::string(what)};
}

boost::system::result<tool_command, config_error> read_tool(const json::value& v, std::string_view origin,
                                                            const std::string& path) {
  tool_command t;
  const auto* o = v.if_object();
  if (o == nullptr) return at(origin, path, "expected an object");
  static const std::set<std::string_view> known = {"name", "description", "inputSchema",   "argv",
                                                   "cwd",  "timeoutMs",   "maxOutputBytes"};
  for (const auto& kv : *o)
    if (!known.contains(kv.key())) return at(origin, path + "." + std::string(kv.key()), "unknown member");
  auto string_member = [&](std::string_view key, std::string& out, bool required) -> std::optional<config_error> {
    const auto* m = o->if_contains(key);
    if (m == nullptr) {
      if (required) return at(origin, path + "." + std::string(key), "missing");
      return std::nullopt;
    }
    if (!m->is_string() || m->get_string().empty())
      return at(origin, path + "." + std::string(key), "expected a non-empty string");
    out = m->get_string();
    return std::nullopt;
  };
  if (auto e = string_member("name", t.name, true)) return *e;
  if (auto e = string_member("description", t.description, true)) return *e;
  if (auto e = string_member("cwd", t.cwd, false)) return *e;
  if (std::error_code ec; !t.cwd.empty() && !std::filesystem::is_directory(t.cwd, ec))
    return at(origin, path + ".cwd", "not a directory: " + t.cwd);
  if (const auto* s = o->if_contains("inputSchema")) {
    if (!s->is_object()) return at(origin, path + ".inputSchema", "expected an object");
    t.input_schema = s->get_object();
  } else {
    t.input_schema = {{"type", "object"}, {"properties", json::object{}}};
  }
  if (const auto* props = t.input_schema.if_contains("properties")) {
    if (!props->is_object()) return at(origin, path + ".inputSchema.properties", "expected an object");
    for (const auto& kv : props->get_object()) {
      const auto type = property_type(t, kv.key());
      if (type != "string" && type != "integer" && type != "number" && type != "boolean")
        return at(origin, path + ".inputSchema.properties." + std::string(kv.key()) + ".type",
                  "expected \"string\", \"integer\", \"number\" or \"boolean\"");
    }
  }
  if (const auto* req = t.input_schema.if_contains("required")) {
    if (!req->is_array()) return at(origin, path + ".inputSchema.required", "expected an array of property names");
    for (const auto& r : req->get_array())
      if (!r.is_string() || property_type(t, r.get_string()).empty())
        return at(origin, path + ".inputSchema.required", "names " + json::serialize(r) + ", not a property");
  }
  const auto* argv = o->if_contains("argv");
  if (argv == nullptr || !argv->is_array() || argv->get_array().empty())
    return at(origin, path + ".argv", "expected a non-empty array of strings");
  for (std::size_t i = 0; i < argv->get_array().size(); ++i) {
    const auto& w = argv->get_array()[i];
    const std::string wpath = path + ".argv[" + std::to_string(i) + "]";
    if (!w.is_string()) return at(origin, wpath, "expected a string");
    auto pieces = split_word(w.get_string());
    if (!pieces) return at(origin, wpath, pieces.error());
    for (const auto& p : *pieces)
      if (p.placeholder && property_type(t, p.text).empty())
        return at(origin, wpath, "{" + p.text + "} is not a property of inputSchema");
    if (i == 0 && w.get_string().empty()) return at(origin, wpath, "expected a command");
    t.argv.emplace_back(w.get_string());
  }
  auto positive = [&](std::string_view key, std::int64_t& out) -> std::optional<config_error> {
    const auto* m = o->if_contains(key);
    if (m == nullptr) return std::nullopt;
    if (!m->is_int64() && !m->is_uint64()) return at(origin, path + "." + std::string(key), "expected an integer");
    const auto n = m->to_number<std::int64_t>();
    if (n <= 0) return at(origin, path + "." + std::string(key), "expected a positive integer");
    out = n;
    return std::nullopt;
  };
  std::int64_t timeout = t.timeout.count();
  std::int64_t cap = static_cast<std::int64_t>(t.max_output_bytes);
  if (auto e = positive("timeoutMs", timeout)) return *e;
  if (auto e = positive("maxOutputBytes", cap)) return *e;
  t.timeout = std::chrono::milliseconds(timeout);
  t.max_output_bytes = static_cast<std::size_t>(cap);
  return t;
}

} // namespace

boost::system::result<tools_config, config_error> parse_tools_config(std::string_view text, std::string_view origin) {
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec) return config_error{std::string(origin) + ": not JSON: " + ec.message()};
  const auto* o = v.if_object();
  if (o == nullptr) return config_error{std::string(origin) + ": expected a JSON object"};
  tools_config config;
  for (const auto& kv : *o)
    if (kv.key() != "server" && kv.key() != "tools") return at(origin, kv.key(), "unknown member");
  if (const auto* s = o->if_contains("server")) {
    if (!s->is_string() || s->get_string().empty()) return at(origin, "server", "expected a non-empty string");
    config.server_name = s->get_string();
  }
  const auto* tools = o->if_contains("tools");
  if (tools == nullptr || !tools->is_array() || tools->get_array().empty())
    return at(origin, "tools", "expected a non-empty array of tools");
  std::set<std::string> names;
  for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
    const std::string path = "tools[" + std::to_string(i) + "]";
    auto t = read_tool(tools->get_array()[i], origin, path);
    if (!t) return t.error();
    if (!names.insert(t->name).second) return at(origin, path + ".name", "\"" + t->name + "\" is used twice");
    config.tools.push_back(std::move(*t));
  }
  return config;
}

boost::system::result<tools_config, config_error> load_tools_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error{"cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_tools_config(ss.str(), path);
}

namespace {
std::string_view json_type(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_bool()) return "boolean";
  if (v.is_int64() || v.is_uint64()) return "integer";
  if (v.is_double()) return "number";
  if (v.is_null()) return "null";
  return v.is_array() ? "array" : "object";
}

/// The text of an argument of schema type `type` (true), or the error (false).
bool argument_text(std::string_view name, std::string_view type, const json::value& v, std::string& out) {
  const auto got = json_type(v);
  const bool integral_double = v.is_double() && std::trunc(v.get_double()) == v.get_double();
  const bool ok = got == type || (type == "number" && got == "integer") || (type == "integer" && integral_double);
  if (!ok) {
    out = "argument " + std::string(name) + ": expected " + std::string(type) + ", got " + std::string(got);
    return false;
  }
  if (v.is_string()) {
    out = v.get_string();
  } else if (v.is_bool()) {
    out = v.get_bool() ? "true" : "false";
  } else if (type == "integer" && v.is_double()) {
    out = std::to_string(static_cast<std::int64_t>(v.get_double()));
  } else {
    out = json::serialize(v);
  }
  return true;
}
} // namespace

boost::system::result<std::vector<std::string>, std::string> fill_argv(const tool_command& tool,
                                                                       const json::object& arguments) {
  for (const auto& kv : arguments) {
    const auto type = property_type(tool, kv.key());
    if (type.empty()) return "unknown argument: " + std::string(kv.key());
    if (kv.value().is_null()) continue;
    if (std::string text; !argument_text(kv.key(), type, kv.value(), text)) return text;
  }
  if (const auto* req = tool.input_schema.if_contains("required"); req && req->is_array()) {
    for (const auto& r : req->get_array())
      if (r.is_string() && !arguments.contains(r.get_string()))
        return "missing required argument: " + std::string(r.get_string());
  }
  std::vector<std::string> out;
  for (const auto& word : tool.argv) {
    auto pieces = split_word(word);
    if (!pieces) return pieces.error(); // checked when the config was read
    std::string filled;
    bool keep = true;
    for (const auto& p : *pieces) {
      if (!p.placeholder) {
        filled += p.text;
        continue;
      }
      const auto* v = arguments.if_contains(p.text);
      if (v == nullptr || v->is_null()) {
        if (is_required(tool, p.text)) return "missing required argument: " + p.text;
        keep = false; // an optional argument left out: the word goes
        break;
      }
      std::string text;
      if (!argument_text(p.text, property_type(tool, p.text), *v, text)) return text;
      filled += text;
    }
    if (keep) out.push_back(std::move(filled));
  }
  if (out.empty() || out.front().empty()) return std::string("the command word is empty");
  return out;
}

} // namespace acp::examples
