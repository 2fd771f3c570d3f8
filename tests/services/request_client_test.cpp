// The one client loop behind the four service clients (request_client.hpp): a crashable process
// that numbers each life's requests from a random start never takes a late reply to its previous
// life's request for the answer to a new one, and messages that are not replies are kept in the
// stash. The runs are replays of hand-written fault schedules, so every time below is exact.
#include "seer/services/queue.hpp"
#include "seer/sim/schedule.hpp"
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>

namespace seer::services::request_client_test {
namespace {

using sim::milliseconds;

struct Ping : sim::Payload {
  std::string_view type() const override { return "ping"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

// What the consumer's second life saw (test bookkeeping).
struct Seen {
  int lives = 0;
  bool done = false;
  QueueResult second_receive;
  std::deque<sim::Message> stash;
};

// Life 1 receives the job and acks it at 3 ms; the schedule holds the ack's reply in the network
// for 30 ms and crashes the consumer at 10 ms (restart at 11 ms). Life 2 receives once (nothing
// there), then again at 33 ms: the ack's late reply arrives at 33.5 ms, the second receive's own
// reply at 34 ms. Numbered from 1 in every life, the second receive has the ack's number.
sim::Task<void> consume(sim::Env& env, sim::ProcessId queue, bool random_first,
                        std::shared_ptr<Seen> seen) {
  const bool first_life = seen->lives++ == 0;
  QueueClient q(env, queue, milliseconds(50), &seen->stash, random_first ? env.random() : 1);
  if (first_life) {
    co_await env.sleep(milliseconds(2));
    const auto got = co_await q.receive();
    if (got.found) co_await q.ack(got.message_id);
    co_return;
  }
  co_await q.receive();
  co_await env.sleep(milliseconds(33) - env.now());
  seen->second_receive = co_await q.receive();
  seen->done = true;
}

sim::Task<void> drive(sim::Env& env, sim::ProcessId queue, sim::ProcessId consumer) {
  QueueClient q(env, queue, milliseconds(50));
  const nlohmann::json job = {{"job", 1}};
  co_await q.enqueue(job);
  co_await env.sleep(milliseconds(32) - env.now());
  // Arrives at 32.5 ms: the second receive finds it waiting.
  env.send(consumer, std::make_shared<Ping>());
  co_await env.sleep(milliseconds(100));
}

std::shared_ptr<Seen> run(bool random_first) {
  sim::FaultSchedule schedule;
  schedule.latencies.push_back({"queue", "consumer", 1, milliseconds(30)});  // the ack's reply
  schedule.crashes.push_back({"consumer", milliseconds(10), milliseconds(1)});
  sim::RunConfig config;
  config.faults = std::vector<sim::FaultKind>{};
  config.schedule = std::make_shared<const sim::FaultSchedule>(schedule);
  sim::Simulator sim(config);
  auto seen = std::make_shared<Seen>();
  const auto queue = add_queue_service(sim, "queue");
  const auto consumer = sim.add_process("consumer", [&, random_first](sim::Env& env) {
    return consume(env, queue.process, random_first, seen);
  });
  sim.add_process("driver", [&](sim::Env& env) { return drive(env, queue.process, consumer); },
                  {.crashable = false, .client = true});
  const auto result = sim.run();
  EXPECT_TRUE(result.ok()) << result.violation->message;
  EXPECT_EQ(seen->lives, 2);
  EXPECT_TRUE(seen->done);
  return seen;
}

// Without a fresh start per life the scenario is real: the second life's receive takes the first
// life's ack reply (found, but no body: the crash that jobs consumers hit).
TEST(RequestClient, NumberedFromOneEachLifeTakesThePreviousLifesLateReply) {
  const auto seen = run(false);
  EXPECT_TRUE(seen->second_receive.found);
  EXPECT_TRUE(seen->second_receive.body.is_null());
}

TEST(RequestClient, RandomFirstRequestNeverMatchesAPreviousLifesReply) {
  const auto seen = run(true);
  EXPECT_FALSE(seen->second_receive.timed_out);
  EXPECT_FALSE(seen->second_receive.found);  // the queue is empty: life 1 acked the job
}

// The queue client used to drop every message that was not its reply; a process that serves
// requests while it uses the queue keeps them in its stash.
TEST(RequestClient, MessagesThatAreNotRepliesGoToTheStash) {
  const auto seen = run(true);
  ASSERT_EQ(seen->stash.size(), 1u);
  EXPECT_NE(seen->stash.front().as<Ping>(), nullptr);
}

}  // namespace
}  // namespace seer::services::request_client_test
