#pragma once
// Compact JSON text of a Boost.JSON value, with numbers written the way people and the other
// ACP implementations write them.
//
// Boost.JSON 1.81 writes a double in exponent form (`0.000306` becomes `3.06E-4`, `1.5` becomes
// `1.5E0`). Every message a proxy edits and every trace line would then carry numbers that differ
// from what the agent wrote, although equal in value. This writer is the same as Boost's
// `serialize` except for doubles, which get the shortest text that reads back as the same double,
// in plain decimal form unless the exponent form is shorter (`std::to_chars`: `0.000306`,
// `0.006654515`, `1e+21`), with `.0` added to integral values so that they stay doubles (`1.0`).
// That is what JavaScript, serde_json and Python produce for the same values, so numbers a proxy
// did not touch come out as they were written in every common case. Non-finite doubles (only a
// program can make them; the parser refuses them) are written as `null`. A value without doubles is
// written by Boost.JSON's own serializer (the same text, and faster than ours).

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>

namespace acp::json_write {

/// Appends `v` as compact JSON.
void append(std::string& out, const boost::json::value& v);
void append(std::string& out, const boost::json::object& v);
/// Appends `s` as a JSON string literal (quotes and escapes as Boost.JSON writes them).
void append_string(std::string& out, std::string_view s);
/// Appends a double as described above.
void append_double(std::string& out, double d);

/// `v` as compact JSON.
[[nodiscard]] std::string to_string(const boost::json::value& v);
[[nodiscard]] std::string to_string(const boost::json::object& v);

} // namespace acp::json_write
