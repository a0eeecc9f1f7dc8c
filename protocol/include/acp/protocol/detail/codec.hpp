#pragma once
// Generic JSON conversions behind the typed messages. Included only by the library's
// src/types/*.cpp: each struct is described once by a field table (ACP_STRUCT), each tagged
// union by its discriminator and tags (ACP_TAGGED_UNION); these templates do the rest.
// Not part of the public API.

#include <acp/protocol/types.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <tuple>
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

template <class T>
bool read(const boost::json::value& v, T& out, decode_error& err);
template <class T>
void write(const T& in, boost::json::value& out);

template <integer T>
bool read_integer(const boost::json::value& v, T& out, decode_error& err) {
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

template <class T>
bool read(const boost::json::value& v, T& out, decode_error& err) {
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

template <class T>
void write(const T& in, boost::json::value& out) {
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

// ---- structs -------------------------------------------------------------------------------------

/// One JSON member <-> one data member.
template <class C, class M>
struct field_t {
  std::string_view name;
  M C::*member;
};
template <class C, class M>
constexpr field_t<C, M> field(std::string_view name, M C::*member) {
  return {name, member};
}

/// A variant member whose alternatives' members live in the enclosing object. It receives every
/// member the enclosing struct does not describe (so the enclosing `extra` stays empty).
template <class C, class M>
struct flatten_t {
  M C::*member;
};
template <class C, class M>
constexpr flatten_t<C, M> flatten(M C::*member) {
  return {member};
}

template <class F> struct is_flatten : std::false_type {};
template <class C, class M> struct is_flatten<flatten_t<C, M>> : std::true_type {};
template <class Fields> struct has_flatten : std::false_type {};
template <class... F>
struct has_flatten<std::tuple<F...>> : std::bool_constant<(is_flatten<F>::value || ...)> {};

template <class C, class M>
bool names(const field_t<C, M>& f, std::string_view key) {
  return f.name == key;
}
template <class C, class M>
bool names(const flatten_t<C, M>&, std::string_view) {
  return false;
}

/// Whether `key` is a member of the field table (flattened members excluded).
template <class Fields>
bool is_described(std::string_view key, const Fields& fields) {
  return std::apply([&](const auto&... f) { return (names(f, key) || ...); }, fields);
}

template <class T, class Fields, class C, class M>
bool decode_field(const boost::json::object& o, T& out, decode_error& err, const Fields& fields,
                  const field_t<C, M>& f) {
  const auto* v = o.if_contains(f.name);
  if constexpr (is_optional<M>::value) {
    if (v == nullptr || v->is_null()) return true;
  } else {
    if (v == nullptr) return fail_at(err, f.name, "missing required field");
  }
  (void)fields;
  if (!read(*v, out.*f.member, err)) return prefix_key(err, f.name);
  return true;
}

template <class T, class Fields, class C, class M>
bool decode_field(const boost::json::object& o, T& out, decode_error& err, const Fields& fields,
                  const flatten_t<C, M>& f) {
  boost::json::value rest(boost::json::object{});
  auto& ro = rest.get_object();
  for (const auto& kv : o) {
    if (!is_described(kv.key(), fields)) ro.emplace(kv.key(), kv.value());
  }
  return read(rest, out.*f.member, err);
}

template <class T, class Fields>
bool decode_struct(const boost::json::value& v, T& out, decode_error& err, const Fields& fields) {
  const auto* o = v.if_object();
  if (o == nullptr) return fail(err, "expected object");
  const bool ok = std::apply(
      [&](const auto&... f) { return (decode_field(*o, out, err, fields, f) && ...); }, fields);
  if (!ok) return false;
  if constexpr (!has_flatten<Fields>::value) {
    for (const auto& kv : *o) {
      if (!is_described(kv.key(), fields)) out.extra.insert_or_assign(kv.key(), kv.value());
    }
  }
  return true;
}

template <class T, class C, class M>
void encode_field(const T& in, boost::json::object& o, const field_t<C, M>& f) {
  const auto& m = in.*f.member;
  if constexpr (is_optional<M>::value) {
    if (!m) return;
  }
  write(m, o[f.name]);
}

template <class T, class C, class M>
void encode_field(const T& in, boost::json::object& o, const flatten_t<C, M>& f) {
  boost::json::value inner;
  write(in.*f.member, inner);
  if (auto* io = inner.if_object()) {
    for (auto& kv : *io) o.emplace(kv.key(), std::move(kv.value()));
  }
}

template <class T, class Fields>
void encode_struct(const T& in, boost::json::value& out, const Fields& fields) {
  auto& o = out.emplace_object();
  std::apply([&](const auto&... f) { (encode_field(in, o, f), ...); }, fields);
  for (const auto& kv : in.extra) o.emplace(kv.key(), kv.value()); // never overrides typed members
}

// ---- tagged unions -------------------------------------------------------------------------------

template <class V>
constexpr bool is_open_union =
    std::is_same_v<std::variant_alternative_t<std::variant_size_v<V> - 1, V>, unknown_variant>;
template <class V>
constexpr std::size_t known_alternatives = std::variant_size_v<V> - (is_open_union<V> ? 1 : 0);

template <std::size_t I, class V>
bool decode_alternative(const boost::json::value& v, V& out, decode_error& err, std::string_view key) {
  std::variant_alternative_t<I, V> alt{};
  if (!read(v, alt, err)) return false;
  if (!key.empty()) alt.extra.erase(key); // the discriminator is implied by the alternative
  out.template emplace<I>(std::move(alt));
  return true;
}

template <class V, std::size_t... I>
bool decode_alternative_at(std::size_t index, const boost::json::value& v, V& out, decode_error& err,
                           std::string_view key, std::index_sequence<I...>) {
  bool ok = false;
  (void)((index == I && (ok = decode_alternative<I>(v, out, err, key), true)) || ...);
  return ok;
}

/// `tags[i]` is the discriminator value of alternative i; an empty tag marks the alternative
/// used when the discriminator is absent. An unknown value goes to the trailing unknown_variant
/// (open unions) or is an error.
template <class V, std::size_t N>
bool decode_tagged(const boost::json::value& v, V& out, decode_error& err, std::string_view key,
                   const std::array<std::string_view, N>& tags) {
  static_assert(N == known_alternatives<V>, "one tag per known alternative");
  const auto* o = v.if_object();
  if (o == nullptr) return fail(err, "expected object");
  std::size_t index = N;
  const auto* d = o->if_contains(key);
  if (d == nullptr) {
    for (std::size_t i = 0; i < N; ++i) {
      if (tags[i].empty()) index = i;
    }
    if (index == N) return fail_at(err, key, "missing required field");
    return decode_alternative_at(index, v, out, err, {}, std::make_index_sequence<N>{});
  }
  const auto* s = d->if_string();
  if (s == nullptr) return fail_at(err, key, "expected string");
  for (std::size_t i = 0; i < N; ++i) {
    if (!tags[i].empty() && tags[i] == *s) index = i;
  }
  if (index == N) {
    if constexpr (is_open_union<V>) {
      out.template emplace<N>(unknown_variant{*o});
      return true;
    } else {
      return fail_at(err, key, "unknown value");
    }
  }
  return decode_alternative_at(index, v, out, err, key, std::make_index_sequence<N>{});
}

template <class V, std::size_t N>
void encode_tagged(const V& in, boost::json::value& out, std::string_view key,
                   const std::array<std::string_view, N>& tags) {
  const std::size_t index = in.index();
  std::visit(
      [&](const auto& alt) {
        using A = std::decay_t<decltype(alt)>;
        if constexpr (std::is_same_v<A, unknown_variant>) {
          out = alt.json;
        } else {
          boost::json::value inner;
          write(alt, inner);
          if (index >= N || tags[index].empty()) {
            out = std::move(inner);
            return;
          }
          auto& io = inner.get_object();
          auto& o = out.emplace_object();
          o.reserve(io.size() + 1);
          o.emplace(key, tags[index]);
          for (auto& kv : io) o.emplace(kv.key(), std::move(kv.value()));
        }
      },
      in);
}

} // namespace acp::detail

/// Defines decode_value/encode_value of struct `T` from its field table. Inside the table,
/// `self` names T: `ACP_STRUCT(prompt_request, ACP_F("sessionId", session_id), ACP_META)`.
#define ACP_F(json_name, member) ::acp::detail::field(json_name, &self::member)
#define ACP_META ::acp::detail::field("_meta", &self::meta)
#define ACP_FLATTEN(member) ::acp::detail::flatten(&self::member)
#define ACP_STRUCT(T, ...)                                                                     \
  bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err) {         \
    using self [[maybe_unused]] = T;                                                           \
    return ::acp::detail::decode_struct(v, out, err, std::tuple{__VA_ARGS__});                 \
  }                                                                                            \
  void encode_value(const T& in, ::boost::json::value& out) {                                  \
    using self [[maybe_unused]] = T;                                                           \
    ::acp::detail::encode_struct(in, out, std::tuple{__VA_ARGS__});                            \
  }

/// Defines the conversions of a struct deriving from `Base` with nothing of its own.
#define ACP_DERIVED(T, Base)                                                                   \
  bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err) {         \
    return decode_value(v, static_cast<Base&>(out), err);                                      \
  }                                                                                            \
  void encode_value(const T& in, ::boost::json::value& out) {                                  \
    encode_value(static_cast<const Base&>(in), out);                                           \
  }

/// Defines the conversions of the std::variant alias `T`, tagged by member `key`; the tags name
/// the known alternatives in order ("" = the alternative used when `key` is absent).
#define ACP_TAGGED_UNION(T, key, ...)                                                          \
  bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err) {         \
    static constexpr auto tags = std::to_array<std::string_view>({__VA_ARGS__});               \
    return ::acp::detail::decode_tagged(v, out, err, key, tags);                               \
  }                                                                                            \
  void encode_value(const T& in, ::boost::json::value& out) {                                  \
    static constexpr auto tags = std::to_array<std::string_view>({__VA_ARGS__});               \
    ::acp::detail::encode_tagged(in, out, key, tags);                                          \
  }
