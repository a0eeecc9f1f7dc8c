#pragma once
// Opening the private files a program writes (a trace, a decision log, a transcript) without
// being redirected by a link someone planted at the path.
//
// The file is opened with O_NOFOLLOW (a symbolic link as the last component is refused, not
// followed), O_NONBLOCK (a FIFO with no reader fails at once instead of hanging the open; the flag
// is cleared again afterwards), O_NOCTTY and O_CLOEXEC; then, before a byte is written or
// truncated, the open file is checked: it must be a regular file, owned by this process's
// effective user, with exactly one hard link. Only then is it truncated (when asked) and its mode
// narrowed to 0600 (an existing file keeps its old mode through O_CREAT otherwise).
//
// Symbolic links in the directories leading to the file are followed: they are the caller's
// choice of path, not a planted file. No Asio here; errors are values.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

#include <fcntl.h>

namespace acp {

/// Why a private file was refused (the other failures are errno codes of the system category).
enum class private_file_errc {
  symbolic_link = 1, ///< the path names a symbolic link
  not_regular,       ///< a directory, a FIFO, a socket, a device
  foreign_owner,     ///< owned by another user than the effective one
  hard_links,        ///< more than one hard link: the same file is reachable elsewhere
};

[[nodiscard]] const boost::system::error_category& private_file_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(private_file_errc e) noexcept;

struct private_file_error {
  boost::system::error_code code;
  /// One line without the path: "is a symbolic link", "has 2 hard links", "is owned by uid
  /// 65534", "is not a regular file (a FIFO)", or the system's text ("Permission denied").
  std::string reason;
};

/// Lets `result<int, private_file_error>::value()` throw a `system_error`.
[[noreturn]] void throw_exception_from_error(const private_file_error& e, const boost::source_location& loc);

struct private_file_options {
  bool append = false;         ///< O_APPEND: every write goes to the end
  bool truncate = false;       ///< empty the file, after the checks
  bool readable = false;       ///< O_RDWR rather than O_WRONLY
  int directory_fd = AT_FDCWD; ///< a relative `path` is taken from this directory (openat)
};

/// Opens (creating it with mode 0600 if missing) the file at `path` for writing, as described at
/// the top of this file. Returns the descriptor, which the caller owns.
[[nodiscard]] boost::system::result<int, private_file_error> open_private_file(const std::string& path,
                                                                               private_file_options options);

/// Checks that the directory open as `fd` is fit for private files: owned by the effective user
/// and not writable by group or others (someone who can write to it can plant files and links
/// in it). "" when it is, else the reason as one line ("is writable by others", "is owned by uid
/// 0", "is not a directory").
[[nodiscard]] std::string private_directory_problem(int fd);

} // namespace acp

template <> struct boost::system::is_error_code_enum<acp::private_file_errc> : std::true_type {};
