// The trace's service accesses in one shape, whatever the service: who asked, which server event
// it took effect at, what version it saw or wrote, and what the oracle knew. Built from the facts
// the simulated services and systems attach (docs/services.md, docs/trace-format.md).
#pragma once

#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer::explain {

struct Access {
  std::uint64_t event = 0;   // the requester's deliver of the reply (or the drop / lost-reply note)
  std::uint64_t served = 0;  // the server event where it took effect
  int client = kSimLane;
  int server = kSimLane;
  std::string service;
  std::string op;
  std::string scope;  // key, prefix, or "*" (a whole database)
  bool read = false;
  bool write = false;         // took effect as a write (applied / changed rows)
  bool delivered = true;      // the requester got the reply
  bool stale = false;         // the oracle says the reply missed a write
  std::int64_t seen = -1;     // the version a read observed (or the commit index a txn saw)
  std::int64_t written = -1;  // the version a write created
  std::string lost_how;       // when !delivered: "service", "network_drop", "late"
  const nlohmann::json* facts = nullptr;
};

struct TraceIndex {
  std::map<std::uint64_t, std::uint64_t> send_of;     // message id -> its send event
  std::map<std::uint64_t, std::uint64_t> deliver_of;  // message id -> its first delivery
  std::map<std::uint64_t, std::uint64_t> drop_of;     // message id -> its drop
  std::vector<Access> accesses;                       // in event order
};

TraceIndex index_trace(const Trace& trace);

// The server's delivery of the request that `reply_or_note` (a reply's send, or a service's note
// about a request) answers: the latest earlier delivery on the same lane with the same request
// number (and label or key, which tell apart clients that number their requests alike). 0 if none.
std::uint64_t request_of(const Trace& trace, std::uint64_t reply_or_note);

}  // namespace seer::explain
