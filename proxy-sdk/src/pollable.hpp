#pragma once
// Whether epoll (Asio's reactor) can wait on a descriptor. Regular files, directories and
// character devices other than terminals (/dev/null, /dev/zero) it refuses; they never block,
// so plain read/write is right for them. Asio keeps a refused descriptor registered anyway, and
// re-registering it in a forked child fails, which stops every later child from starting: such
// a descriptor must never be handed to the reactor.

#include <sys/stat.h>
#include <unistd.h>

namespace acp::detail {

inline bool is_pollable(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return false;
  if (S_ISCHR(st.st_mode)) return ::isatty(fd) == 1;
  return true;
}

} // namespace acp::detail
