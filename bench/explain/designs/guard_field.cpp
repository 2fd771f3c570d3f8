// guard_field: optimistic concurrency on a shared playlist, guarded on the wrong column.
//
// Spec. A shared playlist (`pl-1`) is one SQL row, `playlists(id, doc, n, version)`: `doc` is the
// JSON list of items (`{"id":"a2","rev":3}`: an item and its edit revision), `n` the number of
// items, `version` a counter bumped by every change. Two editors (app servers `editor1` and
// `editor2`) each own their items (`a1`, `a2`, ... and `b1`, `b2`, ...): an edit either renames one
// of the editor's items (its `rev` + 1) or, now and then, appends a new item. An edit is
// optimistic: read the row (one transaction), change the document in the app, write it back
// guarded on what was read (a second transaction, `expect_changes` 1); a guard that fails means
// somebody changed the playlist meanwhile: read again and redo the edit (up to five times).
// Invariant `edits-kept`: an edit acknowledged to its editor is never undone by another editor's
// write ("playlist pl-1 lost item a2's edit: revision 1 stored, revision 2 acknowledged").
// Operations (history): `edit` per edit by an editor.
//
// Bug (variant `buggy`): the guard is `n = ?` (the item count read), written when the playlist
// could only be appended to. A rename does not change the count, so an editor whose read was
// overtaken by the other editor's rename still passes the guard and writes the document it read
// back, with the other's item at its older revision.
// Fix (variant `fixed`): the guard is `version = ?` (bumped by every change).
// Faults: delay, reorder.
//
// Label. `outdated_read` (a lost update): the overwriting editor's read of the playlist (its
// delivery), the other editor's commit of the acknowledged revision that overtook it, and the
// overwriting commit.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace guard_field {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);
constexpr int kMaxTries = 5;
const std::string kPlaylist = "pl-1";

// What each editor was told it stored: item -> the revision acknowledged last.
struct Acked {
  std::map<std::string, std::int64_t> rev;
  std::uint64_t version = 0;
};

sim::Task<void> editor(sim::Env& env, sim::HistoryRecorder& history, int client, sim::ProcessId db,
                       char prefix, int edits, bool fixed, std::shared_ptr<Acked> acked) {
  services::SqlClient sql(env, db, kSqlTimeout);
  int owned = 1;  // items prefix1..prefix<owned> exist (created by the schema)
  for (int n = 0; n < edits; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const bool append = env.random() % 5 == 0;
    const std::string item =
        std::string(1, prefix) +
        std::to_string(append ? owned + 1 : static_cast<int>(env.random() % owned) + 1);
    history.invoke(client, "edit", item);
    bool done = false;
    std::int64_t stored_rev = 0;
    for (int t = 0; t < kMaxTries && !done; ++t) {
      const std::vector<services::SqlStatement> select = {
          {"SELECT doc, n, version FROM playlists WHERE id = ?1", {kPlaylist}, std::nullopt}};
      const auto read = co_await sql.transact(select, "read " + kPlaylist);
      if (read.timed_out || !read.committed || read.results[0].empty()) continue;
      const auto& row = read.results[0][0];
      auto doc = nlohmann::json::parse(row[0].get<std::string>());
      const auto count = row[1].get<std::int64_t>();
      const auto version = row[2].get<std::int64_t>();
      if (append) {
        doc.push_back({{"id", item}, {"rev", 1}});
        stored_rev = 1;
      } else {
        for (auto& it : doc) {
          if (it["id"] == item) {
            it["rev"] = it["rev"].get<std::int64_t>() + 1;
            stored_rev = it["rev"].get<std::int64_t>();
          }
        }
      }
      const std::string guard = fixed ? "version = ?4" : "n = ?4";
      const std::vector<services::SqlStatement> update = {
          {"UPDATE playlists SET doc = ?1, n = ?2, version = version + 1 WHERE id = ?3 AND " +
               guard,
           {doc.dump(), static_cast<std::int64_t>(doc.size()), kPlaylist, fixed ? version : count},
           1}};
      const auto write = co_await sql.transact(
          update, (append ? "append " : "rename ") + item + " r" + std::to_string(stored_rev));
      if (write.timed_out) break;  // unknown: not retried, not acknowledged
      done = write.committed;
    }
    if (done) {
      if (append) ++owned;
      acked->rev[item] = stored_rev;
      ++acked->version;
    }
    history.complete(client, done ? sim::OpType::kOk : sim::OpType::kInfo, "edit", item);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"guard_field",
            "two editors change a shared playlist row with optimistic read-then-guarded-write",
            {"buggy", "fixed"},
            {{"edits-kept", "an acknowledged edit is never undone by another editor"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE playlists (id TEXT PRIMARY KEY, doc TEXT NOT NULL, n INTEGER NOT NULL, "
        "version INTEGER NOT NULL)",
        "INSERT INTO playlists VALUES ('pl-1', '[{\"id\":\"a1\",\"rev\":0},{\"id\":\"b1\","
        "\"rev\":0}]', 2, 1)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto acked = std::make_shared<Acked>();
    auto& history = sim.history();
    const int edits = std::max(1, sim.config().ops / 2);
    for (int e = 0; e < 2; ++e) {
      const char prefix = e == 0 ? 'a' : 'b';
      sim.add_process("editor" + std::to_string(e + 1),
                      [&history, e, d = db.process, prefix, edits, fixed, acked](sim::Env& env) {
                        return editor(env, history, e, d, prefix, edits, fixed, acked);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = db.truth;
    sim.add_invariant(
        "edits-kept",
        sim::when_changed(
            [truth, acked] { return truth->committed().size() * 1000003 + acked->version; },
            [truth, acked]() -> std::optional<sim::Finding> {
              const auto rows = truth->query("SELECT doc FROM playlists WHERE id = 'pl-1'");
              if (rows.empty()) return std::nullopt;
              const auto doc = nlohmann::json::parse(rows[0][0].get<std::string>());
              for (const auto& [item, rev] : acked->rev) {
                std::int64_t stored = -1;
                for (const auto& it : doc) {
                  if (it["id"] == item) stored = it["rev"].get<std::int64_t>();
                }
                if (stored >= rev) continue;
                return sim::Finding{
                    "playlist pl-1 lost item " + item + "'s edit: " +
                        (stored < 0 ? std::string("the item is gone")
                                    : "revision " + std::to_string(stored) + " stored") +
                        ", revision " + std::to_string(rev) + " acknowledged",
                    {item}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The item's revision in a write's document (-1 if absent).
std::int64_t rev_in(const TraceEvent& request, const std::string& item) {
  const auto& statements = payload(request).value("statements", nlohmann::json::array());
  if (statements.empty()) return -1;
  const auto& params = statements[0].value("params", nlohmann::json::array());
  if (params.empty() || !params[0].is_string()) return -1;
  const auto doc = nlohmann::json::parse(params[0].get<std::string>(), nullptr, false);
  if (!doc.is_array()) return -1;
  for (const auto& it : doc) {
    if (it.value("id", "") == item) return it.value("rev", std::int64_t{-1});
  }
  return -1;
}

// From the message: the item I and the acknowledged revision R. The owner's commit of I at R
// (the database's reply send for "rename I rR" or "append I rR", committed); the first committed
// write after it whose document carries I below R (the overwrite); the overwriting editor's last
// read delivered before it sent that write.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string item = between(msg, "lost item ", "'s edit");
  const std::string rev_text = between(msg, ", revision ", " acknowledged");
  if (item.empty() || rev_text.empty()) return {};
  const std::string suffix = " " + item + " r" + rev_text;
  const std::int64_t rev = std::stoll(rev_text);
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "sql_reply" &&
           payload(e).value("committed", false) &&
           payload(e).value("changes", nlohmann::json::array()).dump() == "[1]";
  });
  const TraceEvent* owner = nullptr;
  for (const auto* c : commits) {
    const auto* req = request_send_for(trace, *c);
    if (!req) continue;
    const std::string label = payload(*req).value("label", "");
    if (label == "rename" + suffix || label == "append" + suffix) {
      owner = c;
      continue;
    }
    if (!owner || rev_in(*req, item) >= rev) continue;
    const auto* read = find_last(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kDeliver && e.type == "sql_reply" && e.lane == req->lane;
        },
        req->seq);
    if (!read) return {};
    return {read->seq, owner->seq, c->seq};
  }
  return {};
}

}  // namespace guard_field

Design make_guard_field() {
  Design d;
  d.name = "guard_field";
  d.bug =
      "an optimistic write-back guarded on the item count, not a version: a rename that "
      "overtook the read leaves the count unchanged, and the stale document overwrites it";
  d.system = std::make_unique<guard_field::System>();
  d.invariant = "edits-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = guard_field::key_events;
  return d;
}

}  // namespace seer::bench::explain
