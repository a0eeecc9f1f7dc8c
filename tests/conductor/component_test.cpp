#include <acp/conductor/component.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace acp::conductor {
namespace {

using strings = std::vector<std::string>;
using env_list = std::vector<std::pair<std::string, std::string>>;

component_spec parse_ok(std::string_view text) {
  auto r = parse_component(text);
  EXPECT_TRUE(r.has_value()) << "input: " << text << "\nerror: " << (r ? "" : r.error());
  return r ? *r : component_spec{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_component(text);
  EXPECT_FALSE(r.has_value()) << "input: " << text;
  return r ? std::string{} : r.error();
}

strings words(std::string_view text) {
  auto r = split_words(text);
  EXPECT_TRUE(r.has_value()) << "input: " << text << "\nerror: " << (r ? "" : r.error());
  return r ? *r : strings{};
}

TEST(component_words, splits_on_any_blank_and_collapses_runs) {
  EXPECT_EQ(words("  a  b\tc\n d  "), (strings{"a", "b", "c", "d"}));
}

TEST(component_words, single_quotes_are_literal) {
  EXPECT_EQ(words(R"('a b' 'x\y' '$HOME' '"')"), (strings{"a b", R"(x\y)", "$HOME", "\""}));
}

TEST(component_words, double_quotes_honour_only_the_four_escapes) {
  EXPECT_EQ(words(R"("a \"b\" \\ \$x \`y\` \n")"), (strings{R"(a "b" \ $x `y` \n)"}));
}

TEST(component_words, backslash_escapes_outside_quotes) {
  EXPECT_EQ(words(R"(a\ b \'c \"d e\\f)"), (strings{"a b", "'c", "\"d", R"(e\f)"}));
}

TEST(component_words, backslash_newline_is_a_line_continuation) {
  EXPECT_EQ(words("ab\\\ncd \"x\\\ny\""), (strings{"abcd", "xy"}));
}

TEST(component_words, adjacent_parts_join_into_one_word) {
  EXPECT_EQ(words(R"(a"b c"'d e'f\ g)"), (strings{"ab cd ef g"}));
}

TEST(component_words, empty_quotes_make_an_empty_word) {
  EXPECT_EQ(words(R"(a '' "" b)"), (strings{"a", "", "", "b"}));
}

TEST(component_words, nothing_is_expanded) {
  EXPECT_EQ(words("*.txt $HOME ~ $(id) `id` a;b a|b"), (strings{"*.txt", "$HOME", "~", "$(id)", "`id`", "a;b", "a|b"}));
}

TEST(component_words, unterminated_quotes_name_the_position) {
  auto single = split_words("abc 'def");
  ASSERT_FALSE(single.has_value());
  EXPECT_EQ(single.error(), "unterminated single quote (opened at position 5)");
  auto dbl = split_words(R"(x "a\")");
  ASSERT_FALSE(dbl.has_value());
  EXPECT_EQ(dbl.error(), "unterminated double quote (opened at position 3)");
}

TEST(component_words, dangling_backslash_is_an_error) {
  auto r = split_words("abc\\");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), "dangling backslash at end of input (position 4)");
}

TEST(component_parse, command_and_args) {
  auto spec = parse_ok("npx -y '@zed/claude-code-acp' --flag=\"a b\"");
  EXPECT_EQ(spec.command, "npx");
  EXPECT_EQ(spec.args, (strings{"-y", "@zed/claude-code-acp", "--flag=a b"}));
  EXPECT_TRUE(spec.env.empty());
  EXPECT_EQ(spec.name, "npx");
}

TEST(component_parse, leading_assignments_become_env) {
  auto spec = parse_ok("FOO=1 _B2=\"x y\" EMPTY= ./agent A=not_env");
  EXPECT_EQ(spec.env, (env_list{{"FOO", "1"}, {"_B2", "x y"}, {"EMPTY", ""}}));
  EXPECT_EQ(spec.command, "./agent");
  EXPECT_EQ(spec.args, (strings{"A=not_env"}));
  EXPECT_EQ(spec.name, "agent");
}

TEST(component_parse, invalid_or_quoted_names_are_not_assignments) {
  EXPECT_EQ(parse_ok("1A=x cmd").command, "1A=x");
  EXPECT_EQ(parse_ok("A-B=x cmd").command, "A-B=x");
  EXPECT_EQ(parse_ok("=x cmd").command, "=x");
  EXPECT_EQ(parse_ok("'A=x' cmd").command, "A=x");
  EXPECT_EQ(parse_ok("A\\=x cmd").command, "A=x");
}

TEST(component_parse, name_is_basename_of_command) {
  EXPECT_EQ(parse_ok("/usr/local/bin/my-agent --x").name, "my-agent");
  EXPECT_EQ(parse_ok("agent").name, "agent");
  EXPECT_EQ(default_component_name("dir/sub/"), "sub");
  EXPECT_EQ(default_component_name("/"), "/");
}

TEST(component_parse, empty_is_an_error) {
  EXPECT_EQ(parse_error(""), "empty component (expected a command)");
  EXPECT_EQ(parse_error(" \t\n"), "empty component (expected a command)");
}

TEST(component_parse, only_assignments_is_an_error) {
  EXPECT_EQ(parse_error("A=1 B=2"), "no command after the environment assignments");
}

TEST(component_parse, empty_command_word_is_an_error) { EXPECT_EQ(parse_error("A=1 '' x"), "empty command name"); }

TEST(component_parse, quote_errors_pass_through) {
  EXPECT_EQ(parse_error("agent \"--x"), "unterminated double quote (opened at position 7)");
}

TEST(component_json, full_spec) {
  auto spec = parse_ok(R"(  {"command": "/opt/agent", "args": ["--a", "b c"], "env": {"K": "v", "L": ""},)"
                       R"( "name": "main"})");
  EXPECT_EQ(spec.command, "/opt/agent");
  EXPECT_EQ(spec.args, (strings{"--a", "b c"}));
  EXPECT_EQ(spec.env, (env_list{{"K", "v"}, {"L", ""}}));
  EXPECT_EQ(spec.name, "main");
}

TEST(component_json, minimal_spec_defaults_name) {
  auto spec = parse_ok(R"({"command": "bin/proxy"})");
  EXPECT_EQ(spec.command, "bin/proxy");
  EXPECT_TRUE(spec.args.empty());
  EXPECT_TRUE(spec.env.empty());
  EXPECT_EQ(spec.name, "proxy");
}

TEST(component_json, errors_carry_the_key_path) {
  EXPECT_EQ(parse_error(R"({"args": []})"), "command: missing (or url, for a remote component)");
  EXPECT_EQ(parse_error(R"({"command": 3})"), "command: expected string");
  EXPECT_EQ(parse_error(R"({"command": ""})"), "command: must not be empty");
  EXPECT_EQ(parse_error(R"({"command": "a", "args": "x"})"), "args: expected array of strings");
  EXPECT_EQ(parse_error(R"({"command": "a", "args": ["x", 1]})"), "args[1]: expected string");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": "K=v"})"),
            R"(env: expected object of strings (or array of {"name", "value"}))");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": {"K": 1}})"), "env.K: expected string");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": {"1K": "v"}})"), "env.1K: not a valid environment variable name");
  EXPECT_EQ(parse_error(R"({"command": "a", "name": null})"), "name: expected string");
  EXPECT_EQ(parse_error(R"({"command": "a", "cwd": "/"})"),
            "cwd: unknown key (expected command, args, env, name, type, url)");
}

// The reference conductor's older form: an MCP server's stdio entry.
TEST(component_json, older_stdio_form_with_env_array) {
  auto spec = parse_ok(R"({"type": "stdio", "name": "my-agent", "command": "/usr/bin/python",)"
                       R"( "args": ["agent.py", "-v"], "env": [{"name": "B", "value": "2"},)"
                       R"( {"value": "", "name": "A"}]})");
  EXPECT_EQ(spec.name, "my-agent");
  EXPECT_EQ(spec.command, "/usr/bin/python");
  EXPECT_EQ(spec.args, (strings{"agent.py", "-v"}));
  EXPECT_EQ(spec.env, (env_list{{"B", "2"}, {"A", ""}})); // in the array's order
  EXPECT_FALSE(spec.remote());
}

TEST(component_json, older_form_without_type_and_with_an_empty_env_array) {
  auto spec = parse_ok(R"({"name": "p", "command": "proxy", "args": [], "env": []})");
  EXPECT_EQ(spec.command, "proxy");
  EXPECT_TRUE(spec.env.empty());
  // `env` as an array works without `type` too, and `type` without an array.
  EXPECT_EQ(parse_ok(R"({"command": "x", "env": [{"name": "K", "value": "v"}]})").env, (env_list{{"K", "v"}}));
  EXPECT_EQ(parse_ok(R"({"type": "stdio", "command": "x", "env": {"K": "v"}})").env, (env_list{{"K", "v"}}));
  EXPECT_EQ(parse_ok(R"({"type": "stdio", "command": "/bin/agent"})").name, "agent");
}

TEST(component_json, older_form_other_types_are_refused_by_name) {
  EXPECT_EQ(parse_error(R"({"type": "http", "name": "h", "url": "http://x/", "headers": []})"),
            R"(type: `http` is not supported (only "stdio" components can be run))");
  EXPECT_EQ(parse_error(R"({"type": "sse", "command": "x"})"),
            R"(type: `sse` is not supported (only "stdio" components can be run))");
  EXPECT_EQ(parse_error(R"({"type": 1, "command": "x"})"), "type: expected string");
  const auto e = parse_error(R"({"type": "a\nb\u001b", "command": "x"})");
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(e.find('\x1b'), std::string::npos) << e;
}

TEST(component_json, older_form_env_entries_are_checked) {
  EXPECT_EQ(parse_error(R"({"command": "a", "env": ["K=v"]})"), R"(env[0]: expected object {"name", "value"})");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": [{"name": "K"}]})"), "env[0].value: missing");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": [{"name": "K", "value": "v"}, {"value": "v"}]})"),
            "env[1].name: missing");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": [{"name": "K", "value": 1}]})"), "env[0].value: expected string");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": [{"name": "1K", "value": "v"}]})"),
            "env[0].name: 1K is not a valid environment variable name");
  EXPECT_EQ(parse_error(R"({"command": "a", "env": [{"name": "K", "value": "v", "x": 1}]})"),
            "env[0].x: unknown key (expected name, value)");
}

TEST(component_json, invalid_json_is_an_error) {
  auto message = parse_error(R"({"command": "a",)");
  EXPECT_EQ(message.rfind("invalid JSON component spec: ", 0), 0u) << message;
}

} // namespace
} // namespace acp::conductor

// Found by fuzzing: a key with a newline or escape character must not break the one-line error.
TEST(component_json, unknown_key_with_control_characters_is_quoted_in_one_line) {
  auto r = acp::conductor::parse_component(R"({"command":"x","\nv\u001b[31m":1})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find('\x1b'), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("unknown key"), std::string::npos) << r.error();
}

namespace acp::conductor {
namespace {

TEST(component_remote, an_address_is_a_remote_component_named_after_it) {
  for (const char* text :
       {"ws://127.0.0.1:8700/acp", "  tcp://[::1]:4000 ", "unix:/run/acp.sock", "wss://box/acp", "tls://box:9000"}) {
    auto spec = parse_ok(text);
    EXPECT_TRUE(spec.remote()) << text;
    EXPECT_TRUE(spec.command.empty()) << text;
    EXPECT_EQ(spec.name, spec.address) << text;
  }
  EXPECT_EQ(parse_ok("tcp://[::1]:4000").address, "tcp://[::1]:4000");
  EXPECT_FALSE(parse_ok("./ws-agent --port 1").remote());
}

TEST(component_remote, a_bad_address_is_an_error_not_a_command) {
  EXPECT_NE(parse_error("tcp://host").find("port"), std::string::npos);
  // User information would put a secret on the command line: refused without echoing it.
  const auto e = parse_error("ws://me:hunter2@box:1/");
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(component_remote, json_url_form_with_a_name) {
  auto spec = parse_ok(R"({"url": "ws://127.0.0.1:1/acp", "name": "build-box"})");
  EXPECT_TRUE(spec.remote());
  EXPECT_EQ(spec.name, "build-box");
  EXPECT_EQ(parse_error(R"({"url": "ws://h:1/", "command": "x"})"),
            "url: a remote component has no command, args, env or type");
  EXPECT_EQ(parse_error(R"({"url": "ws://h:1/", "type": "stdio"})"),
            "url: a remote component has no command, args, env or type");
  EXPECT_EQ(parse_error(R"({"url": 3})"), "url: expected string");
  EXPECT_EQ(parse_error(R"({"name": "x"})"), "command: missing (or url, for a remote component)");
}

} // namespace
} // namespace acp::conductor
