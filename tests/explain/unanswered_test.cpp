// The `unanswered` liveness pattern: after the heal a process kept asking a peer that received
// every request and answered none, though that request is answered elsewhere in the run. Checked
// on a small design of its own (a store that ignores a put it already has) and on the register's
// acks-only-newer variant, whose final read never returns.
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/sim/system.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

namespace seer::explain::unanswered_test {
namespace {

struct Put final : sim::Payload {
  explicit Put(std::string k) : key(std::move(k)) {}
  std::string key;
  std::string_view type() const override { return "put"; }
  nlohmann::json to_json() const override { return {{"key", key}}; }
};
struct Ping final : sim::Payload {
  std::string_view type() const override { return "ping"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};
struct Done final : sim::Payload {
  explicit Done(std::string k) : key(std::move(k)) {}
  std::string key;
  std::string_view type() const override { return "done"; }
  nlohmann::json to_json() const override { return {{"key", key}}; }
};

struct Confirmed {
  std::set<std::string> keys;  // what the final writer had acknowledged
};

// A store that acknowledges a put only the first time it sees the key (the bug: a retry of a put
// whose acknowledgement was lost, or a re-put, is silence). A client puts keys; once the faults
// stop, a final writer (a process the heal starts) re-puts them all and waits for each answer.
class IgnoringStore final : public sim::System {
 public:
  explicit IgnoringStore(std::shared_ptr<Confirmed> confirmed) : confirmed_(std::move(confirmed)) {}
  sim::SystemInfo info() const override {
    return {"test-ignoring-store", "", {"naive"}, {}, {}, {}, {}, {{"final-puts-confirmed", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    *confirmed_ = {};
    const auto store = sim.host("store", [](sim::Env& env) -> sim::Task<void> {
      std::set<std::string> have;
      for (;;) {
        const auto m = co_await env.receive();
        if (m.as<Ping>()) env.send(m.from, sim::make_payload<Ping>());
        if (const auto* put = m.as<Put>()) {
          if (have.insert(put->key).second) env.send(m.from, sim::make_payload<Done>(put->key));
        }
      }
    });
    const auto put_until_done = [store](sim::Env& env, const std::string& key,
                                        int tries) -> sim::Task<bool> {
      for (int t = 0; t < tries; ++t) {
        env.send(store, sim::make_payload<Put>(key));
        const auto reply = co_await env.receive_for(sim::milliseconds(30));
        if (reply && reply->as<Done>() && reply->as<Done>()->key == key) co_return true;
      }
      co_return false;
    };
    sim.client("client", [put_until_done](sim::Env& env) -> sim::Task<void> {
      for (int k = 1; k <= 3; ++k) co_await put_until_done(env, "k" + std::to_string(k), 4);
    });
    sim.add_process(
        "final-writer",
        [store, put_until_done, confirmed = confirmed_](sim::Env& env) -> sim::Task<void> {
          env.send(store, sim::make_payload<Ping>());
          co_await env.receive_for(sim::milliseconds(30));
          for (int k = 1; k <= 3; ++k) {
            const auto key = "k" + std::to_string(k);
            while (!co_await put_until_done(env, key, 1000)) {
            }
            confirmed->keys.insert(key);
          }
        },
        {.crashable = false, .client = true, .starts_at_heal = true});
    sim.add_liveness(
        "final-puts-confirmed", sim::seconds(1),
        [confirmed = confirmed_]() -> std::optional<sim::Finding> {
          if (confirmed->keys.size() == 3) return std::nullopt;
          return sim::Finding{"the final writer's puts are not all confirmed", {"final-writer"}};
        });
  }

 private:
  std::shared_ptr<Confirmed> confirmed_;
};

Explanation explain_run(const sim::System& system, const std::string& variant, std::uint64_t seed,
                        Trace& trace) {
  sim::RunConfig config;
  config.seed = seed;
  config.record_trace = true;
  const auto result = sim::run_system(system, variant, config);
  EXPECT_TRUE(result.violation && result.violation->liveness) << "seed " << seed;
  trace = testing::parse(sim::trace_text(system, variant, config, result));
  const CausalGraph graph(trace);
  return explain_trace(trace, graph);
}

TEST(Unanswered, AStoreThatIgnoresARePutIsTheSilentPeer) {
  const IgnoringStore system(std::make_shared<Confirmed>());
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Trace trace;
    const auto x = explain_run(system, "naive", seed, trace);
    ASSERT_TRUE(x.stuck.is_object()) << "seed " << seed;
    EXPECT_EQ(x.stuck.value("pattern", ""), "unanswered") << x.stuck.dump();
    ASSERT_FALSE(x.causes.empty());
    const auto& top = x.causes.front();
    EXPECT_EQ(top.kind, "unanswered") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process, "store");
    EXPECT_EQ(top.facts.value("waiter", ""), "final-writer");
    EXPECT_EQ(top.facts.value("request", ""), "put");
    // It was up and listening: it answered the final writer's ping.
    EXPECT_EQ(top.facts["answered_other"].value("request", ""), "ping") << top.facts.dump();
    // The evidence is the store's own deliveries of the put.
    const auto& last = trace.at(top.events.front());
    EXPECT_EQ(last.kind, EventKind::kDeliver);
    EXPECT_EQ(trace.lane_name(last.lane), "store");
    EXPECT_EQ(last.type, "put");
  }
}

// A request answered nowhere in the run is a one-way notice, not a request: not this pattern.
TEST(Unanswered, ARequestNeverAnsweredAnywhereIsNotCalledUnanswered) {
  const IgnoringStore system(std::make_shared<Confirmed>());
  Trace trace;
  explain_run(system, "naive", 1, trace);
  // Drop every send of the store's but its pings' answers: no put was ever answered.
  for (auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.type == "done") {
      e.kind = EventKind::kAnnotation;
      e.type.clear();
    }
  }
  const CausalGraph graph(trace);
  const auto x = explain_trace(trace, graph);
  ASSERT_TRUE(x.stuck.is_object());
  EXPECT_NE(x.stuck.value("pattern", ""), "unanswered") << x.stuck.dump();
  for (const auto& c : x.causes) EXPECT_NE(c.kind, "unanswered") << c.summary;
}

TEST(Unanswered, TheRegistersFinalReadWaitsOnAReplicaThatIgnoresItsWriteBack) {
  sim::register_builtin_systems();
  const auto& system = *sim::SystemRegistry::instance().find("register");
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    Trace trace;
    const auto x = explain_run(system, "acks-only-newer", seed, trace);
    ASSERT_FALSE(x.causes.empty());
    const auto& top = x.causes.front();
    EXPECT_EQ(top.kind, "unanswered") << "seed " << seed << ": " << top.summary;
    EXPECT_EQ(top.process.rfind("replica", 0), 0U) << top.process;
    EXPECT_EQ(top.facts.value("waiter", ""), "final-reader");
    EXPECT_EQ(top.facts.value("request", ""), "store");
  }
}

}  // namespace
}  // namespace seer::explain::unanswered_test
