#include <acp/sdk/channel.hpp>

namespace acp {

std::string_view to_string(close_reason r) noexcept {
  switch (r) {
  case close_reason::eof:
    return "eof";
  case close_reason::read_error:
    return "read_error";
  case close_reason::write_error:
    return "write_error";
  case close_reason::oversized_message:
    return "oversized_message";
  case close_reason::closed_locally:
    return "closed_locally";
  }
  return "unknown";
}

namespace {
// Boost's error_category has a protected non-virtual destructor; its categories are statics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class channel_category_impl final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "acp.channel"; }
  std::string message(int ev) const override {
    switch (static_cast<channel_errc>(ev)) {
    case channel_errc::message_too_large:
      return "message too large";
    }
    return "unknown channel error";
  }
};
#pragma GCC diagnostic pop
} // namespace

const boost::system::error_category& channel_category() noexcept {
  static const channel_category_impl category;
  return category;
}

boost::system::error_code make_error_code(channel_errc e) noexcept { return {static_cast<int>(e), channel_category()}; }

} // namespace acp
