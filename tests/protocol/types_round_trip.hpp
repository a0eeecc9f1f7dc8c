#pragma once
// Shared by the typed round-trip tests: decode a sample, re-encode it, expect the same JSON.
#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string_view>

namespace acp::test {

template <class T> T round_trip(std::string_view text) {
  const auto original = boost::json::parse(text);
  auto decoded = acp::decode<T>(original);
  EXPECT_TRUE(decoded.has_value()) << (decoded ? "" : decoded.error().what());
  if (!decoded) return T{};
  const auto encoded = acp::encode(*decoded);
  EXPECT_EQ(encoded, original) << "encoded:  " << boost::json::serialize(encoded)
                               << "\noriginal: " << boost::json::serialize(original);
  return std::move(*decoded);
}

} // namespace acp::test
