#pragma once
// Command-line conventions shared by the example programs (as acp-conductor's): --help on stdout
// and exit 0, --version likewise, every usage or configuration error one line on stderr,
// "PROGRAM: what (try --help)", exit 2.

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace acp::examples {

/// Prints "PROGRAM: WHAT" (newlines folded into spaces) on stderr; returns the exit code 2.
inline int usage_error(std::string_view program, std::string what, bool hint = true) {
  for (auto& c : what)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << program << ": " << what << (hint ? " (try --help)" : "") << "\n";
  return 2;
}

/// Parses the command line. nullopt: go on; otherwise the program's exit code (help and
/// version were printed, or a usage error was reported).
[[nodiscard]] inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                                           std::string_view program, std::string_view version) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << program << " " << version << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(program, e.what());
  }
  return std::nullopt;
}

} // namespace acp::examples
