// batch_import: an importer that acknowledges a batch of readings whose inserts it never saw
// commit.
//
// Spec. A sensor gateway (`gateway`) collects meter readings and sends them in batches of four to
// an importer (`importer`; both the design's own processes and messages): `batch {req, batch,
// readings: [{reading, meter, value}]}`. The importer inserts each reading in its own SQL
// transaction (`readings(reading_id, meter, value)`), so that one bad reading does not reject
// the others, and answers `stored {req, batch, rejected}` listing the readings whose insert
// failed; the gateway sends a rejected reading again in a later batch and deletes the others from
// its buffer. The importer's SQL timeout is 15 ms.
// Invariant `acknowledged-readings-stored` (checked when the run ends): every reading the
// importer acknowledged is in the table ("reading r-17 of batch b-5 was acknowledged but is not
// stored").
// Operations (history): `batch` per batch by the gateway.
//
// Bug (variant `buggy`): the importer counts an insert as failed only when the database answered
// with a rollback; an insert that timed out is counted as stored. When the database crashes, the
// transaction it had not committed yet (or a request that reached it while it was down) is lost,
// the importer's wait times out, and the batch is acknowledged with the reading missing; the
// gateway has deleted it.
// Fix (variant `fixed`): a timed-out insert is retried (`INSERT OR IGNORE` on the reading id, the
// primary key, so a retry of an insert that did commit changes nothing) until the database
// answers; only then is the batch acknowledged.
// Faults: delay, crash (the database crashes; the importer and the gateway do not).
//
// Label: `crash_lost_data`: the database's crash took back the reading's insert, which the
// importer then acknowledged. Key events: the importer's insert request for the reading (its
// send, the last one), the database's crash (the last before the acknowledgement), the
// importer's `stored` answer for the batch.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <set>

namespace seer::bench::explain {

namespace batch_import {

using seer::explain::EventKind;

constexpr int kBatchSize = 4;
constexpr int kMeters = 5;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(15);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(400);

struct Batch : sim::Payload {
  Batch(std::uint64_t r, std::string b, nlohmann::json rs)
      : req(r), batch(std::move(b)), readings(std::move(rs)) {}
  std::uint64_t req;
  std::string batch;
  nlohmann::json readings;
  std::string_view type() const override { return "batch"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"batch", batch}, {"readings", readings}};
  }
};

struct Stored : sim::Payload {
  Stored(std::uint64_t r, std::string b, nlohmann::json rej)
      : req(r), batch(std::move(b)), rejected(std::move(rej)) {}
  std::uint64_t req;
  std::string batch;
  nlohmann::json rejected;
  std::string_view type() const override { return "stored"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"batch", batch}, {"rejected", rejected}};
  }
};

// Ghost state for the final check: the readings the importer acknowledged, with their batch.
struct Acknowledged {
  std::vector<std::pair<std::string, std::string>> readings;  // (reading, batch)
};

sim::Task<void> gateway(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId importer,
                        int batches) {
  nlohmann::json buffer = nlohmann::json::array();
  int next = 0;
  std::uint64_t req = 0;
  for (int b = 1; b <= batches; ++b) {
    while (buffer.size() < kBatchSize) {
      co_await env.sleep(sim::milliseconds(1) +
                         static_cast<sim::Duration>(env.random() % 2'000'000));
      const std::string meter = "m" + std::to_string(env.random() % kMeters + 1);
      buffer.push_back({{"reading", "r-" + std::to_string(++next)},
                        {"meter", meter},
                        {"value", static_cast<int>(env.random() % 1000)}});
    }
    const std::string batch = "b-" + std::to_string(b);
    history.invoke(0, "batch", batch);
    const std::uint64_t r = ++req;
    env.send(importer, sim::make_payload<Batch>(r, batch, buffer));
    std::optional<nlohmann::json> rejected;
    const sim::Time deadline = env.now() + kAnswerTimeout;
    while (!rejected) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* s = m->as<Stored>(); s && s->req == r) rejected = s->rejected;
    }
    if (!rejected) {  // no answer: the whole buffer goes again in the next batch
      history.complete(0, sim::OpType::kInfo, "batch", batch);
      continue;
    }
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& reading : buffer) {
      for (const auto& id : *rejected) {
        if (reading.at("reading") == id) kept.push_back(reading);
      }
    }
    buffer = kept;
    history.complete(0, sim::OpType::kOk, "batch", batch);
  }
}

sim::Task<void> importer(sim::Env& env, sim::ProcessId db, std::shared_ptr<Acknowledged> acked,
                         bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (;;) {
    const auto m = co_await env.receive();
    const auto* b = m.as<Batch>();
    if (!b) continue;
    const std::uint64_t req = b->req;
    const std::string batch = b->batch;
    const auto readings = b->readings;
    const sim::ProcessId from = m.from;
    nlohmann::json rejected = nlohmann::json::array();
    for (const auto& reading : readings) {
      const auto id = reading.at("reading").get<std::string>();
      const std::vector<services::SqlStatement> insert = {
          {fixed ? "INSERT OR IGNORE INTO readings (reading_id, meter, value) VALUES (?1, ?2, ?3)"
                 : "INSERT INTO readings (reading_id, meter, value) VALUES (?1, ?2, ?3)",
           {id, reading.at("meter"), reading.at("value")},
           std::nullopt}};
      auto r = co_await sql.transact(insert, "insert " + id);
      while (fixed && r.timed_out) {
        co_await env.sleep(sim::milliseconds(5));
        r = co_await sql.transact(insert, "insert " + id);
      }
      // Buggy: only an answered rollback counts as a failure.
      if (!r.timed_out && !r.committed) rejected.push_back(id);
    }
    for (const auto& reading : readings) {
      const auto id = reading.at("reading").get<std::string>();
      bool was_rejected = false;
      for (const auto& x : rejected) was_rejected = was_rejected || x == id;
      if (!was_rejected) acked->readings.emplace_back(id, batch);
    }
    env.send(from, sim::make_payload<Stored>(req, batch, rejected));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"batch_import",
            "an importer stores batches of meter readings one insert each and acknowledges the "
            "batch",
            {"buggy", "fixed"},
            {{"acknowledged-readings-stored", "every reading acknowledged is stored"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE readings (reading_id TEXT PRIMARY KEY, meter TEXT NOT NULL, value INTEGER "
        "NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto acked = std::make_shared<Acknowledged>();
    const auto importer_id = sim.add_process(
        "importer",
        [d = db.process, acked, fixed](sim::Env& env) { return importer(env, d, acked, fixed); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int batches = sim.config().ops / kBatchSize;
    sim.add_process("gateway",
                    [&history, importer_id, batches](sim::Env& env) {
                      return gateway(env, history, importer_id, batches);
                    },
                    {.crashable = false, .client = true});
    sim.add_final_check(
        "acknowledged-readings-stored", [truth = db.truth, acked]() -> std::optional<sim::Finding> {
          for (const auto& [reading, batch] : acked->readings) {
            const auto rows = truth->query(services::SqlStatement{
                "SELECT count(*) FROM readings WHERE reading_id = ?1", {reading}, std::nullopt});
            if (rows[0][0].get<std::int64_t>() > 0) continue;
            return sim::Finding{
                "reading " + reading + " of batch " + batch + " was acknowledged but is not stored",
                {reading}};
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the reading R and its batch B. The importer's `stored` send for B, the
// importer's last insert request for R before it (label "insert R"), and the database's last
// crash before that answer.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string reading = between(msg, "reading ", " of batch");
  const std::string batch = between(msg, "of batch ", " was acknowledged");
  if (reading.empty() || batch.empty()) return {};
  const auto* stored = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "stored" && process_of(trace, e) == "importer" &&
           payload(e).value("batch", "") == batch;
  });
  if (!stored) return {};
  const auto* insert = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "sql_request" &&
               process_of(trace, e) == "importer" &&
               payload(e).value("label", "") == "insert " + reading;
      },
      stored->seq);
  const auto* crash = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kCrash && process_of(trace, e) == "db";
      },
      stored->seq);
  if (!insert || !crash) return {};
  return {insert->seq, crash->seq, stored->seq};
}

}  // namespace batch_import

Design make_batch_import() {
  Design d;
  d.name = "batch_import";
  d.bug =
      "an importer inserts a batch's readings one transaction each and counts a timed-out insert "
      "as stored; a database crash loses it and the batch is acknowledged without it";
  d.system = std::make_unique<batch_import::System>();
  d.invariant = "acknowledged-readings-stored";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 80;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = batch_import::key_events;
  return d;
}

}  // namespace seer::bench::explain
