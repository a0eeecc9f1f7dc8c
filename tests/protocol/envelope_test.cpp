// The `_proxy/successor` envelope (docs/PROTOCOL.md §4.1, §4.7): wrap/unwrap, both generations, the
// accepted spellings, malformed envelopes and byte-exact preservation of inner params.
#include <acp/protocol/envelope.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
namespace pp = acp::proxy_protocol;
using acp::jsonrpc::message;

message parse_message(std::string_view text) {
  auto c = acp::jsonrpc::check(json::parse(text));
  if (auto* m = std::get_if<message>(&c)) return std::move(*m);
  ADD_FAILURE() << "not a valid message: " << text;
  return message::notification("invalid");
}

std::string wire(const message& m) { return json::serialize(m.json()); }

// ---- wrap -------------------------------------------------------------------------------------

TEST(envelope_wrap, current_request_with_params) {
  pp::inner_message inner{"session/prompt", json::parse(R"({"sessionId":"s1","prompt":[]})"), std::nullopt};
  auto env = pp::wrap(inner, json::value("c-17"));
  EXPECT_TRUE(env.is_request());
  EXPECT_EQ(wire(env), R"({"jsonrpc":"2.0","id":"c-17","method":"_proxy/successor",)"
                       R"("params":{"method":"session/prompt","params":{"sessionId":"s1","prompt":[]}}})");
}

TEST(envelope_wrap, current_notification_without_params_emits_null_params) {
  pp::inner_message inner{"session/cancel", std::nullopt, std::nullopt};
  auto env = pp::wrap(inner, std::nullopt);
  EXPECT_TRUE(env.is_notification());
  EXPECT_EQ(wire(env),
            R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/cancel","params":null}})");
}

TEST(envelope_wrap, meta_is_emitted_as_underscore_meta) {
  pp::inner_message inner{"m", json::parse(R"({"a":1})"), json::parse(R"({"trace":"t1"})")};
  EXPECT_EQ(wire(pp::wrap(inner, json::value(1))),
            R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor",)"
            R"("params":{"method":"m","params":{"a":1},"_meta":{"trace":"t1"}}})");
}

TEST(envelope_wrap, legacy_generation_names_request_and_notification) {
  pp::inner_message inner{"session/prompt", json::parse(R"({"x":1})"), std::nullopt};
  auto req = pp::wrap(inner, json::value(2), pp::generation::legacy);
  EXPECT_EQ(req.method(), pp::legacy_successor_request);
  EXPECT_EQ(wire(req), R"({"jsonrpc":"2.0","id":2,"method":"_proxy/successor/request",)"
                       R"("params":{"method":"session/prompt","params":{"x":1}}})");
  auto note =
      pp::wrap(pp::inner_message{"session/update", std::nullopt, std::nullopt}, std::nullopt, pp::generation::legacy);
  EXPECT_EQ(note.method(), pp::legacy_successor_notification);
  EXPECT_TRUE(note.is_notification());
  EXPECT_EQ(wire(note), R"({"jsonrpc":"2.0","method":"_proxy/successor/notification",)"
                        R"("params":{"method":"session/update","params":null}})");
}

TEST(envelope_wrap, envelopes_pass_the_checker) {
  for (auto& env : {pp::wrap({"a", std::nullopt, std::nullopt}, json::value(1)),
                    pp::wrap({"a", json::array{1}, json::object{}}, std::nullopt),
                    pp::wrap({"a", std::nullopt, std::nullopt}, json::value("x"), pp::generation::legacy)}) {
    auto c = acp::jsonrpc::check(json::value(env.json()));
    ASSERT_TRUE(std::holds_alternative<message>(c)) << wire(env);
    EXPECT_EQ(std::get<message>(c).kind(), env.kind());
  }
}

TEST(envelope_wrap, wrap_message_uses_the_outer_id_and_moves_params) {
  auto inner = parse_message(R"({"jsonrpc":"2.0","id":99,"method":"fs/read_text_file","params":{"path":"/a"}})");
  auto env = pp::wrap_message(std::move(inner), json::value("c-1"));
  EXPECT_TRUE(env.is_request());
  EXPECT_EQ(wire(env), R"({"jsonrpc":"2.0","id":"c-1","method":"_proxy/successor",)"
                       R"("params":{"method":"fs/read_text_file","params":{"path":"/a"}}})");
}

TEST(envelope_wrap, wrap_message_notification_without_params) {
  auto inner = parse_message(R"({"jsonrpc":"2.0","method":"session/cancel"})");
  auto env = pp::wrap_message(std::move(inner), std::nullopt);
  EXPECT_TRUE(env.is_notification());
  EXPECT_EQ(wire(env),
            R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/cancel","params":null}})");
  auto legacy = pp::wrap_message(parse_message(R"({"jsonrpc":"2.0","method":"n","params":{}})"), std::nullopt,
                                 pp::generation::legacy);
  EXPECT_EQ(legacy.method(), "_proxy/successor/notification");
}

// ---- unwrap -----------------------------------------------------------------------------------

TEST(envelope_unwrap, current_with_params) {
  auto env = parse_message(R"({"jsonrpc":"2.0","id":"c-17","method":"_proxy/successor",)"
                           R"("params":{"method":"session/prompt","params":{"sessionId":"s1"}}})");
  std::string err;
  auto inner = pp::unwrap(env, &err);
  ASSERT_TRUE(inner) << err;
  EXPECT_EQ(inner->method, "session/prompt");
  ASSERT_TRUE(inner->params);
  EXPECT_EQ(*inner->params, json::parse(R"({"sessionId":"s1"})"));
  EXPECT_FALSE(inner->meta);
}

TEST(envelope_unwrap, null_or_absent_params_mean_no_params) {
  for (auto text : {R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":null}})",
                    R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m"}})"}) {
    auto inner = pp::unwrap(parse_message(text));
    ASSERT_TRUE(inner) << text;
    EXPECT_EQ(inner->method, "m");
    EXPECT_FALSE(inner->params) << text;
  }
}

TEST(envelope_unwrap, underscore_meta_and_legacy_meta) {
  auto cur = pp::unwrap(parse_message(
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":{},"_meta":{"k":1}}})"));
  ASSERT_TRUE(cur);
  ASSERT_TRUE(cur->meta);
  EXPECT_EQ(*cur->meta, json::parse(R"({"k":1})"));

  auto legacy = pp::unwrap(parse_message(
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":{},"meta":{"k":2}}})"));
  ASSERT_TRUE(legacy);
  ASSERT_TRUE(legacy->meta);
  EXPECT_EQ(*legacy->meta, json::parse(R"({"k":2})"));

  auto both = pp::unwrap(parse_message(
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","meta":{"k":2},"_meta":{"k":1}}})"));
  ASSERT_TRUE(both);
  EXPECT_EQ(*both->meta, json::parse(R"({"k":1})")) << "_meta wins over meta";

  // Legacy `meta` is accepted on input and re-emitted as `_meta`.
  EXPECT_EQ(wire(pp::wrap(*legacy, std::nullopt)),
            R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"m","params":{},"_meta":{"k":2}}})");
}

TEST(envelope_unwrap, legacy_generation_envelopes) {
  auto req = parse_message(R"({"jsonrpc":"2.0","id":5,"method":"_proxy/successor/request",)"
                           R"("params":{"method":"session/prompt","params":{"a":1}}})");
  auto m = pp::unwrap_message(std::move(req));
  ASSERT_TRUE(m);
  EXPECT_EQ(wire(*m), R"({"jsonrpc":"2.0","id":5,"method":"session/prompt","params":{"a":1}})");

  auto note = parse_message(R"({"jsonrpc":"2.0","method":"_proxy/successor/notification",)"
                            R"("params":{"method":"session/update","params":{"b":2}}})");
  auto n = pp::unwrap_message(std::move(note));
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->is_notification());
  EXPECT_EQ(wire(*n), R"({"jsonrpc":"2.0","method":"session/update","params":{"b":2}})");
}

TEST(envelope_unwrap, unwrap_message_keeps_the_outer_id_for_requests) {
  for (std::string_view id : {"\"c-17\"", "0", "18446744073709551615", "null"}) {
    auto env = parse_message(R"({"jsonrpc":"2.0","id":)" + std::string(id) +
                             R"(,"method":"_proxy/successor","params":{"method":"session/new","params":{"cwd":"/"}}})");
    std::string err;
    auto m = pp::unwrap_message(std::move(env), &err);
    ASSERT_TRUE(m) << err;
    EXPECT_TRUE(m->is_request()) << id;
    EXPECT_EQ(wire(*m),
              R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"method":"session/new","params":{"cwd":"/"}})");
  }
}

TEST(envelope_unwrap, unwrap_message_makes_notifications_for_notification_envelopes) {
  auto env = parse_message(
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/cancel","params":null}})");
  auto m = pp::unwrap_message(std::move(env));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_notification());
  EXPECT_EQ(wire(*m), R"({"jsonrpc":"2.0","method":"session/cancel"})") << "null inner params are not emitted";
}

TEST(envelope_unwrap, unwrapped_messages_pass_the_checker) {
  auto m = pp::unwrap_message(
      parse_message(R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor","params":{"method":"x","params":[1]}})"));
  ASSERT_TRUE(m);
  auto c = acp::jsonrpc::check(json::value(m->json()));
  ASSERT_TRUE(std::holds_alternative<message>(c));
  EXPECT_TRUE(std::get<message>(c).is_request());
}

// ---- spellings --------------------------------------------------------------------------------

TEST(envelope_methods, accepted_successor_spellings) {
  for (auto m : {"_proxy/successor", "proxy/successor", "_proxy/successor/request", "_proxy/successor/notification",
                 "proxy/successor/request", "proxy/successor/notification"}) {
    EXPECT_TRUE(pp::is_successor_method(m)) << m;
  }
  for (auto m : {"", "_proxy/initialize", "proxy/initialize", "_proxy/successorx", "__proxy/successor",
                 "_proxy/successor/", "session/prompt", "_Proxy/successor", "/proxy/successor"}) {
    EXPECT_FALSE(pp::is_successor_method(m)) << m;
  }
}

TEST(envelope_methods, unprefixed_spelling_unwraps) {
  auto m = pp::unwrap_message(parse_message(
      R"({"jsonrpc":"2.0","id":3,"method":"proxy/successor","params":{"method":"session/prompt","params":{}}})"));
  ASSERT_TRUE(m);
  EXPECT_EQ(wire(*m), R"({"jsonrpc":"2.0","id":3,"method":"session/prompt","params":{}})");
}

TEST(envelope_methods, is_proxy_initialize_method) {
  EXPECT_TRUE(pp::is_proxy_initialize_method("_proxy/initialize"));
  EXPECT_TRUE(pp::is_proxy_initialize_method("proxy/initialize"));
  EXPECT_FALSE(pp::is_proxy_initialize_method("initialize"));
  EXPECT_FALSE(pp::is_proxy_initialize_method("_proxy/successor"));
  EXPECT_FALSE(pp::is_proxy_initialize_method("_proxy/initialize/"));
  EXPECT_FALSE(pp::is_proxy_initialize_method(""));
}

// ---- malformed envelopes ----------------------------------------------------------------------

struct malformed_case {
  const char* params; // the envelope's params member, or nullptr for none
  const char* error;  // expected message, JSON path first
};

TEST(envelope_malformed, errors_name_the_json_path) {
  const malformed_case cases[] = {
      {nullptr, "params: expected an object with \"method\""},
      {"null", "params: expected an object with \"method\""},
      {"[]", "params: expected an object with \"method\""},
      {"{}", "params.method: missing"},
      {R"({"params":{}})", "params.method: missing"},
      {R"({"method":1})", "params.method: expected string"},
      {R"({"method":null})", "params.method: expected string"},
      {R"({"method":{"a":1}})", "params.method: expected string"},
      {R"({"method":"m","params":"s"})", "params.params: expected object, array or null"},
      {R"({"method":"m","params":3})", "params.params: expected object, array or null"},
  };
  for (const auto& c : cases) {
    std::string text = R"({"jsonrpc":"2.0","id":1,"method":"_proxy/successor")";
    if (c.params) text += std::string(R"(,"params":)") + c.params;
    text += "}";
    SCOPED_TRACE(text);
    std::string err;
    EXPECT_FALSE(pp::unwrap(parse_message(text), &err));
    EXPECT_EQ(err, c.error);
    err.clear();
    EXPECT_FALSE(pp::unwrap_message(parse_message(text), &err));
    EXPECT_EQ(err, c.error);
    EXPECT_FALSE(pp::unwrap(parse_message(text))) << "a null error pointer is allowed";
  }
}

TEST(envelope_malformed, every_error_starts_with_a_params_path) {
  std::string err;
  EXPECT_FALSE(
      pp::unwrap(parse_message(R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":false}})"), &err));
  EXPECT_EQ(err.rfind("params.method: ", 0), 0u) << err;
}

// ---- preservation -----------------------------------------------------------------------------

TEST(envelope_preservation, unknown_fields_survive_wrap_then_unwrap_byte_for_byte) {
  const std::string inner_params =
      R"({"sessionId":"s1","prompt":[{"type":"text","text":"hi \u00e9 \ud83d\ude00","x-unknown":{"n":[1,-2,3.5E0,null,true]}},)"
      R"({"type":"future_block","payload":{"deep":{"deeper":[{}]}}}],"_meta":{"vendor":{"k":"v"}},)"
      R"("big":18446744073709551615,"neg":-9223372036854775808,"str":"line\nbreak\t\"q\""})";
  const auto expected = json::serialize(json::parse(inner_params));

  for (auto gen : {pp::generation::current, pp::generation::legacy}) {
    for (bool as_request : {true, false}) {
      SCOPED_TRACE(std::string(gen == pp::generation::current ? "current " : "legacy ") +
                   (as_request ? "request" : "notification"));
      std::string original = R"({"jsonrpc":"2.0",)";
      if (as_request) original += R"("id":"orig",)";
      original += R"("method":"session/prompt","params":)" + inner_params + "}";
      auto env = pp::wrap_message(parse_message(original),
                                  as_request ? std::optional<json::value>("outer-1") : std::nullopt, gen);
      // Across the wire: serialize the envelope, parse it back, then unwrap.
      const auto env_wire = wire(env);
      auto back = pp::unwrap_message(parse_message(env_wire));
      ASSERT_TRUE(back) << env_wire;
      ASSERT_NE(back->params(), nullptr);
      EXPECT_EQ(json::serialize(*back->params()), expected);
      EXPECT_EQ(back->method(), "session/prompt");
      EXPECT_EQ(back->is_request(), as_request);

      // The inner_message route too.
      auto inner = pp::unwrap(parse_message(env_wire));
      ASSERT_TRUE(inner && inner->params);
      EXPECT_EQ(json::serialize(*inner->params), expected);
      EXPECT_EQ(json::serialize(*pp::wrap(*inner, json::value(1), gen).params()), json::serialize(*env.params()))
          << "re-wrapping gives the same envelope params";
    }
  }
}

TEST(envelope_preservation, unwrap_then_wrap_round_trips_the_envelope) {
  const std::string text = R"({"jsonrpc":"2.0","id":"c-9","method":"_proxy/successor",)"
                           R"("params":{"method":"x/custom","params":{"z":1,"a":[{"b":null}]},"_meta":{"m":true}}})";
  auto env = parse_message(text);
  auto inner = pp::unwrap(env);
  ASSERT_TRUE(inner);
  EXPECT_EQ(wire(pp::wrap(*inner, json::value("c-9"))), text);
}

} // namespace
