#include <acp/protocol/text_buffer.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace acp {

namespace {

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

#if defined(__linux__)
// Large buffers are mappings whose start and size are multiples of this (a huge page on x86-64
// and arm64 with 4 KiB pages), and ask for huge pages where the system gives them on request
// (transparent_hugepage "madvise", Debian's default): a 50 MiB message then faults in 25 pages
// instead of 12,800, which on a VM costs more than the copies. A huge page is only used for a
// whole aligned 2 MiB of the mapping, hence the alignment; where THP is off, nothing changes.
constexpr std::size_t huge_page = std::size_t{2} << 20;

/// A new mapping of `n` bytes (a multiple of huge_page) starting at a multiple of huge_page.
char* map(std::size_t n) {
  void* raw = ::mmap(nullptr, n + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto at = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = round_up(at, huge_page);
  // The unaligned head and the tail beyond n go back; what stays is [aligned, aligned + n).
  if (aligned > at) ::munmap(raw, aligned - at);
  if (const auto tail = at + huge_page - aligned; tail > 0) ::munmap(reinterpret_cast<void*>(aligned + n), tail);
  auto* p = reinterpret_cast<char*>(aligned);
#if defined(MADV_HUGEPAGE)
  (void)::madvise(p, n, MADV_HUGEPAGE); // a refusal (no THP) changes nothing
#endif
  return p;
}

/// Grows the mapping at `p` from `from` to `to` bytes (multiples of huge_page), keeping its
/// pages without copying them: in place when the addresses after it are free, else by moving
/// its pages to the start of a new aligned mapping (MREMAP_FIXED keeps the alignment, which a
/// plain MREMAP_MAYMOVE does not promise).
char* grow(char* p, std::size_t from, std::size_t to) {
  if (void* q = ::mremap(p, from, to, 0); q != MAP_FAILED) return static_cast<char*>(q);
  char* fresh = map(to);
  if (::mremap(p, from, from, MREMAP_MAYMOVE | MREMAP_FIXED, fresh) == MAP_FAILED) {
    ::munmap(fresh, to);
    throw std::bad_alloc();
  }
  return fresh;
}
#endif

} // namespace

text_buffer::text_buffer(std::string_view bytes) { append(bytes); }

text_buffer::text_buffer(const text_buffer& other) { append(other.view()); }

text_buffer& text_buffer::operator=(const text_buffer& other) {
  if (this != &other) {
    clear();
    append(other.view());
  }
  return *this;
}

void text_buffer::release() noexcept {
#if defined(__linux__)
  if (mapped_)
    ::munmap(data_, capacity_);
  else
    std::free(data_);
#else
  std::free(data_);
#endif
}

void text_buffer::reserve(std::size_t n) {
  if (n <= capacity_) return;
#if defined(__linux__)
  if (n >= large_bytes) {
    // Grow by half: with mremap growing costs no copy, and untouched pages cost nothing.
    const std::size_t wanted = round_up(std::max(n, capacity_ + capacity_ / 2), huge_page);
    if (mapped_) {
      data_ = grow(data_, capacity_, wanted);
    } else {
      char* p = map(wanted);
      if (size_ > 0) std::memcpy(p, data_, size_);
      std::free(data_);
      data_ = p;
      mapped_ = true;
    }
    capacity_ = wanted;
    return;
  }
#endif
  const std::size_t wanted = std::max(n, capacity_ + capacity_ / 2);
  void* p = std::realloc(data_, wanted);
  if (!p) throw std::bad_alloc();
  data_ = static_cast<char*>(p);
  capacity_ = wanted;
}

void text_buffer::append(std::string_view bytes) {
  if (bytes.empty()) return;
  reserve(size_ + bytes.size());
  std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

} // namespace acp
