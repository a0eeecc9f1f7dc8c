#pragma once
// A proxy, agent or client built with the SDK, as a network service: every connection accepted
// on a URL gets an endpoint of its own.
//
//   acp::agent_builder agent;                       // + handlers
//   auto where = acp::net::parse_url("ws://127.0.0.1:8700/acp");
//   acp::net::listen_options o;                     // limits, TLS files, token
//   return acp::net::serve(agent, *where, std::move(o));
//
// The other way round, a program reaches a served chain with acp::net::connect (connect.hpp) and
// starts its endpoint on the channel: `builder.connect_to(ex, std::move(*channel))`.

#include <acp/net/listen.hpp>
#include <acp/net/url.hpp>
#include <acp/sdk/endpoint.hpp>

#include <functional>

namespace acp::net {

/// Starts the endpoint for one accepted connection (on `ex`, the serving loop's executor).
using endpoint_factory = std::function<endpoint(const boost::asio::any_io_executor& ex, message_channel_ptr channel)>;

/// Listens on `where` and runs `start` for every connection that passes its handshake, on one
/// thread, until SIGINT or SIGTERM: then the listener closes and every endpoint shuts down in
/// order (running tasks get their grace period, output is flushed). Writes `serving on URL` on
/// stderr once listening (the real port when 0 was asked for) and one line per connection when
/// it ends (peer, duration, how it ended), whatever the log level. Returns 0 after a signal, 1 when it cannot listen
/// (the reason logged). SIGPIPE is ignored while it runs.
[[nodiscard]] int serve(const url& where, listen_options options, endpoint_factory start);

/// The same with `builder`'s handlers for every connection (each endpoint gets its own copy of
/// them; state they share through captured pointers is shared between connections).
[[nodiscard]] int serve(endpoint_builder& builder, const url& where, listen_options options);

} // namespace acp::net
