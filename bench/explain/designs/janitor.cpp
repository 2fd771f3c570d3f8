// janitor: garbage collection of unreferenced uploads.
//
// Spec. Writers upload a file as an object `obj/<writer>-<n>` (object store), then commit a
// reference to it in the database (`refs(id, object)`, SQL). Some uploads are abandoned (the user
// cancels) and never referenced. A janitor scans every 15 ms: it lists the objects, reads every
// reference, and deletes objects nobody references.
// Invariant `refs-point-at-objects`: every committed reference points at an existing object
// ("reference r7 points at missing object obj/w2-3").
// Operations (history): `save` (upload + reference) per writer.
//
// Bug (variant `buggy`): the janitor's only guard is a grace period of one scan: it deletes an
// object that two consecutive scans found unreferenced. A writer that is slow between its upload
// and its reference commit (a pause, a slow request) commits a reference to an object the janitor
// decided to delete on a read that did not contain that reference yet: the delete lands after the
// commit, and the reference dangles.
// Fix (variant `fixed`): the database decides. The janitor first records a tombstone for the object
// in a transaction that succeeds only if no reference exists, and deletes only tombstoned objects;
// a writer's reference commit succeeds only if the object has no tombstone (otherwise it uploads
// again under a new name). The two transactions serialize in the database, so a referenced object
// is never tombstoned, hence never deleted.
// Faults: delay, reorder and pause (the writers and the janitor may be paused; no crashes).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"
#include "seer/services/sql.hpp"

#include <map>
#include <set>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace janitor {

constexpr int kWriters = 2;
constexpr sim::Duration kTimeout = sim::milliseconds(50);
constexpr sim::Duration kScanEvery = sim::milliseconds(15);

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId objects,
                       sim::ProcessId db, bool fixed, int id, int uploads) {
  services::ObjectClient store(env, objects, kTimeout);
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (int n = 0; n < uploads; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    std::string object = "obj/w" + std::to_string(id) + "-" + std::to_string(n);
    history.invoke(id, "save", object);
    const bool abandon = env.random() % 4 == 0;
    for (int attempt = 0;; ++attempt) {
      nlohmann::json body;
      body["writer"] = id;
      body["upload"] = n;
      while (!(co_await store.put(object, body)).ok()) {
      }
      if (abandon) break;
      // Processing before the reference is committed (thumbnails, metadata).
      co_await env.sleep(static_cast<sim::Duration>(env.random() % 3'000'000));
      std::vector<services::SqlStatement> commit;
      if (fixed) {
        commit.push_back(
            {"INSERT INTO refs (object) SELECT ?1 WHERE NOT EXISTS "
             "(SELECT 1 FROM tombstones WHERE object = ?1)",
             {object},
             1});
      } else {
        commit.push_back({"INSERT INTO refs (object) VALUES (?1)", {object}, std::nullopt});
      }
      services::SqlResult r;
      do {
        r = co_await sql.transact(commit, "ref " + object);
      } while (r.timed_out);
      if (r.committed) break;
      // Fixed only: the janitor tombstoned the upload first; upload again under a new name.
      object += "r";
    }
    history.complete(id, sim::OpType::kOk, "save", object, abandon ? "abandoned" : "");
  }
}

sim::Task<void> run_janitor(sim::Env& env, sim::ProcessId objects, sim::ProcessId db, bool fixed) {
  services::ObjectClient store(env, objects, kTimeout);
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  std::set<std::string> unreferenced_last_scan;
  for (;;) {
    co_await env.sleep(kScanEvery);
    const auto listing = co_await store.list("obj/");
    if (!listing.ok()) continue;
    const std::vector<services::SqlStatement> read_refs = {
        {"SELECT object FROM refs", {}, std::nullopt}};
    const auto refs = co_await sql.transact(read_refs, "read refs");
    if (refs.timed_out || !refs.committed) continue;
    std::set<std::string> referenced;
    for (const auto& row : refs.results[0]) referenced.insert(row[0].get<std::string>());
    std::set<std::string> unreferenced;
    for (const auto& key : listing.keys) {
      if (!referenced.count(key)) unreferenced.insert(key);
    }
    for (const auto& key : unreferenced) {
      if (!unreferenced_last_scan.count(key)) continue;  // grace period: one scan
      if (fixed) {
        const std::vector<services::SqlStatement> tombstone = {
            {"INSERT INTO tombstones (object) SELECT ?1 WHERE NOT EXISTS "
             "(SELECT 1 FROM refs WHERE object = ?1) AND NOT EXISTS "
             "(SELECT 1 FROM tombstones WHERE object = ?1)",
             {key},
             std::nullopt},
            {"SELECT count(*) FROM tombstones WHERE object = ?1", {key}, std::nullopt}};
        const auto t = co_await sql.transact(tombstone, "tombstone " + key);
        if (t.timed_out || !t.committed || t.results[1][0][0].get<std::int64_t>() != 1) continue;
      }
      co_await store.remove(key);
    }
    unreferenced_last_scan = std::move(unreferenced);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"janitor",
            "writers upload objects and reference them in SQL; a janitor deletes unreferenced "
            "objects",
            {"buggy", "fixed"},
            {{"refs-point-at-objects", "every committed reference points at an existing object"}},
            {{"object-store", {"strong"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto objects = services::add_object_store_service(sim, "objects", {});
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE refs (id INTEGER PRIMARY KEY AUTOINCREMENT, object TEXT NOT NULL)",
        "CREATE TABLE tombstones (object TEXT PRIMARY KEY)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int writers = sim.config().clients_or(kWriters);
    for (int w = 0; w < writers; ++w) {
      const int share = sim.config().ops / writers + (w < sim.config().ops % writers ? 1 : 0);
      sim.add_process(
          "writer" + std::to_string(w + 1),
          [&history, o = objects.process, d = db.process, fixed, w, share](sim::Env& env) {
            return writer(env, history, o, d, fixed, w + 1, share);
          },
          {.crashable = true, .client = true});
    }
    sim.add_process("janitor",
                    [o = objects.process, d = db.process, fixed](sim::Env& env) {
                      return run_janitor(env, o, d, fixed);
                    },
                    {.crashable = true, .client = false});
    const auto object_truth = objects.truth;
    const auto db_truth = db.truth;
    auto seen = std::make_shared<std::pair<std::size_t, std::int64_t>>(~std::size_t{0}, -1);
    sim.add_invariant(
        "refs-point-at-objects", [object_truth, db_truth, seen]() -> std::optional<std::string> {
          const std::pair<std::size_t, std::int64_t> now{db_truth->committed().size(),
                                                         object_truth->revision()};
          if (now == *seen) return std::nullopt;
          *seen = now;
          const auto rows = db_truth->query("SELECT id, object FROM refs ORDER BY id");
          for (const auto& row : rows) {
            const auto object = row[1].get<std::string>();
            if (!object_truth->latest(object).exists) {
              return "reference r" + row[0].dump() + " points at missing object " + object;
            }
          }
          return std::nullopt;
        });
  }
};

// Label. The violated object O is named in the message. The cause: the janitor's reference read
// that did not contain O's reference (the last one it received before deleting O), the writer's
// commit of the reference to O (the database's reply: the commit instant), and the janitor's delete
// of O (the store's reply: where it took effect).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string object = between(violation_message(trace), "missing object ", "");
  if (object.empty()) return {};
  const auto* del_req = find_first(trace, [&](const TraceEvent& e) {
    const auto& p = payload(e);
    return process_of(trace, e) == "janitor" && e.kind == EventKind::kSend &&
           e.type == "object_request" && p.value("op", "") == "delete" &&
           p.value("key", "") == object;
  });
  if (!del_req) return {};
  const auto* del_effect = reply_send_for(trace, *del_req);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (process_of(trace, e) != "janitor" || e.kind != EventKind::kDeliver ||
            e.type != "sql_reply") {
          return false;
        }
        const auto& results = payload(e).value("results", nlohmann::json::array());
        if (results.size() != 1) return false;  // the reference read has one statement
        for (const auto& row : results[0]) {
          if (row.size() == 1 && row[0] == object) return false;
        }
        return true;
      },
      del_req->seq);
  const auto* commit_req = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "sql_request" &&
           payload(e).value("label", "") == "ref " + object;
  });
  const TraceEvent* commit = nullptr;
  // The committed attempt of the reference (retries after timeouts carry the same label).
  for (const auto* r = commit_req; r;) {
    const auto* reply = reply_send_for(trace, *r);
    if (reply && payload(*reply).value("committed", false)) {
      commit = reply;
      break;
    }
    r = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kSend && e.type == "sql_request" &&
                 payload(e).value("label", "") == "ref " + object;
        },
        r->seq);
  }
  if (!read || !commit || !del_effect) return {};
  return {read->seq, commit->seq, del_effect->seq};
}

}  // namespace janitor

Design make_janitor() {
  Design d;
  d.name = "janitor";
  d.bug =
      "a janitor deletes an upload it read as unreferenced while the writer commits a reference";
  d.system = std::make_unique<janitor::System>();
  d.invariant = "refs-point-at-objects";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kPause};
  d.ops = 40;
  d.label.kinds = {"racing_delete"};
  d.label.key_events = janitor::key_events;
  return d;
}

}  // namespace seer::bench::explain
