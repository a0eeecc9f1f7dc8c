#pragma once
// A growable byte buffer for message text that never zero-fills and never copies to grow when
// it is large: from `large_bytes` on it is a private anonymous mapping that grows with
// mremap(2) (the pages move, the bytes are not copied), is aligned to 2 MiB and asks for
// transparent huge pages (MADV_HUGEPAGE: a page fault per 2 MiB instead of per 4 KiB), and is
// returned to the system when released. Below that it is an ordinary heap block. The line
// decoder reads into one, and a large line's buffer is handed to its message as it is (see line_decoder::take_buffer),
// so a 50 MiB message is not copied between reading, routing and writing.

#include <cstddef>
#include <string_view>

namespace acp {

class text_buffer {
public:
  static constexpr std::size_t large_bytes = std::size_t{1} << 20;

  text_buffer() noexcept = default;
  explicit text_buffer(std::string_view bytes);
  text_buffer(text_buffer&& other) noexcept
      : data_(other.data_), size_(other.size_), capacity_(other.capacity_), mapped_(other.mapped_) {
    other.forget();
  }
  text_buffer& operator=(text_buffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = other.data_;
      size_ = other.size_;
      capacity_ = other.capacity_;
      mapped_ = other.mapped_;
      other.forget();
    }
    return *this;
  }
  text_buffer(const text_buffer& other);
  text_buffer& operator=(const text_buffer& other);
  // Inline, so that the many moved-from buffers of a routed message cost no call.
  ~text_buffer() {
    if (data_) release();
  }

  [[nodiscard]] char* data() noexcept { return data_; }
  [[nodiscard]] const char* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

  /// Makes room for at least `n` bytes in total, keeping the content. Throws std::bad_alloc.
  void reserve(std::size_t n);
  /// Sets the size (at most the capacity); new bytes are uninitialized.
  void set_size(std::size_t n) noexcept { size_ = n; }
  void append(std::string_view bytes);
  void clear() noexcept { size_ = 0; }
  /// Frees the memory.
  void reset() noexcept {
    if (data_) release();
    forget();
  }

private:
  void release() noexcept; // frees data_ (not null)
  void forget() noexcept {
    data_ = nullptr;
    size_ = capacity_ = 0;
    mapped_ = false;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  bool mapped_ = false;
};

} // namespace acp
