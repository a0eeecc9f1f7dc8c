// acp-policy-proxy's library in-process: config parsing (exact messages), globs, path
// confinement with `..` and symlinks, permission rules, the decision log, and the proxy on an
// in-memory link (decided requests never leave it).
#include "policy.hpp"

#include <acp/protocol/types.hpp>
#include <acp/sdk/connection.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace acp::examples {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A fresh directory (resolved: /tmp may itself be a link), removed at the end.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "acp-policy-test-XXXXXX").string();
    path_ = fs::canonical(::mkdtemp(pattern.data())).string();
  }
  ~temp_dir() { fs::remove_all(path_); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string sub(const std::string& rel) const { return path_ + "/" + rel; }
  [[nodiscard]] std::string file(const std::string& rel, const std::string& content) const {
    fs::create_directories(fs::path(sub(rel)).parent_path());
    std::ofstream(sub(rel)) << content;
    return sub(rel);
  }

private:
  std::string path_;
};

std::string config_error(const std::string& text) {
  auto r = parse_policy_config(text, "p.json");
  return r ? std::string("<no error>") : r.error().message;
}

// ---- config -------------------------------------------------------------------------------------

TEST(policy_config, the_documented_example_loads) {
  temp_dir dir;
  const auto text = R"({"roots": [")" + dir.path() + R"("], "allowedCommands": ["ls","cat"],
    "commands": {"git": {"args": ["status","diff","log","--oneline"]}},
    "permissions": [{"kind":"read","action":"allow"},{"title":"rm *","action":"reject"},
                    {"paths":[")" +
                    dir.path() + R"(/**"],"action":"allow"},{"action":"ask"}]})";
  auto r = parse_policy_config(text, "p.json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->roots, std::vector<std::string>{dir.path()});
  EXPECT_EQ(r->allowed_commands, (std::vector<std::string>{"ls", "cat", "git"}));
  ASSERT_EQ(r->commands.count("git"), 1u);
  EXPECT_EQ(r->commands.at("git").args, (std::vector<std::string>{"status", "diff", "log", "--oneline"}));
  EXPECT_TRUE(r->confine_args);
  EXPECT_TRUE(r->allowed_env.empty());
  ASSERT_EQ(r->permissions.size(), 4u);
  EXPECT_EQ(r->permissions[0].kind, "read");
  EXPECT_EQ(r->permissions[1].title, "rm *");
  EXPECT_EQ(r->permissions[1].action, policy_action::reject);
  EXPECT_EQ(r->permissions[2].paths, std::vector<std::string>{dir.path() + "/**"});
  EXPECT_EQ(r->permissions[3].action, policy_action::ask);
}

TEST(policy_config, relative_path_globs_are_expanded_per_root_and_links_in_roots_resolved) {
  temp_dir a, b;
  fs::create_directory_symlink(b.path(), a.sub("link"));
  auto r = parse_policy_config(R"({"roots":[")" + a.path() + R"(",")" + a.sub("link") +
                                   R"("],"permissions":[{"paths":["src/**"],"action":"allow"},
                                   {"paths":[")" +
                                   a.sub("link") + R"(/*.txt"],"action":"allow"}]})",
                               "p.json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->roots, (std::vector<std::string>{a.path(), b.path()}));
  EXPECT_EQ(r->permissions[0].paths, (std::vector<std::string>{a.path() + "/src/**", b.path() + "/src/**"}));
  EXPECT_EQ(r->permissions[1].paths, std::vector<std::string>{b.path() + "/*.txt"});
}

TEST(policy_config, errors_are_one_line_naming_file_and_key) {
  temp_dir dir;
  const std::string pre = "config p.json: ";
  EXPECT_EQ(config_error("{").rfind(pre + "invalid JSON: ", 0), 0u);
  EXPECT_EQ(config_error("[]"), pre + "expected a JSON object");
  EXPECT_EQ(config_error(R"({"root":[]})"),
            pre + R"(unknown key "root" (known: roots, allowedCommands, commands, allowedEnv, confineArgs, )"
                  R"(permissions))");
  EXPECT_EQ(config_error(R"({"roots":"/"})"), pre + R"("roots" must be an array of strings)");
  EXPECT_EQ(config_error(R"({"roots":["rel/dir"]})"), pre + R"(root "rel/dir" must be an absolute path)");
  EXPECT_EQ(config_error(R"({"roots":["/no/such/dir"]})"), pre + R"(root "/no/such/dir" does not exist)");
  const auto f = dir.file("f", "");
  EXPECT_EQ(config_error(R"({"roots":[")" + f + R"("]})"), pre + "root \"" + f + "\" is not a directory");
  EXPECT_EQ(config_error(R"({"allowedCommands":["ls",3]})"), pre + R"("allowedCommands" must be an array of strings)");
  EXPECT_EQ(config_error(R"({"allowedCommands":["/bin/ls"]})"),
            pre + R"(allowed command "/bin/ls" must be a plain name (matched against the basename))");
  EXPECT_EQ(config_error(R"({"allowedCommands":["ls","git"]})"),
            pre + R"(allowed command "git" can run other commands: give it argument rules ("commands": )"
                  R"({"git": {"args": [GLOB…]}}) or remove it)");
  EXPECT_EQ(config_error(R"({"commands":[]})"), pre + R"("commands" must be an object: {NAME: {"args": [GLOB…]}})");
  EXPECT_EQ(config_error(R"({"commands":{"a/b":{"args":[]}}})"),
            pre + R"(commands "a/b": must be a plain name (matched against the basename))");
  EXPECT_EQ(config_error(R"({"commands":{"git":1}})"), pre + R"(commands "git": must be an object: {"args": [GLOB…]})");
  EXPECT_EQ(config_error(R"({"commands":{"git":{"argv":[]}}})"),
            pre + R"(commands "git": unknown key "argv" (known: args))");
  EXPECT_EQ(config_error(R"({"commands":{"git":{"args":"*"}}})"),
            pre + R"(commands "git": "args" must be an array of strings (globs))");
  EXPECT_EQ(config_error(R"({"commands":{"git":{}}})"), pre + R"(commands "git": missing "args" (an array of globs))");
  EXPECT_EQ(config_error(R"({"allowedEnv":"PATH"})"),
            pre + R"("allowedEnv" must be an array of strings (globs of names))");
  EXPECT_EQ(config_error(R"({"confineArgs":"no"})"), pre + R"("confineArgs" must be true or false)");
  EXPECT_EQ(config_error(R"({"permissions":{}})"), pre + R"("permissions" must be an array of rules)");
  EXPECT_EQ(config_error(R"({"permissions":[1]})"), pre + "permissions rule 1: must be an object");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask"},{}]})"),
            pre + R"(permissions rule 2: missing "action" ("allow", "reject" or "ask"))");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"deny"}]})"),
            pre + R"(permissions rule 1: "action" must be "allow", "reject" or "ask")");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","kinds":"read"}]})"),
            pre + R"(permissions rule 1: unknown key "kinds" (known: kind, title, paths, action, always))");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","kind":"reed"}]})"),
            pre + R"(permissions rule 1: "kind" must be one of read, edit, delete, move, search, execute, think, )"
                  R"(fetch, switch_mode, other)");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","title":["x"]}]})"),
            pre + R"(permissions rule 1: "title" must be a string (a glob))");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","paths":"/x"}]})"),
            pre + R"(permissions rule 1: "paths" must be an array of strings (globs))");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","paths":["src/**"]}]})"),
            pre + R"(permissions rule 1: path pattern "src/**" is relative but there are no "roots")");
  EXPECT_EQ(config_error(R"({"permissions":[{"action":"ask","always":1}]})"),
            pre + R"(permissions rule 1: "always" must be true or false)");
}

TEST(policy_config, missing_file) {
  auto r = load_policy_config("/no/such/policy.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "config /no/such/policy.json: cannot read: No such file or directory");
}

// ---- globs --------------------------------------------------------------------------------------

TEST(policy_glob, titles) {
  EXPECT_TRUE(glob_match("rm *", "rm -rf /", false));
  EXPECT_FALSE(glob_match("rm *", "git rm x", false));
  EXPECT_TRUE(glob_match("*rm*", "git rm x", false));
  EXPECT_TRUE(glob_match("Write file", "Write file", false));
  EXPECT_FALSE(glob_match("Write file", "Write file ", false));
  EXPECT_TRUE(glob_match("Read ?.txt", "Read a.txt", false));
  EXPECT_TRUE(glob_match("[A-Z]*", "Edit", false));
  EXPECT_FALSE(glob_match("[!A-Z]*", "Edit", false));
  EXPECT_TRUE(glob_match("a\\*b", "a*b", false));
  EXPECT_FALSE(glob_match("a\\*b", "axb", false));
  EXPECT_TRUE(glob_match("[", "[", false));
  EXPECT_TRUE(glob_match("[]]", "]", false));
  EXPECT_TRUE(glob_match("", "", false));
  EXPECT_FALSE(glob_match("", "x", false));
  EXPECT_TRUE(glob_match("*", "a/b", false)) << "titles have no path separators";
  EXPECT_TRUE(glob_match("a\\", "a\\", false)) << "a trailing backslash is a literal";
  EXPECT_TRUE(glob_match("[!a]", "/", false)) << "a class matches '/' in titles";
  EXPECT_FALSE(glob_match("[!a]", "/", true)) << "but never in paths";
  EXPECT_TRUE(glob_match("[a-c]x[]-]", "bx-", false));
  EXPECT_TRUE(glob_match("\xe9*", "\xe9t\xe9", false)) << "bytes above 0x7f";
  EXPECT_TRUE(glob_match("**", "", false));
  EXPECT_FALSE(glob_match("a*b*c", "acb", false));
}

TEST(policy_glob, paths) {
  EXPECT_TRUE(glob_match("/w/p/**", "/w/p/a", true));
  EXPECT_TRUE(glob_match("/w/p/**", "/w/p/a/b/c", true));
  EXPECT_FALSE(glob_match("/w/p/**", "/w/p", true));
  EXPECT_FALSE(glob_match("/w/p/**", "/w/pq/a", true));
  EXPECT_TRUE(glob_match("/w/p/*", "/w/p/a", true));
  EXPECT_FALSE(glob_match("/w/p/*", "/w/p/a/b", true));
  EXPECT_TRUE(glob_match("/w/**/*.md", "/w/README.md", true));
  EXPECT_TRUE(glob_match("/w/**/*.md", "/w/a/b/README.md", true));
  EXPECT_FALSE(glob_match("/w/**/*.md", "/w/a/b/README.txt", true));
  EXPECT_FALSE(glob_match("/w/?", "/w//", true));
  EXPECT_FALSE(glob_match("/w/[/]", "/w//", true));
  EXPECT_TRUE(glob_match("/w/**/x", "/w/x", true)) << "/**/ also matches a single '/'";
  EXPECT_FALSE(glob_match("/w/**/x", "/wx", true));
  EXPECT_TRUE(glob_match("**", "/a/b", true));
  EXPECT_TRUE(glob_match("/w/a**", "/w/ab/c", true));
  EXPECT_TRUE(glob_match("/w/\\*", "/w/*", true));
  EXPECT_FALSE(glob_match("/w/\\*", "/w/a", true));
}

TEST(policy_glob, many_stars_stay_fast) {
  const std::string text(4000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", text, false));
  EXPECT_FALSE(glob_match("/**/**/**/**/**/x", "/" + text, true));
}

// ---- paths --------------------------------------------------------------------------------------

TEST(policy_paths, resolve_removes_dots_and_follows_links_including_dangling_ones) {
  temp_dir dir, outside;
  fs::create_directories(dir.sub("a/b"));
  fs::create_directory_symlink(outside.path(), dir.sub("out"));
  fs::create_symlink(outside.sub("new.txt"), dir.sub("dangling"));
  fs::create_symlink("../../a", dir.sub("a/b/up"));
  EXPECT_EQ(resolve_path(dir.sub("a/./b/../b")), dir.sub("a/b"));
  EXPECT_EQ(resolve_path(dir.sub("out/x.txt")), outside.sub("x.txt"));
  EXPECT_EQ(resolve_path(dir.sub("dangling")), outside.sub("new.txt"));
  EXPECT_EQ(resolve_path(dir.sub("a/b/up/b")), dir.sub("a/b"));
  EXPECT_EQ(resolve_path(dir.sub("missing/../../x")), fs::path(dir.path()).parent_path().string() + "/x");
  EXPECT_EQ(resolve_path("/../.."), "/");
  EXPECT_EQ(resolve_path("relative/path"), std::nullopt);
  fs::create_symlink(dir.sub("loop2"), dir.sub("loop1"));
  fs::create_symlink(dir.sub("loop1"), dir.sub("loop2"));
  EXPECT_EQ(resolve_path(dir.sub("loop1/x")), std::nullopt);
}

TEST(policy_paths, confinement) {
  temp_dir root, outside;
  fs::create_directories(root.sub("src"));
  fs::create_directory_symlink(outside.path(), root.sub("escape"));
  fs::create_symlink(outside.sub("new.txt"), root.sub("dangling"));
  const std::vector<std::string> roots{root.path()};
  EXPECT_EQ(confinement_error(roots, root.sub("src/a.cpp")), std::nullopt);
  EXPECT_EQ(confinement_error(roots, root.sub("new/dir/file")), std::nullopt) << "a file to be created";
  EXPECT_EQ(confinement_error(roots, root.path()), std::nullopt);
  EXPECT_EQ(confinement_error(roots, root.sub("src/../src/a")), std::nullopt);
  EXPECT_EQ(confinement_error(roots, root.sub("../x")), "outside the allowed roots");
  EXPECT_EQ(confinement_error(roots, root.sub("src/../../x")), "outside the allowed roots");
  EXPECT_EQ(confinement_error(roots, root.path() + "x/a"), "outside the allowed roots") << "a sibling prefix";
  EXPECT_EQ(confinement_error(roots, "/etc/passwd"), "outside the allowed roots");
  EXPECT_EQ(confinement_error(roots, root.sub("escape/secret")),
            "resolves to " + outside.sub("secret") + ", outside the allowed roots");
  EXPECT_EQ(confinement_error(roots, root.sub("dangling")),
            "resolves to " + outside.sub("new.txt") + ", outside the allowed roots");
  EXPECT_EQ(confinement_error(roots, "src/a.cpp"), "not an absolute path");
  EXPECT_EQ(confinement_error(roots, ""), "not an absolute path");
  EXPECT_EQ(confinement_error({"/"}, "/etc/passwd"), std::nullopt);
  EXPECT_EQ(confinement_error({}, root.sub("a")), "outside the allowed roots");
}

TEST(policy_paths, a_link_that_points_back_inside_is_fine_but_dotdot_through_it_is_judged_both_ways) {
  temp_dir root, outside;
  fs::create_directories(root.sub("a/b"));
  fs::create_directory_symlink(outside.path(), root.sub("a/link"));
  // The kernel resolves a/link first, then "..": outside/.. — the lexical form stays inside.
  EXPECT_NE(confinement_error({root.path()}, root.sub("a/link/../b")), std::nullopt);
}

// ---- permissions --------------------------------------------------------------------------------

request_permission_request
permission(std::optional<std::string> kind, std::optional<std::string> title, std::vector<std::string> paths = {},
           std::vector<std::string> option_kinds = {"allow_once", "allow_always", "reject_once", "reject_always"}) {
  request_permission_request r;
  r.session_id = "s1";
  r.tool_call.tool_call_id = "call-1";
  if (kind) r.tool_call.kind = tool_kind(std::move(*kind));
  r.tool_call.title = std::move(title);
  if (!paths.empty()) {
    r.tool_call.locations.emplace();
    for (auto& p : paths) r.tool_call.locations->push_back({std::move(p), {}, {}, {}});
  }
  for (auto& k : option_kinds) r.options.push_back({"opt-" + k, k, permission_option_kind(k), {}, {}});
  return r;
}

policy_options example_policy(const std::string& root) {
  auto r = parse_policy_config(R"({"roots": [")" + root + R"("],
    "permissions": [{"kind":"read","action":"allow"},{"title":"rm *","action":"reject"},
                    {"paths":[")" + root +
                                   R"(/**"],"action":"allow"},{"action":"ask"}]})",
                               "p.json");
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

TEST(policy_permissions, the_example_rules_in_order) {
  temp_dir root;
  const auto policy = example_policy(root.path());
  auto v = decide_permission(policy, permission("read", "Read /etc/passwd"));
  EXPECT_EQ(v.action, policy_action::allow);
  EXPECT_EQ(v.rule, 1u);
  EXPECT_EQ(v.option_id, "opt-allow_once");
  EXPECT_EQ(v.reason, "rule 1");

  v = decide_permission(policy, permission("execute", "rm -rf build"));
  EXPECT_EQ(v.action, policy_action::reject);
  EXPECT_EQ(v.rule, 2u);
  EXPECT_EQ(v.option_id, "opt-reject_once");

  v = decide_permission(policy, permission("edit", "Write", {root.sub("a.txt"), root.sub("src/b.txt")}));
  EXPECT_EQ(v.action, policy_action::allow);
  EXPECT_EQ(v.rule, 3u);

  v = decide_permission(policy, permission("edit", "Write", {root.sub("a.txt"), "/etc/passwd"}));
  EXPECT_EQ(v.action, policy_action::ask) << "every location must match";
  EXPECT_EQ(v.rule, 4u);
  EXPECT_EQ(v.option_id, std::nullopt);

  v = decide_permission(policy, permission("edit", "Write", {root.sub("../escape")}));
  EXPECT_EQ(v.rule, 4u);
  v = decide_permission(policy, permission("edit", "Write"));
  EXPECT_EQ(v.rule, 4u) << "no locations: a paths rule does not match";
  v = decide_permission(policy, permission(std::nullopt, std::nullopt));
  EXPECT_EQ(v.rule, 4u) << "no kind, no title";
}

TEST(policy_permissions, no_rule_asks) {
  policy_options none;
  const auto v = decide_permission(none, permission("read", "x"));
  EXPECT_EQ(v.action, policy_action::ask);
  EXPECT_EQ(v.rule, 0u);
  EXPECT_EQ(v.reason, "no rule");
}

TEST(policy_permissions, always_prefers_the_always_options_and_falls_back) {
  policy_options p;
  p.permissions.push_back({std::string("read"), {}, {}, policy_action::allow, true});
  p.permissions.push_back({std::string("delete"), {}, {}, policy_action::reject, false});
  EXPECT_EQ(decide_permission(p, permission("read", "x")).option_id, "opt-allow_always");
  EXPECT_EQ(decide_permission(p, permission("read", "x", {}, {"allow_once", "reject_once"})).option_id,
            "opt-allow_once");
  EXPECT_EQ(decide_permission(p, permission("delete", "x", {}, {"allow_once", "reject_always"})).option_id,
            "opt-reject_always");
  const auto v = decide_permission(p, permission("read", "x", {}, {"reject_once"}));
  EXPECT_EQ(v.action, policy_action::ask);
  EXPECT_EQ(v.reason, "rule 1, but the request has no matching option");
}

// ---- decision log -------------------------------------------------------------------------------

TEST(policy_log, decision_line_format) {
  EXPECT_EQ(decision_line({"allow", "session/request_permission", "s1", "Write file", "rule 2", 2}),
            R"(policy: allow session/request_permission "Write file" (rule 2))");
}

TEST(policy_log, json_lines_file_with_mode_0600) {
  temp_dir dir;
  const auto path = dir.sub("decisions.jsonl");
  {
    auto sink = open_decision_log(path);
    ASSERT_TRUE(sink) << sink.error().message;
    (*sink)({"allow", "session/request_permission", "s1", "Write file", "rule 2", 2});
    (*sink)({"deny", "fs/read_text_file", "", "/etc/passwd", "outside the allowed roots", 0});
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string line1, line2, extra;
  ASSERT_TRUE(std::getline(in, line1));
  ASSERT_TRUE(std::getline(in, line2));
  EXPECT_FALSE(std::getline(in, extra));
  auto a = json::parse(line1).as_object();
  EXPECT_TRUE(a.at("ts").is_double());
  a.erase("ts");
  EXPECT_EQ(a, json::parse(R"({"action":"allow","method":"session/request_permission","subject":"Write file",
                               "reason":"rule 2","sessionId":"s1","rule":2})"));
  auto b = json::parse(line2).as_object();
  EXPECT_FALSE(b.contains("rule"));
  EXPECT_FALSE(b.contains("sessionId"));
  EXPECT_EQ(open_decision_log(dir.sub("no/such/dir/log")).error().message,
            "--decision-log " + dir.sub("no/such/dir/log") + ": No such file or directory");
}

// ---- the proxy on an in-memory link -------------------------------------------------------------

/// The proxy with a scripted conductor on the other end of an in-memory duplex.
class policy_fixture : public ::testing::Test {
protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  void start(policy_options options) {
    options.log_to_stderr = false;
    options.on_decision = [this](const policy_decision& d) { decisions_.push_back(decision_line(d)); };
    auto [ours, theirs] = make_memory_duplex(io_.get_executor()).value();
    proxy_.emplace(make_policy_proxy(std::move(options)).connect_to(io_.get_executor(), std::move(theirs)));
    conductor_ = connection::create(io_.get_executor(), std::move(ours), connection_options{});
    conductor_->on_message([this](jsonrpc::message m) { forwarded_.push_back(std::move(m)); });
    conductor_->start();
  }
  void TearDown() override {
    if (conductor_) conductor_->close();
    io_.run_for(50ms);
  }
  template <class Pred> bool run_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(5ms);
    return done();
  }
  /// Sends an agent -> client request (inside `_proxy/successor`) and returns the proxy's direct
  /// answer, if it gave one before `forwarded_` grew.
  std::optional<jsonrpc::message> from_agent(std::string_view method, json::value params) {
    json::object env{{"jsonrpc", "2.0"},
                     {"id", next_id_++},
                     {"method", "_proxy/successor"},
                     {"params", json::object{{"method", method}, {"params", std::move(params)}}}};
    auto checked = jsonrpc::check(json::value(env));
    // The callback may run after this returns (a forwarded request is answered at close).
    auto answer = std::make_shared<std::optional<jsonrpc::message>>();
    const auto before = forwarded_.size();
    (void)conductor_->send_request(std::get<jsonrpc::message>(std::move(checked)),
                                   [answer](jsonrpc::message m) { *answer = std::move(m); });
    EXPECT_TRUE(run_until([&] { return answer->has_value() || forwarded_.size() > before; }));
    return *answer;
  }

  boost::asio::io_context io_;
  std::optional<endpoint> proxy_;
  std::shared_ptr<connection> conductor_;
  std::vector<jsonrpc::message> forwarded_;
  std::vector<std::string> decisions_;
  int next_id_ = 1;
};

TEST_F(policy_fixture, allowed_permission_is_answered_and_never_forwarded) {
  temp_dir root;
  start(example_policy(root.path()));
  auto answer = from_agent("session/request_permission", encode(permission("read", "Read a file")));
  ASSERT_TRUE(answer);
  ASSERT_NE(answer->result(), nullptr);
  EXPECT_EQ(*answer->result(), json::parse(R"({"outcome":{"outcome":"selected","optionId":"opt-allow_once"}})"));
  EXPECT_TRUE(forwarded_.empty());
  EXPECT_EQ(decisions_, std::vector<std::string>{R"(policy: allow session/request_permission "Read a file" (rule 1))"});
}

TEST_F(policy_fixture, ask_forwards_the_request_untouched) {
  temp_dir root;
  start(example_policy(root.path()));
  auto params = encode(permission("edit", "Write", {"/etc/hosts"}));
  params.as_object()["_meta"] = json::object{{"k", 1}};
  auto answer = from_agent("session/request_permission", params);
  EXPECT_FALSE(answer);
  ASSERT_EQ(forwarded_.size(), 1u);
  EXPECT_EQ(forwarded_[0].method(), "session/request_permission");
  EXPECT_EQ(*forwarded_[0].params(), params);
  EXPECT_EQ(decisions_, std::vector<std::string>{R"(policy: ask session/request_permission "Write" (rule 4))"});
}

TEST_F(policy_fixture, fs_outside_the_roots_is_an_error_to_the_agent) {
  temp_dir root;
  start(example_policy(root.path()));
  auto answer = from_agent("fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/etc/passwd"}});
  ASSERT_TRUE(answer);
  const auto error = answer->error();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, -32602);
  EXPECT_EQ(error->message,
            "policy: fs/read_text_file \"/etc/passwd\": outside the allowed roots (" + root.path() + ")");
  EXPECT_EQ(error->data->at("path"), "/etc/passwd");
  EXPECT_EQ(error->data->at("roots"), json::array{json::value(root.path())});
  EXPECT_TRUE(forwarded_.empty());

  answer =
      from_agent("fs/write_text_file", json::object{{"sessionId", "s1"}, {"path", root.sub("../x")}, {"content", "c"}});
  ASSERT_TRUE(answer && answer->error());
  EXPECT_TRUE(forwarded_.empty());
}

TEST_F(policy_fixture, fs_inside_the_roots_is_forwarded_untouched) {
  temp_dir root;
  start(example_policy(root.path()));
  const json::value params = json::object{{"sessionId", "s1"}, {"path", root.sub("a.txt")}, {"x-unknown", 1}};
  EXPECT_FALSE(from_agent("fs/read_text_file", params));
  ASSERT_EQ(forwarded_.size(), 1u);
  EXPECT_EQ(*forwarded_[0].params(), params);
  EXPECT_EQ(decisions_.back(), "policy: allow fs/read_text_file \"" + root.sub("a.txt") + "\" (allowed)");
}

TEST_F(policy_fixture, terminal_commands_by_basename) {
  temp_dir root;
  auto policy = example_policy(root.path());
  policy.allowed_commands = std::vector<std::string>{"ls", "git"};
  start(std::move(policy));
  EXPECT_FALSE(from_agent("terminal/create",
                          json::object{{"sessionId", "s1"}, {"command", "/usr/bin/git"}, {"cwd", root.path()}}));
  EXPECT_EQ(forwarded_.size(), 1u);
  auto answer = from_agent("terminal/create", json::object{{"sessionId", "s1"}, {"command", "rm"}});
  ASSERT_TRUE(answer && answer->error());
  EXPECT_EQ(answer->error()->message, R"(policy: terminal/create "rm": not in allowedCommands (ls, git))");
  answer = from_agent("terminal/create", json::object{{"sessionId", "s1"}, {"command", "ls"}, {"cwd", "/etc"}});
  ASSERT_TRUE(answer && answer->error());
  EXPECT_EQ(answer->error()->message,
            "policy: terminal/create \"ls\": cwd /etc: outside the allowed roots (" + root.path() + ")");
  EXPECT_EQ(forwarded_.size(), 1u);
}

TEST_F(policy_fixture, without_roots_and_commands_fs_and_terminal_pass) {
  start(policy_options{});
  EXPECT_FALSE(from_agent("fs/read_text_file", json::object{{"sessionId", "s1"}, {"path", "/etc/passwd"}}));
  EXPECT_FALSE(from_agent("terminal/create", json::object{{"sessionId", "s1"}, {"command", "rm"}}));
  EXPECT_EQ(forwarded_.size(), 2u);
  EXPECT_TRUE(decisions_.empty());
}

} // namespace
} // namespace acp::examples
