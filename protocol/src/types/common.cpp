#include <acp/protocol/detail/codec.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace acp {

std::string decode_error::what() const {
  if (path.empty()) return message;
  return path + ": " + message;
}

void throw_exception_from_error(const decode_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.what()), loc);
}

namespace detail {

void throw_decode_error(const decode_error& e) {
  boost::throw_exception(boost::system::system_error(decode_error_code(), e.what()));
}

boost::system::error_code decode_error_code() noexcept {
  return make_error_code(boost::system::errc::invalid_argument);
}

bool read_enum_text(const boost::json::value& v, std::string& out, decode_error& err) {
  return read_string(v, out, err);
}

bool prefix_key(decode_error& err, std::string_view key) {
  if (err.path.empty()) {
    err.path = key;
  } else if (err.path.front() == '[') {
    err.path.insert(0, key);
  } else {
    err.path.insert(0, std::string(key) + ".");
  }
  return false;
}

bool prefix_index(decode_error& err, std::size_t index) {
  std::string seg = "[" + std::to_string(index) + "]";
  if (!err.path.empty() && err.path.front() != '[') seg += '.';
  err.path.insert(0, seg);
  return false;
}

bool read_string(const boost::json::value& v, std::string& out, decode_error& err) {
  const auto* s = v.if_string();
  if (s == nullptr) return fail(err, "expected string");
  out.assign(s->data(), s->size());
  return true;
}

bool read_bool(const boost::json::value& v, bool& out, decode_error& err) {
  const auto* b = v.if_bool();
  if (b == nullptr) return fail(err, "expected boolean");
  out = *b;
  return true;
}

bool read_double(const boost::json::value& v, double& out, decode_error& err) {
  if (const auto* d = v.if_double()) {
    out = *d;
  } else if (const auto* i = v.if_int64()) {
    out = static_cast<double>(*i);
  } else if (const auto* u = v.if_uint64()) {
    out = static_cast<double>(*u);
  } else {
    return fail(err, "expected number");
  }
  return true;
}

namespace {
// JSON Schema counts 2.0 as an integer; accept doubles with an integral value.
bool integral_double(const boost::json::value& v, double& d) {
  const auto* p = v.if_double();
  if (p == nullptr || !std::isfinite(*p) || std::trunc(*p) != *p) return false;
  d = *p;
  return true;
}
} // namespace

bool read_int64(const boost::json::value& v, std::int64_t& out, decode_error& err) {
  double d = 0;
  if (const auto* i = v.if_int64()) {
    out = *i;
  } else if (const auto* u = v.if_uint64()) {
    if (!std::in_range<std::int64_t>(*u)) return fail(err, "integer out of range");
    out = static_cast<std::int64_t>(*u);
  } else if (integral_double(v, d)) {
    if (d < -9.2e18 || d > 9.2e18) return fail(err, "integer out of range");
    out = static_cast<std::int64_t>(d);
  } else {
    return fail(err, "expected integer");
  }
  return true;
}

bool read_uint64(const boost::json::value& v, std::uint64_t& out, decode_error& err) {
  double d = 0;
  if (const auto* u = v.if_uint64()) {
    out = *u;
  } else if (const auto* i = v.if_int64()) {
    if (*i < 0) return fail(err, "integer out of range");
    out = static_cast<std::uint64_t>(*i);
  } else if (integral_double(v, d)) {
    if (d < 0 || d > 1.8e19) return fail(err, "integer out of range");
    out = static_cast<std::uint64_t>(d);
  } else {
    return fail(err, "expected integer");
  }
  return true;
}

void write_double(double d, boost::json::value& out) {
  // 1.0 would serialize as "1E0"; integral values within 2^53 go out as integers.
  constexpr double exact_limit = 9007199254740992.0;
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= exact_limit) {
    out = static_cast<std::int64_t>(d);
  } else {
    out = d;
  }
}

} // namespace detail
} // namespace acp
