#pragma once
// `--debug` / `--debug-dir DIR`: what each link of the chain carried, line by line, one file per
// component (and one for the editor's link), in the reference conductor's debug-log line format:
//
//   0 → +12ms {"jsonrpc":"2.0","id":0,"method":"initialize",...}     sent to the component
//   0 ← +15ms {"jsonrpc":"2.0","id":0,"result":{...}}                 received from it
//   0 ! +15ms some line the component wrote on stderr                  (ANSI escapes removed)
//
// The label is the component's position in the chain (`C` for the conductor's own link to the
// editor: `→` what the editor sent, `←` what the conductor answered); the time is milliseconds
// since the log was opened. A header names the component and when the run started.
//
// Files: DIR is created (0700, parents too) when missing; each file is created 0600 with
// O_EXCL and O_NOFOLLOW, named `<YYYYmmdd-HHMMSS>-<label>-<name>.log` with the name reduced to
// [A-Za-z0-9._-] (`-2`, `-3`, ... added when taken), so a run never writes into another's file.
//
// Off the routing thread: `record` copies the bytes into a queue (one lock, no system call but
// a wake-up when the writer is idle); one writer thread per log splits them into lines, stamps
// and writes them. At most `max_queued_bytes` wait; beyond that chunks are dropped, and the file
// says so (`! [debug log: dropped N bytes]`). Everything recorded is written before the last
// owner lets go (the destructor joins the writer).
//
// What is logged is what crosses the link above any handshake made below it: a remote
// component's bearer token (net::connect's `_acp/authenticate`) is never seen here.

#include <acp/sdk/observe.hpp>
#include <acp/sdk/process.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace acp::conductor {

class debug_file;

class debug_log : public std::enable_shared_from_this<debug_log> {
public:
  static constexpr std::size_t default_max_queued_bytes = std::size_t{16} << 20;

  /// Creates `dir` when missing and starts the writer thread. The error is one sentence.
  [[nodiscard]] static boost::system::result<std::shared_ptr<debug_log>, std::string>
  open(const std::string& dir, std::size_t max_queued_bytes = default_max_queued_bytes);
  ~debug_log();
  debug_log(const debug_log&) = delete;
  debug_log& operator=(const debug_log&) = delete;

  /// A new file for one link (see the top). `about` goes into the header (a command line, an
  /// address). The error is one sentence naming the file.
  [[nodiscard]] boost::system::result<std::shared_ptr<debug_file>, std::string>
  create_file(std::string_view name, std::string label, std::string_view about);

  [[nodiscard]] const std::string& dir() const noexcept;

private:
  friend class debug_file;
  struct state;
  explicit debug_log(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

/// One link's file. `record` may be called from the routing thread at any rate.
class debug_file {
public:
  /// The component's (or the conductor's) standard streams.
  enum class stream { in, out, err };
  /// Bytes as they crossed the link (any part of a line, or many lines).
  void record(stream s, std::string_view bytes) noexcept;
  /// One whole line (no '\n').
  void record_line(stream s, std::string_view line) noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  debug_file(std::shared_ptr<debug_log> log, void* slot, std::string path)
      : log_(std::move(log)), slot_(slot), path_(std::move(path)) {}

private:
  std::shared_ptr<debug_log> log_;
  void* slot_; // the writer's state for this file (debug_log::state)
  std::string path_;
};

/// `inner`, with every byte read recorded as `read_as` and every byte written as `written_as`.
[[nodiscard]] transport_ptr tap_transport(transport_ptr inner, std::shared_ptr<debug_file> file,
                                          debug_file::stream read_as, debug_file::stream written_as);

/// An observer that records a link's bytes in `file` (for net::connect's remote links); empty
/// without a file.
[[nodiscard]] byte_observer tap_bytes(std::shared_ptr<debug_file> file, debug_file::stream read_as,
                                      debug_file::stream written_as);

/// A stderr sink that records each line in `file` (as `err`), then passes it to `next` (if any).
[[nodiscard]] stderr_sink tap_stderr(std::shared_ptr<debug_file> file, stderr_sink next);

} // namespace acp::conductor
