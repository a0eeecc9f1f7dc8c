#include "options_support.hpp"

#include <acp/conductor/options.hpp>
#include <acp/version.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace acp::conductor {
namespace {

using namespace std::chrono_literals;

using test::parse;
using test::parse_ok;

early_exit parse_exit(std::initializer_list<const char*> args) {
  auto r = parse(args);
  if (!std::holds_alternative<early_exit>(r)) {
    ADD_FAILURE() << "expected an early exit";
    return {};
  }
  return std::get<early_exit>(r);
}

// A usage error: exit 2, exactly one line on stderr, `acp-conductor: ... (try --help)`.
std::string usage_error(std::initializer_list<const char*> args) {
  auto e = parse_exit(args);
  EXPECT_EQ(e.code, 2);
  EXPECT_TRUE(e.to_stderr);
  EXPECT_EQ(e.text.rfind("acp-conductor: ", 0), 0u) << e.text;
  const std::string suffix = " (try --help)\n";
  EXPECT_TRUE(e.text.size() > suffix.size() &&
              e.text.compare(e.text.size() - suffix.size(), suffix.size(), suffix) == 0)
      << e.text;
  EXPECT_EQ(std::count(e.text.begin(), e.text.end(), '\n'), 1) << e.text;
  return e.text;
}

TEST(options, agent_with_proxies_and_defaults) {
  auto o = parse_ok({"agent", "proxy-a --x", "B=1 ./agent 'a b'"});
  EXPECT_EQ(o.mode, conductor_options::mode::agent);
  ASSERT_EQ(o.components.size(), 2u);
  EXPECT_EQ(o.components[0].command, "proxy-a");
  EXPECT_EQ(o.components[0].args, std::vector<std::string>{"--x"});
  EXPECT_EQ(o.components[1].command, "./agent");
  EXPECT_EQ(o.components[1].args, std::vector<std::string>{"a b"});
  EXPECT_EQ(o.components[1].env.size(), 1u);
  EXPECT_EQ(o.name, "acp-conductor");
  EXPECT_FALSE(o.trace_file);
  EXPECT_EQ(o.log_level, log_level::info);
  EXPECT_EQ(o.stderr_mode, stderr_mode::forward);
  EXPECT_EQ(o.grace_period, 2000ms);
  EXPECT_EQ(o.max_message_size, 64u * 1024 * 1024);
}

TEST(options, agent_with_only_the_agent) {
  auto o = parse_ok({"agent", "my-agent"});
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_EQ(o.components[0].name, "my-agent");
}

TEST(options, proxy_with_zero_or_more_components) {
  auto none = parse_ok({"proxy"});
  EXPECT_EQ(none.mode, conductor_options::mode::proxy);
  EXPECT_TRUE(none.components.empty());
  auto two = parse_ok({"proxy", "p0", "p1"});
  EXPECT_EQ(two.components.size(), 2u);
}

TEST(options, all_options_before_the_subcommand) {
  auto o = parse_ok({"--name", "outer", "--trace", "/tmp/t.jsons", "--log-level", "debug", "--stderr", "tail",
                     "--grace-period", "500ms", "--max-message-size", "512KiB", "agent", "a"});
  EXPECT_EQ(o.name, "outer");
  EXPECT_EQ(o.trace_file, "/tmp/t.jsons");
  EXPECT_EQ(o.log_level, log_level::debug);
  EXPECT_EQ(o.stderr_mode, stderr_mode::tail_only);
  EXPECT_EQ(o.grace_period, 500ms);
  EXPECT_EQ(o.max_message_size, 512u * 1024);
}

TEST(options, options_after_the_subcommand_and_equals_form) {
  auto o = parse_ok({"proxy", "--stderr=discard", "p0", "--grace-period=3s"});
  EXPECT_EQ(o.stderr_mode, stderr_mode::discard);
  EXPECT_EQ(o.grace_period, 3000ms);
  ASSERT_EQ(o.components.size(), 1u);
}

TEST(options, json_component) {
  auto o = parse_ok({"agent", R"({"command": "agent", "args": ["-v"], "name": "main"})"});
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_EQ(o.components[0].name, "main");
  EXPECT_EQ(o.components[0].args, std::vector<std::string>{"-v"});
}

TEST(options, double_dash_allows_dash_components) {
  auto o = parse_ok({"agent", "--", "-weird-name"});
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_EQ(o.components[0].command, "-weird-name");
}

TEST(options, help_goes_to_stdout_with_exit_0) {
  for (auto* flag : {"--help", "-h"}) {
    auto e = parse_exit({flag});
    EXPECT_EQ(e.code, 0);
    EXPECT_FALSE(e.to_stderr);
    EXPECT_NE(e.text.find("acp-conductor"), std::string::npos) << e.text;
    EXPECT_NE(e.text.find("agent"), std::string::npos);
    EXPECT_NE(e.text.find("proxy"), std::string::npos);
    EXPECT_NE(e.text.find("--grace-period"), std::string::npos);
    EXPECT_NE(e.text.find("--max-message-size"), std::string::npos);
  }
}

TEST(options, help_wins_over_missing_subcommand_and_bad_values) {
  EXPECT_EQ(parse_exit({"--log-level", "bogus", "--help"}).code, 0);
  EXPECT_EQ(parse_exit({"agent", "--help"}).code, 0);
}

TEST(options, version_prints_name_and_version) {
  for (auto* flag : {"--version", "-V"}) {
    auto e = parse_exit({flag});
    EXPECT_EQ(e.code, 0);
    EXPECT_FALSE(e.to_stderr);
    EXPECT_EQ(e.text, std::string("acp-conductor ") + ACP_VERSION + "\n");
  }
  EXPECT_EQ(version(), "0.1.0");
}

TEST(options, unknown_option_is_a_usage_error) {
  EXPECT_EQ(usage_error({"--bogus", "agent", "a"}), "acp-conductor: unknown option: --bogus (try --help)\n");
  EXPECT_EQ(usage_error({"agent", "a", "--bogus"}), "acp-conductor: unknown option: --bogus (try --help)\n");
}

TEST(options, missing_subcommand_is_a_usage_error) {
  EXPECT_EQ(
      usage_error({}),
      "acp-conductor: missing subcommand: expected `agent`, `proxy`, `serve`, `connect` or `trace` (try --help)\n");
  EXPECT_EQ(
      usage_error({"--name", "x"}),
      "acp-conductor: missing subcommand: expected `agent`, `proxy`, `serve`, `connect` or `trace` (try --help)\n");
}

TEST(options, unknown_subcommand_is_a_usage_error) {
  EXPECT_EQ(usage_error({"client", "a"}), "acp-conductor: unexpected argument: client (try --help)\n");
}

TEST(options, agent_without_components_is_a_usage_error) {
  EXPECT_EQ(usage_error({"agent"}), "acp-conductor: agent: at least one COMPONENT is required "
                                    "(the last one is the agent) (try --help)\n");
}

TEST(options, bad_component_is_a_usage_error) {
  EXPECT_EQ(usage_error({"agent", "ok", "bad 'quote"}),
            "acp-conductor: component 2 `bad 'quote`: unterminated single quote (opened at "
            "position 5) (try --help)\n");
  EXPECT_EQ(usage_error({"proxy", ""}),
            "acp-conductor: component 1 ``: empty component (expected a command) (try --help)\n");
  // A multi-line JSON spec still gives one line.
  usage_error({"agent", "{\n\"command\": 1\n}"});
}

TEST(options, bad_sizes_are_usage_errors) {
  EXPECT_EQ(usage_error({"--max-message-size", "lots", "agent", "a"}),
            "acp-conductor: --max-message-size: invalid size `lots` (expected e.g. 1048576, "
            "512KiB or 64MiB) (try --help)\n");
  usage_error({"--max-message-size", "0", "agent", "a"});
  usage_error({"--max-message-size", "12XB", "agent", "a"});
  usage_error({"--max-message-size", "99999999999999999999", "agent", "a"});
}

TEST(options, bad_durations_are_usage_errors) {
  EXPECT_EQ(usage_error({"--grace-period", "soon", "agent", "a"}),
            "acp-conductor: --grace-period: invalid duration `soon` (expected e.g. 500ms, 2s or a "
            "number of milliseconds) (try --help)\n");
  usage_error({"--grace-period", "-5", "agent", "a"});
  usage_error({"--grace-period", "5h", "agent", "a"});
}

TEST(options, bad_enums_are_usage_errors) {
  EXPECT_EQ(usage_error({"--log-level", "loud", "agent", "a"}),
            "acp-conductor: --log-level: invalid level `loud` (expected error, warn, info, debug "
            "or trace) (try --help)\n");
  EXPECT_EQ(usage_error({"--stderr", "tail_only", "agent", "a"}),
            "acp-conductor: --stderr: invalid mode `tail_only` (expected forward, tail or "
            "discard) (try --help)\n");
}

TEST(options, missing_option_value_is_a_usage_error) {
  usage_error({"agent", "a", "--trace"});
  usage_error({"--name"});
}

TEST(options, every_log_level_parses) {
  const std::pair<const char*, log_level> cases[] = {{"error", log_level::error},
                                                     {"warn", log_level::warn},
                                                     {"info", log_level::info},
                                                     {"debug", log_level::debug},
                                                     {"trace", log_level::trace}};
  for (auto [text, level] : cases) EXPECT_EQ(parse_ok({"--log-level", text, "proxy"}).log_level, level) << text;
}

TEST(parse_duration, accepted_forms) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("2s"), 2000ms);
  EXPECT_EQ(parse_duration("1500"), 1500ms);
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_EQ(parse_duration("1m"), 60000ms);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration("1.5s"));
  EXPECT_FALSE(parse_duration("2 s"));
  EXPECT_FALSE(parse_duration("-1"));
}

TEST(parse_size, accepted_forms) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(parse_size("64MiB"), 64u * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("2M"), 2u * 1024 * 1024);
  EXPECT_EQ(parse_size("100B"), 100u);
  EXPECT_FALSE(parse_size("0"));
  EXPECT_FALSE(parse_size("MiB"));
  EXPECT_FALSE(parse_size("1TiB"));
  EXPECT_FALSE(parse_size("1.5MiB"));
  EXPECT_FALSE(parse_size("18446744073709551615KiB"));
}

} // namespace
} // namespace acp::conductor

namespace acp::conductor {
namespace {

TEST(options_network, serve_agent_with_listener_options) {
  auto o = parse_ok({"serve", "--listen", "ws://127.0.0.1:0/acp", "--token-file", "/tmp/t", "--max-connections", "5",
                     "--handshake-timeout", "2s", "--idle-timeout", "0", "agent", "acp-test-agent"});
  ASSERT_TRUE(o.serve.has_value());
  EXPECT_EQ(o.serve->listen, "ws://127.0.0.1:0/acp");
  EXPECT_EQ(o.serve->token_file, "/tmp/t");
  EXPECT_EQ(o.serve->max_connections, 5u);
  EXPECT_EQ(o.serve->handshake_timeout, 2s);
  EXPECT_EQ(o.serve->idle_timeout, 0ms);
  EXPECT_TRUE(o.remote.token_file.empty()); // the listener's token, never sent on
  EXPECT_EQ(o.mode, conductor_options::mode::agent);
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_EQ(o.components[0].command, "acp-test-agent");
}

TEST(options_network, serve_proxy_and_options_before_serve) {
  auto o = parse_ok({"--max-message-size", "1MiB", "serve", "--listen", "unix:/tmp/acp.sock", "proxy", "p1"});
  ASSERT_TRUE(o.serve.has_value());
  EXPECT_EQ(o.mode, conductor_options::mode::proxy);
  EXPECT_EQ(o.max_message_size, std::size_t{1} << 20);
  EXPECT_EQ(o.serve->idle_timeout, std::chrono::hours(1));
  EXPECT_EQ(o.serve->max_connections, 64u);
}

TEST(options_network, serve_needs_listen_and_a_mode) {
  EXPECT_NE(usage_error({"serve", "agent", "a"}).find("serve: --listen URL is required"), std::string::npos);
  EXPECT_NE(usage_error({"serve", "--listen", "tcp://127.0.0.1:0"}).find("serve: expected `agent"), std::string::npos);
  EXPECT_NE(usage_error({"serve", "--listen", "http://x:1", "agent", "a"}).find("--listen: "), std::string::npos);
}

TEST(options_network, serve_refuses_an_open_address_without_tls_and_token) {
  const auto e = usage_error({"serve", "--listen", "ws://0.0.0.0:8700", "agent", "a"});
  EXPECT_NE(e.find("refusing a non-loopback address without TLS and --token-file"), std::string::npos) << e;
  // TLS alone is not enough; TLS with a token is; so is the explicit flag.
  EXPECT_NE(usage_error({"serve", "--listen", "wss://0.0.0.0:8700", "--tls-cert", "c", "--tls-key", "k", "agent", "a"})
                .find("refusing"),
            std::string::npos);
  auto ok = parse_ok({"serve", "--listen", "wss://0.0.0.0:8700", "--tls-cert", "c", "--tls-key", "k", "--token-file",
                      "t", "agent", "a"});
  EXPECT_TRUE(ok.serve.has_value());
  auto insecure = parse_ok({"serve", "--listen", "tcp://0.0.0.0:8700", "--allow-insecure-listen", "agent", "a"});
  EXPECT_TRUE(insecure.serve->allow_insecure);
}

TEST(options_network, tls_files_match_the_scheme) {
  EXPECT_NE(usage_error({"serve", "--listen", "tls://127.0.0.1:0", "agent", "a"})
                .find("--tls-cert and --tls-key are required for tls://"),
            std::string::npos);
  EXPECT_NE(usage_error({"serve", "--listen", "tcp://127.0.0.1:0", "--tls-cert", "c", "--tls-key", "k", "agent", "a"})
                .find("need a tls:// or wss:// address"),
            std::string::npos);
  EXPECT_NE(usage_error({"--cert", "c", "agent", "a"}).find("--cert and --key go together"), std::string::npos);
}

TEST(options_network, serve_options_outside_serve_are_refused) {
  EXPECT_NE(usage_error({"--max-connections", "3", "agent", "a"}).find("belong to `serve`"), std::string::npos);
}

TEST(options_network, connect_is_agent_mode_on_one_remote_component) {
  auto o = parse_ok({"--connect-timeout", "3s", "--token-file", "/tmp/t", "connect", "wss://box:8700/acp"});
  EXPECT_EQ(o.mode, conductor_options::mode::agent);
  ASSERT_EQ(o.components.size(), 1u);
  EXPECT_TRUE(o.components[0].remote());
  EXPECT_EQ(o.components[0].address, "wss://box:8700/acp");
  EXPECT_EQ(o.remote.connect_timeout, 3s);
  EXPECT_EQ(o.remote.token_file, "/tmp/t");
  EXPECT_FALSE(o.serve.has_value());
  EXPECT_NE(usage_error({"connect"}).find("connect: the URL of a served chain is required"), std::string::npos);
  EXPECT_NE(usage_error({"connect", "my-agent"}).find("is not an address"), std::string::npos);
}

TEST(options_network, socks5_password_never_on_the_command_line) {
  const auto e = usage_error({"--socks5", "socks5://me:secret@127.0.0.1:1080", "connect", "ws://h:1/"});
  EXPECT_NE(e.find("$ACP_SOCKS5_PASSWORD"), std::string::npos) << e;
  EXPECT_EQ(e.find("secret"), std::string::npos) << "the password was echoed";
  auto o = parse_ok({"--socks5", "socks5://me@127.0.0.1:1080", "connect", "ws://h:1/"});
  EXPECT_EQ(o.remote.socks5, "socks5://me@127.0.0.1:1080");
}

TEST(options_network, bad_durations_name_the_option) {
  EXPECT_NE(usage_error({"--connect-timeout", "0", "agent", "a"}).find("--connect-timeout: invalid duration"),
            std::string::npos);
  EXPECT_NE(usage_error({"--ping-interval", "soon", "agent", "a"}).find("--ping-interval: invalid duration"),
            std::string::npos);
  EXPECT_NE(usage_error({"serve", "--listen", "tcp://127.0.0.1:0", "--max-connections", "0", "agent", "a"})
                .find("--max-connections: expected a positive number"),
            std::string::npos);
}

} // namespace
} // namespace acp::conductor
