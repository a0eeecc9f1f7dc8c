#pragma once
// Generic JSON conversions behind the typed messages. Included only by the library's
// src/types/*.cpp: each struct is described once by a field table (ACP_STRUCT), each tagged
// union by its discriminator and tags (ACP_TAGGED_UNION); these templates do the rest.
// Not part of the public API.

#include <acp/protocol/detail/codec_values.hpp>

#include <array>
#include <tuple>

namespace acp::detail {

// ---- structs -------------------------------------------------------------------------------------

/// One JSON member <-> one data member.
template <class C, class M> struct field_t {
  std::string_view name;
  M C::*member;
};
template <class C, class M> constexpr field_t<C, M> field(std::string_view name, M C::*member) {
  return {name, member};
}

/// A variant member whose alternatives' members live in the enclosing object. It receives every
/// member the enclosing struct does not describe (so the enclosing `extra` stays empty).
template <class C, class M> struct flatten_t { M C::*member; };
template <class C, class M> constexpr flatten_t<C, M> flatten(M C::*member) { return {member}; }

template <class F> struct is_flatten : std::false_type {};
template <class C, class M> struct is_flatten<flatten_t<C, M>> : std::true_type {};
template <class Fields> struct has_flatten : std::false_type {};
template <class... F> struct has_flatten<std::tuple<F...>> : std::bool_constant<(is_flatten<F>::value || ...)> {};

template <class C, class M> bool names(const field_t<C, M>& f, std::string_view key) { return f.name == key; }
template <class C, class M> bool names(const flatten_t<C, M>&, std::string_view) { return false; }

/// Whether `key` is a member of the field table (flattened members excluded).
template <class Fields> bool is_described(std::string_view key, const Fields& fields) {
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
  const bool ok = std::apply([&](const auto&... f) { return (decode_field(*o, out, err, fields, f) && ...); }, fields);
  if (!ok) return false;
  if constexpr (!has_flatten<Fields>::value) {
    for (const auto& kv : *o) {
      if (!is_described(kv.key(), fields)) out.extra.insert_or_assign(kv.key(), kv.value());
    }
  }
  return true;
}

template <class T, class C, class M> void encode_field(const T& in, boost::json::object& o, const field_t<C, M>& f) {
  const auto& m = in.*f.member;
  if constexpr (is_optional<M>::value) {
    if (!m) return;
  }
  write(m, o[f.name]);
}

template <class T, class C, class M> void encode_field(const T& in, boost::json::object& o, const flatten_t<C, M>& f) {
  boost::json::value inner;
  write(in.*f.member, inner);
  if (auto* io = inner.if_object()) {
    for (auto& kv : *io) o.emplace(kv.key(), std::move(kv.value()));
  }
}

template <class T, class Fields> void encode_struct(const T& in, boost::json::value& out, const Fields& fields) {
  auto& o = out.emplace_object();
  std::apply([&](const auto&... f) { (encode_field(in, o, f), ...); }, fields);
  for (const auto& kv : in.extra) o.emplace(kv.key(), kv.value()); // never overrides typed members
}

// ---- tagged unions -------------------------------------------------------------------------------

template <class V>
constexpr bool is_open_union =
    std::is_same_v<std::variant_alternative_t<std::variant_size_v<V> - 1, V>, unknown_variant>;
template <class V> constexpr std::size_t known_alternatives = std::variant_size_v<V> - (is_open_union<V> ? 1 : 0);

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
#define ACP_STRUCT(T, ...)                                                                                             \
  bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err) {                                 \
    using self [[maybe_unused]] = T;                                                                                   \
    return ::acp::detail::decode_struct(v, out, err, std::tuple{__VA_ARGS__});                                         \
  }                                                                                                                    \
  void encode_value(const T& in, ::boost::json::value& out) {                                                          \
    using self [[maybe_unused]] = T;                                                                                   \
    ::acp::detail::encode_struct(in, out, std::tuple{__VA_ARGS__});                                                    \
  }

/// Defines the conversions of the std::variant alias `T`, tagged by member `key`; the tags name
/// the known alternatives in order ("" = the alternative used when `key` is absent).
#define ACP_TAGGED_UNION(T, key, ...)                                                                                  \
  bool decode_value(const ::boost::json::value& v, T& out, ::acp::decode_error& err) {                                 \
    static constexpr auto tags = std::to_array<std::string_view>({__VA_ARGS__});                                       \
    return ::acp::detail::decode_tagged(v, out, err, key, tags);                                                       \
  }                                                                                                                    \
  void encode_value(const T& in, ::boost::json::value& out) {                                                          \
    static constexpr auto tags = std::to_array<std::string_view>({__VA_ARGS__});                                       \
    ::acp::detail::encode_tagged(in, out, key, tags);                                                                  \
  }
