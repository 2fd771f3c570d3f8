// What a history's responses showed about each promise, as facts every linearization must agree
// with: a promise's creation fields never change once it exists (spec T2) and its settlement never
// changes once settled (T3), so a state in which a promise has other such fields than a response
// showed can never lead to that response, in any order. The checker drops such states at once
// instead of discovering the contradiction operations later.
#pragma once

#include "promises/model/state.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::promises {

class Observations {
 public:
  // Every promise record in an ok response's data (promise, preload, a fence's inner response).
  // The records are read in place: `data` must outlive this.
  void add_response(const nlohmann::json& data);
  // False if `state` contradicts a fact.
  bool consistent(const State& state) const;
  // consistent(to), for a `to` reached from a consistent `from`: only the promises that differ
  // are compared with the facts (building a promise's JSON costs more than comparing it).
  bool consistent_after(const State& from, const State& to) const;

  // Times the facts show for a promise (createdAt, settledAt), and its timeoutAt.
  std::set<std::int64_t> exact_times(const std::string& id) const;
  std::optional<std::int64_t> timeout_at(const std::string& id) const;
  // Every promise's timeoutAt (kept as records are added: asked for often).
  const std::set<std::int64_t>& all_timeouts() const { return timeouts_; }
  // Appends timeout_at(id) and exact_times(id), with one lookup and no set (the caller sorts).
  void append_times(const std::string& id, std::vector<std::int64_t>& out) const;

 private:
  // The records that showed them, read in place: the responses outlive their observations.
  struct Facts {
    const nlohmann::json* creation = nullptr;    // its param, tags, timeoutAt, createdAt
    const nlohmann::json* settlement = nullptr;  // its state, value, settledAt
  };
  void add_record(const nlohmann::json& record);
  static bool fits(const Facts& f, const Promise& p);
  std::map<std::string, Facts> facts_;
  std::set<std::int64_t> timeouts_;
};

}  // namespace seer::promises
