// The times an operation whose `now` the history does not record could have been applied at, as
// far as the rest of the history can tell. The model's behaviour as a function of `now` is
// piecewise constant between the deadlines the operation's ids and the partition's sweeps define,
// except for the fields that copy `now` (createdAt, settledAt), which the responses reveal. So one
// time in every interval between thresholds (its earliest: `now` never goes back, so an earlier
// time constrains the operations after it less), plus every time a response shows for the ids the
// operation names, covers every distinguishable choice.
#pragma once

#include "promises/checker/observations.hpp"
#include "promises/model/request.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace seer::promises {

class CandidateTimes {
 public:
  // Partition-wide facts from a request: sweep times, lease lengths, requested deadlines.
  void add_request(const Request& request);
  // The thresholds and the times responses show, sorted and distinct; the interval below them all
  // is the caller's to add (it starts at the last time applied).
  std::vector<std::int64_t> for_request(const Request& request, const Observations& observed) const;
  // The same, given the ids the request names (named_ids), already known to the caller; only those
  // before `below` (a known `now`'s earlier executions need no later times: they are not gathered).
  std::vector<std::int64_t> for_request(
      const Request& request, const std::vector<std::string>& ids, const Observations& observed,
      std::int64_t below = std::numeric_limits<std::int64_t>::max()) const;

 private:
  void add_create(const PromiseCreateReq& create);
  std::set<std::int64_t> sweeps_;
  std::set<std::int64_t> ttls_;
  std::map<std::string, std::set<std::int64_t>> deadlines_;  // id -> requested timeoutAt, delay
};

}  // namespace seer::promises
