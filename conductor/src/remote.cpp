// Remote components (docs/PROTOCOL.md §8): a component given as an address is connected to
// instead of spawned, before the chain starts; the token and TLS settings are read once.

#include "router_impl.hpp"

#include <acp/net/url.hpp>
#include <acp/sdk/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

// GCC 12 reports asio's awaitable frame allocator as a mismatched new/delete in long
// coroutines (a false positive: the frame's class-specific operator new and delete pair up).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acp::conductor {
namespace asio = boost::asio;
namespace json = boost::json;
using jsonrpc::message;

boost::system::result<std::string, std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return boost::system::result<std::string, std::string>(boost::system::in_place_error,
                                                           "--token-file: cannot read " + path);
  std::string first;
  std::getline(in, first);
  while (!first.empty() && (first.back() == '\r' || first.back() == ' ' || first.back() == '\t')) first.pop_back();
  std::size_t lead = 0;
  while (lead < first.size() && (first[lead] == ' ' || first[lead] == '\t')) ++lead;
  first.erase(0, lead);
  if (first.empty())
    return boost::system::result<std::string, std::string>(
        boost::system::in_place_error, "--token-file: " + path + " holds no token (its first line is empty)");
  for (const char c : first)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
      return boost::system::result<std::string, std::string>(
          boost::system::in_place_error, "--token-file: " + path + ": the token has a space or a control character");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    log::warn("", "--token-file " + path + " can be read by other users (chmod 600 it)");
  return boost::system::result<std::string, std::string>(boost::system::in_place_value, std::move(first));
}

boost::system::result<std::shared_ptr<const remote_setup>, std::string>
make_remote_setup(const conductor_options& opts) {
  using result = boost::system::result<std::shared_ptr<const remote_setup>, std::string>;
  auto setup = std::make_shared<remote_setup>();
  auto& base = setup->base;
  base.timeout = opts.remote.connect_timeout;
  base.ping_interval = opts.remote.ping_interval;
  base.max_message_bytes = opts.max_message_size;
  base.tls.ca_file = opts.remote.ca_file;
  base.tls.cert_file = opts.remote.cert_file;
  base.tls.key_file = opts.remote.key_file;
  base.tls.verify_server_name = opts.remote.verify_server_name;
  if (!opts.remote.token_file.empty()) {
    auto token = read_token_file(opts.remote.token_file);
    if (!token) return result(boost::system::in_place_error, token.error());
    base.bearer_token = std::move(*token);
  } else if (const char* env = std::getenv("ACP_CONDUCTOR_TOKEN"); env && *env) {
    base.bearer_token = std::string(env);
  }
  if (!opts.remote.socks5.empty()) {
    auto proxy = net::parse_socks5_url(opts.remote.socks5);
    if (!proxy) return result(boost::system::in_place_error, "--socks5: " + proxy.error());
    if (const char* pass = std::getenv("ACP_SOCKS5_PASSWORD"); pass && *pass) proxy->password = pass;
    base.socks5 = std::move(*proxy);
    setup->socks_from_environment = false;
  }
  return result(boost::system::in_place_value, std::move(setup));
}

void router::connect_then_begin(message init) {
  starting_ = true;
  init_ = std::move(init);
  auto self = shared_from_this();
  asio::co_spawn(ex_, connect_remotes(), log::on_failure("", "connecting to the remote components", [self] {
                   self->shutdown(1, "internal_error", "connecting to the remote components failed");
                 }));
}

void router::fail_start(const rpc_error& e) {
  starting_ = false;
  if (auto init = std::exchange(init_, std::nullopt)) reject(upstream, *init, e);
  for (const auto& m : std::exchange(early_, {}))
    if (m.is_request()) reject(upstream, m, e);
}

asio::awaitable<void> router::connect_remotes() {
  auto self = shared_from_this();
  ready_.resize(opts_.components.size());
  for (std::size_t k = 0; k < opts_.components.size(); ++k) {
    const auto& spec = opts_.components[k];
    if (!spec.remote() || ready_[k]) continue;
    std::string error;
    auto target = net::parse_url(spec.address);
    if (!target) {
      error = target.error();
    } else if (!remote_) {
      error = "remote components are not available here";
    } else {
      auto options = remote_->base;
      if (remote_->socks_from_environment) {
        auto proxy = net::socks5_from_environment(*target);
        if (!proxy)
          error = proxy.error();
        else
          options.socks5 = std::move(*proxy);
      }
      if (error.empty()) {
        // --debug-dir: the link's file records what crosses it once it is made (never the token).
        options.observe = tap_bytes(debug_file_for(spec.name, std::to_string(k), target->text()),
                                    debug_file::stream::out, debug_file::stream::in);
        log::debug(spec.name, "connecting to " + target->text());
        auto channel = co_await net::connect(ex_, *target, std::move(options));
        if (channel)
          ready_[k] = std::move(*channel);
        else
          error = channel.error();
      }
    }
    if (stopping_) co_return; // the editor left (or a signal came) while we were connecting
    if (!error.empty()) {
      json::object data;
      data["reason"] = "connect_failed";
      data["component"] = spec.name;
      data["detail"] = error;
      const auto text = "cannot reach component '" + spec.name + "': " + error;
      log::error(spec.name, text);
      fail_start(rpc_error::internal_error(text, json::value(data)));
      shutdown(1, "connect_failed", error);
      co_return;
    }
  }
  if (stopping_ || !init_) co_return;
  auto init = std::move(*init_);
  init_.reset();
  begin_chain(std::move(init));
}

} // namespace acp::conductor
