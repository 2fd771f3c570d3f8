#include "rounds.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

namespace seer::check {

namespace {

// One round: every task in `pending` has its turn. True if a turn was decisive.
bool run_round(const std::vector<std::size_t>& pending, const Round& round,
               const RoundsOptions& options,
               const std::function<Turn(std::size_t, const Round&)>& turn,
               std::vector<char>& settled, std::vector<std::exception_ptr>& errors) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> decisive{false};
  auto worker = [&] {
    for (std::size_t k; !failed.load() && (k = next.fetch_add(1)) < pending.size();) {
      if (std::chrono::steady_clock::now() > options.deadline) return;
      const std::size_t task = pending[k];
      try {
        const Turn t = turn(task, round);
        if (t != Turn::kPending) settled[task] = 1;
        if (t == Turn::kDecisive) decisive.store(true);
      } catch (...) {
        errors[task] = std::current_exception();
        failed.store(true);
      }
    }
  };
  const unsigned jobs =
      std::max(1u, std::min<unsigned>(options.jobs, static_cast<unsigned>(pending.size())));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return decisive.load();
}

}  // namespace

void run_in_rounds(std::size_t tasks, const RoundsOptions& options,
                   const std::function<Turn(std::size_t task, const Round& round)>& turn) {
  std::vector<char> settled(tasks, 0);  // per task, written only by the thread running its turn
  std::vector<std::exception_ptr> errors(tasks);
  std::uint64_t budget = std::max<std::uint64_t>(1, options.first_budget);
  for (;;) {
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < tasks; ++i) {
      if (!settled[i]) pending.push_back(i);
    }
    if (pending.empty() || std::chrono::steady_clock::now() > options.deadline) return;
    const bool decisive =
        run_round(pending, Round{budget, pending.size()}, options, turn, settled, errors);
    for (const auto& error : errors) {
      if (error) std::rethrow_exception(error);
    }
    if (decisive) return;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    budget = budget > kMax / 2 ? kMax : budget * 2;
  }
}

}  // namespace seer::check
