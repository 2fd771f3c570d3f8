// Explaining liveness violations: what the property waited for, the last change and the last event
// of the awaited entity, and why nothing followed. On the jobs system's regression seed, and on
// two small designs written here the way a user would: a task board whose worker crashes while it
// holds a task (holder_crashed), and a publisher that sends each note once over a lossy network
// (message_lost). Each design is swept and every failing seed judged against the design's own
// record of what happened, not against explain's wording.
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/sim/system.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace seer::explain::stuck_test {
namespace {

constexpr sim::Duration kTimeout = sim::milliseconds(40);

sim::Duration jitter(sim::Env& env, std::int64_t max_us) {
  return static_cast<sim::Duration>(env.random() % static_cast<std::uint64_t>(max_us)) * 1000;
}

Explanation explain_text(const std::string& text, Trace& trace) {
  trace = testing::parse(text);
  const CausalGraph graph(trace);
  return explain_trace(trace, graph);
}

TEST(Stuck, JobsClaimSeed1IsALostClaimResponseThenASkippedJob) {
  Trace trace;
  const auto x = explain_text(testing::record("jobs", "claim", 1), trace);
  ASSERT_EQ(x.violation.value("kind", ""), "liveness");
  ASSERT_TRUE(x.stuck.is_object());
  // The awaited entity is the one the property named, not a number from its message.
  EXPECT_EQ(x.stuck["entity"], "job/2");
  ASSERT_FALSE(x.stories.empty());
  EXPECT_EQ(x.stories.front().entity, "job/2");
  // Its last change is consumer1's claim; its last event consumer1 learning of a conflict (its
  // own earlier claim), after which it went on: nothing touched job/2 after the heal.
  EXPECT_EQ(x.stuck["last_change"]["process"], "consumer1");
  EXPECT_EQ(x.stuck["last_change"]["op"], "create");
  const auto last = x.stuck["last_progress"]["event"].get<std::uint64_t>();
  EXPECT_EQ(trace.at(last).kind, EventKind::kDeliver);
  EXPECT_EQ(trace.at(last).line["payload"]["status"], "conflict");
  EXPECT_EQ(x.stuck["pattern"], "abandoned");
  EXPECT_EQ(x.stuck["touched_after_heal"], 0);
  // The explanation starts at that last event, and the top cause is why the claim looked
  // foreign: the reply to consumer1's create(job/2) came after it had given up.
  ASSERT_EQ(x.anchors.size(), 1u);
  EXPECT_EQ(x.anchors.front(), last);
  ASSERT_FALSE(x.causes.empty());
  const auto& top = x.causes.front();
  EXPECT_EQ(top.kind, "lost_response");
  EXPECT_EQ(top.process, "consumer1");
  EXPECT_NE(top.summary.find("create(job/2)"), std::string::npos) << top.summary;
  for (const auto s : top.events) {
    EXPECT_TRUE(std::binary_search(x.slice.begin(), x.slice.end(), s)) << s;
  }
  // The JSON and the text carry it.
  const auto j = explanation_json(x, trace);
  EXPECT_EQ(j["stuck"]["entity"], "job/2");
  EXPECT_NE(explanation_text(x, trace).find("Why job/2 never came about (abandoned)"),
            std::string::npos);
}

// --- holder_crashed: a worker marks a task taken, then crashes before it is done ----------------
struct Board {
  std::map<std::string, std::string> taken_by;  // the worker that learned its take succeeded
};

constexpr int kTasks = 4;

// The designs' liveness property: every task/N ends "done" (the first that does not, named).
std::optional<sim::Finding> first_task_not_done(const services::VersionedStore& truth) {
  for (int t = 1; t <= kTasks; ++t) {
    const auto key = "task/" + std::to_string(t);
    const auto& v = truth.latest(key);
    if (!v.exists || v.value != "done") return sim::Finding{key + " is not done", {key}};
  }
  return std::nullopt;
}

class TaskBoard final : public sim::System {
 public:
  explicit TaskBoard(std::shared_ptr<Board> board) : board_(std::move(board)) {}
  sim::SystemInfo info() const override {
    return {"test-taskboard", "", {"naive"}, {}, {}, {}, {}, {{"every-task-done", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto kv = services::add_kv_service(sim, "board", services::KvConfig{});
    board_->taken_by.clear();
    sim.add_process("poster",
                    [k = kv.process](sim::Env& env) -> sim::Task<void> {
                      services::KvClient board(env, k, kTimeout);
                      for (int t = 1; t <= kTasks; ++t) {
                        co_await env.sleep(jitter(env, 3'000));
                        // Until answered (a conflict: an earlier try took effect).
                        for (;;) {
                          const auto created =
                              co_await board.create("task/" + std::to_string(t), "open");
                          if (!created.timed_out) break;
                        }
                      }
                      co_await env.sleep(sim::milliseconds(300));
                    },
                    {.crashable = false, .client = true});
    for (int w = 1; w <= 2; ++w) {
      const auto name = "worker" + std::to_string(w);
      sim.host(name, [k = kv.process, board = board_, name](sim::Env& env) -> sim::Task<void> {
        services::KvClient tasks(env, k, kTimeout, nullptr, env.random());
        for (;;) {
          for (int t = 1; t <= kTasks; ++t) {
            const auto key = "task/" + std::to_string(t);
            const auto got = co_await tasks.get(key);
            if (!got.ok() || got.value != "open") continue;
            // Take it (compare-and-set on the revision read), work, mark it done. Nothing ever
            // gives back a task whose taker died: the bug.
            const auto took = co_await tasks.update(key, "taken", got.revision);
            if (!took.ok()) continue;
            board->taken_by[key] = name;
            co_await env.sleep(sim::milliseconds(5) + jitter(env, 10'000));
            for (;;) {
              const auto done = co_await tasks.put(key, "done");
              if (!done.timed_out) break;
            }
          }
          co_await env.sleep(sim::milliseconds(20));  // the next scan
        }
      });
    }
    sim.add_liveness("every-task-done", sim::seconds(1),
                     [truth = kv.truth] { return first_task_not_done(*truth); });
  }

 private:
  std::shared_ptr<Board> board_;
};

struct Swept {
  int failing = 0;
  int named = 0;
  std::vector<std::string> patterns;
};

std::string patterns_of(const Swept& s) {
  std::ostringstream out;
  for (const auto& p : s.patterns) out << p << ' ';
  return out.str();
}

// Runs `system` on seeds 1..seeds with the given faults and judges the explanation of each run
// that fails its liveness property.
template <typename Judge>
Swept sweep(const sim::System& system, std::uint64_t seeds, std::vector<sim::FaultKind> faults,
            std::map<sim::FaultKind, int> levels, Judge&& judge) {
  Swept out;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    sim::RunConfig config;
    config.seed = seed;
    config.record_trace = true;
    config.faults = faults;
    config.fault_levels = levels;
    const auto result = sim::run_system(system, "naive", config);
    if (!result.violation || !result.violation->liveness) continue;
    const auto text = sim::trace_text(system, "naive", config, result);
    Trace trace;
    const auto x = explain_text(text, trace);
    ++out.failing;
    out.patterns.push_back(x.stuck.is_object() ? x.stuck.value("pattern", "?") : "none");
    if (x.stuck.is_object() && judge(trace, x, *result.violation)) ++out.named;
  }
  return out;
}

TEST(Stuck, AWorkerThatCrashedHoldingATaskIsTheHolder) {
  auto board = std::make_shared<Board>();
  const TaskBoard system(board);
  int judged = 0;
  const auto s = sweep(system, 40, {sim::FaultKind::kCrash}, {{sim::FaultKind::kCrash, 4}},
                       [&](const Trace& trace, const Explanation& x, const sim::Violation& v) {
                         const auto entity = v.entities.front();
                         if (x.stuck["entity"] != entity) return false;
                         const auto taker = board->taken_by.find(entity);
                         if (taker == board->taken_by.end()) return true;  // nothing to judge by
                         ++judged;
                         // The crashed holder is the worker that took the task, and its crash
                         // is a crash of that worker after the take.
                         const auto& holder = x.stuck.value("holder", nlohmann::json());
                         if (x.stuck["pattern"] != "holder_crashed" || !holder.is_object()) {
                           return false;
                         }
                         const auto crash = holder["crashed_at"].get<std::uint64_t>();
                         return holder["process"] == taker->second &&
                                trace.at(crash).kind == EventKind::kCrash &&
                                trace.lane_name(trace.at(crash).lane) == taker->second &&
                                crash > x.stuck["last_change"]["event"].get<std::uint64_t>();
                       });
  ASSERT_GE(s.failing, 3) << "the design should get stuck on some seeds";
  EXPECT_GE(judged, 3);
  EXPECT_GE(s.named * 10, s.failing * 9) << patterns_of(s);
}

// --- message_lost: each note is sent once; a dropped one is never sent again --------------------
struct Note final : sim::Payload {
  explicit Note(std::string i) : id(std::move(i)) {}
  std::string id;
  std::string_view type() const override { return "note"; }
  nlohmann::json to_json() const override { return {{"note", id}}; }
};

struct Inbox {
  std::set<std::string> received;
  std::set<std::string> sent;
};

class Notifier final : public sim::System {
 public:
  // `named`: whether the property names the note it waits for (sim::Finding) or only says so.
  explicit Notifier(std::shared_ptr<Inbox> inbox, bool named = true)
      : inbox_(std::move(inbox)), named_(named) {}
  sim::SystemInfo info() const override {
    return {"test-notifier", "", {"naive"}, {}, {}, {}, {}, {{"every-note-arrives", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    *inbox_ = {};
    const auto listener = sim.host("listener", [inbox = inbox_](sim::Env& env) -> sim::Task<void> {
      for (;;) {
        const auto m = co_await env.receive();
        if (const auto* note = m.as<Note>()) inbox->received.insert(note->id);
      }
    });
    sim.add_process("publisher",
                    [listener, inbox = inbox_](sim::Env& env) -> sim::Task<void> {
                      for (int n = 1; n <= 12; ++n) {
                        co_await env.sleep(sim::milliseconds(1) + jitter(env, 5'000));
                        const auto id = "note-" + std::to_string(n);
                        inbox->sent.insert(id);
                        env.send(listener,
                                 sim::make_payload<Note>(id));  // fire and forget: the bug
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_liveness("every-note-arrives", sim::milliseconds(500),
                     [inbox = inbox_, named = named_]() -> std::optional<sim::Finding> {
                       for (const auto& id : inbox->sent) {
                         if (inbox->received.count(id)) continue;
                         if (!named) return sim::Finding{"fewer notes arrived than were sent"};
                         return sim::Finding{id + " never reached the listener", {id}};
                       }
                       return std::nullopt;
                     });
  }

 private:
  std::shared_ptr<Inbox> inbox_;
  bool named_;
};

TEST(Stuck, ANoteSentOnceAndDroppedIsALostMessage) {
  auto inbox = std::make_shared<Inbox>();
  const Notifier system(inbox);
  const auto s = sweep(system, 40, {sim::FaultKind::kDrop}, {},
                       [](const Trace& trace, const Explanation& x, const sim::Violation& v) {
                         if (x.stuck["entity"] != v.entities.front()) return false;
                         if (x.stuck["pattern"] != "message_lost") return false;
                         // The message named is the note's send, and it was dropped.
                         const auto& lost = x.stuck["undelivered"].back();
                         const auto& send = trace.at(lost["send"].get<std::uint64_t>());
                         const auto drop = lost["dropped"].get<std::uint64_t>();
                         return send.kind == EventKind::kSend &&
                                send.line["payload"]["note"] == v.entities.front() && drop > 0 &&
                                trace.at(drop).kind == EventKind::kDrop;
                       });
  ASSERT_GE(s.failing, 3) << "the design should lose notes on some seeds";
  EXPECT_GE(s.named * 10, s.failing * 9) << patterns_of(s);
}

// --- holder_crashed without a write: a relay acknowledges items and holds them in memory ---------
struct Relayed {
  std::set<std::string> acked;    // items the relay acknowledged to the sender
  std::set<std::string> written;  // items whose done marker the relay wrote
};

class Relay final : public sim::System {
 public:
  explicit Relay(std::shared_ptr<Relayed> record) : record_(std::move(record)) {}
  sim::SystemInfo info() const override {
    return {"test-relay", "", {"naive"}, {}, {}, {}, {}, {{"every-item-stored", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    *record_ = {};
    const auto kv = services::add_kv_service(sim, "store", services::KvConfig{});
    // The relay acknowledges each item as it arrives and writes it out with the next batch: a
    // crash in between loses what it acknowledged (the bug: acknowledged before durable).
    const auto relay =
        sim.host("relay", [k = kv.process, record = record_](sim::Env& env) -> sim::Task<void> {
          services::KvClient store(env, k, kTimeout, nullptr, env.random());
          std::vector<std::string> batch;
          for (;;) {
            const auto m = co_await env.receive_for(sim::milliseconds(10));
            if (m) {
              if (const auto* note = m->as<Note>()) {
                env.send(m->from, sim::make_payload<Note>(note->id));  // the acknowledgement
                record->acked.insert(note->id);
                batch.push_back(note->id);
              }
              continue;
            }
            for (const auto& id : batch) {
              for (;;) {
                const auto put = co_await store.put("done/" + id, "stored");
                if (!put.timed_out) break;
              }
              record->written.insert(id);
            }
            batch.clear();
          }
        });
    sim.add_process("sender",
                    [relay](sim::Env& env) -> sim::Task<void> {
                      for (int n = 1; n <= 8; ++n) {
                        const auto id = "item-" + std::to_string(n);
                        // Resent until acknowledged.
                        for (bool acked = false; !acked;) {
                          env.send(relay, sim::make_payload<Note>(id));
                          const auto reply = co_await env.receive_for(sim::milliseconds(20));
                          acked = reply && reply->as<Note>() && reply->as<Note>()->id == id;
                        }
                        co_await env.sleep(sim::milliseconds(2) + jitter(env, 4'000));
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_liveness("every-item-stored", sim::seconds(1),
                     [truth = kv.truth, record = record_]() -> std::optional<sim::Finding> {
                       for (const auto& id : record->acked) {
                         if (!truth->latest("done/" + id).exists) {
                           return sim::Finding{id + " was acknowledged but never stored", {id}};
                         }
                       }
                       return std::nullopt;
                     });
  }

 private:
  std::shared_ptr<Relayed> record_;
};

TEST(Stuck, ARelayThatCrashedHoldingAcknowledgedItemsIsTheHolder) {
  auto record = std::make_shared<Relayed>();
  const Relay system(record);
  const auto s = sweep(system, 60, {sim::FaultKind::kCrash}, {},
                       [&](const Trace& trace, const Explanation& x, const sim::Violation& v) {
                         const auto& item = v.entities.front();
                         // The design's own record: acknowledged, never written.
                         if (!record->acked.count(item) || record->written.count(item))
                           return false;
                         if (x.stuck["entity"] != item || x.stuck["pattern"] != "holder_crashed") {
                           return false;
                         }
                         if (x.stuck["holder"]["process"] != "relay") return false;
                         // The top cause is that crash: the relay's, after its last event on it.
                         if (x.causes.empty() || x.causes.front().kind != "crash_lost_data") {
                           return false;
                         }
                         const auto& events = x.causes.front().events;
                         return std::any_of(events.begin(), events.end(), [&](std::uint64_t e) {
                           return trace.at(e).kind == EventKind::kCrash &&
                                  trace.lane_name(trace.at(e).lane) == "relay";
                         });
                       });
  ASSERT_GE(s.failing, 3) << "the relay should lose acknowledged items on some seeds";
  EXPECT_GE(s.named * 10, s.failing * 9) << patterns_of(s);
}

// --- kept_alive: a worker whose "done" got no answer renews its lease on the task forever -------
struct Leases {
  std::map<std::string, std::string> unanswered;  // task -> the worker whose finish got no answer
};

class LeaseKeeper final : public sim::System {
 public:
  explicit LeaseKeeper(std::shared_ptr<Leases> record) : record_(std::move(record)) {}
  sim::SystemInfo info() const override {
    return {"test-leasekeeper", "", {"naive"}, {}, {}, {}, {}, {{"every-task-done", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    *record_ = {};
    const auto kv = services::add_kv_service(sim, "board", services::KvConfig{});
    sim.add_process("poster",
                    [k = kv.process](sim::Env& env) -> sim::Task<void> {
                      services::KvClient board(env, k, kTimeout);
                      for (int t = 1; t <= kTasks; ++t) {
                        for (;;) {
                          const auto created =
                              co_await board.create("task/" + std::to_string(t), "open");
                          if (!created.timed_out) break;
                        }
                      }
                      co_await env.sleep(sim::milliseconds(200));
                    },
                    {.crashable = false, .client = true});
    auto& history = sim.history();
    sim.add_process("worker",
                    [k = kv.process, record = record_, &history](sim::Env& env) -> sim::Task<void> {
                      services::KvClient tasks(env, k, kTimeout, nullptr, env.random());
                      int op = 0;
                      for (;;) {
                        for (int t = 1; t <= kTasks; ++t) {
                          const auto key = "task/" + std::to_string(t);
                          const auto got = co_await tasks.get(key);
                          if (!got.ok() || got.value != "open") continue;
                          const auto took = co_await tasks.update(key, "taken", got.revision);
                          if (!took.ok()) continue;
                          history.invoke(op, "finish", key);
                          const auto done = co_await tasks.put(key, "done");
                          if (done.ok()) {
                            history.complete(op, sim::OpType::kOk, "finish", key);
                            continue;
                          }
                          history.complete(op++, sim::OpType::kInfo, "finish", nullptr, "timeout");
                          // The bug: in case the finish took effect, never run the task again; keep
                          // the lease on it instead, forever.
                          record->unanswered[key] = "worker";
                          for (;;) {
                            co_await env.sleep(sim::milliseconds(20));
                            history.invoke(op, "renew", key);
                            const auto renewed = co_await tasks.put("lease/" + key, "worker");
                            history.complete(
                                op, renewed.ok() ? sim::OpType::kOk : sim::OpType::kInfo, "renew",
                                renewed.ok() ? nlohmann::json(key) : nlohmann::json());
                            if (!renewed.ok()) ++op;
                          }
                        }
                        co_await env.sleep(sim::milliseconds(10));
                      }
                    },
                    {.crashable = false});
    sim.add_liveness("every-task-done", sim::seconds(1),
                     [truth = kv.truth] { return first_task_not_done(*truth); });
  }

 private:
  std::shared_ptr<Leases> record_;
};

TEST(Stuck, AWorkerThatRenewsATaskItCouldNotFinishKeptItAlive) {
  auto record = std::make_shared<Leases>();
  const LeaseKeeper system(record);
  int judged = 0;
  const auto s = sweep(system, 40, {sim::FaultKind::kDrop}, {{sim::FaultKind::kDrop, 3}},
                       [&](const Trace& trace, const Explanation& x, const sim::Violation& v) {
                         const auto& task = v.entities.front();
                         // The design's own record: its finish of this task got no answer.
                         // (A take whose reply was lost strands a task too: not judged here.)
                         if (!record->unanswered.count(task)) return true;
                         ++judged;
                         if (x.stuck["entity"] != task || x.stuck["pattern"] != "kept_alive") {
                           return false;
                         }
                         const auto& kept = x.stuck["kept_alive"];
                         if (kept["process"] != "worker" || kept["attempt"]["f"] != "finish" ||
                             kept["renewal"]["f"] != "renew") {
                           return false;
                         }
                         // The top cause is the worker's: the finish that got no answer.
                         if (x.causes.empty() || x.causes.front().kind != "kept_alive" ||
                             x.causes.front().process != "worker") {
                           return false;
                         }
                         const auto attempt = kept["attempt"]["invoke"].get<std::uint64_t>();
                         return trace.at(attempt).kind == EventKind::kInvoke;
                       });
  ASSERT_GE(s.failing, 3) << "the worker should lose a finish on some seeds";
  EXPECT_GE(judged, 3);
  EXPECT_GE(s.named * 10, s.failing * 9) << patterns_of(s);
}

// --- forgotten: a reaper that drops a job from its rounds once it finds it not yet due ----------
// The reaper lists job/ each round and visits the jobs it watches; a job it sees for the first time
// is watched, and one it finds not yet due is dropped (the bug: it is never watched again). It
// also answers peeks at any job for a client, which read the job too but are not its rounds.
struct Peek final : sim::Payload {
  explicit Peek(std::string k) : key(std::move(k)) {}
  std::string key;
  std::string_view type() const override { return "peek"; }
  nlohmann::json to_json() const override { return {{"key", key}}; }
};

struct Rounds {
  std::map<std::string, sim::Time> last_visit;  // job -> when the reaper's round last read it
  std::set<std::string> dropped;                // jobs it dropped not yet due
};

class Reaper final : public sim::System {
 public:
  explicit Reaper(std::shared_ptr<Rounds> record) : record_(std::move(record)) {}
  sim::SystemInfo info() const override {
    return {"test-reaper", "", {"naive"}, {}, {}, {}, {}, {{"every-job-reaped", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    *record_ = {};
    const auto kv = services::add_kv_service(sim, "store", services::KvConfig{});
    const auto reaper =
        sim.host("reaper", [k = kv.process, record = record_](sim::Env& env) -> sim::Task<void> {
          std::deque<sim::Message> stash;  // peeks that arrive while a round waits on the store
          services::KvClient store(env, k, kTimeout, &stash, env.random());
          std::set<std::string> seen;
          std::set<std::string> watched;
          sim::Time next_round = env.now();
          for (;;) {
            std::optional<sim::Message> m;
            if (!stash.empty()) {
              m = std::move(stash.front());
              stash.pop_front();
            } else if (env.now() < next_round) {
              m = co_await env.receive_for(next_round - env.now());
            }
            if (m && m->as<Peek>()) {
              const auto key = m->as<Peek>()->key;
              const auto got = co_await store.get(key);
              env.send(m->from, sim::make_payload<Peek>(got.ok() ? got.value.dump() : "?"));
            }
            if (env.now() < next_round) continue;
            next_round = env.now() + sim::milliseconds(10);
            const auto listed = co_await store.list("job/");
            if (!listed.ok()) continue;
            for (const auto& j : listed.value) {
              const auto key = j.get<std::string>();
              if (seen.insert(key).second) watched.insert(key);
              if (!watched.count(key)) continue;
              record->last_visit[key] = env.now();
              const auto got = co_await store.get(key);
              if (!got.ok() || !got.value.is_object()) continue;
              if (got.value.value("due", sim::Time{0}) <= env.now()) {
                const auto reaped = co_await store.put(key, "reaped");
                if (reaped.ok()) watched.erase(key);
              } else {
                watched.erase(key);  // the bug: not due yet, and never looked at again
                record->dropped.insert(key);
              }
            }
          }
        });
    sim.add_process("poster",
                    [k = kv.process](sim::Env& env) -> sim::Task<void> {
                      services::KvClient store(env, k, kTimeout);
                      for (int t = 1; t <= kTasks; ++t) {
                        co_await env.sleep(jitter(env, 8'000));
                        nlohmann::json job = nlohmann::json::object();
                        job["due"] = env.now() + jitter(env, 30'000);
                        const auto key = "job/" + std::to_string(t);
                        for (;;) {
                          const auto created = co_await store.create(key, job);
                          if (!created.timed_out) break;
                        }
                      }
                      co_await env.sleep(sim::milliseconds(100));
                    },
                    {.crashable = false, .client = true});
    sim.add_process("peeker",
                    [reaper](sim::Env& env) -> sim::Task<void> {
                      for (int n = 0; n < 20; ++n) {
                        co_await env.sleep(jitter(env, 8'000));
                        const auto key = "job/" + std::to_string(1 + env.random() % kTasks);
                        env.send(reaper, sim::make_payload<Peek>(key));
                        co_await env.receive_for(kTimeout);
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_liveness("every-job-reaped", sim::milliseconds(500),
                     [truth = kv.truth]() -> std::optional<sim::Finding> {
                       for (int t = 1; t <= kTasks; ++t) {
                         const auto key = "job/" + std::to_string(t);
                         const auto& v = truth->latest(key);
                         if (v.exists && v.value != "reaped") {
                           return sim::Finding{key + " was never reaped", {key}};
                         }
                       }
                       return std::nullopt;
                     });
  }

 private:
  std::shared_ptr<Rounds> record_;
};

TEST(Stuck, AReaperThatDroppedAJobFromItsRoundsForgotIt) {
  auto record = std::make_shared<Rounds>();
  const Reaper system(record);
  const auto s = sweep(
      system, 30, {}, {}, [&](const Trace& trace, const Explanation& x, const sim::Violation& v) {
        const auto& job = v.entities.front();
        // The design's own record: its round dropped the job.
        if (!record->dropped.count(job)) return false;
        if (x.stuck["entity"] != job || x.stuck["pattern"] != "forgotten") {
          return false;
        }
        const auto& f = x.stuck["forgotten"];
        if (f["process"] != "reaper" || f["key"] != job) return false;
        // Its last visit is the round's, not a later peek's read of the job.
        const auto last = f["last_visit"].get<std::uint64_t>();
        if (trace.at(last).time != record->last_visit.at(job)) return false;
        // The top cause is that forgetting, the reaper's.
        if (x.causes.empty()) return false;
        const auto& top = x.causes.front();
        return top.kind == "forgotten_sweep" && top.process == "reaper" &&
               top.events.front() == last && top.facts["listings"].get<std::size_t>() >= 2;
      });
  ASSERT_GE(s.failing, 3) << "the reaper should drop jobs on some seeds";
  // A peek at the same job waiting while the round read it hides that read: the trace cannot tell
  // the round's read from the peek's (2 of the 30 failing seeds).
  EXPECT_GE(s.named * 10, s.failing * 9) << patterns_of(s);
}

// A property that names nothing the run has still gets a stuck section: the heal, who worked after
// it, who stayed down, and how to name the entity.
TEST(Stuck, APropertyThatNamesNothingIsExplainedAsUnnamed) {
  auto inbox = std::make_shared<Inbox>();
  const Notifier system(inbox, /*named=*/false);
  int failing = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    sim::RunConfig config;
    config.seed = seed;
    config.record_trace = true;
    config.faults = {sim::FaultKind::kDrop};
    const auto result = sim::run_system(system, "naive", config);
    if (!result.violation) continue;
    ++failing;
    ASSERT_TRUE(result.violation->entities.empty());
    Trace trace;
    const auto x = explain_text(sim::trace_text(system, "naive", config, result), trace);
    ASSERT_TRUE(x.stuck.is_object()) << "seed " << seed;
    EXPECT_EQ(x.stuck["pattern"], "unnamed");
    EXPECT_TRUE(x.stuck["entity"].is_null());
    EXPECT_EQ(x.stuck["property"], "every-note-arrives");
    ASSERT_TRUE(x.stuck.contains("heal"));
    const auto heal = x.stuck["heal"]["event"].get<std::uint64_t>();
    for (const auto& a : x.stuck["active_after_heal"]) {
      EXPECT_GT(a["last_event"].get<std::uint64_t>(), heal);
    }
    // The publisher is never crashable: nothing stayed down.
    EXPECT_TRUE(x.stuck["down"].empty());
    EXPECT_NE(explanation_text(x, trace).find("Why every-note-arrives never held (unnamed)"),
              std::string::npos);
  }
  EXPECT_GE(failing, 3) << "the design should lose notes on some seeds";
}

// A safety violation has no stuck section.
TEST(Stuck, ASafetyViolationHasNoStuckSection) {
  Trace trace;
  const auto x = explain_text(testing::record("counter", "naive", 1), trace);
  ASSERT_TRUE(x.violation.is_object());
  EXPECT_EQ(x.violation.value("kind", ""), "safety");
  EXPECT_TRUE(x.stuck.is_null());
}

}  // namespace
}  // namespace seer::explain::stuck_test
