#pragma once
// Private: a byte transport that first returns bytes already read from its inner transport
// (what a listener read while it looked at the first line), then reads the inner transport.

#include <acp/sdk/transport.hpp>

#include <string>

namespace acp::net::detail {

/// Reads return `prefix` first (as much of it as fits each buffer), then the inner transport's
/// bytes; writing and closing go to `inner`. An empty prefix: returns `inner` unchanged.
[[nodiscard]] transport_ptr make_prefixed_transport(std::string prefix, transport_ptr inner);

} // namespace acp::net::detail
