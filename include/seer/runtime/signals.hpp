// Running a node as a service: until SIGINT or SIGTERM.
#pragma once

#include "seer/runtime/tcp_node.hpp"

namespace seer::runtime {

// Blocks SIGINT and SIGTERM in the calling thread. Call it before making the TcpNode, so that its
// network thread inherits the mask and the signals reach run_until_signalled's waiter.
void block_stop_signals();
// Runs the node's process until it ends or SIGINT or SIGTERM arrives; a signal stops the node at
// the process's next wait. Rethrows what the process threw.
void run_until_signalled(TcpNode& node, sim::Task<void> process);

}  // namespace seer::runtime
