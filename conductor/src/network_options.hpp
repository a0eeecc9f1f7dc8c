#pragma once
// The command line's network options (remote components, `serve`, `connect`): options.cpp
// registers them on its CLI11 app and checks them here once the line is parsed.

#include <acp/conductor/options.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
} // namespace CLI

namespace acp::conductor {

/// What the network options were given as, before they are checked.
struct network_texts {
  std::string listen;
  std::string token_file;
  std::string connect_timeout;
  std::string ping_interval;
  std::string max_connections;
  std::string handshake_timeout;
  std::string idle_timeout;
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  bool allow_insecure = false;
};

void add_network_options(CLI::App& app, conductor_options& opts, network_texts& texts);

/// Checks and stores the network options; the usage error (one line, without the program name)
/// when something is wrong. `serving`: the `serve` subcommand was given.
[[nodiscard]] std::optional<std::string> apply_network_options(conductor_options& opts, const network_texts& texts,
                                                               bool serving);

/// Exactly one line of at most `max` characters, whatever `text` contains.
[[nodiscard]] std::string one_line(std::string_view text, std::size_t max = 200);

} // namespace acp::conductor
