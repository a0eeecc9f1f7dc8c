#include <acp/sdk/cli.hpp>
#include <acp/version.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <iostream>
#include <limits>
#include <string_view>
#include <type_traits>

namespace acp {
namespace {

/// The whole of `text` as a T, or nullopt (not a number, trailing characters, out of range).
template <class T> std::optional<T> parse_integer(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

template <class T> std::string whole_number_range() {
  return "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
         std::to_string(std::numeric_limits<T>::max());
}

/// Control characters (a newline in an argument) would split the one error line.
std::string one_line(std::string text) {
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

} // namespace

command_line::command_line(std::string program, std::string about)
    : program_(std::move(program)), about_(std::move(about)) {}

command_line& command_line::add(std::string name, std::string value_name, std::string help, target value) {
  options_.push_back({std::move(name), std::move(value_name), std::move(help), value});
  return *this;
}

std::string command_line::help() const {
  std::string usage = "Usage: " + program_;
  std::vector<std::pair<std::string, std::string>> rows{{"-h, --help", "print this help and exit"},
                                                        {"--version", "print the version and exit"}};
  for (const auto& o : options_) {
    const auto spelling = o.value_name.empty() ? o.name : o.name + " " + o.value_name;
    usage += " [" + spelling + "]";
    rows.emplace_back(spelling, o.help);
  }
  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string text = program_ + ": " + about_ + "\n\n" + usage + "\n\nOptions:\n";
  for (const auto& [spelling, help] : rows)
    text += "  " + spelling + std::string(width - spelling.size() + 2, ' ') + help + "\n";
  return text;
}

std::optional<int> command_line::parse(int argc, const char* const* argv) const {
  return parse(argc, argv, std::cout, std::cerr);
}

std::optional<int> command_line::parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err) const {
  const auto fail = [&](const std::string& what) {
    err << one_line(program_ + ": error: " + what + ". Try '" + program_ + " --help'.") << '\n';
    return 2;
  };
  std::vector<std::function<void()>> assignments; // applied only once the whole line has parsed
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h") {
      out << help();
      return 0;
    }
    if (arg.size() < 2 || arg[0] != '-') return fail("unexpected argument '" + std::string(arg) + "'");
    const auto eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = arg.substr(eq + 1);
    const auto it = std::ranges::find(options_, name, &entry::name);
    const bool takes_value = it != options_.end() && !std::holds_alternative<bool*>(it->value);
    if (value && !takes_value && (it != options_.end() || name == "--help" || name == "--version"))
      return fail("option '" + name + "' takes no value");
    if (name == "--help" || name == "--version") {
      out << (name == "--help" ? help() : program_ + " " + std::string(version) + "\n");
      return 0;
    }
    if (it == options_.end()) return fail("unknown option '" + name + "'");
    if (!takes_value) {
      assignments.emplace_back([p = std::get<bool*>(it->value)] { *p = true; });
      continue;
    }
    if (!value) {
      if (i + 1 == argc || std::string_view(argv[i + 1]).starts_with("--"))
        return fail("option '" + name + "' needs a value (" + it->value_name + ")");
      value = argv[++i];
    }
    std::string why;
    std::visit(
        [&]<class T>(T* p) {
          if constexpr (std::is_same_v<T, std::string>)
            assignments.emplace_back([p, v = std::string(*value)] { *p = v; });
          else if constexpr (!std::is_same_v<T, bool>) {
            if (const auto n = parse_integer<T>(*value))
              assignments.emplace_back([p, n = *n] { *p = n; });
            else
              why = "invalid value '" + std::string(*value) + "' for " + name + ": expected " + whole_number_range<T>();
          }
        },
        it->value);
    if (!why.empty()) return fail(why);
  }
  for (const auto& assign : assignments) assign();
  return std::nullopt;
}

} // namespace acp
