#include "promises/checker/candidate_times.hpp"

#include "promises/model/footprint.hpp"
#include "promises/model/predicates.hpp"

#include <algorithm>
#include <optional>

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
                                                      const Observations& observed,
                                                      std::int64_t below) const {
  // Every threshold and every time shown (before `below`), gathered then sorted once (cheaper than
  // sets).
  std::vector<std::int64_t> all;
  auto add = [&](std::int64_t t) {
    if (t < below) all.push_back(t);
  };
  for (const auto& id : ids) {
    observed.append_times(id, all);  // its timeoutAt and the times responses show
    if (const auto it = deadlines_.find(id); it != deadlines_.end()) {
      for (const auto t : it->second) add(t);
    }
  }
  if (below != std::numeric_limits<std::int64_t>::max()) {
    all.erase(std::remove_if(all.begin(), all.end(), [&](std::int64_t t) { return t >= below; }),
              all.end());
  }
  // Preload shows the branch's other promises as viewed at `now` (spec §4 PRELOAD).
  if (r.kind == Kind::task_create || r.kind == Kind::task_acquire || r.kind == Kind::task_suspend) {
    for (const auto t : observed.all_timeouts()) add(t);
  }
  // A lease taken at `now` is released by a sweep at `s` iff s >= now + ttl; a retry or a resumed
  // awaiter's execute is re-sent iff s >= now + RETRY. The request's own lease length, if any (a
  // create's or an acquire's; a heartbeat's leases are any the partition took).
  std::optional<std::int64_t> own_ttl;
  if (const auto* c = std::get_if<TaskCreateReq>(&r.data)) own_ttl = c->ttl;
  if (const auto* a = std::get_if<TaskAcquireReq>(&r.data)) own_ttl = a->ttl;
  for (const auto s : sweeps_) {
    if (r.kind == Kind::task_heartbeat) {
      for (const auto ttl : ttls_) add(add_time(add_time(s, -ttl), 1));
    } else if (own_ttl) {
      add(add_time(add_time(s, -*own_ttl), 1));
    }
    add(add_time(add_time(s, -kRetry), 1));
  }
  // Behaviour is the same at every time of [t, next threshold) but for the fields that copy
  // `now`, so t stands for the interval: the earliest time constrains what follows least (`now`
  // never goes back). The caller adds the interval below every threshold.
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace seer::promises
