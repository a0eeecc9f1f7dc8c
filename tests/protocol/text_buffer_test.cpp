// acp::text_buffer: append, reserve, copy, move and reset; growth across the 1 MiB boundary
// (heap block to anonymous mapping, then mremap) keeps every byte; a large buffer asks for huge
// pages.

#include <acp/protocol/text_buffer.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <sys/mman.h>

namespace acp {
namespace {

constexpr std::size_t MiB = std::size_t{1} << 20;

/// A byte at `i` of a pattern that does not repeat with any small period (catches shifted or
/// duplicated pages, not only lost ones).
char pattern_at(std::size_t i) {
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<char>(x & 0xFF);
}

std::string pattern(std::size_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = pattern_at(from + i);
  return s;
}

/// Index of the first byte of `b` that differs from the pattern, or npos.
std::size_t first_mismatch(const text_buffer& b, std::size_t from = 0) {
  const char* p = b.data();
  for (std::size_t i = 0; i < b.size(); ++i)
    if (p[i] != pattern_at(from + i)) return i;
  return std::string::npos;
}

TEST(text_buffer, a_default_buffer_is_empty_and_owns_nothing) {
  const text_buffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.view(), std::string_view());
}

TEST(text_buffer, construction_from_bytes_copies_them) {
  std::string src("hello\0world", 11);
  const text_buffer b(src);
  EXPECT_EQ(b.size(), 11u);
  EXPECT_EQ(b.view(), src);
  EXPECT_NE(b.data(), src.data());
  src[0] = 'J';
  EXPECT_EQ(b.view().front(), 'h');
  const text_buffer none{std::string_view()};
  EXPECT_TRUE(none.empty());
}

TEST(text_buffer, append_accumulates_and_empty_appends_change_nothing) {
  text_buffer b;
  b.append("ab");
  b.append("");
  b.append(std::string_view("c\nd", 3));
  EXPECT_EQ(b.view(), "abc\nd");
  EXPECT_GE(b.capacity(), b.size());
  for (int i = 0; i < 1000; ++i) b.append("xyz");
  EXPECT_EQ(b.size(), 5u + 3000u);
  EXPECT_EQ(b.view().substr(0, 5), "abc\nd");
  EXPECT_EQ(b.view().substr(5, 6), "xyzxyz");
  EXPECT_EQ(b.view().substr(b.size() - 3), "xyz");
}

TEST(text_buffer, reserve_keeps_the_content_and_never_shrinks) {
  text_buffer b("content");
  b.reserve(4096);
  EXPECT_GE(b.capacity(), 4096u);
  EXPECT_EQ(b.view(), "content");
  const auto cap = b.capacity();
  const auto* data = b.data();
  b.reserve(10); // smaller: nothing happens
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.view(), "content");
  b.reserve(0);
  EXPECT_EQ(b.capacity(), cap);
}

TEST(text_buffer, set_size_and_clear_keep_the_memory) {
  text_buffer b;
  b.reserve(100);
  const auto* data = b.data();
  const auto cap = b.capacity();
  std::string_view("0123456789").copy(b.data(), 10);
  b.set_size(10);
  EXPECT_EQ(b.view(), "0123456789");
  b.set_size(4);
  EXPECT_EQ(b.view(), "0123");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.capacity(), cap);
  b.append("again");
  EXPECT_EQ(b.view(), "again");
}

TEST(text_buffer, reset_frees_and_the_buffer_is_usable_again) {
  for (const std::size_t n : {std::size_t{100}, 3 * MiB}) {
    text_buffer b(pattern(0, n));
    b.reset();
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.capacity(), 0u);
    EXPECT_EQ(b.data(), nullptr);
    b.reset(); // twice is fine
    b.append(pattern(7, n));
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(first_mismatch(b, 7), std::string::npos);
  }
}

TEST(text_buffer, growth_in_steps_across_1_mib_to_40_mib_keeps_every_byte) {
  text_buffer b;
  const std::size_t target = 40 * MiB;
  // Odd step sizes so that appends straddle page and capacity boundaries.
  std::size_t step = 1000;
  bool crossed = false;
  while (b.size() < target) {
    const std::size_t n = std::min(step, target - b.size());
    const auto before = b.size();
    b.append(pattern(before, n));
    ASSERT_EQ(b.size(), before + n);
    ASSERT_GE(b.capacity(), b.size());
    if (!crossed && b.size() >= text_buffer::large_bytes) {
      crossed = true;
      ASSERT_EQ(first_mismatch(b), std::string::npos) << "just after crossing 1 MiB";
    }
    step = step * 3 / 2 + 4093;
  }
  EXPECT_TRUE(crossed);
  EXPECT_EQ(b.size(), target);
  EXPECT_EQ(first_mismatch(b), std::string::npos);
}

TEST(text_buffer, reserve_from_a_heap_block_past_1_mib_to_a_mapping_keeps_the_content) {
  // A heap block can itself be larger than 1 MiB (it grows by half): the move to a mapping
  // must copy what it holds.
  text_buffer b;
  b.append(pattern(0, 900 * 1024));
  b.reserve(950 * 1024); // grows by half: a heap block over 1 MiB
  EXPECT_GE(b.capacity(), text_buffer::large_bytes);
  EXPECT_EQ(first_mismatch(b), std::string::npos);
  b.append(pattern(b.size(), b.capacity() - b.size())); // fill it to the brim
  const auto full = b.size();
  b.reserve(full + 1); // now a mapping
  EXPECT_EQ(b.size(), full);
  EXPECT_EQ(first_mismatch(b), std::string::npos);
  b.reserve(12 * MiB); // and a remap
  b.append(pattern(b.size(), 11 * MiB));
  EXPECT_EQ(b.size(), full + 11 * MiB);
  EXPECT_EQ(first_mismatch(b), std::string::npos);
}

TEST(text_buffer, one_large_reserve_then_writes_through_data_and_set_size) {
  // The decoder's way: reserve, write into data(), set_size.
  text_buffer b;
  b.append("head:");
  b.reserve(5 * MiB);
  ASSERT_GE(b.capacity(), 5 * MiB);
  EXPECT_EQ(b.view(), "head:");
  const auto body = pattern(0, 5 * MiB - 5);
  body.copy(b.data() + 5, body.size());
  b.set_size(5 * MiB);
  b.reserve(17 * MiB);
  ASSERT_EQ(b.size(), 5 * MiB);
  EXPECT_EQ(b.view().substr(0, 5), "head:");
  EXPECT_TRUE(b.view().substr(5) == body);
}

TEST(text_buffer, copies_are_independent) {
  for (const std::size_t n : {std::size_t{64}, 2 * MiB}) {
    text_buffer a(pattern(0, n));
    text_buffer b(a);
    ASSERT_EQ(b.size(), n);
    EXPECT_NE(b.data(), a.data());
    EXPECT_EQ(first_mismatch(b), std::string::npos);
    b.data()[0] = static_cast<char>(~b.data()[0]);
    b.append("tail");
    EXPECT_EQ(a.size(), n);
    EXPECT_EQ(first_mismatch(a), std::string::npos);
    a.data()[n - 1] = 'Z';
    EXPECT_EQ(b.view().substr(n - 1, 5), std::string(1, pattern_at(n - 1)) + "tail");
  }
}

TEST(text_buffer, copy_assignment_replaces_the_content_in_either_direction_of_size) {
  text_buffer small("small");
  text_buffer large(pattern(0, 3 * MiB));
  text_buffer target(large);
  target = small; // large -> small
  EXPECT_EQ(target.view(), "small");
  target = large; // small -> large
  EXPECT_EQ(target.size(), 3 * MiB);
  EXPECT_EQ(first_mismatch(target), std::string::npos);
  EXPECT_NE(target.data(), large.data());
  const text_buffer empty;
  target = empty;
  EXPECT_TRUE(target.empty());
  EXPECT_EQ(first_mismatch(large), std::string::npos);
}

TEST(text_buffer, move_leaves_the_source_empty_and_takes_the_memory) {
  for (const std::size_t n : {std::size_t{10}, 2 * MiB}) {
    text_buffer a(pattern(0, n));
    const auto* data = a.data();
    const auto cap = a.capacity();
    text_buffer b(std::move(a));
    EXPECT_EQ(b.data(), data); // the same memory: nothing copied
    EXPECT_EQ(b.capacity(), cap);
    EXPECT_EQ(b.size(), n);
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    EXPECT_EQ(a.data(), nullptr);
    EXPECT_EQ(a.capacity(), 0u);

    text_buffer c("old content that is freed");
    c = std::move(b);
    EXPECT_EQ(c.data(), data);
    EXPECT_EQ(c.size(), n);
    EXPECT_EQ(first_mismatch(c), std::string::npos);
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(b.capacity(), 0u);

    // A moved-from buffer is usable.
    a.append("reused");
    EXPECT_EQ(a.view(), "reused");
  }
}

TEST(text_buffer, self_assignment_keeps_the_content) {
  for (const std::size_t n : {std::size_t{33}, 2 * MiB}) {
    text_buffer b(pattern(0, n));
    const auto* data = b.data();
    text_buffer& alias = b; // self-assignment through an alias (no -Wself-move)
    b = alias;
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.data(), data);
    EXPECT_EQ(first_mismatch(b), std::string::npos);
    b = std::move(alias);
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.data(), data);
    EXPECT_EQ(first_mismatch(b), std::string::npos);
  }
}

TEST(text_buffer, many_large_buffers_come_and_go) {
  // Mappings are returned: 200 buffers of 4 MiB (800 MiB in total) in turn stay cheap.
  for (int i = 0; i < 200; ++i) {
    text_buffer b;
    b.reserve(4 * MiB);
    b.data()[4 * MiB - 1] = 'x';
    b.data()[0] = 'y';
    b.set_size(4 * MiB);
    ASSERT_EQ(b.view().front(), 'y');
    ASSERT_EQ(b.view().back(), 'x');
  }
}

/// The VmFlags line of the mapping of this process that holds `p` (from /proc/self/smaps), or
/// "" when there is none or the file cannot be read.
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t from = 0;
    std::uintptr_t to = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= at && at < to;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

TEST(text_buffer, a_large_buffer_asks_for_huge_pages_and_keeps_asking_as_it_grows) {
  // A 50 MiB message faults in 25 huge pages instead of 12,800 small ones where the system
  // gives huge pages on request (transparent_hugepage "madvise"). smaps shows the request as
  // the flag "hg" of the mapping.
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) GTEST_SKIP() << "no THP in this kernel";
  // Only whole aligned 2 MiB of a mapping can be a huge page: the buffer starts at one.
  const auto aligned = [](const text_buffer& t) { return reinterpret_cast<std::uintptr_t>(t.data()) % (2 * MiB) == 0; };
  text_buffer b;
  b.append(pattern(0, 3 * MiB)); // past large_bytes: a mapping
  EXPECT_TRUE(aligned(b));
  auto flags = vm_flags_of(b.data());
  ASSERT_FALSE(flags.empty()) << "no mapping holds the buffer";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
  // Growth in place, then (a page mapped right behind the buffer) by moving its pages.
  b.append(pattern(b.size(), 7 * MiB));
  EXPECT_TRUE(aligned(b));
  char* const before_move = b.data();
  void* guard =
      ::mmap(b.data() + b.capacity(), 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  for (int i = 0; i < 5; ++i) {
    b.append(pattern(b.size(), 7 * MiB));
    EXPECT_TRUE(aligned(b)) << "after growing to " << b.size();
  }
  EXPECT_NE(b.data(), before_move) << "the guard page did not make the buffer move";
  if (guard != MAP_FAILED) ::munmap(guard, 4096);
  EXPECT_EQ(first_mismatch(b), std::string::npos);
  flags = vm_flags_of(b.data() + b.size() - 1);
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;

  text_buffer small("a heap block");
  flags = vm_flags_of(small.data());
  EXPECT_EQ(flags.find(" hg"), std::string::npos) << "a small buffer is left as it is: " << flags;
}

} // namespace
} // namespace acp
