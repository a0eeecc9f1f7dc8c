// fuzz_component: component strings (acp/conductor/component.hpp) — shell-like words or a JSON
// spec, never a shell.
//
// Checks: parsing never crashes; a successful parse has a non-empty command, valid environment
// names and a name; written back as single-quoted words (NAME='value' ... 'command' 'arg' ...)
// and parsed again it gives the same spec (the name too, unless a JSON spec chose it); the
// words of split_words, re-quoted and split again, are the same words.
#include "fuzz_check.hpp"

#include <acp/conductor/component.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
using namespace acp::conductor;

std::string quote(std::string_view w) {
  std::string out = "'";
  for (char c : w) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  out += "'";
  return out;
}

bool env_name(std::string_view n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto words = split_words(text)) {
    std::string again;
    for (const auto& w : *words) again += quote(w) + " ";
    auto words2 = split_words(again);
    FUZZ_CHECK(words2 && *words2 == *words, "re-quoted words differ: " + again.substr(0, 200));
  } else {
    FUZZ_CHECK(!words.error().empty(), "split error without a message");
  }

  auto spec = parse_component(text);
  if (!spec) {
    FUZZ_CHECK(!spec.error().empty() && spec.error().find('\n') == std::string::npos,
               "an error is one non-empty line: " + spec.error());
    return 0;
  }
  FUZZ_CHECK(!spec->command.empty(), "empty command");
  FUZZ_CHECK(!spec->name.empty(), "empty name");
  for (const auto& [name, value] : spec->env) FUZZ_CHECK(env_name(name), "bad environment name " + name);

  std::string again;
  for (const auto& [name, value] : spec->env) again += name + "=" + quote(value) + " ";
  again += quote(spec->command);
  for (const auto& a : spec->args) again += " " + quote(a);
  auto spec2 = parse_component(again);
  FUZZ_CHECK(spec2.has_value(), "re-quoted spec does not parse: " + again.substr(0, 200));
  FUZZ_CHECK(spec2->command == spec->command, "command differs: " + again.substr(0, 200));
  FUZZ_CHECK(spec2->args == spec->args, "args differ: " + again.substr(0, 200));
  FUZZ_CHECK(spec2->env == spec->env, "env differs: " + again.substr(0, 200));
  FUZZ_CHECK(spec2->name == default_component_name(spec->command), "default name");
  const bool json_spec =
      text.find_first_not_of(" \t\r\n") != std::string_view::npos && text[text.find_first_not_of(" \t\r\n")] == '{';
  if (!json_spec) FUZZ_CHECK(spec2->name == spec->name, "name differs");
  return 0;
}
