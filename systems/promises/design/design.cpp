#include "design.hpp"

#include <stdexcept>

namespace seer::promises::design {

const std::vector<Variant>& variants() {
  static const std::vector<Variant> all = {
      {"naive", false, false, false},
      {"cas", true, false, false},
      {"validated", true, true, false},
      // The partition clock without fenced connections: what final was until seed 28175.
      {"clocked", true, true, true},
      {"final", true, true, true, false, true},
      // The final design on the concrete SQL: every read is of the latest commit, so no
      // validation read; the guard is the compare-and-set.
      {"final-sql", true, false, true, true, true},
      // final with a sweep that only visits origins this server wrote since their last sweep
      // found nothing due: safe, but timeouts due later are forgotten (timeouts-settle).
      {"dirty-sweep", true, true, true, false, true, true},
      // final with a worker that keeps heartbeating a task whose call got no answer: safe, and
      // its lease never expires, but the task never finishes (tasks-progress).
      {"sticky-worker", true, true, true, false, true, false, true},
      // final with applications that register a listener once and never again: a lost unblock
      // leaves the awaiting application waiting forever (listeners-learn).
      {"listen-once", true, true, true, false, true, false, false, true},
      // The native target's design (native.hpp): the protocol inside the database, one
      // transaction a request under the origin's lock, an outbox drained by the nodes.
      {.name = "native",
       .partition_clock = true,
       .sql = true,
       .fenced_connections = true,
       .native = true},
      // native with process_timeouts() reading due rows without the origin's lock: its write
      // lands after other sessions' commits to the origin and undoes them.
      {.name = "native-unlocked",
       .partition_clock = true,
       .sql = true,
       .fenced_connections = true,
       .native = true,
       .unlocked_sweep = true},
  };
  return all;
}

const Variant& variant_named(const std::string& name) {
  for (const auto& v : variants())
    if (v.name == name) return v;
  throw std::invalid_argument("unknown promises variant '" + name + "'");
}

std::string unicast_address(const std::string& group, const std::string& name) {
  return "poll://uni@" + group + "/" + name;
}

}  // namespace seer::promises::design
