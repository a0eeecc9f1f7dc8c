// The runtime method table matches schema v1 (meta.json and the x-method/x-side of each
// params/result definition), and agrees with method_traits.
#include <acp/protocol/methods.hpp>
#include <acp/protocol/types.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

namespace {

boost::json::value read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

const boost::json::value& meta_json() {
  static const auto v = read_json(std::string(ACP_SCHEMA_DIR) + "/v1/meta.json");
  return v;
}

const boost::json::value& schema_json() {
  static const auto v = read_json(std::string(ACP_SCHEMA_DIR) + "/v1/schema.json");
  return v;
}

/// The schema's `x-side` of a method handled by `receiver` (none: a protocol method).
std::string_view x_side(std::optional<acp::peer> receiver) { return receiver ? acp::to_string(*receiver) : "protocol"; }

TEST(methods_table, contains_exactly_the_stable_methods_of_meta_json) {
  std::set<std::string> expected;
  std::map<std::string, std::optional<acp::peer>> expected_side;
  const std::pair<const char*, std::optional<acp::peer>> groups[] = {
      {"agentMethods", acp::peer::agent}, {"clientMethods", acp::peer::client}, {"protocolMethods", std::nullopt}};
  for (const auto& [group, s] : groups) {
    for (const auto& kv : meta_json().at(group).as_object()) {
      const std::string name(kv.value().as_string());
      expected.insert(name);
      expected_side[name] = s;
    }
  }
  std::set<std::string> actual;
  for (const auto& m : acp::stable_methods()) {
    EXPECT_TRUE(actual.insert(std::string(m.name)).second) << "duplicate " << m.name;
    EXPECT_EQ(m.receiver, expected_side[std::string(m.name)]) << m.name;
  }
  EXPECT_EQ(actual, expected);
}

TEST(methods_table, defs_carry_matching_x_method_and_x_side) {
  const auto& defs = schema_json().at("$defs").as_object();
  for (const auto& m : acp::stable_methods()) {
    SCOPED_TRACE(std::string(m.name));
    const auto* params = defs.if_contains(m.params_def);
    ASSERT_NE(params, nullptr) << m.params_def;
    EXPECT_EQ(params->at("x-method").as_string(), m.name);
    EXPECT_EQ(params->at("x-side").as_string(), x_side(m.receiver));
    EXPECT_EQ(m.is_request, !m.result_def.empty());
    if (m.is_request) {
      const auto* result = defs.if_contains(m.result_def);
      ASSERT_NE(result, nullptr) << m.result_def;
      EXPECT_EQ(result->at("x-method").as_string(), m.name);
      EXPECT_EQ(result->at("x-side").as_string(), x_side(m.receiver));
    }
  }
  // And no stable def is missing from the table.
  for (const auto& kv : defs) {
    const auto* method = kv.value().as_object().if_contains("x-method");
    if (method == nullptr) continue;
    const auto* info = acp::find_method(method->as_string());
    ASSERT_NE(info, nullptr) << kv.key();
    EXPECT_TRUE(info->params_def == kv.key() || info->result_def == kv.key()) << kv.key();
  }
}

TEST(methods_table, find_method) {
  const auto* prompt = acp::find_method("session/prompt");
  ASSERT_NE(prompt, nullptr);
  EXPECT_EQ(prompt->params_def, "PromptRequest");
  EXPECT_EQ(prompt->result_def, "PromptResponse");
  EXPECT_TRUE(prompt->is_request);
  EXPECT_EQ(acp::find_method("session/unknown"), nullptr);
  EXPECT_EQ(acp::find_method("_zed/extension"), nullptr);
  const auto* cancel = acp::find_method("$/cancel_request");
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->receiver, std::nullopt);
  EXPECT_FALSE(cancel->is_request);
}

using all_params =
    std::tuple<acp::initialize_request, acp::authenticate_request, acp::logout_request, acp::new_session_request,
               acp::load_session_request, acp::list_sessions_request, acp::delete_session_request,
               acp::resume_session_request, acp::close_session_request, acp::set_session_mode_request,
               acp::set_session_config_option_request, acp::prompt_request, acp::cancel_notification,
               acp::request_permission_request, acp::session_notification, acp::read_text_file_request,
               acp::write_text_file_request, acp::create_terminal_request, acp::terminal_output_request,
               acp::release_terminal_request, acp::wait_for_terminal_exit_request, acp::kill_terminal_request,
               acp::create_elicitation_request, acp::complete_elicitation_notification,
               acp::cancel_request_notification>;

TEST(methods_table, agrees_with_method_traits) {
  std::set<std::string_view> seen;
  std::apply(
      [&](auto... p) {
        (
            [&] {
              using traits = acp::method_traits<decltype(p)>;
              const auto* info = acp::find_method(traits::method);
              ASSERT_NE(info, nullptr) << traits::method;
              EXPECT_EQ(info->receiver, traits::receiver) << traits::method;
              EXPECT_EQ(info->is_request, traits::is_request) << traits::method;
              seen.insert(traits::method);
            }(),
            ...);
      },
      all_params{});
  EXPECT_EQ(seen.size(), acp::stable_methods().size());
}

} // namespace
