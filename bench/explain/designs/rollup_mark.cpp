// rollup_mark: a rollup worker that saves its watermark before the buckets it covers.
//
// Spec. Sensors (`sensors`, the client) insert samples into SQL (`samples(id, name, value)`,
// named `s-1`, `s-2`, ...). A rollup worker (`rollup`, the design's own process, which may
// crash and restart) adds them into buckets of eight samples kept in the KV store
// (`bucket/b-2`: the names of the samples it holds, a set, and their total) and keeps its
// watermark in the KV store too (`rollup/watermark`: the id of the last sample rolled up). A
// round reads the watermark, reads the next four samples after it (`WHERE id > ?1 ORDER BY id
// LIMIT 4`), and for each sample reads its bucket and writes it back with the sample added (if
// it is not there already).
// Invariant `samples-behind-watermark-counted` (checked when the run ends): every sample at or
// below the watermark is in its bucket ("sample s-17 is behind the rollup's watermark 20 but in
// no bucket").
// Operations (history): `record` per sample by the sensors.
//
// Bug (variant `buggy`): the round saves the watermark first, then writes the buckets (so that
// a crash does not make it roll up the same samples again). A crash after the watermark's write
// and before the last bucket's takes the rest of the round's samples, read and held only in
// memory, with it; the restarted worker starts after the watermark and never reads them again.
// Fix (variant `fixed`): the buckets first, the watermark last; a crash in between makes the
// restarted worker read the round's samples again, which the buckets' sets already hold or take
// once.
// Faults: delay, crash (the worker and the database crash; the KV store and the sensors do
// not). A database crash drops a sensor's insert that had not committed yet (the sample was never
// recorded) or the worker's read (it reads again).
//
// Label. `crash_lost_data`: the crash took the samples the durable watermark already covered.
// The keys: the worker's read that returned the sample (the database's reply delivered to it),
// where the watermark covering the sample took effect (the KV store's reply send for the first
// put of `rollup/watermark` at or past the sample's id), and the worker's crash after it, before
// the sample's bucket was written.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <algorithm>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace rollup_mark {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr std::int64_t kBucketSize = 8;
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);
const std::string kWatermark = "rollup/watermark";

std::string bucket_of(std::int64_t id) {
  return "bucket/b-" + std::to_string((id - 1) / kBucketSize + 1);
}

sim::Task<void> sensors(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                        int samples) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (int n = 1; n <= samples; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string name = "s-" + std::to_string(n);
    const int value = static_cast<int>(env.random() % 100);
    history.invoke(0, "record", name);
    const std::vector<services::SqlStatement> insert = {
        {"INSERT INTO samples (id, name, value) VALUES (?1, ?2, ?3)", {n, name, value}, 1}};
    const auto r = co_await sql.transact(insert, "record " + name);
    history.complete(0, !r.timed_out && r.committed ? sim::OpType::kOk : sim::OpType::kInfo,
                     "record", name);
  }
  co_await env.sleep(sim::milliseconds(300));  // let the rollup catch up
}

// JSON values built outside the coroutines (g++ and braced JSON initializers in a coroutine).
nlohmann::json watermark_value(std::int64_t last) {
  nlohmann::json v;
  v["last"] = last;
  return v;
}

nlohmann::json empty_bucket() {
  nlohmann::json v;
  v["samples"] = nlohmann::json::array();
  v["total"] = 0;
  return v;
}

// Adds the sample to its bucket (a set: a sample already there is not added again).
sim::Task<bool> add_to_bucket(services::KvClient& kv, std::int64_t id, const std::string& name,
                              std::int64_t value) {
  const std::string key = bucket_of(id);
  const auto got = co_await kv.get(key, services::KvRead::kLinearizable);
  if (got.timed_out) co_return false;
  nlohmann::json bucket = got.ok() ? got.value : empty_bucket();
  for (const auto& s : bucket["samples"]) {
    if (s == name) co_return true;
  }
  bucket["samples"].push_back(name);
  bucket["total"] = bucket["total"].get<std::int64_t>() + value;
  const auto put = co_await kv.put(key, bucket);
  co_return !put.timed_out;
}

sim::Task<void> rollup(sim::Env& env, sim::ProcessId kv_id, sim::ProcessId db, bool fixed) {
  services::KvClient kv(env, kv_id, kKvTimeout, nullptr, env.random());
  services::SqlClient sql(env, db, kSqlTimeout, nullptr, env.random());
  for (;;) {
    const auto mark = co_await kv.get(kWatermark, services::KvRead::kLinearizable);
    if (mark.timed_out) continue;
    const std::int64_t after = mark.ok() ? mark.value.value("last", std::int64_t{0}) : 0;
    const std::vector<services::SqlStatement> next = {
        {"SELECT id, name, value FROM samples WHERE id > ?1 ORDER BY id LIMIT 4",
         {after},
         std::nullopt}};
    const auto read = co_await sql.transact(next, "next samples");
    if (read.timed_out || !read.committed) continue;
    const auto& rows = read.results[0];
    if (rows.empty()) {
      co_await env.sleep(sim::milliseconds(3));
      continue;
    }
    const std::int64_t last = rows.back()[0].get<std::int64_t>();
    if (!fixed) {
      const auto saved = co_await kv.put(kWatermark, watermark_value(last));
      if (saved.timed_out) continue;
    }
    bool ok = true;
    for (const auto& row : rows) {
      ok = co_await add_to_bucket(kv, row[0].get<std::int64_t>(), row[1].get<std::string>(),
                                  row[2].get<std::int64_t>());
      if (!ok) break;
    }
    if (!ok) continue;
    if (fixed) co_await kv.put(kWatermark, watermark_value(last));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"rollup_mark",
            "a rollup worker adds SQL samples into KV buckets and keeps its watermark in KV",
            {"buggy", "fixed"},
            {{"samples-behind-watermark-counted",
              "every sample at or below the watermark is in its bucket (at the end)"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE samples (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT "
        "NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process(
        "rollup",
        [k = kv.process, d = db.process, fixed](sim::Env& env) { return rollup(env, k, d, fixed); },
        {.crashable = true, .client = false});
    auto& history = sim.history();
    const int samples = sim.config().ops;
    sim.add_process("sensors",
                    [&history, d = db.process, samples](sim::Env& env) {
                      return sensors(env, history, d, samples);
                    },
                    {.crashable = false, .client = true});
    sim.add_final_check(
        "samples-behind-watermark-counted",
        [kvt = kv.truth, dbt = db.truth]() -> std::optional<sim::Finding> {
          const auto& mark = kvt->latest(kWatermark);
          if (!mark.exists) return std::nullopt;
          const auto last = mark.encoded().value("last", std::int64_t{0});
          const auto rows = dbt->query(
              "SELECT id, name FROM samples WHERE id <= " + std::to_string(last) + " ORDER BY id");
          for (const auto& row : rows) {
            const auto id = row[0].get<std::int64_t>();
            const auto name = row[1].get<std::string>();
            const auto& bucket = kvt->latest(bucket_of(id));
            bool found = false;
            if (bucket.exists) {
              for (const auto& s : bucket.encoded().value("samples", nlohmann::json::array())) {
                found = found || s == name;
              }
            }
            if (!found) {
              return sim::Finding{"sample " + name + " is behind the rollup's watermark " +
                                      std::to_string(last) + " but in no bucket",
                                  {name}};
            }
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the sample S (its id N from the name). The worker's reads of the samples
// (the database's replies delivered to `rollup` whose rows name S): the first. The first put of
// `rollup/watermark` with `last` >= N (the worker's send) and where it took effect (the store's
// reply send). The worker's first crash after that send.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string sample = between(violation_message(trace), "sample ", " is behind");
  if (sample.rfind("s-", 0) != 0) return {};
  const std::int64_t n = std::stoll(sample.substr(2));
  const int worker = lane_of(trace, "rollup");
  const auto* read = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kDeliver || e.lane != worker || e.type != "sql_reply") return false;
    const auto& results = payload(e).value("results", nlohmann::json::array());
    if (!results.is_array() || results.empty() || !results[0].is_array()) return false;
    for (const auto& row : results[0]) {
      if (row.is_array() && row.size() >= 2 && row[1] == sample) return true;
    }
    return false;
  });
  const auto* mark = find_first(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.lane != worker || e.type != "kv_request") return false;
        const auto& p = payload(e);
        if (p.value("op", "") != "put" || p.value("key", "") != kWatermark) return false;
        const auto& v = p.value("value", nlohmann::json::object());
        return v.is_object() && v.value("last", std::int64_t{0}) >= n;
      },
      read ? read->seq : 0);
  if (!mark) return {};
  std::vector<std::uint64_t> keys;
  if (read) keys.push_back(read->seq);
  if (const auto* effect = reply_send_for(trace, *mark)) keys.push_back(effect->seq);
  const auto* crash = find_first(
      trace, [&](const TraceEvent& e) { return e.kind == EventKind::kCrash && e.lane == worker; },
      mark->seq);
  if (crash) keys.push_back(crash->seq);
  return keys;
}

}  // namespace rollup_mark

Design make_rollup_mark() {
  Design d;
  d.name = "rollup_mark";
  d.bug =
      "a rollup worker saves its watermark before writing the buckets it covers: a crash in "
      "between loses the round's samples for good";
  d.system = std::make_unique<rollup_mark::System>();
  d.invariant = "samples-behind-watermark-counted";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = rollup_mark::key_events;
  return d;
}

}  // namespace seer::bench::explain
