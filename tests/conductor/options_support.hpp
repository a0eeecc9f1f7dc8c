#pragma once
// Shared by the command-line tests (options_test.cpp, options_compat_test.cpp): the conductor's
// parser run on an argument list.
#include <acp/conductor/options.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace acp::conductor::test {

inline command_line_result parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"acp-conductor"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

inline conductor_options parse_ok(std::initializer_list<const char*> args) {
  auto r = parse(args);
  if (auto* e = std::get_if<early_exit>(&r)) {
    ADD_FAILURE() << "unexpected exit " << e->code << ": " << e->text;
    return {};
  }
  return std::get<conductor_options>(r);
}

} // namespace acp::conductor::test
