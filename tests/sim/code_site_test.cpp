// A traced run names the algorithm's line behind each of its events ("at"): the send, the receive
// a delivery woke, the wait a timer ended, the disk access. The line is never part of the run's
// hash: moving code changes no run.
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

namespace seer::sim {
namespace {

struct Note : Payload {
  std::string_view type() const override { return "note"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

RunConfig traced() {
  RunConfig c;
  c.seed = 7;
  c.faults = std::vector<FaultKind>{};
  c.record_trace = true;
  return c;
}

std::string here(int line) {
  return std::string(__FILE__) + ":" + std::to_string(line);
}

// The "at" of each event of `process`, by kind, in order.
std::multimap<std::string, std::string> sites_of(const RunResult& r, const std::string& process) {
  std::multimap<std::string, std::string> out;
  for (const auto& text : r.trace_lines) {
    const auto j = nlohmann::json::parse(text);
    if (j.value("process", "") != process) continue;
    out.emplace(j.value("kind", ""), j.value("at", ""));
  }
  return out;
}

struct Lines {
  int send = 0, receive = 0, sleep = 0, put = 0, get = 0, sync = 0, timeout = 0;
};

TEST(CodeSite, TracedEventsNameTheLineOfTheCallBehindThem) {
  Simulator sim(traced());
  Lines at;
  const ProcessId echo = sim.add_process("echo", [&](Env& env) -> Task<void> {
    at.receive = __LINE__ + 1;
    auto m = co_await env.receive();
    at.send = __LINE__ + 1;
    env.send(m.from, make_payload<Note>());
  });
  sim.add_process("asker",
                  [&, echo](Env& env) -> Task<void> {
                    env.send(echo, make_payload<Note>());
                    co_await env.receive();
                    at.sleep = __LINE__ + 1;
                    co_await env.sleep(milliseconds(1));
                    at.put = __LINE__ + 1;
                    env.storage().put("k", "v");
                    at.get = __LINE__ + 1;
                    (void)env.storage().get("k");
                    at.sync = __LINE__ + 1;
                    co_await env.sync();
                    at.timeout = __LINE__ + 1;
                    co_await env.receive_for(milliseconds(1));
                  },
                  {.crashable = false, .client = true});
  const auto r = sim.run();
  ASSERT_TRUE(r.ok());
  const auto echo_sites = sites_of(r, "echo");
  // The request reached echo while it waited in receive(): the delivery names that receive.
  EXPECT_EQ(echo_sites.find("deliver")->second, here(at.receive));
  EXPECT_EQ(echo_sites.find("send")->second, here(at.send));
  const auto asker = sites_of(r, "asker");
  EXPECT_EQ(asker.find("storage_write")->second, here(at.put));
  EXPECT_EQ(asker.find("storage_read")->second, here(at.get));
  EXPECT_EQ(asker.find("storage_sync")->second, here(at.sync));
  std::vector<std::string> timers;
  for (auto [it, end] = asker.equal_range("timer"); it != end; ++it) timers.push_back(it->second);
  EXPECT_EQ(timers, (std::vector<std::string>{here(at.sleep), here(at.timeout)}));
}

// Two processes that do the same thing from different lines make the same run: the hash leaves
// the lines out (a trace's "at" moves with every edit of the code; what a seed means must not).
Task<void> source_one(Env& env, ProcessId sink) {
  env.send(sink, make_payload<Note>());
  co_await env.sleep(milliseconds(1));
}

// source_one again, its calls on other lines.
Task<void> source_two(Env& env, ProcessId sink) {
  env.send(sink, make_payload<Note>());

  co_await env.sleep(milliseconds(1));
}

TEST(CodeSite, LinesAreNotPartOfTheRunsHash) {
  auto run = [](Task<void> (*source)(Env&, ProcessId)) {
    Simulator sim(traced());
    const ProcessId sink = sim.add_process("sink", [](Env& env) -> Task<void> {
      for (;;) co_await env.receive();
    });
    sim.add_process("source", [source, sink](Env& env) { return source(env, sink); },
                    {.crashable = false, .client = true});
    return sim.run();
  };
  const auto a = run(&source_one);
  const auto b = run(&source_two);
  EXPECT_NE(a.trace_lines, b.trace_lines);  // the send's and the timer's "at" differ
  EXPECT_EQ(a.trace_hash, b.trace_hash);
}

}  // namespace
}  // namespace seer::sim
