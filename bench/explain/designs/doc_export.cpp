// doc_export: an editor that exports a document right after saving it (read-your-writes).
//
// Spec. Three writers each edit their own document in a web editor. The editor saves the whole
// document to the object store after every paragraph (`docs/doc-<n>` = {rev, paragraphs}; an
// eventually consistent store, S3 before 2020: half the reads come from a replica up to five
// writes behind). Every third action the writer exports the document: the editor's export path
// reads the document back from the store (the stored copy is the source of truth for exports)
// and records the export with the paragraphs it read in the SQL `exports` table.
// Invariant `export-has-saved-work`: an export holds every paragraph the writer had saved (and
// seen acknowledged) before asking for it ("export ex-2-6 of doc-2 is missing paragraph p2-5,
// saved before the export was asked for").
// Operations (history): `save` per paragraph, `export` per export.
//
// Bug (variant `buggy`): the export trusts whatever the read returns; a read served by a lagging
// replica misses the writer's own latest saves, and the export is recorded without them.
// Fix (variant `fixed`): session consistency: the editor remembers the ETag its last save returned
// and reads again until the read's ETag is at least that one (ETags are the store revisions that
// wrote them).
// Faults: delay (the store's lag is its contract, `object-store=eventual`).
//
// Label: `stale_read`: the export acted on a read that missed a write (its own).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"
#include "seer/services/sql.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace doc_export {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWriters = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(60);

struct Oracle {
  // Per export: the paragraphs the writer had saved (acknowledged) when it asked for it.
  std::map<std::string, std::vector<std::string>> saved;
};

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId store,
                       sim::ProcessId db, int id, int actions, bool fixed,
                       std::shared_ptr<Oracle> oracle) {
  services::ObjectClient objects(env, store, kTimeout);
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const std::string doc = "doc-" + std::to_string(id);
  const std::string key = "docs/" + doc;
  std::vector<std::string> paragraphs;
  std::int64_t saved_etag = 0;
  for (int n = 1; n <= actions; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    if (n % 3 != 0) {
      const std::string para = "p" + std::to_string(id) + "-" + std::to_string(n);
      history.invoke(id, "save", para);
      paragraphs.push_back(para);
      nlohmann::json body;
      body["rev"] = paragraphs.size();
      body["paragraphs"] = paragraphs;
      for (;;) {
        const auto put = co_await objects.put(key, body);
        if (put.ok()) {
          saved_etag = put.etag;
          break;
        }
      }
      history.complete(id, sim::OpType::kOk, "save", para);
      continue;
    }
    const std::string export_id = "ex-" + std::to_string(id) + "-" + std::to_string(n);
    history.invoke(id, "export", export_id);
    oracle->saved[export_id] = paragraphs;
    services::ObjectResult read;
    for (;;) {
      read = co_await objects.get(key);
      if (read.timed_out) continue;
      if (fixed && (!read.ok() || read.etag < saved_etag)) continue;  // older than our own save
      break;
    }
    nlohmann::json exported = nlohmann::json::array();
    std::int64_t rev = 0;
    if (read.ok() && read.body.is_object()) {
      exported = read.body.value("paragraphs", nlohmann::json::array());
      rev = read.body.value("rev", std::int64_t{0});
    }
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO exports (export_id, doc, rev, paragraphs) VALUES (?1, ?2, ?3, ?4)",
         {export_id, doc, rev, exported.dump()},
         1}};
    const auto r = co_await sql.transact(record, "export " + export_id);
    history.complete(
        id,
        r.timed_out ? sim::OpType::kInfo : (r.committed ? sim::OpType::kOk : sim::OpType::kFail),
        "export", export_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"doc_export",
            "writers save documents to an eventually consistent object store and export them",
            {"buggy", "fixed"},
            {{"export-has-saved-work",
              "an export holds every paragraph saved before it was asked for"}},
            {{"object-store", {"eventual", "stale-list", "strong"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto store = services::add_object_store_service(
        sim, "objects",
        services::object_store_config(sim.config().service_or("object-store", "eventual")));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE exports (id INTEGER PRIMARY KEY AUTOINCREMENT, export_id TEXT NOT NULL, "
        "doc TEXT NOT NULL, rev INTEGER NOT NULL, paragraphs TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int writers = sim.config().clients_or(kWriters);
    for (int w = 1; w <= writers; ++w) {
      const int actions = sim.config().ops / writers + (w <= sim.config().ops % writers ? 1 : 0);
      sim.add_process(
          "writer" + std::to_string(w),
          [&history, s = store.process, d = db.process, w, actions, fixed, oracle](sim::Env& env) {
            return writer(env, history, s, d, w, actions, fixed, oracle);
          },
          {.crashable = false, .client = true});
    }
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "export-has-saved-work",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth, oracle, checked]() -> std::optional<sim::Finding> {
              const auto rows = truth->query(services::SqlStatement{
                  "SELECT id, export_id, doc, paragraphs FROM exports WHERE id > ?1 ORDER BY id",
                  {*checked},
                  std::nullopt});
              for (const auto& row : rows) {
                *checked = row[0].get<std::int64_t>();
                const auto export_id = row[1].get<std::string>();
                const auto exported = nlohmann::json::parse(row[3].get<std::string>());
                const auto it = oracle->saved.find(export_id);
                if (it == oracle->saved.end()) continue;
                for (const auto& para : it->second) {
                  if (std::find(exported.begin(), exported.end(), nlohmann::json(para)) ==
                      exported.end()) {
                    return "export " + export_id + " of " + row[2].get<std::string>() +
                           " is missing paragraph " + para +
                           ", saved before the export was asked for";
                  }
                }
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the export X of document D. The cause: the writer's read of D that the export
// used (the delivery of the last get reply for D before the export's insert was sent), the
// writer's own save of D that the read missed (the store's reply to the latest put of D before
// the read was served), and the export's commit (the database's committed reply).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string head = "export ";
  const auto of = msg.find(" of ");
  const auto is = msg.find(" is missing");
  if (msg.rfind(head, 0) != 0 || of == std::string::npos || is == std::string::npos) return {};
  const std::string export_id = msg.substr(head.size(), of - head.size());
  const std::string key = "docs/" + msg.substr(of + 4, is - of - 4);
  const TraceEvent* commit = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (req && payload(*req).value("label", "") == "export " + export_id) {
      commit = &e;
      break;
    }
  }
  if (!commit) return {};
  const auto* insert = request_send_for(trace, *commit);
  if (!insert) return {};
  // The read: the writer's last delivered get reply for the document before the insert.
  const TraceEvent* read = nullptr;
  const TraceEvent* served = nullptr;
  for (std::uint64_t s = insert->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kDeliver || e.type != "object_reply" || e.lane != insert->lane) {
      continue;
    }
    const auto& service = seer::trace::service_facts(e.oracle());
    if (service.value("op", "") != "get" || service.value("key", "") != key) continue;
    read = &e;
    break;
  }
  if (!read) return {};
  for (std::uint64_t s = read->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kSend && e.message == read->message) {
      served = &e;
      break;
    }
  }
  if (!served) return {};
  const TraceEvent* missed = nullptr;
  for (std::uint64_t s = served->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || e.type != "object_reply") continue;
    const auto& service = seer::trace::service_facts(e.oracle());
    if (service.value("op", "") == "put" && service.value("key", "") == key) {
      missed = &e;
      break;
    }
  }
  if (!missed) return {};
  return {read->seq, missed->seq, commit->seq};
}

}  // namespace doc_export

Design make_doc_export() {
  Design d;
  d.name = "doc_export";
  d.bug =
      "an export reads the writer's document back from a lagging replica and records it without "
      "the writer's own latest saves";
  d.system = std::make_unique<doc_export::System>();
  d.invariant = "export-has-saved-work";
  d.faults = {sim::FaultKind::kDelay};
  d.services = {{"object-store", "eventual"}};
  d.ops = 45;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = doc_export::key_events;
  return d;
}

}  // namespace seer::bench::explain
