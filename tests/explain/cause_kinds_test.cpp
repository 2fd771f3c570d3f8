// Each new cause kind on a small design written for this test, the way a user would write one:
// a janitor racing a writer's reference (racing_delete), a cache filled from a read a write had
// overtaken (stale_derived_write), a lease holder acting after its lease expired
// (expired_lease), and last-writer-wins on skewed clocks (clock_ahead / clock_behind). Each sweeps
// seeds and asks explain about every failing one: the test holds the kinds, not one lucky seed.
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/services/kv.hpp"
#include "seer/services/object_store.hpp"
#include "seer/services/sql.hpp"
#include "seer/sim/system.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace seer::explain {
namespace {

using services::SqlStatement;

constexpr sim::Duration kTimeout = sim::milliseconds(40);

sim::Duration jitter(sim::Env& env, std::int64_t max_us) {
  return static_cast<sim::Duration>(env.random() % static_cast<std::uint64_t>(max_us)) * 1000;
}

// --- racing_delete: a janitor deletes objects no committed reference names ---------------------
class Janitor final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"test-janitor", "", {"naive"}, {{"references-resolve", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto objects =
        services::add_object_store_service(sim, "objects", services::ObjectStoreConfig{});
    const auto db = services::add_sql_service(
        sim, "db", {{"CREATE TABLE refs (obj TEXT PRIMARY KEY)"}, sim::milliseconds(1)});
    sim.add_process(
        "writer",
        [o = objects.process, d = db.process](sim::Env& env) -> sim::Task<void> {
          services::ObjectClient store(env, o, kTimeout);
          services::SqlClient sql(env, d, kTimeout);
          for (int i = 1; i <= 6; ++i) {
            const auto name = "obj-" + std::to_string(i);
            co_await store.put("objs/" + name, i);
            co_await env.sleep(jitter(env, 4'000));  // uploads take a while to be referenced
            // A named local: GCC 12 rejects a braced list with a string literal straight in a
            // co_await call ("array used as initializer").
            const std::vector<services::SqlStatement> insert = {
                {"INSERT INTO refs VALUES (?1)", {name}, std::nullopt}};
            co_await sql.transact(insert, name);
          }
        },
        {.crashable = false, .client = true});
    sim.add_process("janitor",
                    [o = objects.process, d = db.process](sim::Env& env) -> sim::Task<void> {
                      services::ObjectClient store(env, o, kTimeout);
                      services::SqlClient sql(env, d, kTimeout);
                      for (int round = 0; round < 8; ++round) {
                        co_await env.sleep(sim::milliseconds(2) + jitter(env, 3'000));
                        const auto listing = co_await store.list("objs/");
                        const std::vector<services::SqlStatement> select = {
                            {"SELECT obj FROM refs", {}, std::nullopt}};
                        const auto refs = co_await sql.transact(select);
                        if (listing.timed_out || refs.timed_out) continue;
                        for (const auto& key : listing.keys) {
                          const auto name = key.substr(5);
                          bool referenced = false;
                          for (const auto& row : refs.results[0]) referenced |= row[0] == name;
                          if (!referenced) co_await store.remove(key);  // no grace period
                        }
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant("references-resolve", [truth = objects.truth, db = db.truth]() {
      for (const auto& row : db->query("SELECT obj FROM refs")) {
        const auto name = row[0].get<std::string>();
        if (!truth->latest("objs/" + name).exists) {
          return std::optional<std::string>("reference " + name + " points at a deleted object");
        }
      }
      return std::optional<std::string>();
    });
  }
};

// --- stale_derived_write: cache-aside in front of the database ---------------------------------
class CacheAside final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"test-cache", "", {"naive"}, {{"cache-agrees", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto kv = services::add_kv_service(sim, "cache", services::KvConfig{});
    const auto db = services::add_sql_service(
        sim, "db",
        {{"CREATE TABLE prices (item TEXT PRIMARY KEY, cents INTEGER)",
          "INSERT INTO prices VALUES ('apple', 100)", "INSERT INTO prices VALUES ('pear', 70)"},
         sim::milliseconds(1)});
    auto writing = std::make_shared<int>(0);
    sim.add_process(
        "writer",
        [k = kv.process, d = db.process, writing](sim::Env& env) -> sim::Task<void> {
          services::KvClient cache(env, k, kTimeout);
          services::SqlClient sql(env, d, kTimeout);
          for (int i = 1; i <= 6; ++i) {
            co_await env.sleep(jitter(env, 5'000));
            ++*writing;
            const std::int64_t cents = 100 + 7 * i;
            const std::vector<services::SqlStatement> update = {
                {"UPDATE prices SET cents = ?1 WHERE item = 'apple'", {cents}, std::nullopt}};
            co_await sql.transact(update, "price-" + std::to_string(i));
            co_await cache.remove("price/apple");  // invalidate
            --*writing;
          }
        },
        {.crashable = false, .client = true});
    for (int r = 1; r <= 2; ++r) {
      sim.add_process("reader" + std::to_string(r),
                      [k = kv.process, d = db.process](sim::Env& env) -> sim::Task<void> {
                        services::KvClient cache(env, k, kTimeout);
                        services::SqlClient sql(env, d, kTimeout);
                        for (int i = 0; i < 8; ++i) {
                          co_await env.sleep(jitter(env, 4'000));
                          const auto hit = co_await cache.get("price/apple");
                          if (hit.ok() && !hit.value.is_null()) continue;
                          const std::vector<services::SqlStatement> select = {
                              {"SELECT cents FROM prices WHERE item = 'apple'", {}, std::nullopt}};
                          const auto row = co_await sql.transact(select);
                          if (row.timed_out || !row.committed) continue;
                          co_await cache.put("price/apple", row.results[0][0][0]);  // fill
                        }
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("cache-agrees", [cache = kv.truth, db = db.truth, writing]() {
      if (*writing > 0) return std::optional<std::string>();
      const auto cached = cache->latest("price/apple");
      const auto cents = db->query("SELECT cents FROM prices WHERE item = 'apple'")[0][0];
      if (cached.exists && cached.value != cents) {
        return std::optional<std::string>("price/apple is cached as " + cached.value.dump() +
                                          " but the database holds " + cents.dump());
      }
      return std::optional<std::string>();
    });
  }
};

// --- expired_lease: a lease in the KV store guards writes to the database ----------------------
class LeaseWriter final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"test-lease", "", {"naive"}, {{"single-writer", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto kv = services::add_kv_service(sim, "locks", services::KvConfig{});
    const auto db = services::add_sql_service(
        sim, "db",
        {{"CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, holder TEXT)"},
         sim::milliseconds(1)});
    constexpr sim::Duration kTtl = sim::milliseconds(6);
    for (int w = 1; w <= 2; ++w) {
      const auto me = "w" + std::to_string(w);
      sim.add_process(
          "worker" + std::to_string(w),
          [k = kv.process, d = db.process, me](sim::Env& env) -> sim::Task<void> {
            services::KvClient locks(env, k, kTimeout);
            services::SqlClient sql(env, d, kTimeout);
            for (int i = 0; i < 6; ++i) {
              co_await env.sleep(jitter(env, 3'000));
              const auto lease = co_await locks.get("lease/log", services::KvRead::kLinearizable);
              if (!lease.ok() && lease.status != services::KvStatus::kNotFound) continue;
              const bool free =
                  lease.value.is_null() || lease.value["expires"].get<std::int64_t>() < env.now();
              if (!free && lease.value["holder"] != me) continue;
              const nlohmann::json mine = {{"holder", me}, {"expires", env.now() + kTtl}};
              const auto taken = lease.value.is_null()
                                     ? co_await locks.create("lease/log", mine)
                                     : co_await locks.update("lease/log", mine, lease.revision);
              if (!taken.ok()) continue;
              // Work that takes longer than the lease sometimes, then the guarded write, without
              // looking at the clock again.
              co_await env.sleep(jitter(env, 9'000));
              const std::vector<services::SqlStatement> insert = {
                  {"INSERT INTO log (holder) VALUES (?1)", {me}, std::nullopt}};
              co_await sql.transact(insert, me + "-" + std::to_string(i));
            }
          },
          {.crashable = false, .client = true});
    }
    // Every logged write lands while its writer holds an unexpired lease, by real time.
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant("single-writer", [&sim, locks = kv.truth, db = db.truth, checked]() {
      const auto rows = db->query("SELECT n, holder FROM log ORDER BY n DESC LIMIT 1");
      if (rows.empty() || rows[0][0].get<std::int64_t>() == *checked) {
        return std::optional<std::string>();
      }
      *checked = rows[0][0].get<std::int64_t>();
      const auto lease = locks->latest("lease/log").value;
      const auto holder = lease.value("holder", std::string());
      if (rows[0][1] != holder || lease.value("expires", std::int64_t{0}) < sim.true_now()) {
        return std::optional<std::string>("log entry " + rows[0][0].dump() + " written by " +
                                          rows[0][1].get<std::string>() +
                                          " after its lease on lease/log had expired");
      }
      return std::optional<std::string>();
    });
  }
};

// --- clock skew: last writer wins by the writers' own clocks ----------------------------------
class LastWriterWins final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"test-lww", "", {"naive"}, {{"latest-write-wins", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    // The oracle: the real time each stored value was written, and the first write discarded
    // although it came later in real time than the value it lost to.
    struct Oracle {
      std::map<std::string, sim::Time> written_at;
      std::string discarded;
    };
    auto oracle = std::make_shared<Oracle>();
    for (int w = 1; w <= 2; ++w) {
      const auto me = "w" + std::to_string(w);
      sim.add_process(
          "writer" + std::to_string(w),
          [&sim, k = kv.process, me, oracle](sim::Env& env) -> sim::Task<void> {
            services::KvClient kvc(env, k, kTimeout);
            for (int i = 0; i < 6; ++i) {
              co_await env.sleep(sim::milliseconds(5) + jitter(env, 20'000));
              const auto value = me + "-" + std::to_string(i);
              const auto now = env.now();
              const auto current = co_await kvc.get("reg", services::KvRead::kLinearizable);
              if (current.timed_out) continue;
              if (!current.value.is_null() && current.value["ts"].get<std::int64_t>() > now) {
                // A newer write by the clocks: ours loses. By real time it may not be newer.
                const auto& stored = current.value["v"].get_ref<const std::string&>();
                if (oracle->discarded.empty() && oracle->written_at[stored] < sim.true_now()) {
                  oracle->discarded = value + " lost to " + stored;
                }
                continue;
              }
              const nlohmann::json stamped = {{"v", value}, {"ts", now}};
              oracle->written_at[value] = sim.true_now();
              if (current.value.is_null()) {
                co_await kvc.create("reg", stamped);
              } else {
                co_await kvc.update("reg", stamped, current.revision);
              }
            }
          },
          {.crashable = false, .client = true});
    }
    sim.add_invariant("latest-write-wins", [oracle]() {
      if (oracle->discarded.empty()) return std::optional<std::string>();
      return std::optional<std::string>("the later write " + oracle->discarded +
                                        ", which was written before it in real time");
    });
  }
};

// --- stale_derived_write where many writes overtake the read: a pin copied from a manifest -----
// An appender bumps the manifest's generation with every segment it adds (the old segments stay);
// a compactor once retires the first two. A reader copies the manifest it read into its pin a
// while later. The write that made the pin wrong is the compactor's, not the appender's earlier
// bump that merely changed the generation number.
class ManifestPin final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"test-pin", "", {"naive"}, {{"pins-name-live-segments", ""}}};
  }
  void setup(sim::Simulator& sim, const std::string&) const override {
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    // The segments the compactor retired, and the store's revision when it did.
    struct Retired {
      std::set<std::string> segments;
      std::int64_t revision = 0;
    };
    auto retired = std::make_shared<Retired>();
    sim.add_process("appender",
                    [k = kv.process](sim::Env& env) -> sim::Task<void> {
                      services::KvClient store(env, k, kTimeout);
                      for (int i = 3; i <= 8; ++i) {
                        co_await env.sleep(sim::milliseconds(2) + jitter(env, 3'000));
                        const auto got =
                            co_await store.get("manifest", services::KvRead::kLinearizable);
                        if (!got.ok()) continue;
                        auto next = got.value;
                        next["gen"] = next["gen"].get<int>() + 1;
                        next["segments"].push_back("seg-" + std::to_string(i));
                        co_await store.update("manifest", next, got.revision);
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_process("compactor",
                    [k = kv.process, retired](sim::Env& env) -> sim::Task<void> {
                      services::KvClient store(env, k, kTimeout);
                      // A named local: GCC 12 rejects the braced list straight in the co_await
                      // call.
                      const nlohmann::json first = {{"gen", 1}, {"segments", {"seg-1", "seg-2"}}};
                      co_await store.create("manifest", first);
                      for (int round = 0; round < 6; ++round) {
                        co_await env.sleep(sim::milliseconds(4) + jitter(env, 6'000));
                        const auto got =
                            co_await store.get("manifest", services::KvRead::kLinearizable);
                        if (!got.ok() || got.value["segments"].size() < 3 ||
                            got.value["segments"][0] != "seg-1") {
                          continue;
                        }
                        auto next = got.value;
                        next["gen"] = next["gen"].get<int>() + 1;
                        nlohmann::json kept = {"merged-1-2"};
                        for (std::size_t i = 2; i < got.value["segments"].size(); ++i) {
                          kept.push_back(got.value["segments"][i]);
                        }
                        next["segments"] = kept;
                        const auto swapped = co_await store.update("manifest", next, got.revision);
                        if (swapped.ok()) *retired = {{"seg-1", "seg-2"}, swapped.revision};
                      }
                    },
                    {.crashable = false, .client = true});
    sim.add_process(
        "reader",
        [k = kv.process](sim::Env& env) -> sim::Task<void> {
          services::KvClient store(env, k, kTimeout);
          for (int i = 0; i < 6; ++i) {
            co_await env.sleep(sim::milliseconds(3) + jitter(env, 4'000));
            const auto got = co_await store.get("manifest", services::KvRead::kLinearizable);
            if (!got.ok()) continue;
            co_await env.sleep(jitter(env, 12'000));  // the pin is written a while later
            co_await store.put("pin/reader", got.value);
          }
        },
        {.crashable = false, .client = true});
    sim.add_invariant("pins-name-live-segments", [truth = kv.truth, retired]() {
      // A pin written before the swap was right when written: the compactor's to honour.
      const auto pin = truth->latest("pin/reader");
      if (!pin.exists || retired->segments.empty() || pin.revision < retired->revision) {
        return std::optional<std::string>();
      }
      for (const auto& seg : pin.value.value("segments", nlohmann::json::array())) {
        if (retired->segments.count(seg.get<std::string>())) {
          return std::optional<std::string>("pin/reader names retired " + seg.get<std::string>());
        }
      }
      return std::optional<std::string>();
    });
  }
};

struct Found {
  int failing = 0;
  int named = 0;
  std::vector<std::string> first_kinds;
};

// Runs `system` on seeds 1..seeds with the given faults and explains each failing run.
template <typename Judge>
Found sweep(const sim::System& system, std::uint64_t seeds, std::vector<sim::FaultKind> faults,
            Judge&& judge) {
  Found f;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    sim::RunConfig config;
    config.seed = seed;
    config.record_trace = true;
    config.faults = faults;
    const auto result = sim::run_system(system, "naive", config);
    if (!result.violation) continue;
    const auto text = sim::trace_text(system, "naive", config, result);
    // SEER_CAUSE_KINDS_DUMP=DIR keeps each failing trace there, to look at with seer explain.
    if (const char* dir = std::getenv("SEER_CAUSE_KINDS_DUMP")) {
      std::ofstream(std::string(dir) + "/" + system.info().name + "-" + std::to_string(seed) +
                    ".jsonl")
          << text;
    }
    const auto trace = testing::parse(text);
    const CausalGraph graph(trace);
    const auto x = explain_trace(trace, graph);
    ++f.failing;
    if (!x.causes.empty() && judge(trace, x)) ++f.named;
    f.first_kinds.push_back(x.causes.empty() ? "none" : x.causes.front().kind);
  }
  return f;
}

std::string kinds(const Found& f) {
  std::ostringstream out;
  for (const auto& k : f.first_kinds) out << k << ' ';
  return out.str();
}

TEST(CauseKinds, AJanitorsDeleteRacingAReferenceIsARacingDelete) {
  const Janitor system;
  const auto f = sweep(system, 60, {sim::FaultKind::kDelay}, [](const Trace& t, const auto& x) {
    const auto& top = x.causes.front();
    if (top.kind != "racing_delete") return false;
    // The object the violation names is the one deleted, and the writer's reference is evidence.
    const auto object = top.facts.value("object", std::string());
    return x.violation.value("message", std::string()).find(object + " ") != std::string::npos &&
           t.lane_name(t.at(top.facts.value("concurrent_write_event", std::uint64_t{1})).peer) ==
               "writer";
  });
  ASSERT_GE(f.failing, 3) << "the design should fail on some seeds";
  EXPECT_GE(f.named * 10, f.failing * 9) << kinds(f);
}

TEST(CauseKinds, ACacheFillFromAnOvertakenReadIsAStaleDerivedWrite) {
  const CacheAside system;
  const auto f = sweep(system, 80, {sim::FaultKind::kDelay}, [](const Trace& t, const auto& x) {
    const auto& top = x.causes.front();
    if (top.kind != "stale_derived_write") return false;
    // The overtaking write is the writer's update of the price the reader had read.
    const auto& overtaking = t.at(top.facts.value("overtaking_write_event", std::uint64_t{1}));
    return t.lane_name(overtaking.peer) == "writer" && top.process.rfind("reader", 0) == 0;
  });
  ASSERT_GE(f.failing, 3);
  EXPECT_GE(f.named * 10, f.failing * 9) << kinds(f);
}

TEST(CauseKinds, ActingAfterTheLeaseExpiredIsAnExpiredLease) {
  const LeaseWriter system;
  const auto f = sweep(system, 80, {sim::FaultKind::kDelay}, [](const Trace& t, const auto& x) {
    const auto& top = x.causes.front();
    if (top.kind != "expired_lease") return false;
    // The act is the named holder's own write, and it took effect after the lease's expiry.
    return top.facts.value("act_effect_real_ns", std::int64_t{0}) >
               top.facts.value("expiry", std::int64_t{0}) &&
           t.lane_name(t.at(top.facts.value("act_event", std::uint64_t{1})).peer) == top.process;
  });
  ASSERT_GE(f.failing, 3);
  EXPECT_GE(f.named * 10, f.failing * 9) << kinds(f);
}

TEST(CauseKinds, LastWriterWinsOnSkewedClocksIsTheSkewedClock) {
  const LastWriterWins system;
  const auto f = sweep(system, 80, {sim::FaultKind::kDelay, sim::FaultKind::kClock},
                       [](const Trace& t, const auto& x) {
                         const auto& top = x.causes.front();
                         if (top.kind != "clock_ahead" && top.kind != "clock_behind") return false;
                         // The named process is the one whose clock was further off.
                         std::map<std::string, std::int64_t> skew;
                         for (const auto& e : t.events) {
                           if (e.kind == EventKind::kStart && e.oracle().is_object()) {
                             skew[t.lane_name(e.lane)] =
                                 e.oracle().value("clock_offset_ns", std::int64_t{0});
                           }
                         }
                         const auto other = top.process == "writer1" ? "writer2" : "writer1";
                         return std::abs(skew[top.process]) >= std::abs(skew[other]);
                       });
  ASSERT_GE(f.failing, 3);
  EXPECT_GE(f.named * 10, f.failing * 8) << kinds(f);
}

TEST(CauseKinds, TheOvertakingWriteNamedIsTheOneThatTookAwayWhatTheCopyCarries) {
  const ManifestPin system;
  const auto f = sweep(system, 80, {sim::FaultKind::kDelay}, [](const Trace& t, const auto& x) {
    const auto& top = x.causes.front();
    if (top.kind != "stale_derived_write") return false;
    // The appender's generation bumps also changed the manifest after the read; the write that
    // made the pin wrong is the compactor's retirement of the segments the pin still names.
    const auto& overtaking = t.at(top.facts.value("overtaking_write_event", std::uint64_t{1}));
    return t.lane_name(overtaking.peer) == "compactor" && top.process == "reader";
  });
  ASSERT_GE(f.failing, 3);
  EXPECT_GE(f.named * 10, f.failing * 9) << kinds(f);
}

// Two detectors may tell one story from two sides (a write on an outdated read that is also the
// act on an expired lease): a cause sharing evidence with the first is part of the chain, and its
// events are in the minimal sequence whatever its rank.
TEST(CauseKinds, CausesSharingTheFirstCausesEvidenceAreInTheSlice) {
  int checked = 0;
  auto slice_holds_related = [&](const Trace&, const Explanation& x) {
    const std::set<std::uint64_t> slice(x.slice.begin(), x.slice.end());
    const auto& top = x.causes.front();
    for (std::size_t i = 1; i < x.causes.size() && i < 4; ++i) {
      const auto& c = x.causes[i];
      const bool shares = std::any_of(c.events.begin(), c.events.end(), [&](std::uint64_t e) {
        return std::find(top.events.begin(), top.events.end(), e) != top.events.end();
      });
      if (!shares) continue;
      ++checked;
      for (const auto e : c.events) {
        if (!slice.count(e)) return false;
      }
    }
    return true;
  };
  const LeaseWriter lease;
  const CacheAside cache;
  const auto a = sweep(lease, 80, {sim::FaultKind::kDelay}, slice_holds_related);
  const auto b = sweep(cache, 80, {sim::FaultKind::kDelay}, slice_holds_related);
  EXPECT_EQ(a.named, a.failing);
  EXPECT_EQ(b.named, b.failing);
  EXPECT_GT(checked, 0) << "no run had a second cause sharing evidence: the test checks nothing";
}

// A fill that lands after several invalidations: its evidence holds the last write or delete of
// the cached key by another process before it (the one it overwrote), found here from the trace.
TEST(CauseKinds, ACopyLandingAfterSeveralInvalidationsCitesTheLastOfThem) {
  const CacheAside system;
  int several = 0;
  const auto f = sweep(system, 80, {sim::FaultKind::kDelay}, [&](const Trace& t, const auto& x) {
    const auto& top = x.causes.front();
    if (top.kind != "stale_derived_write") return false;
    const auto decision = top.facts.value("decision_event", std::uint64_t{0});
    if (!t.has(decision)) return false;
    const int filler = t.at(decision).peer;
    std::uint64_t last = 0;
    int invalidations = 0;
    for (const auto& e : t.events) {
      if (e.seq >= decision) break;
      if (e.kind != EventKind::kSend || t.lane_name(e.lane) != "cache" || e.peer == filler) {
        continue;
      }
      const auto service = e.oracle().value("service", nlohmann::json::object());
      const auto op = service.value("op", std::string());
      if (service.value("key", std::string()) != "price/apple" ||
          (op != "put" && op != "delete" && op != "remove")) {
        continue;
      }
      last = e.seq;
      if (e.seq > top.facts.value("overtaking_write_event", std::uint64_t{0})) ++invalidations;
    }
    if (invalidations > 1) {
      ++several;
      // The facts name it too (an agent reads them, not only the event list).
      if (top.facts.value("last_invalidation_event", std::uint64_t{0}) != last) return false;
    }
    return last != 0 && std::find(top.events.begin(), top.events.end(), last) != top.events.end();
  });
  ASSERT_GE(f.failing, 3);
  EXPECT_GE(f.named * 10, f.failing * 9) << kinds(f);
  EXPECT_GT(several, 0) << "no fill landed after several invalidations: the test checks nothing";
}

}  // namespace
}  // namespace seer::explain
