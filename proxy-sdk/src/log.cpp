#include <acp/sdk/log.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace acp::log {
namespace {

std::atomic<int>& level_slot() {
  static std::atomic<int> slot = [] {
    level l = level::warn;
    if (const char* env = std::getenv("ACP_LOG")) (void)parse_level(env, l);
    return static_cast<int>(l);
  }();
  return slot;
}

std::string& program() {
  static std::string name = "acp";
  return name;
}

constexpr std::string_view names[] = {"error", "warn", "info", "debug", "trace"};

} // namespace

void set_level(level l) noexcept { level_slot().store(static_cast<int>(l)); }
level current_level() noexcept { return static_cast<level>(level_slot().load()); }
bool enabled(level l) noexcept { return static_cast<int>(l) <= level_slot().load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, level& out) noexcept {
  for (int i = 0; i < 5; ++i)
    if (text == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  if (text == "warning") {
    out = level::warn;
    return true;
  }
  return false;
}

void set_program_name(std::string_view name) { program() = std::string(name); }

void write(level l, std::string_view where, std::string_view message) {
  static std::mutex mutex;
  std::string line;
  line.reserve(program().size() + where.size() + message.size() + 16);
  line.append(program()).append(": ").append(names[static_cast<int>(l)]).append(": ");
  if (!where.empty()) line.append(where).append(": ");
  line.append(message).push_back('\n');
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::function<void(std::exception_ptr)> on_failure(std::string where, std::string what, std::function<void()> then) {
  return [where = std::move(where), what = std::move(what), then = std::move(then)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      write(level::error, where, what + " failed: " + ex.what());
    } catch (...) {
      write(level::error, where, what + " failed: unknown exception");
    }
    if (then) then();
  };
}

} // namespace acp::log
