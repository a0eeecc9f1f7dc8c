// acp::command_line (acp/sdk/cli.hpp): parsed in-process, with stdout and stderr captured.
#include <acp/sdk/cli.hpp>
#include <acp/version.hpp>

#include <gtest/gtest.h>

#include <climits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct parsed {
  std::optional<int> exit_code;
  std::string out, err;
};

parsed parse(const acp::command_line& cli, const std::vector<std::string>& args) {
  std::vector<const char*> argv{"prog"};
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  const auto exit_code = cli.parse(static_cast<int>(argv.size() - 1), argv.data(), out, err);
  return {exit_code, out.str(), err.str()};
}

/// A program with one option of each kind, and the values they start with.
struct fixture {
  unsigned count = 50;
  int offset = -3;
  long long big = 7;
  std::string name = "default";
  bool verbose = false;
  acp::command_line cli{"prog", "does a thing"};
  fixture() {
    cli.option("--count", "N", "how many (default 50)", count);
    cli.option("--offset", "K", "shift (default -3)", offset);
    cli.option("--big", "B", "a large number", big);
    cli.option("--name", "TEXT", "what to call it", name);
    cli.flag("--verbose", "say more", verbose);
  }
  void expect_defaults() const {
    EXPECT_EQ(count, 50u);
    EXPECT_EQ(offset, -3);
    EXPECT_EQ(big, 7);
    EXPECT_EQ(name, "default");
    EXPECT_FALSE(verbose);
  }
};

std::string error_line(const std::string& what) { return "prog: error: " + what + ". Try 'prog --help'.\n"; }

void expect_usage_error(const std::vector<std::string>& args, const std::string& what) {
  fixture f;
  const auto r = parse(f.cli, args);
  EXPECT_EQ(r.exit_code, 2) << what;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, error_line(what));
  f.expect_defaults();
}

TEST(command_line, no_arguments_goes_on_silently_with_the_defaults) {
  fixture f;
  const auto r = parse(f.cli, {});
  EXPECT_EQ(r.exit_code, std::nullopt);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  f.expect_defaults();
}

TEST(command_line, help_lists_usage_and_every_option_on_stdout_and_exits_0) {
  const std::string expected = "prog: does a thing\n"
                               "\n"
                               "Usage: prog [--count N] [--offset K] [--big B] [--name TEXT] [--verbose]\n"
                               "\n"
                               "Options:\n"
                               "  -h, --help   print this help and exit\n"
                               "  --version    print the version and exit\n"
                               "  --count N    how many (default 50)\n"
                               "  --offset K   shift (default -3)\n"
                               "  --big B      a large number\n"
                               "  --name TEXT  what to call it\n"
                               "  --verbose    say more\n";
  for (const std::string spelling : {"--help", "-h"}) {
    fixture f;
    const auto r = parse(f.cli, {"--count", "3", spelling, "--bogus"});
    EXPECT_EQ(r.exit_code, 0) << spelling;
    EXPECT_EQ(r.out, expected) << spelling;
    EXPECT_EQ(r.err, "") << spelling;
    EXPECT_EQ(f.cli.help(), expected);
    f.expect_defaults(); // --count 3 was parsed, but the program does not go on
  }
}

TEST(command_line, help_of_a_program_without_options_lists_help_and_version) {
  const acp::command_line cli("bare", "no options");
  const auto r = parse(cli, {"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "bare: no options\n\nUsage: bare\n\nOptions:\n"
                   "  -h, --help  print this help and exit\n"
                   "  --version   print the version and exit\n");
}

TEST(command_line, version_prints_the_program_and_the_project_version_and_exits_0) {
  fixture f;
  const auto r = parse(f.cli, {"--name", "x", "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("prog ") + ACP_VERSION + "\n");
  EXPECT_EQ(r.err, "");
  f.expect_defaults();
}

TEST(command_line, both_value_spellings_set_every_kind_of_option) {
  for (const bool with_equals : {false, true}) {
    fixture f;
    std::vector<std::string> args;
    for (const auto& [opt, value] : std::vector<std::pair<std::string, std::string>>{
             {"--count", "4294967295"}, {"--offset", "-12"}, {"--big", "-9223372036854775808"}, {"--name", "a b"}}) {
      if (with_equals) {
        args.push_back(opt + "=" + value);
      } else {
        args.push_back(opt);
        args.push_back(value);
      }
    }
    args.emplace_back("--verbose");
    const auto r = parse(f.cli, args);
    EXPECT_EQ(r.exit_code, std::nullopt) << r.err;
    EXPECT_EQ(r.out + r.err, "");
    EXPECT_EQ(f.count, 4294967295u);
    EXPECT_EQ(f.offset, -12);
    EXPECT_EQ(f.big, LLONG_MIN);
    EXPECT_EQ(f.name, "a b");
    EXPECT_TRUE(f.verbose);
  }
}

TEST(command_line, an_equals_value_may_be_empty_start_with_dashes_or_hold_equals_signs) {
  fixture f;
  EXPECT_EQ(parse(f.cli, {"--name="}).exit_code, std::nullopt);
  EXPECT_EQ(f.name, "");
  EXPECT_EQ(parse(f.cli, {"--name=--verbose"}).exit_code, std::nullopt);
  EXPECT_EQ(f.name, "--verbose");
  EXPECT_FALSE(f.verbose);
  EXPECT_EQ(parse(f.cli, {"--name=a=b"}).exit_code, std::nullopt);
  EXPECT_EQ(f.name, "a=b");
  // A separate value may start with a single dash: a negative number.
  EXPECT_EQ(parse(f.cli, {"--offset", "-1", "--name", "-"}).exit_code, std::nullopt);
  EXPECT_EQ(f.offset, -1);
  EXPECT_EQ(f.name, "-");
}

TEST(command_line, a_later_occurrence_overrides_an_earlier_one) {
  fixture f;
  EXPECT_EQ(parse(f.cli, {"--count", "1", "--count=2"}).exit_code, std::nullopt);
  EXPECT_EQ(f.count, 2u);
}

TEST(command_line, unknown_options_are_usage_errors) {
  expect_usage_error({"--bogus"}, "unknown option '--bogus'");
  expect_usage_error({"--bogus=1"}, "unknown option '--bogus'");
  expect_usage_error({"-x"}, "unknown option '-x'");
  expect_usage_error({"--count", "1", "--Count", "2"}, "unknown option '--Count'");
  expect_usage_error({"--"}, "unknown option '--'");
}

TEST(command_line, a_missing_value_is_a_usage_error) {
  expect_usage_error({"--count"}, "option '--count' needs a value (N)");
  expect_usage_error({"--name"}, "option '--name' needs a value (TEXT)");
  expect_usage_error({"--name", "--verbose"}, "option '--name' needs a value (TEXT)");
}

TEST(command_line, a_value_that_is_not_a_whole_number_in_range_is_a_usage_error) {
  const std::string count_range = "expected a whole number from 0 to 4294967295";
  for (const std::string bad : {"x", "3x", " 3", "3 ", "+3", "-1", "", "1.5", "0x10", "4294967296"})
    expect_usage_error({"--count", bad}, "invalid value '" + bad + "' for --count: " + count_range);
  expect_usage_error({"--count=99999999999999999999"},
                     "invalid value '99999999999999999999' for --count: " + count_range);
  expect_usage_error(
      {"--offset", "-2147483649"},
      "invalid value '-2147483649' for --offset: expected a whole number from -2147483648 to 2147483647");
  expect_usage_error({"--big", "9223372036854775808"}, "invalid value '9223372036854775808' for --big: expected a "
                                                       "whole number from -9223372036854775808 to 9223372036854775807");
}

TEST(command_line, a_positional_argument_is_a_usage_error) {
  expect_usage_error({"file.txt"}, "unexpected argument 'file.txt'");
  expect_usage_error({"--count", "3", "4"}, "unexpected argument '4'");
  expect_usage_error({"-"}, "unexpected argument '-'");
}

TEST(command_line, a_value_given_to_a_flag_help_or_version_is_a_usage_error) {
  expect_usage_error({"--verbose=yes"}, "option '--verbose' takes no value");
  expect_usage_error({"--help=1"}, "option '--help' takes no value");
  expect_usage_error({"--version="}, "option '--version' takes no value");
}

TEST(command_line, an_error_after_good_options_leaves_every_variable_untouched) {
  expect_usage_error({"--count", "1", "--offset=2", "--name", "n", "--verbose", "--big", "x"},
                     "invalid value 'x' for --big: expected a whole number from -9223372036854775808 to "
                     "9223372036854775807");
  expect_usage_error({"--verbose", "--name=n", "--count", "9", "extra"}, "unexpected argument 'extra'");
}

TEST(command_line, control_characters_in_an_argument_do_not_split_the_error_line) {
  expect_usage_error({"--bo\ngus\r"}, "unknown option '--bo gus '");
}

TEST(command_line, parses_main_shaped_arguments) {
  char program[] = "prog", option[] = "--count=5";
  char* argv[] = {program, option, nullptr};
  fixture f;
  EXPECT_EQ(f.cli.parse(2, argv), std::nullopt); // nothing to print: std::cout and std::cerr stay quiet
  EXPECT_EQ(f.count, 5u);
}

} // namespace
