#include "debug_log.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace acp::conductor {
namespace asio = boost::asio;

namespace {

using stream = debug_file::stream;

std::string errno_text(int e) { return std::strerror(e); }

/// The writer's state for one file; touched by the writer thread only (after creation).
struct file_slot {
  int fd = -1;
  std::string label;
  std::array<std::string, 3> partial; // a line not yet ended, per stream
  std::uint64_t dropped = 0;          // bytes dropped since the last marker (under the mutex)
};

struct entry {
  file_slot* file = nullptr;
  stream which = stream::in;
  bool raw = false; // header text, written as it is
  std::chrono::milliseconds at{0};
  std::string bytes;
};

std::string_view arrow(stream s) {
  switch (s) {
  case stream::in:
    return "\xE2\x86\x92"; // →
  case stream::out:
    return "\xE2\x86\x90"; // ←
  case stream::err:
    break;
  }
  return "!";
}

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, and two-byte `ESC x`) and a final '\r'.
std::string clean_stderr(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\x1b') {
      out.push_back(line[i]);
      continue;
    }
    if (i + 1 < line.size() && line[i + 1] == '[') {
      i += 2;
      while (i < line.size() && !(line[i] >= 0x40 && line[i] <= 0x7e)) ++i;
    } else {
      ++i;
    }
  }
  return out;
}

void append_line(std::string& out, const file_slot& f, stream s, std::chrono::milliseconds at, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out += f.label;
  out += ' ';
  out += arrow(s);
  out += " +";
  out += std::to_string(at.count());
  out += "ms ";
  if (s == stream::err)
    out += clean_stderr(line);
  else
    out += line;
  out += '\n';
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; // a full disk must not stop the chain: the rest is lost
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Creates `dir` and its missing parents, each 0700.
std::string make_dirs(const std::string& dir) {
  std::string prefix;
  std::size_t pos = 0;
  while (pos <= dir.size()) {
    const auto slash = dir.find('/', pos);
    const auto end = slash == std::string::npos ? dir.size() : slash;
    prefix = dir.substr(0, end);
    pos = end + 1;
    if (prefix.empty() || prefix == "." || prefix == "..") continue;
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create debug directory " + prefix + ": " + errno_text(errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "cannot use debug directory " + dir + ": " + errno_text(errno);
  if (!S_ISDIR(st.st_mode)) return "cannot use debug directory " + dir + ": not a directory";
  return {};
}

std::string file_stem(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 80)) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

std::string local_time(const char* format, std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::array<char, 64> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), format, &tm);
  return std::string(buf.data(), n);
}

} // namespace

// ---- the queue and the writer thread -----------------------------------------------------

struct debug_log::state {
  std::string dir;
  std::size_t max_queued = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::time_t started = std::time(nullptr);

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<entry> queue;                       // under mutex
  std::size_t queued = 0;                        // bytes in `queue`, under mutex
  bool writing = false;                          // the writer is busy (no wake-up needed), under mutex
  bool stop = false;                             // under mutex
  std::vector<std::unique_ptr<file_slot>> files; // grows under mutex; slots never move
  std::thread writer;

  void push(file_slot* f, stream s, std::string_view bytes, bool raw) {
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::unique_lock lock(mutex);
    if (stop) return;
    if (queued + bytes.size() > max_queued && queued > 0) {
      f->dropped += bytes.size();
      return;
    }
    queued += bytes.size();
    queue.push_back(entry{f, s, raw, at, std::string(bytes)});
    const bool notify = !writing;
    lock.unlock();
    if (notify) wake.notify_one();
  }

  void run() {
    std::vector<entry> batch;
    std::vector<std::pair<file_slot*, std::uint64_t>> drops;
    std::unique_lock lock(mutex);
    while (true) {
      wake.wait(lock, [this] { return stop || !queue.empty(); });
      const bool last = stop;
      batch.assign(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
      queue.clear();
      queued = 0;
      drops.clear();
      for (auto& f : files)
        if (f->dropped) drops.emplace_back(f.get(), std::exchange(f->dropped, 0));
      writing = true;
      lock.unlock();
      write_batch(batch, drops);
      if (last) {
        finish();
        return;
      }
      lock.lock();
      writing = false;
    }
  }

  void write_batch(std::vector<entry>& batch, const std::vector<std::pair<file_slot*, std::uint64_t>>& drops) {
    // Per file, in order: its lines are gathered into one write.
    std::vector<std::pair<file_slot*, std::string>> out;
    auto text_for = [&](file_slot* f) -> std::string& {
      for (auto& [slot, text] : out)
        if (slot == f) return text;
      return out.emplace_back(f, std::string()).second;
    };
    for (auto& e : batch) {
      auto& text = text_for(e.file);
      if (e.raw) {
        text += e.bytes;
        continue;
      }
      auto& partial = e.file->partial[static_cast<std::size_t>(e.which)];
      std::string_view rest = e.bytes;
      for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
        if (partial.empty()) {
          append_line(text, *e.file, e.which, e.at, rest.substr(0, nl));
        } else {
          partial.append(rest.substr(0, nl));
          append_line(text, *e.file, e.which, e.at, partial);
          partial.clear();
        }
        rest.remove_prefix(nl + 1);
      }
      partial.append(rest);
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    for (const auto& [f, bytes] : drops)
      append_line(text_for(f), *f, stream::err, now,
                  "[debug log: dropped " + std::to_string(bytes) + " bytes; the writer could not keep up]");
    for (auto& [f, text] : out) write_all(f->fd, text);
    batch.clear();
  }

  // The end: lines still open are written as they are, and every file is closed.
  void finish() {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    for (auto& f : files) {
      std::string text;
      for (std::size_t s = 0; s < f->partial.size(); ++s)
        if (!f->partial[s].empty()) append_line(text, *f, static_cast<stream>(s), now, f->partial[s]);
      write_all(f->fd, text);
      ::close(f->fd);
      f->fd = -1;
    }
  }
};

debug_log::debug_log(std::unique_ptr<state> s) : state_(std::move(s)) {}

debug_log::~debug_log() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_one();
  if (state_->writer.joinable()) state_->writer.join();
}

const std::string& debug_log::dir() const noexcept { return state_->dir; }

boost::system::result<std::shared_ptr<debug_log>, std::string> debug_log::open(const std::string& dir,
                                                                               std::size_t max_queued_bytes) {
  using result = boost::system::result<std::shared_ptr<debug_log>, std::string>;
  if (auto error = make_dirs(dir); !error.empty()) return result(boost::system::in_place_error, std::move(error));
  auto s = std::make_unique<state>();
  s->dir = dir;
  s->max_queued = max_queued_bytes;
  // The writer blocks every signal (they are the routing thread's to handle).
  sigset_t all{};
  sigset_t old{};
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  auto* raw = s.get();
  try {
    s->writer = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return result(boost::system::in_place_error, std::string("cannot start the debug log writer: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return std::shared_ptr<debug_log>(new debug_log(std::move(s)));
}

boost::system::result<std::shared_ptr<debug_file>, std::string>
debug_log::create_file(std::string_view name, std::string label, std::string_view about) {
  using result = boost::system::result<std::shared_ptr<debug_file>, std::string>;
  const std::string base =
      state_->dir + "/" + local_time("%Y%m%d-%H%M%S", state_->started) + "-" + file_stem(label) + "-" + file_stem(name);
  std::string path;
  int fd = -1;
  for (int n = 1; n < 1000 && fd < 0; ++n) {
    path = base + (n == 1 ? std::string() : "-" + std::to_string(n)) + ".log";
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_APPEND, 0600);
    if (fd < 0 && errno != EEXIST)
      return result(boost::system::in_place_error, "cannot create " + path + ": " + errno_text(errno));
  }
  if (fd < 0) return result(boost::system::in_place_error, "cannot create " + base + ".log: every name is taken");
  auto slot = std::make_unique<file_slot>();
  slot->fd = fd;
  slot->label = label;
  auto* f = slot.get();
  {
    std::lock_guard lock(state_->mutex);
    state_->files.push_back(std::move(slot));
  }
  std::string header = "=== acp-conductor debug log: " + std::string(name) + " ===\n";
  header += "Started: " + local_time("%Y-%m-%dT%H:%M:%S%z", state_->started) + "\n";
  header += (label == "C" ? "Link: " : "Component " + label + ": ") + std::string(about) + "\n";
  header += label == "C"
                ? "Lines: \xE2\x86\x92 received from it, \xE2\x86\x90 sent to it\n"
                : "Lines: \xE2\x86\x92 sent to it (stdin), \xE2\x86\x90 received from it (stdout), ! its stderr\n";
  header += "========================\n";
  state_->push(f, stream::in, header, true);
  return std::make_shared<debug_file>(shared_from_this(), f, std::move(path));
}

void debug_file::record(stream s, std::string_view bytes) noexcept {
  if (bytes.empty()) return;
  try {
    log_->state_->push(static_cast<file_slot*>(slot_), s, bytes, false);
  } catch (...) { // out of memory: the debug log loses the chunk, the chain goes on
  }
}

void debug_file::record_line(stream s, std::string_view line) noexcept {
  try {
    std::string text(line);
    text.push_back('\n');
    log_->state_->push(static_cast<file_slot*>(slot_), s, text, false);
  } catch (...) {
  }
}

// ---- the taps ----------------------------------------------------------------------------

transport_ptr tap_transport(transport_ptr inner, std::shared_ptr<debug_file> file, stream read_as, stream written_as) {
  return observe_transport(std::move(inner), tap_bytes(std::move(file), read_as, written_as));
}

byte_observer tap_bytes(std::shared_ptr<debug_file> file, stream read_as, stream written_as) {
  if (!file) return {};
  return [file = std::move(file), read_as, written_as](bool incoming, std::string_view bytes) {
    file->record(incoming ? read_as : written_as, bytes);
  };
}

stderr_sink tap_stderr(std::shared_ptr<debug_file> file, stderr_sink next) {
  return [file = std::move(file), next = std::move(next)](std::string_view name, std::string_view line) {
    if (file) file->record_line(stream::err, line);
    if (next) next(name, line);
  };
}

} // namespace acp::conductor
