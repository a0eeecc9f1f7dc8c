#pragma once
// Generic read/write of one JSON value into a C++ value: strings, booleans, integers (range
// checked), doubles, raw JSON, optionals, vectors, string maps, and message types (through their
// decode_value/encode_value). Part of detail/codec.hpp; not part of the public API.

#include <acp/protocol/types.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

namespace acp::detail {

// ---- errors ----------------------------------------------------------------------------------

inline bool fail(decode_error& err, std::string_view message) {
  err.path.clear();
  err.message = message;
  return false;
}

/// Prepends `key` to the error's path; returns false so callers can `return prefix_key(...)`.
bool prefix_key(decode_error& err, std::string_view key);
bool prefix_index(decode_error& err, std::size_t index);

inline bool fail_at(decode_error& err, std::string_view key, std::string_view message) {
  fail(err, message);
  return prefix_key(err, key);
}

// ---- type classification -----------------------------------------------------------------------

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};
template <class T> struct is_string_map : std::false_type {};
template <class T> struct is_string_map<std::map<std::string, T>> : std::true_type {};

template <class T>
concept integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// ---- leaf conversions --------------------------------------------------------------------------

bool read_string(const boost::json::value& v, std::string& out, decode_error& err);
bool read_bool(const boost::json::value& v, bool& out, decode_error& err);
bool read_double(const boost::json::value& v, double& out, decode_error& err);
bool read_int64(const boost::json::value& v, std::int64_t& out, decode_error& err);
bool read_uint64(const boost::json::value& v, std::uint64_t& out, decode_error& err);
void write_double(double d, boost::json::value& out);

template <class T> bool read(const boost::json::value& v, T& out, decode_error& err);
template <class T> void write(const T& in, boost::json::value& out);

template <integer T> bool read_integer(const boost::json::value& v, T& out, decode_error& err) {
  if constexpr (std::is_signed_v<T>) {
    std::int64_t i = 0;
    if (!read_int64(v, i, err)) return false;
    if (!std::in_range<T>(i)) return fail(err, "integer out of range");
    out = static_cast<T>(i);
  } else {
    std::uint64_t u = 0;
    if (!read_uint64(v, u, err)) return false;
    if (!std::in_range<T>(u)) return fail(err, "integer out of range");
    out = static_cast<T>(u);
  }
  return true;
}

template <class T> bool read(const boost::json::value& v, T& out, decode_error& err) {
  if constexpr (std::is_same_v<T, std::string>) {
    return read_string(v, out, err);
  } else if constexpr (std::is_same_v<T, bool>) {
    return read_bool(v, out, err);
  } else if constexpr (integer<T>) {
    return read_integer(v, out, err);
  } else if constexpr (std::is_same_v<T, double>) {
    return read_double(v, out, err);
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    out = v;
    return true;
  } else if constexpr (is_optional<T>::value) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    typename T::value_type tmp{};
    if (!read(v, tmp, err)) return false;
    out = std::move(tmp);
    return true;
  } else if constexpr (is_vector<T>::value) {
    const auto* a = v.if_array();
    if (a == nullptr) return fail(err, "expected array");
    out.clear();
    out.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (!read((*a)[i], out.emplace_back(), err)) return prefix_index(err, i);
    }
    return true;
  } else if constexpr (is_string_map<T>::value) {
    const auto* o = v.if_object();
    if (o == nullptr) return fail(err, "expected object");
    out.clear();
    for (const auto& kv : *o) {
      if (!read(kv.value(), out[std::string(kv.key())], err)) return prefix_key(err, kv.key());
    }
    return true;
  } else {
    return decode_value(v, out, err); // a message type or union: found by ADL / declared above
  }
}

template <class T> void write(const T& in, boost::json::value& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out = in;
  } else if constexpr (std::is_same_v<T, bool>) {
    out = in;
  } else if constexpr (integer<T>) {
    if constexpr (std::is_signed_v<T>) {
      out = static_cast<std::int64_t>(in);
    } else if (std::in_range<std::int64_t>(in)) {
      out = static_cast<std::int64_t>(in);
    } else {
      out = static_cast<std::uint64_t>(in);
    }
  } else if constexpr (std::is_same_v<T, double>) {
    write_double(in, out);
  } else if constexpr (std::is_same_v<T, boost::json::value>) {
    out = in;
  } else if constexpr (is_optional<T>::value) {
    if (in) {
      write(*in, out);
    } else {
      out = nullptr;
    }
  } else if constexpr (is_vector<T>::value) {
    auto& a = out.emplace_array();
    a.reserve(in.size());
    for (const auto& e : in) write(e, a.emplace_back(nullptr));
  } else if constexpr (is_string_map<T>::value) {
    auto& o = out.emplace_object();
    for (const auto& [k, e] : in) write(e, o[k]);
  } else {
    encode_value(in, out);
  }
}

} // namespace acp::detail
