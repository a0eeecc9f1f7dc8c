// fuzz_typed: typed ACP v1 decoding (acp/protocol/types.hpp) of arbitrary JSON.
//
// The input is JSON. It is decoded as the params and as the result of every method of the
// method table; when it is a message, its `params` and `result` are decoded too (decode_params /
// decode_result). For every successful decode:
//   - encode(decode(x)) equals x modulo the two documented exceptions: an optional member given
//     as `null` is omitted, and a double with an integral value comes back as an integer;
//   - encoding is a fixed point: encode(decode(encode(decode(x)))) == encode(decode(x)) exactly;
//   - the output never holds `null` where the input had none.
// A failed decode must name a path (or none) and a message; nothing may crash or throw.
#include "fuzz_check.hpp"

#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
namespace json = boost::json;

std::string show(const json::value& v) { return json::serialize(v).substr(0, 400); }

bool same_number(const json::value& in, const json::value& out) {
  if (!in.is_number() || !out.is_number()) return false;
  if (in.kind() == out.kind()) return in == out;
  if (in.is_double() && !out.is_double()) { // documented: an integral double is written as an integer
    const double d = in.get_double();
    return std::trunc(d) == d &&
           (out.is_int64() ? static_cast<double>(out.get_int64()) == d : static_cast<double>(out.get_uint64()) == d);
  }
  // int64 and uint64 of the same value
  if (in.is_int64() && out.is_uint64())
    return in.get_int64() >= 0 && static_cast<std::uint64_t>(in.get_int64()) == out.get_uint64();
  if (in.is_uint64() && out.is_int64())
    return out.get_int64() >= 0 && static_cast<std::uint64_t>(out.get_int64()) == in.get_uint64();
  return false;
}

/// `out` is `in` modulo the documented exceptions; `path` for the message.
bool equivalent(const json::value& in, const json::value& out, std::string& path) {
  if (in.is_object() && out.is_object()) {
    const auto& i = in.get_object();
    const auto& o = out.get_object();
    for (const auto& [k, v] : i) {
      const auto* w = o.if_contains(k);
      if (!w) {
        if (v.is_null()) continue; // an optional given as null reads as absent
        path += "." + std::string(k) + " (dropped)";
        return false;
      }
      if (!equivalent(v, *w, path)) {
        path = "." + std::string(k) + path;
        return false;
      }
    }
    for (const auto& [k, v] : o) {
      if (!i.contains(k)) {
        path += "." + std::string(k) + " (added)";
        return false;
      }
    }
    return true;
  }
  if (in.is_array() && out.is_array()) {
    const auto& i = in.get_array();
    const auto& o = out.get_array();
    if (i.size() != o.size()) {
      path += " (array size)";
      return false;
    }
    for (std::size_t n = 0; n < i.size(); ++n)
      if (!equivalent(i[n], o[n], path)) {
        path = "[" + std::to_string(n) + "]" + path;
        return false;
      }
    return true;
  }
  if (in.is_number() && out.is_number()) return same_number(in, out);
  return in == out;
}

template <class T> void check_type(const json::value& v, const char* name) {
  auto r = acp::decode<T>(v);
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty(), std::string(name) + ": decode error without a message");
    return;
  }
  const json::value out = acp::encode(*r);
  std::string path;
  FUZZ_CHECK(equivalent(v, out, path), std::string(name) + ": encode(decode(x)) differs at " + path +
                                           "\n  in:  " + show(v) + "\n  out: " + show(out));
  auto r2 = acp::decode<T>(out);
  FUZZ_CHECK(r2.has_value(), std::string(name) + ": its own encoding does not decode: " + show(out));
  const json::value out2 = acp::encode(*r2);
  FUZZ_CHECK(out2 == out,
             std::string(name) + ": encoding is not a fixed point\n  1: " + show(out) + "\n  2: " + show(out2));
}

template <class P> void check_method(const json::value& v, const json::value* params, const json::value* result) {
  using traits = acp::method_traits<P>;
  const std::string name(traits::method);
  check_type<P>(v, name.c_str());
  (void)acp::decode_params<P>(params);
  if constexpr (!std::is_void_v<typename traits::response>) {
    using R = typename traits::response;
    check_type<R>(v, (name + " result").c_str());
    (void)acp::decode_result<R>(result);
    if (result) check_type<R>(*result, (name + " result").c_str());
  }
  if (params) check_type<P>(*params, name.c_str());
}

template <class... P> void check_all(const json::value& v) {
  const auto* obj = v.if_object();
  const json::value* params = obj ? obj->if_contains("params") : nullptr;
  const json::value* result = obj ? obj->if_contains("result") : nullptr;
  (check_method<P>(v, params, result), ...);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  using namespace acp;
  check_all<initialize_request, authenticate_request, logout_request, new_session_request, load_session_request,
            list_sessions_request, delete_session_request, resume_session_request, close_session_request,
            set_session_mode_request, set_session_config_option_request, prompt_request, cancel_notification,
            request_permission_request, session_notification, read_text_file_request, write_text_file_request,
            create_terminal_request, terminal_output_request, release_terminal_request, wait_for_terminal_exit_request,
            kill_terminal_request, create_elicitation_request, complete_elicitation_notification,
            cancel_request_notification>(v);
  return 0;
}
