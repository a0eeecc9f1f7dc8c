// acp-policy-proxy's terminal/create decision against a hostile agent, in-process: environment
// variables that change what runs, arguments that name files outside the roots, commands that run
// other commands, planted programs, and odd `cwd` shapes.
#include "policy.hpp"
#include "support.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace acp::security_test {
namespace {

namespace json = boost::json;
using examples::parse_policy_config;
using examples::policy_options;
using examples::terminal_error;

struct policy_terminal : ::testing::Test {
  temp_tree root, outside;

  policy_options config(const std::string& extra = "") const {
    auto r = parse_policy_config(R"({"roots":[")" + root.path() + R"("],"allowedCommands":["ls","cat"])" + extra + "}",
                                 "p.json");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : policy_options{};
  }
  json::object create(const std::string& command, json::array args = {}, json::array env = {}) const {
    return json::object{{"sessionId", "s1"},
                        {"command", command},
                        {"args", std::move(args)},
                        {"env", std::move(env)},
                        {"cwd", root.path()}};
  }
  static json::array env(const std::string& name, const std::string& value = "x") {
    return json::array{json::object{{"name", name}, {"value", value}}};
  }
  static std::string why(const policy_options& o, const json::object& params) {
    return terminal_error(o, &params).value_or("<allowed>");
  }
};

// ---- environment ----------------------------------------------------------------------------------

TEST_F(policy_terminal, env_that_changes_what_runs_is_denied) {
  const auto o = config();
  for (const std::string name : {"PATH",
                                 "LD_PRELOAD",
                                 "LD_LIBRARY_PATH",
                                 "GIT_PAGER",
                                 "GIT_SSH_COMMAND",
                                 "GIT_CONFIG_GLOBAL",
                                 "GIT_EXEC_PATH",
                                 "GIT_EDITOR",
                                 "BASH_ENV",
                                 "ENV",
                                 "PYTHONPATH",
                                 "PYTHONSTARTUP",
                                 "PERL5OPT",
                                 "NODE_OPTIONS",
                                 "RUBYOPT",
                                 "IFS",
                                 "SHELLOPTS",
                                 "HOME",
                                 "BASH_FUNC_ls%%",
                                 "GCONV_PATH",
                                 "PAGER",
                                 "DYLD_INSERT_LIBRARIES"})
    EXPECT_EQ(why(o, create("ls", {}, env(name, root.path()))),
              "env " + name + " changes what runs (not in allowedEnv)")
        << name;
  EXPECT_EQ(why(o, create("ls", {}, env("A=B"))), "env A=B changes what runs (not in allowedEnv)");
  EXPECT_EQ(why(o, create("ls", {}, env(""))), "env  changes what runs (not in allowedEnv)");
}

TEST_F(policy_terminal, harmless_env_and_explicitly_allowed_env_pass) {
  auto o = config();
  for (const std::string name : {"LANG", "LC_ALL", "TERM", "GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL", "CI"})
    EXPECT_EQ(why(o, create("ls", {}, env(name))), "<allowed>") << name;
  o = config(R"(,"allowedEnv":["PATH","GIT_*"])");
  EXPECT_EQ(why(o, create("ls", {}, env("PATH", "/usr/bin"))), "<allowed>");
  EXPECT_EQ(why(o, create("ls", {}, env("GIT_PAGER", "cat"))), "<allowed>");
  EXPECT_NE(why(o, create("ls", {}, env("LD_PRELOAD"))), "<allowed>");
  EXPECT_NE(why(o, create("ls", {}, env("A=B"))), "<allowed>") << "an invalid name is never allowed";
}

TEST_F(policy_terminal, malformed_env_is_denied) {
  const auto o = config();
  auto params = create("ls");
  params["env"] = json::object{{"PATH", "/x"}};
  EXPECT_EQ(why(o, params), "env must be an array of {name, value}");
  params["env"] = json::array{json::object{{"value", "x"}}};
  EXPECT_EQ(why(o, params), "env entries must have a string name");
  params["env"] = json::array{1};
  EXPECT_EQ(why(o, params), "env entries must have a string name");
}

// ---- arguments ------------------------------------------------------------------------------------

TEST_F(policy_terminal, arguments_naming_files_outside_the_roots_are_denied) {
  const auto o = config();
  outside.file("secret", "s");
  root.link("out", outside.path());
  root.file("notes.txt", "n");
  EXPECT_EQ(why(o, create("cat", {json::string(outside.at("secret"))})),
            "argument \"" + outside.at("secret") + "\": outside the allowed roots (confineArgs)");
  EXPECT_NE(why(o, create("cat", {"../secret"})), "<allowed>");
  EXPECT_NE(why(o, create("cat", {"out/secret"})), "<allowed>");
  EXPECT_NE(why(o, create("cat", {"new/../out/secret"})), "<allowed>");
  EXPECT_NE(why(o, create("ls", {"--color=auto", "--hide=/etc"})), "<allowed>");
  EXPECT_NE(why(o, create("cat", {"-o/etc/passwd"})), "<allowed>");
  EXPECT_NE(why(o, create("cat", {json::string(std::string("a") + '\0')})), "<allowed>");
  // Inside, or not a path at all: fine.
  EXPECT_EQ(why(o, create("cat", {"notes.txt", json::string(root.at("notes.txt")), "-n", "--", "-"})), "<allowed>");
  EXPECT_EQ(why(o, create("ls", {"-la", "--color=auto", "HEAD~1..HEAD", "https://example.org/x"})), "<allowed>");
  // Switched off: only the command and the cwd are judged.
  EXPECT_EQ(why(config(R"(,"confineArgs":false)"), create("cat", {json::string(outside.at("secret"))})), "<allowed>");
}

TEST_F(policy_terminal, malformed_args_are_denied) {
  auto params = create("ls");
  params["args"] = "-la /";
  EXPECT_EQ(why(config(), params), "args must be an array of strings");
  params["args"] = json::array{1};
  EXPECT_EQ(why(config(), params), "args must be an array of strings");
}

// ---- commands that run commands -------------------------------------------------------------------

TEST_F(policy_terminal, a_config_allowing_a_command_runner_without_argument_rules_is_refused) {
  for (const std::string name : {"env", "find", "xargs", "git", "sh", "bash", "python3", "python", "perl", "node",
                                 "ruby", "make", "awk", "sed", "nice", "timeout", "nohup", "sudo", "ssh"}) {
    auto r = parse_policy_config(R"({"allowedCommands":["ls",")" + name + R"("]})", "p.json");
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message.find("allowed command \"" + name + "\" can run other commands"), std::string::npos)
        << r.error().message;
  }
  // Safe commands only, as configs had them: still fine.
  EXPECT_TRUE(parse_policy_config(R"({"allowedCommands":["ls","cat","grep","wc","head"]})", "p.json"));
}

TEST_F(policy_terminal, argument_rules_bound_what_a_runner_may_be_asked) {
  const auto o = config(R"(,"commands":{"git":{"args":["status","diff","log","--oneline","-n","[0-9]*"]}})");
  EXPECT_EQ(why(o, create("git", {"status"})), "<allowed>");
  EXPECT_EQ(why(o, create("git", {"log", "--oneline", "-n", "5"})), "<allowed>");
  EXPECT_EQ(why(o, create("git", {"-c", "alias.x=!sh -c 'touch /tmp/pwned'", "x"})),
            "argument \"-c\" matches none of the args rules of git");
  EXPECT_NE(why(o, create("git", {"diff", "--output=/etc/passwd"})), "<allowed>");
  EXPECT_NE(why(o, create("find", {".", "-exec", "sh", "-c", "x", ";"})), "<allowed>") << "not listed at all";
}

TEST_F(policy_terminal, a_planted_program_cannot_be_run_by_its_path) {
  const auto o = config();
  root.file("bin/ls", "#!/bin/sh\necho pwned\n");
  EXPECT_EQ(why(o, create(root.at("bin/ls"))), "the command lives inside the roots");
  EXPECT_EQ(why(o, create("./ls")), "a command with '/' must be an absolute path");
  EXPECT_EQ(why(o, create(outside.file("ls", ""))),
            "a command given by path must be in a directory of the proxy's PATH");
  EXPECT_EQ(why(o, create("/usr/bin/ls")), "<allowed>");
  EXPECT_EQ(why(o, create("ls")), "<allowed>");
}

// ---- cwd ------------------------------------------------------------------------------------------

TEST_F(policy_terminal, a_cwd_that_is_not_a_string_or_missing_is_denied_when_roots_are_set) {
  const auto o = config();
  auto params = create("ls");
  params["cwd"] = 1;
  EXPECT_EQ(why(o, params), "cwd is not a string");
  params["cwd"] = json::array{root.path()};
  EXPECT_EQ(why(o, params), "cwd is not a string");
  params["cwd"] = nullptr;
  EXPECT_EQ(why(o, params), "no cwd (the editor would choose one)");
  params.erase("cwd");
  EXPECT_EQ(why(o, params), "no cwd (the editor would choose one)");
  // Without roots there is nothing to confine it to.
  auto no_roots = parse_policy_config(R"({"allowedCommands":["ls"]})", "p.json");
  ASSERT_TRUE(no_roots);
  EXPECT_EQ(why(*no_roots, params), "<allowed>");
}

TEST_F(policy_terminal, a_cwd_through_a_missing_directory_and_a_link_out_is_denied) {
  root.link("dlink", outside.path());
  auto params = create("ls");
  params["cwd"] = root.at("newdir/../dlink");
  EXPECT_NE(why(config(), params), "<allowed>");
}

} // namespace
} // namespace acp::security_test
