// The times an operation whose `now` the history does not record could have been applied at, as
// far as the rest of the history can tell: the model's behaviour as a function of `now` is
// piecewise constant between deadlines, except for the fields that copy `now` (createdAt,
// settledAt), which later responses reveal. So one time on each side of every threshold, plus
// every time a response shows, covers every distinguishable choice.
#pragma once

#include "promises/model/request.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <vector>

namespace seer::promises {

class CandidateTimes {
 public:
  // Deadlines a request names: a create's timeoutAt and resonate:delay, lease lengths, sweep times.
  void add_request(const Request& request);
  // Times a response shows: every record's timeoutAt (a threshold), createdAt and settledAt.
  void add_response(const nlohmann::json& data);
  // Sorted, distinct.
  std::vector<std::int64_t> candidates() const;

 private:
  void add_create(const PromiseCreateReq& create);
  std::set<std::int64_t> thresholds_;  // behaviour changes at t: candidates t - 1 and t
  std::set<std::int64_t> exact_;       // times that may have been copied from `now`
  std::set<std::int64_t> ttls_;
  std::set<std::int64_t> sweeps_;
};

}  // namespace seer::promises
