// A liveness pattern read from messages alone: after the heal, a waiting process kept sending one
// kind of request to a peer that received every copy and answered none, while that kind of
// request is answered elsewhere in the run (so it is a request, not a one-way notice). The peer is
// up and reachable (the heal saw to that): its handling of that request drops the answer, and the
// waiter can only send again. No name of any system is assumed.
#pragma once

#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

struct Unanswered {
  int waiter = kSimLane;                 // who kept asking
  int peer = kSimLane;                   // who received and never answered
  std::string type;                      // the request's payload type
  std::vector<std::uint64_t> received;   // the peer's deliveries of it after the heal
  std::uint64_t answered_elsewhere = 0;  // a delivery of that type answered in the run (0: none)
  std::string answered_type;  // another request of the waiter's the peer did answer, if any
  std::uint64_t answered_example = 0;  // that answer's send
};

// The waiter among `waiters` and the peer with the most unanswered deliveries of one request type
// after event `after` (the heal) up to `horizon`; none answered, and at least two of them one
// after the other (the waiter asked again with nothing from the peer in between). A
// delivery is answered when its receiver sends to the sender before the sender's next message to
// it arrives (or before `horizon`).
std::optional<Unanswered> find_unanswered(const Trace& trace, const std::set<int>& waiters,
                                          std::uint64_t after, std::uint64_t horizon);

// The cause (kind unanswered): the peer's last unanswered delivery first, then its first, then
// the waiter's last send; `process` is the peer.
Cause unanswered_cause(const Trace& trace, const Unanswered& u, const std::string& entity);

// The sentence the stuck analysis puts first.
std::string unanswered_text(const Trace& trace, const Unanswered& u, const std::string& entity);

}  // namespace seer::explain
