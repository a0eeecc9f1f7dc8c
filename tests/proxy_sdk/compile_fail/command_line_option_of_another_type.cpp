// acp::command_line::option takes a std::string or an integer variable; a bool is a flag, and a
// double (or a short) has no parser: one static_assert line, not a list of variant constructors.
#include <acp/sdk/cli.hpp>

int main(int argc, char** argv) {
  acp::command_line cli("prog", "about");
  double ratio = 0.5;
  cli.option("--ratio", "R", "a ratio", ratio);
  return cli.parse(argc, argv).value_or(0);
}
