// The reference conductor's command line (-n/--name after the mode, --debug, --debug-dir, --log)
// accepted as it was, next to our own spellings.
#include "options_support.hpp"

#include <acp/conductor/options.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

namespace acp::conductor {
namespace {

using test::parse;
using test::parse_ok;

// A usage error: exit 2, one line on stderr.
std::string usage_error(std::initializer_list<const char*> args) {
  auto r = parse(args);
  auto* e = std::get_if<early_exit>(&r);
  if (!e) {
    ADD_FAILURE() << "expected a usage error";
    return {};
  }
  EXPECT_EQ(e->code, 2);
  EXPECT_TRUE(e->to_stderr);
  EXPECT_EQ(e->text.rfind("acp-conductor: ", 0), 0u) << e->text;
  EXPECT_EQ(std::count(e->text.begin(), e->text.end(), '\n'), 1) << e->text;
  return e->text;
}

TEST(options_compat, name_short_and_long_after_the_mode) {
  EXPECT_EQ(parse_ok({"agent", "-n", "chain-a", "./agent"}).name, "chain-a");
  EXPECT_EQ(parse_ok({"agent", "--name", "chain-b", "./p", "./agent"}).name, "chain-b");
  EXPECT_EQ(parse_ok({"proxy", "-n", "inner"}).name, "inner");
  EXPECT_EQ(parse_ok({"-n", "before", "agent", "./agent"}).name, "before");
  const auto o = parse_ok({"agent", "-n", "x", "./p", "./agent"});
  ASSERT_EQ(o.components.size(), 2u); // the name is not taken for a component
  EXPECT_EQ(o.components[0].command, "./p");
  EXPECT_NE(usage_error({"agent", "-n", "", "./agent"}).find("--name must not be empty"), std::string::npos);
  EXPECT_NE(usage_error({"agent", "./agent", "-n"}).find("name"), std::string::npos);
}

TEST(options_compat, debug_alone_logs_in_the_current_directory) {
  EXPECT_FALSE(parse_ok({"agent", "./agent"}).debug_dir.has_value());
  EXPECT_EQ(parse_ok({"--debug", "agent", "./agent"}).debug_dir, ".");
  EXPECT_EQ(parse_ok({"agent", "--debug", "./agent"}).debug_dir, ".");
}

TEST(options_compat, debug_dir_sets_the_directory_with_or_without_debug) {
  EXPECT_EQ(parse_ok({"--debug", "--debug-dir", "/tmp/d", "agent", "./agent"}).debug_dir, "/tmp/d");
  EXPECT_EQ(parse_ok({"--debug-dir=/tmp/e", "agent", "./agent"}).debug_dir, "/tmp/e");
  EXPECT_EQ(parse_ok({"proxy", "--debug-dir", "logs"}).debug_dir, "logs");
  EXPECT_NE(usage_error({"--debug-dir", "", "agent", "./agent"}).find("--debug-dir: DIR must not be empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"agent", "./agent", "--debug-dir"}).find("debug-dir"), std::string::npos);
  EXPECT_NE(usage_error({"--debug=maybe", "agent", "./agent"}).find("--debug"), std::string::npos);
}

TEST(options_compat, log_takes_levels_as_the_reference_did) {
  EXPECT_EQ(parse_ok({"--log", "debug", "agent", "./agent"}).log_level, log_level::debug);
  EXPECT_EQ(parse_ok({"agent", "--log", "TRACE", "./agent"}).log_level, log_level::trace);
  EXPECT_EQ(parse_ok({"--log", "Warn", "agent", "./agent"}).log_level, log_level::warn);
  EXPECT_EQ(parse_ok({"--log", "error", "agent", "./agent"}).log_level, log_level::error);
  EXPECT_EQ(parse_ok({"--log", "info", "agent", "./agent"}).log_level, log_level::info);
  EXPECT_EQ(parse_ok({"--log", "off", "agent", "./agent"}).log_level, log_level::error);
}

TEST(options_compat, log_takes_rust_log_directives) {
  EXPECT_EQ(parse_log_filter("conductor=debug"), log_level::debug);
  EXPECT_EQ(parse_log_filter("warn,acp_conductor=trace"), log_level::trace);
  EXPECT_EQ(parse_log_filter(" info , hyper = warn "), log_level::info);
  EXPECT_EQ(parse_log_filter("off,conductor=off"), log_level::error);
  EXPECT_EQ(parse_log_filter("conductor[span{x=1}]=debug"), log_level::debug);
  EXPECT_EQ(parse_log_filter("3"), log_level::info);
  EXPECT_EQ(parse_log_filter("warning"), log_level::warn);
  EXPECT_EQ(parse_log_filter("debug,"), log_level::debug);
  EXPECT_FALSE(parse_log_filter(""));
  EXPECT_FALSE(parse_log_filter(","));
  EXPECT_FALSE(parse_log_filter("verbose"));
  EXPECT_FALSE(parse_log_filter("conductor"));      // a target alone: we have no targets to enable
  EXPECT_FALSE(parse_log_filter("conductor=loud")); // an unknown level
  EXPECT_FALSE(parse_log_filter("6"));
  EXPECT_EQ(parse_ok({"--log", "conductor=debug,warn", "agent", "./agent"}).log_level, log_level::debug);
}

TEST(options_compat, bad_log_values_are_one_line_errors) {
  const auto e = usage_error({"--log", "loud", "agent", "./agent"});
  EXPECT_NE(e.find("--log: invalid filter `loud`"), std::string::npos) << e;
  EXPECT_NE(usage_error({"--log", "a=\n", "agent", "./agent"}).find("--log: invalid filter"), std::string::npos);
  EXPECT_NE(usage_error({"agent", "./agent", "--log"}).find("log"), std::string::npos);
}

TEST(options_compat, log_and_log_level_both_work_but_not_together) {
  EXPECT_EQ(parse_ok({"--log-level", "debug", "agent", "./agent"}).log_level, log_level::debug);
  EXPECT_EQ(parse_ok({"--log", "debug", "agent", "./agent"}).log_level, log_level::debug);
  EXPECT_NE(usage_error({"--log", "debug", "--log-level", "info", "agent", "./agent"})
                .find("--log and --log-level: give one of them"),
            std::string::npos);
}

TEST(options_compat, the_reference_command_line_as_a_whole) {
  const auto o = parse_ok({"--debug", "--debug-dir", "/tmp/x", "--log", "conductor=trace", "--trace", "/tmp/t.jsons",
                           "agent", "-n", "sparkle", "sparkle-acp-proxy", "claude-agent"});
  EXPECT_EQ(o.debug_dir, "/tmp/x");
  EXPECT_EQ(o.log_level, log_level::trace);
  EXPECT_EQ(o.trace_file, "/tmp/t.jsons");
  EXPECT_EQ(o.name, "sparkle");
  ASSERT_EQ(o.components.size(), 2u);
  EXPECT_EQ(o.components[1].command, "claude-agent");
}

TEST(options_compat, older_json_component_on_the_command_line) {
  const auto o = parse_ok({"agent", R"({"type":"stdio","name":"a","command":"./agent","args":["-v"],)"
                                    R"("env":[{"name":"K","value":"v"}]})"});
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_EQ(o.components[0].name, "a");
  EXPECT_EQ(o.components[0].env, (std::vector<std::pair<std::string, std::string>>{{"K", "v"}}));
  const auto e = usage_error({"agent", R"({"type":"http","name":"h","url":"http://x/"})"});
  EXPECT_NE(e.find("type: `http` is not supported"), std::string::npos) << e;
}

TEST(options_compat, help_shows_the_new_flags) {
  auto r = parse({"--help"});
  auto* e = std::get_if<early_exit>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, 0);
  for (const char* flag : {"-n,--name", "--debug ", "--debug-dir", "--log ", "--log-level", "\"type\": \"stdio\""})
    EXPECT_NE(e->text.find(flag), std::string::npos) << flag << "\n" << e->text;
}

} // namespace
} // namespace acp::conductor
