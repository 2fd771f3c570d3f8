// log_truncate: a checkpointer that snapshots a change log to the object store and then clears it.
//
// Spec. Two writers (`writer1`, `writer2`) record account changes (`ch-w1-7`, ...) in a SQL change
// log (`changes(id, name)`, one row per change, committed before the writer moves on). A
// checkpointer (`checkpointer`) keeps the log short: every 4 to 8 ms it reads the log
// (`SELECT id, name FROM changes`), uploads the rows as a snapshot object (`snapshots/s-N` =
// {changes, upto}) and, once the upload is acknowledged, removes the log's rows. Recovery restores
// the snapshots and replays what is left in the log.
// Invariant `change-recoverable`: every committed change is in a snapshot or still in the log
// ("change ch-w2-5 is in no snapshot and no longer in the log").
// Operations (history): `record` per change.
//
// Bug (variant `buggy`): the checkpointer clears the whole log (`DELETE FROM changes`). A change
// committed after its read (while the snapshot uploaded) is deleted with the rest, and no
// snapshot has it.
// Fix (variant `fixed`): it deletes only the rows the snapshot holds (`DELETE FROM changes WHERE
// id <= ?1`, the highest id it read); a change committed meanwhile stays for the next snapshot.
// Faults: delay, reorder.
//
// Label. `racing_delete` or `outdated_read`: the delivery of the checkpointer's log read that the
// snapshot was made from (its last before the delete), the commit of the lost change (the
// database's reply send), and the delete's commit (the database's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace log_truncate {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWriters = 2;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(60);
constexpr sim::Duration kObjectTimeout = sim::milliseconds(60);

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                       int changes) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (int n = 1; n <= changes; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string name = "ch-w" + std::to_string(index + 1) + "-" + std::to_string(n);
    history.invoke(index, "record", name);
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO changes (name) VALUES (?1)", {name}, 1}};
    const auto r = co_await sql.transact(record, "record " + name);
    history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "record", name);
  }
}

sim::Task<void> checkpointer(sim::Env& env, sim::ProcessId db, sim::ProcessId objects, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  services::ObjectClient store(env, objects, kObjectTimeout);
  int snapshot = 0;
  for (;;) {
    co_await env.sleep(sim::milliseconds(4) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::vector<services::SqlStatement> read = {
        {"SELECT id, name FROM changes ORDER BY id", {}, std::nullopt}};
    const auto rows = co_await sql.transact(read, "read log");
    if (rows.timed_out || !rows.committed || rows.results[0].empty()) continue;
    nlohmann::json names = nlohmann::json::array();
    std::int64_t upto = 0;
    for (const auto& row : rows.results[0]) {
      upto = row[0].get<std::int64_t>();
      names.push_back(row[1]);
    }
    const nlohmann::json body = {{"changes", names}, {"upto", upto}};
    const auto put = co_await store.put("snapshots/s-" + std::to_string(++snapshot), body);
    if (!put.ok()) continue;  // not uploaded: keep the log
    const std::vector<services::SqlStatement> clear =
        fixed ? std::vector<services::SqlStatement>{{"DELETE FROM changes WHERE id <= ?1",
                                                     {upto},
                                                     std::nullopt}}
              : std::vector<services::SqlStatement>{{"DELETE FROM changes", {}, std::nullopt}};
    co_await sql.transact(clear, "truncate log");
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"log_truncate",
            "a checkpointer snapshots a SQL change log to the object store and clears the log",
            {"buggy", "fixed"},
            {{"change-recoverable", "every committed change is in a snapshot or in the log"}},
            {{"sql", {"sqlite"}}, {"objects", {"strong"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE changes (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto objects =
        services::add_object_store_service(sim, "objects", services::ObjectStoreConfig{});
    sim.add_process("checkpointer",
                    [d = db.process, o = objects.process, fixed](sim::Env& env) {
                      return checkpointer(env, d, o, fixed);
                    },
                    {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int per_writer = sim.config().ops / kWriters;
    for (int w = 0; w < kWriters; ++w) {
      sim.add_process("writer" + std::to_string(w + 1),
                      [&history, w, d = db.process, per_writer](sim::Env& env) {
                        return writer(env, history, w, d, per_writer);
                      },
                      {.crashable = false, .client = true});
    }
    const auto db_truth = db.truth;
    const auto store = objects.truth;
    sim.add_invariant(
        "change-recoverable",
        sim::when_changed(
            [db_truth, store] {
              return db_truth->committed().size() * 1'000'003 + store->revision();
            },
            [db_truth, store]() -> std::optional<sim::Finding> {
              std::set<std::string> kept;
              for (const auto& key : store->keys_at(store->revision(), "snapshots/")) {
                for (const auto& n :
                     store->latest(key).encoded().value("changes", nlohmann::json::array())) {
                  kept.insert(n.get<std::string>());
                }
              }
              for (const auto& row : db_truth->query("SELECT name FROM changes")) {
                kept.insert(row[0].get<std::string>());
              }
              const std::string prefix = "record ";
              for (const auto& label : db_truth->committed()) {
                if (label.rfind(prefix, 0) != 0) continue;
                const std::string name = label.substr(prefix.size());
                if (kept.count(name)) continue;
                return sim::Finding{
                    "change " + name + " is in no snapshot and no longer in the log", {name}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the change C. Its commit: the database's committed reply send for "record C".
// The delete that removed it: the first committed "truncate log" after that commit; the snapshot's
// read: the checkpointer's last delivery of a "read log" reply before the delete's request.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string change = between(violation_message(trace), "change ", " is in no snapshot");
  if (change.empty()) return {};
  const auto committed_as = [&](const TraceEvent& e, const std::string& label) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == label;
  };
  const auto* commit =
      find_first(trace, [&](const TraceEvent& e) { return committed_as(e, "record " + change); });
  if (!commit) return {};
  const auto* clear = find_first(
      trace, [&](const TraceEvent& e) { return committed_as(e, "truncate log"); }, commit->seq);
  if (!clear) return {};
  const auto* clear_req = request_send_for(trace, *clear);
  if (!clear_req) return {};
  const int lane = clear_req->lane;
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.lane != lane || e.kind != EventKind::kDeliver || e.type != "sql_reply") return false;
        const auto* send = send_of(trace, e);
        if (!send) return false;
        const auto* req = request_send_for(trace, *send);
        return req && payload(*req).value("label", "") == "read log";
      },
      clear_req->seq);
  if (!read) return {};
  return {read->seq, commit->seq, clear->seq};
}

}  // namespace log_truncate

Design make_log_truncate() {
  Design d;
  d.name = "log_truncate";
  d.bug =
      "after uploading a snapshot of the change log the checkpointer clears the whole log, "
      "deleting changes committed while the snapshot uploaded";
  d.system = std::make_unique<log_truncate::System>();
  d.invariant = "change-recoverable";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"racing_delete", "outdated_read"};
  d.label.why_several =
      "the delete removed a change committed after the read it was decided on (a delete racing a "
      "concurrent write of what it deletes), and that read, fresh when served, was outdated by the "
      "change's commit before the delete took effect (a lost update of the log)";
  d.label.key_events = log_truncate::key_events;
  return d;
}

}  // namespace seer::bench::explain
