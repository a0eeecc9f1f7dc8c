#include <acp/sdk/private_file.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <cerrno>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace acp {

namespace {

// Boost's error_category has a protected non-virtual destructor; its categories are statics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
public:
  [[nodiscard]] const char* name() const noexcept override { return "acp.private_file"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<private_file_errc>(ev)) {
    case private_file_errc::symbolic_link:
      return "is a symbolic link";
    case private_file_errc::not_regular:
      return "is not a regular file";
    case private_file_errc::foreign_owner:
      return "is owned by another user";
    case private_file_errc::hard_links:
      return "has more than one hard link";
    }
    return "unknown private file error";
  }
};
#pragma GCC diagnostic pop

private_file_error system_error(int e) {
  return {boost::system::error_code(e, boost::system::system_category()), std::strerror(e)};
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "a special file";
}

private_file_error not_regular(mode_t mode) {
  return {make_error_code(private_file_errc::not_regular),
          std::string("is not a regular file (") + kind_of(mode) + ")"};
}

/// Why the file at `st` must not be written; an empty code when it may.
private_file_error check(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return not_regular(st.st_mode);
  if (st.st_uid != ::geteuid())
    return {make_error_code(private_file_errc::foreign_owner), "is owned by uid " + std::to_string(st.st_uid)};
  if (st.st_nlink != 1)
    return {make_error_code(private_file_errc::hard_links), "has " + std::to_string(st.st_nlink) + " hard links"};
  return {};
}

/// A clearer reason for a failed open, from what is at the path now.
private_file_error explain_open_failure(int e, const std::string& path, int dir_fd) {
  struct stat st {};
  if (::fstatat(dir_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode) && e == ELOOP)
      return {make_error_code(private_file_errc::symbolic_link), "is a symbolic link"};
    // ENXIO: a FIFO without a reader (O_NONBLOCK) or a socket; EISDIR: a directory.
    if ((e == ENXIO || e == EISDIR) && !S_ISREG(st.st_mode)) return not_regular(st.st_mode);
  }
  return system_error(e);
}

} // namespace

const boost::system::error_category& private_file_category() noexcept {
  static const category instance;
  return instance;
}

boost::system::error_code make_error_code(private_file_errc e) noexcept {
  return {static_cast<int>(e), private_file_category()};
}

void throw_exception_from_error(const private_file_error& e, const boost::source_location& loc) {
  boost::throw_with_location(boost::system::system_error(e.code, e.reason), loc);
}

boost::system::result<int, private_file_error> open_private_file(const std::string& path,
                                                                 private_file_options options) {
  // No O_TRUNC here: nothing is changed before the checks below.
  int flags = O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  flags |= options.readable ? O_RDWR : O_WRONLY;
  if (options.append) flags |= O_APPEND;
  int fd = -1;
  do {
    fd = ::openat(options.directory_fd, path.c_str(), flags, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return explain_open_failure(errno, path, options.directory_fd);
  auto fail = [fd](private_file_error e) {
    ::close(fd);
    return e;
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(system_error(errno));
  if (auto problem = check(st); problem.code) return fail(std::move(problem));
  // Blocking writes from here on (a regular file ignores the flag, but say what we mean).
  if (const int fl = ::fcntl(fd, F_GETFL); fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
    return fail(system_error(errno));
  if (options.truncate && ::ftruncate(fd, 0) != 0) return fail(system_error(errno));
  if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) return fail(system_error(errno));
  return fd;
}

std::string private_directory_problem(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "is not a directory";
  if (st.st_uid != ::geteuid()) return "is owned by uid " + std::to_string(st.st_uid);
  if ((st.st_mode & S_IWOTH) != 0) return "is writable by others";
  if ((st.st_mode & S_IWGRP) != 0) return "is writable by its group";
  return {};
}

} // namespace acp
