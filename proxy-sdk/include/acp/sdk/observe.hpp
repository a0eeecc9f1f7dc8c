#pragma once
// Watching the bytes that cross a transport (debug logs), apart from transport.hpp so that the
// many files that include it do not pull in <functional>.

#include <acp/sdk/transport.hpp>

#include <functional>
#include <string_view>

namespace acp {

/// Sees the bytes that cross a transport: `incoming` for what was read, else what is written
/// (before the write; a `try_write` reports the part it wrote). Any part of a line, or many.
/// It must not throw: `try_write` calls it and is noexcept.
using byte_observer = std::function<void(bool incoming, std::string_view bytes)>;

/// `inner`, with every byte read and written shown to `observer`. `inner` when `observer` is
/// empty.
[[nodiscard]] transport_ptr observe_transport(transport_ptr inner, byte_observer observer);

} // namespace acp
