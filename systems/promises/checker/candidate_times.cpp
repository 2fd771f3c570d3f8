#include "promises/checker/candidate_times.hpp"

#include "promises/model/predicates.hpp"

namespace seer::promises {

namespace {

void visit_records(const nlohmann::json& j, std::set<std::int64_t>& thresholds,
                   std::set<std::int64_t>& exact) {
  if (j.is_array()) {
    for (const auto& item : j) visit_records(item, thresholds, exact);
    return;
  }
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) {
    if (value.is_number_integer()) {
      if (key == "timeoutAt") thresholds.insert(value.get<std::int64_t>());
      if (key == "createdAt" || key == "settledAt") exact.insert(value.get<std::int64_t>());
    } else {
      visit_records(value, thresholds, exact);
    }
  }
}

}  // namespace

void CandidateTimes::add_create(const PromiseCreateReq& create) {
  thresholds_.insert(create.timeout_at);
  if (const auto d = delay(create.tags)) thresholds_.insert(*d);
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

void CandidateTimes::add_response(const nlohmann::json& data) {
  visit_records(data, thresholds_, exact_);
}

std::vector<std::int64_t> CandidateTimes::candidates() const {
  std::set<std::int64_t> all = exact_;
  auto threshold = [&](std::int64_t t) {
    all.insert(t);
    all.insert(add_time(t, -1));
  };
  for (auto t : thresholds_) threshold(t);
  // A sweep at `s` releases a lease taken at `now` iff s >= now + ttl, and re-sends an execute
  // iff s >= now + RETRY.
  for (auto s : sweeps_) {
    for (auto ttl : ttls_) threshold(add_time(add_time(s, -ttl), 1));
    threshold(add_time(add_time(s, -kRetry), 1));
  }
  return {all.begin(), all.end()};
}

}  // namespace seer::promises
