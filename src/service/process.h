// What a long-running service process needs around its listeners: enough
// file descriptors, a ready file for whoever started it, and a clean stop
// on SIGINT or SIGTERM.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace vouchsafe::service {

// Every connection holds a file descriptor: under a soft limit below the
// connection caps, accept fails (EMFILE) before the caps and the push-out
// of idle handshakes ever act. Raises the soft limit to the hard one, as
// servers do, and warns on stderr when even that is below `wanted`.
void raise_descriptor_limit(std::size_t wanted);

// Writes the ports, space-separated, once the listeners are up: how
// scripts that asked for port 0 learn the ports.
Status write_ready_file(const std::string& path, const std::vector<unsigned short>& ports);

// Blocks SIGINT and SIGTERM in the calling thread (call it before starting
// threads, so that they inherit the mask) ...
void block_termination_signals();
// ... and waits for one of them.
int wait_for_termination_signal();

}  // namespace vouchsafe::service
