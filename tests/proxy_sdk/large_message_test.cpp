// Large messages through real connections: a payload of 1 MiB or more is read into a buffer
// its message adopts and written from there (no copies). Byte-exact content, order with small
// messages, the size limit on sending, a peer that goes away mid-write, back-pressure,
// forwarding between connections and the proxy path.

#include "large_message_support.hpp"

namespace acp::test {
namespace {

TEST_F(large_message_test, payload_generator_is_canonical_json) {
  const auto p = payload(64 * KiB + 3, 7);
  EXPECT_EQ(p.size(), 64 * KiB + 3);
  EXPECT_EQ(json::serialize(json::parse(p)), p);
  EXPECT_NE(p.find("\\n"), std::string::npos);
  EXPECT_NE(p.find("\xE2\x82\xAC"), std::string::npos);
}

// (a) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_5_mib_result_and_a_20_mib_notification_arrive_byte_exact_in_order) {
  const auto result = payload(5 * MiB, 1);
  const auto params = payload(20 * MiB + 11, 2);
  connect();
  b->on_message([&](message m) {
    ASSERT_EQ(m.method(), "fetch");
    b->send_notification("small/before", json::value{{"i", 0}});
    b->send(text_response(m.id(), result));
    b->send_notification("small/between", json::value{{"i", 1}});
    b->send(text_notification("big/update", params));
    b->send_notification("small/after", json::value{{"i", 2}});
  });
  start();
  const auto id = a->send_request("fetch", json::object{}, record());
  ASSERT_TRUE(wait_log(5, 10s));
  run_for(10ms);
  ASSERT_EQ(log_methods(),
            (std::vector<std::string>{"small/before", "<response>", "small/between", "big/update", "small/after"}));
  EXPECT_EQ(log[1].id(), id);
  EXPECT_FALSE(log[1].is_error());
  EXPECT_TRUE(same_payload(log[1], result));
  EXPECT_TRUE(same_payload(log[3], params));
  // Received without a copy: the messages are the text that arrived.
  EXPECT_TRUE(log[1].is_text());
  EXPECT_TRUE(log[3].is_text());
  for (const int i : {0, 1, 2}) EXPECT_EQ(log[static_cast<std::size_t>(2 * i)].params()->at("i"), i);
  EXPECT_EQ(a->pending_requests(), 0u);
  EXPECT_EQ(b->queued_bytes(), 0u);
  EXPECT_TRUE(b->gate().is_open());
}

// (b) --------------------------------------------------------------------------------------

TEST_F(large_message_test, large_messages_back_to_back_and_small_ones_keep_their_order) {
  connect();
  std::vector<std::string> want_methods;
  std::vector<std::string> want_payloads;
  auto note = [&](std::string method, std::string p, bool as_text) {
    if (as_text)
      b->send(text_notification(method, p));
    else
      b->send_notification(method, json::parse(p)); // the DOM path: serialized into the queue
    want_methods.push_back(std::move(method));
    want_payloads.push_back(std::move(p));
  };
  start();
  // One burst, queued before the writer runs: several sealed pieces in a row, at the 1 MiB
  // threshold on both sides, text and DOM messages mixed.
  unsigned seed = 100;
  note("m/0-small", payload(100, seed++), true);
  note("m/1-2mib", payload(2 * MiB, seed++), true);
  note("m/2-3mib", payload(3 * MiB + 1, seed++), true);
  note("m/3-1mib-exactly", payload(text_buffer::large_bytes, seed++), true);
  note("m/4-just-under-1mib", payload(text_buffer::large_bytes - 1, seed++), true);
  note("m/5-small", payload(300, seed++), true);
  note("m/6-dom-1.5mib", payload(3 * MiB / 2, seed++), false);
  note("m/7-1mib-exactly", payload(text_buffer::large_bytes, seed++), true);
  ASSERT_TRUE(wait_log(2));
  // A second burst while the writer is busy with the first.
  note("m/8-small", payload(50, seed++), true);
  note("m/9-4mib", payload(4 * MiB + 7, seed++), true);
  note("m/10-small", payload(60, seed++), false);
  note("m/11-2mib", payload(2 * MiB, seed++), true);
  ASSERT_TRUE(wait_log(want_methods.size(), 10s));
  run_for(10ms);
  ASSERT_EQ(log_methods(), want_methods);
  for (std::size_t i = 0; i < log.size(); ++i) EXPECT_TRUE(same_payload(log[i], want_payloads[i])) << want_methods[i];
  EXPECT_EQ(b->queued_bytes(), 0u);
}

TEST_F(large_message_test, requests_and_responses_with_large_payloads_pair_up) {
  // Both directions at once, responses answered out of order.
  connect();
  std::vector<message> held;
  b->on_message([&](message m) { held.push_back(std::move(m)); });
  start();
  std::vector<std::string> params, results;
  std::vector<json::value> ids;
  for (unsigned i = 0; i < 3; ++i) {
    params.push_back(payload(MiB + i * 512 * KiB, 200 + i));
    results.push_back(payload(2 * MiB + i, 300 + i));
    ids.push_back(a->send_request(text_request("work", params.back()), record()));
  }
  ASSERT_TRUE(run_until([&] { return held.size() == 3; }, 10s));
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(held[i].id(), ids[i]);
    EXPECT_TRUE(same_payload(held[i], params[i]));
  }
  for (int i = 2; i >= 0; --i) b->send(text_response(held[i].id(), results[i]));
  ASSERT_TRUE(wait_log(3, 10s));
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(log[i].id(), ids[2 - i]);
    EXPECT_TRUE(same_payload(log[i], results[2 - i]));
  }
}

// (c) --------------------------------------------------------------------------------------

TEST_F(large_message_test, an_oversized_response_is_replaced_by_an_error_and_nothing_else_is_lost) {
  connection_options ob;
  ob.max_message_bytes = 2 * MiB;
  connect({}, ob);
  const auto too_big = payload(3 * MiB, 1);
  b->on_message([&](message m) {
    if (m.method() == "text") {
      b->send_notification("small/1", json::value{{"i", 1}}); // queued before: must survive
      b->send(text_response(m.id(), too_big));
      b->send_notification("small/2", json::value{{"i", 2}});
    } else {
      b->send_result(m.id(), json::parse(too_big)); // the DOM path
      b->send_notification("small/3", json::value{{"i", 3}});
    }
  });
  start();
  const auto id1 = a->send_request("text", {}, record());
  const auto id2 = a->send_request("dom", {}, record());
  ASSERT_TRUE(wait_log(5));
  run_for(20ms);
  ASSERT_EQ(log_methods(), (std::vector<std::string>{"small/1", "<response>", "small/2", "<response>", "small/3"}));
  for (const auto& [i, id] : {std::pair{1, id1}, std::pair{3, id2}}) {
    const auto& r = log[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.id(), id);
    ASSERT_TRUE(r.is_error()) << i;
    EXPECT_EQ(r.error()->code, -32603);
    ASSERT_TRUE(r.error()->data);
    EXPECT_EQ(r.error()->data->at("reason"), "message_too_large");
  }
  EXPECT_EQ(b->queued_bytes(), 0u);
  EXPECT_FALSE(b->close_status()); // the connection goes on
}

TEST_F(large_message_test, the_size_limit_on_sending_is_exact_for_a_large_text_message) {
  // The line (without '\n') may be exactly max_message_bytes long; one byte more is replaced.
  const std::size_t limit = 2 * MiB;
  connection_options oa, ob;
  oa.max_message_bytes = limit; // the receiver accepts a line of exactly the limit
  ob.max_message_bytes = limit;
  connect(oa, ob);
  std::string head;
  text_response(json::value(1), "{}").write_head(head); // the same head for ids 1 and 2
  const auto fits = payload(limit - head.size() - 1, 5);
  const auto over = payload(limit - head.size(), 6);
  ASSERT_EQ(wire_line(text_response(1, fits)).size(), limit);
  b->on_message([&](message m) { b->send(text_response(m.id(), m.id() == 1 ? fits : over)); });
  start();
  ASSERT_EQ(a->send_request("x", {}, record()), 1);
  ASSERT_EQ(a->send_request("x", {}, record()), 2);
  ASSERT_TRUE(wait_log(2));
  EXPECT_EQ(log[0].id(), 1);
  EXPECT_FALSE(log[0].is_error());
  EXPECT_TRUE(same_payload(log[0], fits));
  EXPECT_EQ(log[1].id(), 2);
  ASSERT_TRUE(log[1].is_error());
  EXPECT_EQ(log[1].error()->data->at("reason"), "message_too_large");
  EXPECT_FALSE(a->close_status());
}

TEST_F(large_message_test, our_own_oversized_request_fails_locally_and_nothing_else_is_lost) {
  connection_options ob;
  ob.max_message_bytes = 2 * MiB;
  connect({}, ob);
  start();
  std::vector<message> answers;
  b->send_notification("small/1");
  (void)b->send_request(text_request("big/text", payload(3 * MiB, 1)),
                        [&](message m) { answers.push_back(std::move(m)); });
  b->send(text_notification("big/note", payload(5 * MiB, 2))); // over the limit: dropped, logged
  b->send_notification("small/2");
  (void)b->send_request("big/dom", json::parse(payload(3 * MiB, 3)),
                        [&](message m) { answers.push_back(std::move(m)); });
  b->send_notification("small/3");
  EXPECT_EQ(b->pending_requests(), 0u); // taken back at once
  ASSERT_TRUE(run_until([&] { return answers.size() == 2 && log.size() == 3; }));
  run_for(20ms);
  EXPECT_EQ(log_methods(), (std::vector<std::string>{"small/1", "small/2", "small/3"}));
  for (const auto& r : answers) {
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error()->code, -32603);
  }
  EXPECT_EQ(b->queued_bytes(), 0u);
}

// (f) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_received_large_message_forwarded_to_another_connection_arrives_byte_exact) {
  // up <-> in (a proxy's upstream side) ... out <-> down: `in` forwards to `out` as a proxy does.
  auto [t1, t2] = make_memory_duplex(ex()).value();
  auto [t3, t4] = make_memory_duplex(ex()).value();
  auto up = raw(std::move(t1));
  auto in = raw(std::move(t2));
  auto out = raw(std::move(t3));
  auto down = raw(std::move(t4));
  std::size_t forwarded_text = 0;
  // Raw pointers: the fixture keeps the connections alive past every callback.
  in->on_message([&forwarded_text, inp = in.get(), outp = out.get()](message m) {
    forwarded_text += m.is_text() ? 1 : 0;
    if (!m.is_request()) return outp->send(std::move(m));
    const auto original = m.id();
    (void)outp->send_request(std::move(m), [inp, original](message r) {
      r.set_id(original);
      inp->send(std::move(r));
    });
  });
  std::vector<message> at_down;
  down->on_message([&at_down, downp = down.get()](message m) {
    if (m.is_request()) downp->send(text_response(m.id(), payload_of(m))); // the params back as the result
    at_down.push_back(std::move(m));
  });
  std::vector<message> at_up;
  for (auto& c : {up, in, out, down}) c->start();

  const auto note = payload(12 * MiB, 1);
  const auto req = payload(4 * MiB + 5, 2);
  up->send_notification("small/1");
  up->send(text_notification("big/note", note));
  up->send_notification("small/2");
  (void)up->send_request(text_request("big/req", req), [&](message m) { at_up.push_back(std::move(m)); });
  up->send_notification("small/3");
  ASSERT_TRUE(run_until([&] { return at_down.size() == 5 && at_up.size() == 1; }, 10s));
  std::vector<std::string> methods;
  for (const auto& m : at_down) methods.emplace_back(m.method());
  EXPECT_EQ(methods, (std::vector<std::string>{"small/1", "big/note", "small/2", "big/req", "small/3"}));
  EXPECT_EQ(forwarded_text, 5u);
  EXPECT_TRUE(same_payload(at_down[1], note));
  EXPECT_TRUE(same_payload(at_down[3], req));
  ASSERT_FALSE(at_up[0].is_error());
  EXPECT_TRUE(same_payload(at_up[0], req));
  EXPECT_TRUE(at_up[0].is_text());
  for (auto& c : {up, in, out, down}) EXPECT_EQ(c->queued_bytes(), 0u);
}

// (g) --------------------------------------------------------------------------------------

TEST_F(large_message_test, a_3_mib_session_update_passes_through_a_proxy_in_both_directions) {
  proxy_builder pb;
  auto w = wire(pb);
  auto& conductor = w.peer;
  const auto update = json_text(
      3 * MiB, 77,
      R"({"sessionId":"s1","update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":")",
      R"("}}})");
  ASSERT_EQ(json::serialize(json::parse(update)), update);
  const std::string plain = R"({"jsonrpc":"2.0","method":"session/update","params":)" + update + "}";
  const std::string wrapped =
      R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"session/update","params":)" + update + "}}";
  // From the agent (wrapped) the client gets it plain; from the client (plain) the agent gets
  // it wrapped. Small messages around them keep their places.
  conductor->send_raw(R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"x/a","params":{}}})"
                      "\n");
  conductor->send_raw(wrapped + "\n");
  conductor->send_raw(plain + "\n");
  conductor->send_raw(R"({"jsonrpc":"2.0","method":"x/b","params":{}})"
                      "\n");
  ASSERT_TRUE(run_until([&] { return conductor->lines.size() == 4; }, 10s));
  EXPECT_EQ(conductor->lines[0], R"({"jsonrpc":"2.0","method":"x/a","params":{}})");
  EXPECT_TRUE(conductor->lines[1] == plain) << "unwrapped: " << conductor->lines[1].size() << " bytes";
  EXPECT_TRUE(conductor->lines[2] == wrapped) << "wrapped: " << conductor->lines[2].size() << " bytes";
  EXPECT_EQ(conductor->lines[3],
            R"({"jsonrpc":"2.0","method":"_proxy/successor","params":{"method":"x/b","params":{}}})");
  ASSERT_EQ(conductor->messages.size(), 4u);
  EXPECT_EQ(conductor->messages[1].at("params"), json::parse(update));
  EXPECT_EQ(conductor->messages[2].at("params").at("params"), json::parse(update));
}

TEST_F(large_message_test, a_large_prompt_and_its_large_result_round_trip_through_a_proxy) {
  proxy_builder pb;
  auto w = wire(pb);
  auto& conductor = w.peer;
  const auto prompt = json_text(3 * MiB, 5, R"({"sessionId":"s1","prompt":[{"type":"text","text":")", R"("}]})");
  const auto result = json_text(3 * MiB + 1, 6, R"({"stopReason":"end_turn","_meta":{"log":")", R"("}})");
  conductor->send_raw(R"({"jsonrpc":"2.0","id":"p","method":"session/prompt","params":)" + prompt + "}\n");
  ASSERT_TRUE(run_until([&] { return conductor->messages.size() == 1; }, 10s));
  const auto& env = conductor->messages[0].as_object();
  EXPECT_EQ(env.at("method"), "_proxy/successor");
  const auto wire_id = env.at("id");
  const std::string wrapped = R"({"jsonrpc":"2.0","id":)" + json::serialize(wire_id) +
                              R"(,"method":"_proxy/successor","params":{"method":"session/prompt","params":)" + prompt +
                              "}}";
  EXPECT_TRUE(conductor->lines[0] == wrapped);
  conductor->send_raw(R"({"jsonrpc":"2.0","id":)" + json::serialize(wire_id) + R"(,"result":)" + result + "}\n");
  ASSERT_TRUE(run_until([&] { return conductor->messages.size() == 2; }, 10s));
  EXPECT_TRUE(conductor->lines[1] == R"({"jsonrpc":"2.0","id":"p","result":)" + result + "}")
      << conductor->lines[1].substr(0, 200);
}

} // namespace
} // namespace acp::test
