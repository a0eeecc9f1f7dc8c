#pragma once
// The conductor's components are the SDK's child processes (acp/sdk/process.hpp): this header
// keeps the conductor's names for them.

#include <acp/conductor/component.hpp>
#include <acp/sdk/process.hpp>

namespace acp::conductor {

using acp::child_process;
using acp::exit_status;
using acp::spawn_error;
using acp::stderr_options;
using acp::stderr_sink;

} // namespace acp::conductor
