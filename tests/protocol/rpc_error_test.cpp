// acp::rpc_error: factories, codes, and the wire form (docs/PROTOCOL.md §2).
#include <acp/protocol/rpc_error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace json = boost::json;
using acp::rpc_error;

TEST(rpc_error, codes_match_the_protocol) {
  namespace codes = acp::error_codes;
  EXPECT_EQ(codes::parse_error, -32700);
  EXPECT_EQ(codes::invalid_request, -32600);
  EXPECT_EQ(codes::method_not_found, -32601);
  EXPECT_EQ(codes::invalid_params, -32602);
  EXPECT_EQ(codes::internal_error, -32603);
  EXPECT_EQ(codes::request_cancelled, -32800);
  EXPECT_EQ(codes::auth_required, -32000);
  EXPECT_EQ(codes::resource_not_found, -32002);
}

TEST(rpc_error, factories_give_the_right_codes) {
  EXPECT_EQ(rpc_error::parse_error().code, -32700);
  EXPECT_EQ(rpc_error::invalid_request().code, -32600);
  EXPECT_EQ(rpc_error::method_not_found("x").code, -32601);
  EXPECT_EQ(rpc_error::invalid_params().code, -32602);
  EXPECT_EQ(rpc_error::internal_error().code, -32603);
  EXPECT_EQ(rpc_error::request_cancelled().code, -32800);
  EXPECT_EQ(rpc_error::auth_required().code, -32000);
  EXPECT_EQ(rpc_error::resource_not_found().code, -32002);
  EXPECT_EQ(rpc_error{}.code, -32603) << "a default error is an internal error";
}

TEST(rpc_error, factories_have_messages_and_no_data_by_default) {
  for (const auto& e : {rpc_error::parse_error(), rpc_error::invalid_request(), rpc_error::invalid_params(),
                        rpc_error::internal_error(), rpc_error::request_cancelled(), rpc_error::auth_required(),
                        rpc_error::resource_not_found()}) {
    EXPECT_FALSE(e.message.empty()) << e.code;
    EXPECT_FALSE(e.data) << e.code;
  }
}

TEST(rpc_error, factories_keep_message_and_data) {
  auto e =
      rpc_error::invalid_params("params.sessionId: expected string", json::parse(R"({"path":"params.sessionId"})"));
  EXPECT_EQ(e.message, "params.sessionId: expected string");
  EXPECT_EQ(e.data, json::parse(R"({"path":"params.sessionId"})"));
  EXPECT_EQ(rpc_error::request_cancelled("gone").message, "gone");
}

TEST(rpc_error, method_not_found_carries_the_method_in_data) {
  auto e = rpc_error::method_not_found("session/frobnicate");
  EXPECT_EQ(e.code, -32601);
  ASSERT_TRUE(e.data);
  EXPECT_EQ(*e.data, json::parse(R"({"method":"session/frobnicate"})"));
  EXPECT_NE(e.message.find("session/frobnicate"), std::string::npos) << e.message;
}

TEST(rpc_error, to_json_omits_data_when_absent) {
  EXPECT_EQ(json::serialize(rpc_error::request_cancelled("Request cancelled").to_json()),
            R"({"code":-32800,"message":"Request cancelled"})");
  EXPECT_EQ(json::serialize(rpc_error::internal_error("boom", json::value(nullptr)).to_json()),
            R"({"code":-32603,"message":"boom","data":null})")
      << "data explicitly null is present";
  EXPECT_EQ(json::serialize(rpc_error::method_not_found("m").to_json()),
            R"({"code":-32601,"message":"Method not found: m","data":{"method":"m"}})");
}

TEST(rpc_error, from_json_round_trip) {
  for (const auto& e :
       {rpc_error::parse_error("p", json::parse(R"({"line":"x"})")), rpc_error::invalid_request(),
        rpc_error::method_not_found("a/b"), rpc_error::auth_required(),
        rpc_error{12345, "custom", json::parse("[1,\"two\",null]")}, rpc_error{-1, "", json::value(nullptr)}}) {
    auto back = rpc_error::from_json(e.to_json());
    ASSERT_TRUE(back) << json::serialize(e.to_json());
    EXPECT_EQ(*back, e);
    EXPECT_EQ(json::serialize(back->to_json()), json::serialize(e.to_json()));
  }
}

TEST(rpc_error, from_json_reads_the_wire_form) {
  auto e = rpc_error::from_json(
      json::parse(R"({"code":-32002,"message":"Resource not found","data":{"uri":"file:///x"},"extra":1})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, acp::error_codes::resource_not_found);
  EXPECT_EQ(e->message, "Resource not found");
  EXPECT_EQ(e->data, json::parse(R"({"uri":"file:///x"})"));
  auto no_data = rpc_error::from_json(json::parse(R"({"code":1,"message":"m"})"));
  ASSERT_TRUE(no_data);
  EXPECT_FALSE(no_data->data);
}

TEST(rpc_error, from_json_rejects_malformed) {
  for (auto text :
       {"null", "1", "\"error\"", "[]", "{}", R"({"message":"m"})", R"({"code":-32600})",
        R"({"code":"-32600","message":"m"})", R"({"code":-32600.5,"message":"m"})", R"({"code":-3.26E4,"message":"m"})",
        R"({"code":null,"message":"m"})", R"({"code":-32600,"message":null})", R"({"code":-32600,"message":7})",
        R"({"code":2147483648,"message":"m"})", R"({"code":-2147483649,"message":"m"})",
        R"({"code":18446744073709551615,"message":"m"})"}) {
    EXPECT_FALSE(rpc_error::from_json(json::parse(text))) << text;
  }
  EXPECT_TRUE(rpc_error::from_json(json::parse(R"({"code":2147483647,"message":"m"})")));
  EXPECT_TRUE(rpc_error::from_json(json::parse(R"({"code":-2147483648,"message":"m"})")));
}

TEST(rpc_error, equality_compares_all_members) {
  EXPECT_EQ(rpc_error::invalid_request("a"), rpc_error::invalid_request("a"));
  EXPECT_NE(rpc_error::invalid_request("a"), rpc_error::invalid_request("b"));
  EXPECT_NE(rpc_error::invalid_request("a"), rpc_error::invalid_params("a"));
  EXPECT_NE(rpc_error::invalid_request("a"), rpc_error::invalid_request("a", json::value(nullptr)));
}

} // namespace
