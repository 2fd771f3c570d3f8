#include "promises/checker/candidate_times.hpp"

#include "promises/model/footprint.hpp"
#include "promises/model/predicates.hpp"

#include <algorithm>

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
  return for_request(r, named_ids(r), observed);
}

std::vector<std::int64_t> CandidateTimes::for_request(const Request& r,
                                                      const std::vector<std::string>& ids,
                                                      const Observations& observed) const {
  // Every threshold and every time shown, gathered then sorted once (cheaper than sets).
  std::vector<std::int64_t> all;
  for (const auto& id : ids) {
    observed.append_times(id, all);  // its timeoutAt and the times responses show
    if (const auto it = deadlines_.find(id); it != deadlines_.end()) {
      all.insert(all.end(), it->second.begin(), it->second.end());
    }
  }
  // Preload shows the branch's other promises as viewed at `now` (spec §4 PRELOAD).
  if (r.kind == Kind::task_create || r.kind == Kind::task_acquire || r.kind == Kind::task_suspend) {
    const auto& timeouts = observed.all_timeouts();
    all.insert(all.end(), timeouts.begin(), timeouts.end());
  }
  // A lease taken at `now` is released by a sweep at `s` iff s >= now + ttl; a retry or a resumed
  // awaiter's execute is re-sent iff s >= now + RETRY.
  std::set<std::int64_t> ttls;
  if (const auto* c = std::get_if<TaskCreateReq>(&r.data)) ttls.insert(c->ttl);
  if (const auto* a = std::get_if<TaskAcquireReq>(&r.data)) ttls.insert(a->ttl);
  const std::set<std::int64_t>& lease_ttls = r.kind == Kind::task_heartbeat ? ttls_ : ttls;
  for (const auto s : sweeps_) {
    for (const auto ttl : lease_ttls) all.push_back(add_time(add_time(s, -ttl), 1));
    all.push_back(add_time(add_time(s, -kRetry), 1));
  }
  // Behaviour is the same at every time of [t, next threshold) but for the fields that copy
  // `now`, so t stands for the interval: the earliest time constrains what follows least (`now`
  // never goes back). The caller adds the interval below every threshold.
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace seer::promises
