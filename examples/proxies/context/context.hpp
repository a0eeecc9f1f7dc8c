#pragma once
// The context proxy: puts project context in front of the user's prompt.
//
// On `session/prompt` from the client it inserts context content blocks before the prompt's own
// blocks: first every text, then every file, in the order given (config file entries before
// command-line ones). A file is read when the prompt is sent, so edits are picked up; it becomes a
// text block ("File /abs/path:\n" + contents) or, with `as_resource`, an embedded `resource`
// block {uri: file:///abs/path, mimeType guessed from the extension, text}. A file that cannot be
// read then becomes a text block saying so, with a warning on stderr; the prompt still goes out.
//
// With `when = first` only the first prompt of each session (by sessionId, as seen by this
// process) gets the context; with `every`, every prompt. The prompt is edited in place: every
// other member, `_meta` and unknown fields included, is forwarded as received. Everything else
// passes through untouched.

#include <acp/sdk/endpoint.hpp>

#include <boost/json/array.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace acp::examples {

enum class context_when { first, every };

struct context_options {
  std::vector<std::string> texts;
  std::vector<std::string> files; ///< absolute after `prepare_context_options`
  bool as_resource = false;
  context_when when = context_when::first;
};

/// A configuration error: one line, meant for `PROGRAM: MESSAGE` on stderr.
struct context_error {
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const context_error& e, const boost::source_location& loc);
template <class T> using context_result = boost::system::result<T, context_error>;

/// Reads a JSON config file: {"text": [STRING…], "files": [PATH…], "asResource": BOOL,
/// "when": "first"|"every"}, every key optional, no other keys. Relative file paths are relative
/// to the config file's directory. Errors name the file and the offending key.
[[nodiscard]] context_result<context_options> load_context_config(const std::string& path);

/// Makes every file path absolute (relative to the current directory) and checks that each is a
/// readable regular file now. The first failure is the error.
[[nodiscard]] context_result<void> prepare_context_options(context_options& options);

/// Decides per prompt and builds the blocks. Not thread-safe (a proxy runs on one thread).
class context_injector {
public:
  explicit context_injector(context_options options) : options_(std::move(options)) {}

  /// Inserts the context blocks at the front of `params.prompt` when this prompt should get
  /// them. False (and `params` untouched) when it should not or `params` has no prompt array.
  bool apply(boost::json::value& params);

  /// The context blocks as of now (files read now).
  [[nodiscard]] boost::json::array blocks() const;

private:
  context_options options_;
  std::set<std::string, std::less<>> seen_sessions_;
};

/// A proxy with the context handler installed; run it with `run_stdio()` or `connect_to(...)`.
[[nodiscard]] proxy_builder make_context_proxy(context_options options);

/// A MIME type for a file name by its extension ("text/plain" when unknown).
[[nodiscard]] std::string_view guess_mime_type(std::string_view path) noexcept;

/// `file://` URI of an absolute path, percent-encoding bytes outside [A-Za-z0-9-._~/].
[[nodiscard]] std::string file_uri(std::string_view absolute_path);

} // namespace acp::examples
