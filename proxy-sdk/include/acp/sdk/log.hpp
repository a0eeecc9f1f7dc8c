#pragma once
// Minimal leveled logging to stderr (stdout carries protocol bytes only).
// The level comes from `set_level` or, at first use, from the ACP_LOG environment variable
// (error|warn|info|debug|trace; default warn).

#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace acp::log {

enum class level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

void set_level(level l) noexcept;
[[nodiscard]] level current_level() noexcept;
[[nodiscard]] bool enabled(level l) noexcept;
/// Parses "error", "warn", "info", "debug", "trace"; false when unknown.
[[nodiscard]] bool parse_level(std::string_view text, level& out) noexcept;
/// Sets the prefix of every line (default: the program name set by the first call, else "acp").
void set_program_name(std::string_view name);

/// Writes one line: "<program>: <level>: <where>: <message>".
void write(level l, std::string_view where, std::string_view message);

/// A completion handler for `co_spawn`: when the coroutine ends with an exception, logs
/// "<where>: <what> failed: <exception>" as an error and then runs `then` (if given), e.g. to
/// stop the process instead of leaving it waiting for work that will never finish.
[[nodiscard]] std::function<void(std::exception_ptr)> on_failure(std::string where, std::string what,
                                                                 std::function<void()> then = {});

inline void error(std::string_view where, std::string_view m) { write(level::error, where, m); }
inline void warn(std::string_view where, std::string_view m) {
  if (enabled(level::warn)) write(level::warn, where, m);
}
inline void info(std::string_view where, std::string_view m) {
  if (enabled(level::info)) write(level::info, where, m);
}
inline void debug(std::string_view where, std::string_view m) {
  if (enabled(level::debug)) write(level::debug, where, m);
}

} // namespace acp::log
