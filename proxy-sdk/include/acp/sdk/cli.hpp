#pragma once
// A small command-line parser for one-file proxies and other small programs: declare the options
// with the variables they fill, then `parse`. It gives every program the conventions of the
// project's tools for free: `-h`/`--help` prints the usage and the options on stdout and exits 0,
// `--version` prints "PROGRAM VERSION" (the acp-conductor version) and exits 0, and every usage
// error is ONE line on stderr, "PROGRAM: error: WHAT. Try 'PROGRAM --help'.", exit status 2.
//
//   acp::command_line cli("acp-turn-limit-proxy", "after N prompts in a session, answers further prompts itself");
//   unsigned max_turns = 50;
//   cli.option("--max-turns", "N", "prompts per session before the limit (default 50)", max_turns);
//   if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
//
// Spellings: `--name value` and `--name=value`; a flag takes no value. In the first spelling a
// value that starts with "--" is taken for the next option (the value is missing); write
// `--name=--text` to pass such a value. Integers are whole decimal numbers that must fit the
// variable's type (no sign for unsigned types, no spaces, nothing after the digits). Positional
// arguments are not accepted. A later occurrence of an option overrides an earlier one.
//
// The variables keep their values unless the whole command line parses: after an error, or after
// --help or --version, every variable still holds what it held before `parse`.

#include <iosfwd>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace acp {

class command_line {
  using target =
      std::variant<bool*, std::string*, int*, unsigned*, long*, unsigned long*, long long*, unsigned long long*>;

public:
  /// `program` is the name printed in help, version and error lines; `about` is one line saying
  /// what the program does (the first line of --help).
  command_line(std::string program, std::string about);

  /// An option with a value: `--name VALUE_NAME`, stored in `value` (a std::string or an integer
  /// variable: int, unsigned, long, unsigned long, long long, unsigned long long). `value` must
  /// outlive `parse`. `help` is its line in --help (say the default there).
  template <class T> command_line& option(std::string name, std::string value_name, std::string help, T& value) {
    static_assert(!std::is_same_v<T, bool> && std::is_constructible_v<target, T*>,
                  "acp::command_line::option: the variable is a std::string or an int, unsigned, long, unsigned long, "
                  "long long or unsigned long long (a bool is a flag)");
    return add(std::move(name), std::move(value_name), std::move(help), &value);
  }

  /// A flag: `--name` sets `value` to true.
  command_line& flag(std::string name, std::string help, bool& value) {
    return add(std::move(name), {}, std::move(help), &value);
  }

  /// Parses argv[1..argc). nullopt: go on; otherwise the exit code to return from main (help or
  /// version was printed, or a usage error was reported). Writes to std::cout and std::cerr.
  [[nodiscard]] std::optional<int> parse(int argc, const char* const* argv) const;
  /// The same, writing to `out` (help, version) and `err` (the error line) instead.
  [[nodiscard]] std::optional<int> parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err) const;

  /// The --help text.
  [[nodiscard]] std::string help() const;

private:
  struct entry {
    std::string name, value_name, help;
    target value;
  };
  command_line& add(std::string name, std::string value_name, std::string help, target value);

  std::string program_, about_;
  std::vector<entry> options_;
};

} // namespace acp
