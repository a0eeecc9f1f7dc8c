// `wrap_message` in place: a line written in the usual member order (`jsonrpc`, `id`, `method`,
// `params`, no spaces) already holds its envelope's params, so the envelope reuses the line's own
// buffer (nothing copied). Whichever way it is wrapped, the envelope is the one the DOM path
// makes, and it opens again to the original message.
#include "text_message_support.hpp"

#include <array>
#include <cstring>

namespace {

using namespace acp::test::text_form;

struct wrap_case {
  std::string_view name;
  std::string_view line;
  std::optional<json::value> outer_id;
  pp::generation gen;
  bool in_place; // the envelope is built in the line's own buffer
};

const wrap_case cases[] = {
    {"update, current",
     R"({"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s","update":{"t":"a\"b"}}})", std::nullopt,
     pp::generation::current, true},
    {"request, current", R"({"jsonrpc":"2.0","id":3,"method":"fs/read_text_file","params":{"path":"/x","line":1}})",
     json::value(0), pp::generation::current, true},
    {"request, legacy (longer method fits before the id's end)",
     R"({"jsonrpc":"2.0","id":"abcdefgh","method":"session/prompt","params":{"prompt":[]}})", json::value(9),
     pp::generation::legacy, true},
    {"notification, legacy: the method does not fit", R"({"jsonrpc":"2.0","method":"session/update","params":{"a":1}})",
     std::nullopt, pp::generation::legacy, false},
    {"spaces", R"({"jsonrpc":"2.0", "method":"session/update","params":{"a":1}})", std::nullopt,
     pp::generation::current, false},
    {"params first", R"({"jsonrpc":"2.0","params":{"a":1},"method":"session/update"})", std::nullopt,
     pp::generation::current, false},
    {"id last", R"({"jsonrpc":"2.0","method":"x/y","params":{"a":1},"id":4})", json::value(0), pp::generation::current,
     false},
    {"no params", R"({"jsonrpc":"2.0","method":"session/cancelled_long_name"})", std::nullopt, pp::generation::current,
     false},
    {"id between method and params", R"({"jsonrpc":"2.0","method":"x/y","id":4,"params":{"a":1}})", json::value(0),
     pp::generation::current, false},
    {"array params", R"({"jsonrpc":"2.0","id":12345,"method":"m/n","params":[1,{"a":"}"}]})", json::value(0),
     pp::generation::current, true},
};

TEST(wrap_in_place, the_envelope_is_the_dom_paths_and_opens_to_the_original) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    auto text = text_message(c.line);
    const char* line_bytes = text.text_bytes().data();
    auto wrapped = pp::wrap_message(std::move(text), c.outer_id, c.gen);
    auto from_dom = pp::wrap_message(dom_message(c.line), c.outer_id, c.gen);
    EXPECT_TRUE(wrapped.is_text());
    EXPECT_TRUE(same_message(wrapped, from_dom));
    EXPECT_TRUE(writes_as(wrapped, from_dom.json()));
    EXPECT_EQ(wrapped.text_bytes().data() == line_bytes, c.in_place) << "the line's buffer was (not) reused";
    // On the wire and back: the original message, with the outer id.
    auto out = wire(wrapped);
    out.pop_back();
    const auto envelope = message::scan(out);
    ASSERT_TRUE(envelope) << out;
    std::string why;
    const auto back = pp::unwrap_message(*envelope, &why);
    ASSERT_TRUE(back) << why;
    const auto original = dom_message(c.line);
    std::optional<json::value> params;
    if (const auto* p = original.params()) params = *p;
    const auto expected = c.outer_id ? message::request(*c.outer_id, original.method(), params)
                                     : message::notification(original.method(), params);
    EXPECT_TRUE(same_message(*back, expected));
  }
}

TEST(wrap_in_place, a_renamed_or_edited_message_is_wrapped_as_it_is_now) {
  const std::string_view line = R"({"jsonrpc":"2.0","id":1,"method":"_proxy/initialize","params":{"a":1}})";
  auto renamed = text_message(line);
  renamed.set_method("initialize");
  auto wrapped = pp::wrap_message(std::move(renamed), json::value(0), pp::generation::current);
  EXPECT_TRUE(
      writes_as(wrapped, json::object{{"jsonrpc", "2.0"},
                                      {"id", 0},
                                      {"method", "_proxy/successor"},
                                      {"params", json::object{{"method", "initialize"}, {"params", {{"a", 1}}}}}}));
  auto edited = text_message(line);
  edited.json()["params"].as_object()["a"] = 2;
  auto wrapped_edit = pp::wrap_message(std::move(edited), std::nullopt, pp::generation::current);
  EXPECT_TRUE(writes_as(
      wrapped_edit, json::object{{"jsonrpc", "2.0"},
                                 {"method", "_proxy/successor"},
                                 {"params", json::object{{"method", "_proxy/initialize"}, {"params", {{"a", 2}}}}}}));
}

TEST(wrap_in_place, a_large_line_read_into_the_decoders_buffer_is_wrapped_without_a_copy) {
  // A line of more than text_buffer::large_bytes is parsed in the decoder's own buffer, which may
  // hold bytes before and after it: the envelope covers the line only.
  std::string text(acp::text_buffer::large_bytes + 100, 'x');
  const std::string line = R"({"jsonrpc":"2.0","method":"session/update","params":{"t":")" + text + "\"}}";
  std::string input = "\n" + line + "\n{\"jsonrpc\":\"2.0\",\"method\":\"next\"}\n";
  acp::framing::line_decoder decoder(std::size_t{64} << 20);
  auto buf = decoder.prepare(input.size());
  std::memcpy(buf.data(), input.data(), input.size());
  decoder.commit(input.size());
  std::optional<acp::framing::frame> f;
  while ((f = decoder.next()) && f->text.size() < 10) {
  }
  ASSERT_TRUE(f);
  std::size_t offset = 0;
  auto owner = decoder.take_buffer(*f, offset);
  ASSERT_FALSE(owner.empty());
  line_parser parser;
  auto parsed = parser.parse(std::string_view(owner.data() + offset, f->text.size()), &owner);
  ASSERT_EQ(parsed.items.size(), 1u);
  auto& msg = std::get<message>(parsed.items.front());
  const char* bytes = msg.text_bytes().data();
  auto wrapped = pp::wrap_message(std::move(msg), std::nullopt, pp::generation::current);
  EXPECT_EQ(wrapped.text_bytes().data(), bytes);
  const auto out = wire(wrapped);
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":{"t":")" +
                     text + "\"}}}\n");
}

} // namespace
