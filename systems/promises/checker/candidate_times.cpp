#include "promises/checker/candidate_times.hpp"

#include "promises/model/footprint.hpp"
#include "promises/model/predicates.hpp"

namespace seer::promises {

void CandidateTimes::add_create(const PromiseCreateReq& create) {
  auto& d = deadlines_[create.id];
  d.insert(create.timeout_at);
  if (const auto delayed = delay(create.tags)) d.insert(*delayed);
}

void CandidateTimes::add_request(const Request& r) {
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, PromiseCreateReq>) {
          add_create(d);
        } else if constexpr (std::is_same_v<T, TaskCreateReq>) {
          add_create(d.action);
          ttls_.insert(d.ttl);
        } else if constexpr (std::is_same_v<T, TaskAcquireReq>) {
          ttls_.insert(d.ttl);
        } else if constexpr (std::is_same_v<T, TaskFenceReq>) {
          if (const auto* c = std::get_if<PromiseCreateReq>(&d.action)) add_create(*c);
        } else if constexpr (std::is_same_v<T, DebugTickReq>) {
          sweeps_.insert(d.time);
        }
      },
      r.data);
}

std::vector<std::int64_t> CandidateTimes::for_request(const Request& r,
                                                      const Observations& observed) const {
  std::set<std::int64_t> thresholds;
  std::set<std::int64_t> all;
  for (const auto& id : named_ids(r)) {
    if (const auto t = observed.timeout_at(id)) thresholds.insert(*t);
    if (const auto it = deadlines_.find(id); it != deadlines_.end()) {
      thresholds.insert(it->second.begin(), it->second.end());
    }
    const auto exact = observed.exact_times(id);
    all.insert(exact.begin(), exact.end());
  }
  // Preload shows the branch's other promises as viewed at `now` (spec §4 PRELOAD).
  if (r.kind == Kind::task_create || r.kind == Kind::task_acquire || r.kind == Kind::task_suspend) {
    const auto timeouts = observed.all_timeouts();
    thresholds.insert(timeouts.begin(), timeouts.end());
  }
  // A lease taken at `now` is released by a sweep at `s` iff s >= now + ttl; a retry or a resumed
  // awaiter's execute is re-sent iff s >= now + RETRY.
  std::set<std::int64_t> ttls;
  if (const auto* c = std::get_if<TaskCreateReq>(&r.data)) ttls.insert(c->ttl);
  if (const auto* a = std::get_if<TaskAcquireReq>(&r.data)) ttls.insert(a->ttl);
  if (r.kind == Kind::task_heartbeat) ttls = ttls_;
  for (const auto s : sweeps_) {
    for (const auto ttl : ttls) thresholds.insert(add_time(add_time(s, -ttl), 1));
    thresholds.insert(add_time(add_time(s, -kRetry), 1));
  }
  // Behaviour is the same at every time of [t, next threshold) but for the fields that copy
  // `now`, so t stands for the interval: the earliest time constrains what follows least (`now`
  // never goes back). The caller adds the interval below every threshold.
  all.insert(thresholds.begin(), thresholds.end());
  return {all.begin(), all.end()};
}

}  // namespace seer::promises
