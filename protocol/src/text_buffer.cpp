#include <acp/protocol/text_buffer.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace acp {

namespace {

constexpr std::size_t page = 4096;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

#if defined(__linux__)
char* map(std::size_t n) {
  void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
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
    const std::size_t wanted = round_up(std::max(n, capacity_ + capacity_ / 2), page);
    if (mapped_) {
      void* p = ::mremap(data_, capacity_, wanted, MREMAP_MAYMOVE);
      if (p == MAP_FAILED) throw std::bad_alloc();
      data_ = static_cast<char*>(p);
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
