// Checking a keyed history's partitions in rounds of doubling step budgets.
//
// Checked one key after another, a history whose first key needs hours and whose second breaks in
// a millisecond takes hours (or gives up) on one thread, and answers at once on two: the verdict
// and the key named would depend on --jobs. Porcupine stops at the first broken partition any of
// its goroutines finds, so its answer depends on timing. In rounds, each key that is not settled
// gets a budget of search steps that doubles every round, and the rounds stop after the first one
// in which a key was found broken: the key reported is the one broken at the smallest budget (the
// first in key order among those of that round), whatever the number of threads. A search is
// deterministic, so how many steps it needs does not depend on when it ran.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace seer::check {

// What one task's turn in a round came to.
enum class Turn {
  kPending,   // spent its budget without settling: it gets twice as much next round
  kSettled,   // no more turns for it
  kDecisive,  // settled, and it settles the whole run: no round after this one
};

// A round: the budget of each turn in it, and how many tasks have a turn.
struct Round {
  std::uint64_t budget = 0;
  std::size_t tasks = 0;
};

struct RoundsOptions {
  unsigned jobs = 1;                      // threads; the rounds' outcome does not depend on it
  std::uint64_t first_budget = 1u << 12;  // round 0's budget; round r's is first_budget * 2^r
  // No round, and no turn, starts past it (a turn must watch it too, to stop in the middle).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Calls `turn(task, round)` for each task not yet settled, in rounds, on `jobs` threads; every
// task of a round has its turn before the next round starts. Returns when every task is settled,
// after a round with a decisive turn, or at the deadline. A turn that throws ends the rounds: no
// turn starts after it, and once the running turns are over the exception of the first task in
// task order is rethrown (the one a single thread would have met first).
void run_in_rounds(std::size_t tasks, const RoundsOptions& options,
                   const std::function<Turn(std::size_t task, const Round& round)>& turn);

}  // namespace seer::check
