// A liveness violation's own question: not "what broke" but "what never happened, and why did
// nothing make it happen". Read from the trace alone: the heal, the awaited entity's last event,
// what the process behind it did next, and what the faults took (a crash, a lost message).
#pragma once

#include "accesses.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"
#include "unanswered.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace seer::explain {

// Pattern forgotten (forgotten_sweep.cpp): a process that visited the awaited entity's key on its
// own (a read made for no request it was serving: a sweep, a scan) until `last_visit`, then never
// again, while it kept going: it read listings that still showed the key and visited other keys.
struct Forgotten {
  int lane = -1;
  std::string key;               // what it stopped visiting ("p/o2")
  std::uint64_t last_visit = 0;  // its last visit's request send
  std::uint64_t last_reply = 0;  // that visit's reply delivery (0: none)
  std::size_t visits = 0;        // its visits of the key on its own, in all
  // After the last visit: its reads of listings that still named the key (their reply deliveries)
  // and its visits of other keys (their request sends); how many of each came after the heal.
  std::vector<std::uint64_t> listings;
  std::vector<std::uint64_t> other_visits;
  std::vector<std::string> other_keys;
  std::size_t after_heal = 0;
  // Other processes that stopped visiting it the same way, each with its last visit.
  std::vector<std::pair<int, std::uint64_t>> also;
};

struct Stuck {
  nlohmann::json json;              // Explanation::stuck
  std::uint64_t last_progress = 0;  // the awaited entity's last event (0: nothing touched it)
  // Pattern holder_crashed: the process that held the entity, its last event on it, its crash.
  int holder = -1;
  std::uint64_t holder_last = 0;
  std::uint64_t holder_crashed = 0;
  // Pattern kept_alive: the process that held the entity and only renewed it after an operation on
  // it got no answer; that operation's invoke and its outcome (its complete, or the invoke), the
  // renewals' first and last invoke and how many there were.
  int keeper = -1;
  std::uint64_t attempt = 0;
  std::uint64_t attempt_outcome = 0;
  std::uint64_t renewal_first = 0;
  std::uint64_t renewal_last = 0;
  std::size_t renewals = 0;
  std::optional<Forgotten> forgotten;
  // Pattern unanswered: the peer that received the waiter's requests and answered none.
  std::optional<Unanswered> unanswered;
  // The process whose causes tell the entity's story: the crashed holder, else the keeper, else
  // the process that forgot it, else the peer that never answered.
  int holder_lane() const {
    if (holder >= 0) return holder;
    if (keeper >= 0) return keeper;
    if (forgotten) return forgotten->lane;
    return unanswered ? unanswered->peer : -1;
  }
};

// Whether the trace's violation is a liveness property's.
bool is_liveness_violation(const nlohmann::json& violation);

// `entity` is the awaited one (the property's first named entity); `touching` every event that
// touched it, of the whole run; `horizon` the violation's event. Patterns: holder_crashed (whoever
// changed it last crashed before changing it again), message_lost (the last thing about it was a
// message that never arrived), left_as_is (processes looked at it after the heal and none changed
// it), no_convergence (it kept changing after the heal), abandoned (nothing touched it after the
// heal), never_touched, kept_alive (the process holding it only renewed it after an operation
// on it got no answer: it neither finished it nor let it go), forgotten (a process that visited
// its key on its own stopped visiting it while it kept visiting others: find_forgotten),
// unanswered (after the heal a process kept asking a peer that received every request and
// answered none: unanswered.hpp).
Stuck explain_stuck(const Trace& trace, const TraceIndex& index, const std::string& entity,
                    const std::set<std::uint64_t>& touching, std::uint64_t horizon);

// A liveness violation that names no entity the run has (pattern `unnamed`): the heal, which
// processes still worked after it and their last event, which stayed down, and how a check names
// what it waits for. `last_progress` is the last event after the heal (0: none).
Stuck explain_unnamed_stuck(const Trace& trace, std::uint64_t horizon);

// The cause a holder_crashed pattern is (kind crash_lost_data): the holder's last event on
// `entity` and its crash; nullopt for any other pattern.
std::optional<Cause> holder_crash_cause(const Trace& trace, const Stuck& stuck,
                                        const std::string& entity);

// The cause an unanswered pattern is (kind unanswered); nullopt for any other pattern.
std::optional<Cause> unanswered_stuck_cause(const Trace& trace, const Stuck& stuck,
                                            const std::string& entity);

// The cause a kept_alive pattern is (kind kept_alive): the unanswered operation and the renewals
// that followed; nullopt for any other pattern.
std::optional<Cause> kept_alive_cause(const Trace& trace, const Stuck& stuck,
                                      const std::string& entity);

// Pattern forgotten: of the processes that visited a key naming `entity` on their own (its
// replies touched it, or the key names it), then never again up to `horizon` while they went on
// (at least two listings that still named the key, or two visits of other keys, one of them after
// the heal), the one whose last visit came last. A forgetting leaves no event of its own: a sweep
// that drops a key from its in-memory set just never visits it again.
std::optional<Forgotten> find_forgotten(const Trace& trace, const TraceIndex& index,
                                        const std::string& entity,
                                        const std::set<std::uint64_t>& touching, std::uint64_t heal,
                                        std::uint64_t horizon);

// The cause a forgotten pattern is (kind forgotten_sweep): the last visit, what the process went
// on to do instead; nullopt for any other pattern.
std::optional<Cause> forgotten_cause(const Trace& trace, const Stuck& stuck,
                                     const std::string& entity);

}  // namespace seer::explain
