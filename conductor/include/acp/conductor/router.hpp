#pragma once
// The conductor: one hub between the editor (or a parent conductor) and a chain of components.
//
// Routing follows docs/PROTOCOL.md §4 exactly. Every forwarding decision — requests, notifications
// and responses — is made in one serialized loop: each connection's reader hands its messages
// to the router synchronously, in arrival order, and every send only queues on the target's
// FIFO writer (§4.4). Components are spawned lazily on the first `initialize`; a component is
// sent nothing else until it has answered its `initialize`.
//
// Lifecycle (§6): a component that exits or breaks its link fails every request waiting on it
// and every editor request in flight (-32603, data naming the component, its exit status and
// stderr tail), then the chain shuts down and `run` returns 1. End of the editor's input or
// SIGINT/SIGTERM: pending editor requests fail (-32603, data.reason "incoming_transport_closed"),
// output is flushed, turns in flight get `session/cancel` down the chain (at most the grace period
// to end them), children get EOF, the grace period, SIGTERM, SIGKILL and are read until they
// exit; `run` returns 0.

#include <acp/conductor/options.hpp>
#include <acp/sdk/transport.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace acp::conductor {

class router;

/// Runs a conductor on `upstream` (the editor's link, or the parent conductor's in proxy mode)
/// until the chain ends. Returns the exit code.
[[nodiscard]] int run(const conductor_options& options, transport_ptr upstream);

/// Test seam (fuzzing and in-process tests): starts a conductor on `io` whose component k is the
/// in-process link `components[k]` instead of a spawned `options.components[k]` (only the specs'
/// names are used). Nothing is spawned, no signal is handled, no trace is written. The caller runs
/// `io`; the chain ends as `run` describes (a link closing plays a component exiting), after
/// which the router stops `io`. The returned handle keeps the router alive.
[[nodiscard]] std::shared_ptr<router> start_in_process(boost::asio::io_context& io, const conductor_options& options,
                                                       transport_ptr upstream, std::vector<transport_ptr> components);

/// Runs on this process's stdin/stdout, with SIGINT/SIGTERM handling.
[[nodiscard]] int run_stdio(const conductor_options& options);

} // namespace acp::conductor
