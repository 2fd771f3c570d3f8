// A crash ends a process's life and discards what it had read: explain never ties a read made in
// one life to a write the process made in a later one (docs/explain.md, the read causes).
#include "seer/explain/explain.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::explain {
namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

bool has(const Cause& c, std::uint64_t event) {
  return std::find(c.events.begin(), c.events.end(), event) != c.events.end();
}

// The causes that say the write at #17 or #21 was decided on the read delivered at #7.
std::vector<const Cause*> read_to_write_links(const Explanation& x) {
  std::vector<const Cause*> out;
  for (const auto& c : x.causes) {
    if (has(c, 7) && (has(c, 17) || has(c, 21))) out.push_back(&c);
  }
  return out;
}

// traces/read_before_crash.jsonl, written by hand: relay reads `outbox` (["o-4"], delivered at
// #7), shop puts ["o-4", "o-5"] there (#10), relay crashes (#12) and restarts (#13), and the new
// life writes `published` = "o-4" (#17) and clears `outbox` (#21) without reading it again. The
// read died with the first life: neither write carried it or was decided on it.
TEST(CrashLives, AReadBeforeACrashIsNotWhatTheNextLifeWroteOn) {
  const auto trace = testing::parse(testing::hand_written("read_before_crash.jsonl"));
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  for (const auto* c : read_to_write_links(x)) ADD_FAILURE() << c->kind << ": " << c->summary;
}

// The same trace with the crash and restart turned into sleeps: one life, so the read is what
// those writes were decided on, and explain says so (a copy of an overtaken read, a lost update).
TEST(CrashLives, WithoutTheCrashTheSameReadIsLinkedToTheWrites) {
  auto text = testing::hand_written("read_before_crash.jsonl");
  replace_all(text, R"("kind": "crash")", R"("kind": "timer", "timer": "sleep")");
  replace_all(text, R"("kind": "restart")", R"("kind": "timer", "timer": "sleep")");
  const auto trace = testing::parse(text);
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  std::vector<std::string> kinds;
  for (const auto* c : read_to_write_links(x)) kinds.push_back(c->kind);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "stale_derived_write"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "outdated_read"), kinds.end());
}

}  // namespace
}  // namespace seer::explain
