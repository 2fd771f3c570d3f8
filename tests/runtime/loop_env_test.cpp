// The real runtime's Env: messages posted from other threads reach the process in order, sends go
// to the outbox, stop() ends the run at the next wait, and Envs given one clock start agree.
#include "seer/runtime/loop_env.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace seer::runtime {
namespace {

struct Note final : sim::Payload {
  explicit Note(int n) : n(n) {}
  std::string_view type() const override { return "note"; }
  nlohmann::json to_json() const override { return {{"n", n}}; }
  int n;
};

// Echoes each note's number + 1 to its sender, until stopped.
sim::Task<void> echo(sim::Env& env) {
  for (;;) {
    auto m = co_await env.receive();
    const auto* note = dynamic_cast<const Note*>(m.body.get());
    env.send(m.from, std::make_shared<Note>(note ? note->n + 1 : -1));
  }
}

TEST(LoopEnv, PostedMessagesAreAnsweredInOrderUntilStopped) {
  std::mutex mutex;
  std::vector<std::pair<sim::ProcessId, int>> sent;
  LoopEnv env(7, "echo", [&](sim::ProcessId to, const sim::PayloadPtr& body) {
    std::lock_guard lock(mutex);
    sent.emplace_back(to, dynamic_cast<const Note&>(*body).n);
  });
  std::thread loop([&] { env.run(echo(env)); });
  for (int i = 0; i < 100; ++i) env.post(3, std::make_shared<Note>(i));
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (sent.size() == 100) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  env.stop();
  loop.join();  // returns: the process waits for a message, where a stop takes effect
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sent[i], std::make_pair(sim::ProcessId{3}, i + 1));
  EXPECT_EQ(env.self(), 7);
}

TEST(LoopEnv, AMessageTheAdmitRefusesNeverReachesTheProcess) {
  std::mutex mutex;
  std::vector<int> sent;
  LoopEnv env(7, "echo", [&](sim::ProcessId, const sim::PayloadPtr& body) {
    std::lock_guard lock(mutex);
    sent.push_back(dynamic_cast<const Note&>(*body).n);
  });
  std::vector<int> offered;  // on the loop's thread only
  env.set_admit([&](const sim::Message& m) {
    const int n = dynamic_cast<const Note&>(*m.body).n;
    offered.push_back(n);
    return n % 2 == 0;  // the odd ones were given up on
  });
  // Queued before the loop runs, so some are taken by try_receive and some after a wait.
  for (int i = 0; i < 10; ++i) env.post(3, std::make_shared<Note>(i));
  std::thread loop([&] { env.run(echo(env)); });
  for (int i = 10; i < 20; ++i) env.post(3, std::make_shared<Note>(i));
  env.post(3, std::make_shared<Note>(21));  // refused last: the process must wait on, not end
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (sent.size() == 10) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  env.stop();
  loop.join();
  std::vector<int> expected;
  for (int i = 0; i < 20; i += 2) expected.push_back(i + 1);
  EXPECT_EQ(sent, expected);
  EXPECT_GE(offered.size(), 19u);  // 19 and 21 may come after the stop
}

TEST(LoopEnv, EnvsGivenOneClockStartShowOneClock) {
  const auto noop = [](sim::ProcessId, const sim::PayloadPtr&) {};
  LoopEnv first(1, "a", noop);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  LoopEnv second(2, "b", noop);
  EXPECT_GE(first.now() - second.now(), sim::milliseconds(20));  // each from its own making
  second.set_clock_start(first.clock_start());
  const auto a = first.now();
  const auto b = second.now();
  EXPECT_LE(a, b);
  EXPECT_LT(b - a, sim::milliseconds(5));
}

}  // namespace
}  // namespace seer::runtime
