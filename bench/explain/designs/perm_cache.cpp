// perm_cache: app servers that cache document permission checks in memory for 30 ms.
//
// Spec. A document service keeps who may edit which document in SQL (`acl(doc, user)`: users
// `u1`..`u3` on documents `d-1`..`d-4`, every pair granted at the start). Two app servers
// (`app1`, `app2`) take edit requests (a user, a document) and, if the user may edit the
// document, record the edit (`edits(id, doc, user, app)`). An admin revokes one pair at a time,
// for good: the revocation deletes the `acl` row and records, in the same transaction, the last
// edit committed so far (`revocations(doc, user, after_edit)`). A revocation takes effect when it
// commits: from then on the user's edits of that document are refused.
// Invariant `no-edit-after-revoke`: no edit of a document by a user commits after the user's
// access to it was revoked ("user u2 edited d-3 after its access was revoked (edit 41)").
// Operations (history): `edit` per request, by the app server that took it.
//
// Bug (variant `buggy`): permission checks are slow, so each app server keeps the answer of a
// check (`SELECT count(*) FROM acl WHERE doc = ? AND user = ?`) in memory for 30 ms and answers
// later checks of the same pair from it (a local TTL cache). A revocation that commits while an
// app server holds "allowed" for the pair is not seen: the app server records the user's edit of
// the document after the revocation took effect. (The check is its own transaction even when it is
// not cached: a revocation that commits during the edit's round trip is missed too; the cache
// widens that window to 30 ms.)
// Fix (variant `fixed`): the check is part of the edit's own statement (`INSERT INTO edits ...
// SELECT ... WHERE EXISTS (SELECT 1 FROM acl WHERE doc = ? AND user = ?)`), so the edit commits
// only while the grant exists; the cache is gone.
// Faults: delay, reorder (the bug needs none: the cache's lifetime is the window).
//
// Label. `outdated_read`: the app server's permission check was fresh when the database answered
// it, and the admin's revocation changed what it returned (the count went from 1 to 0) before the
// edit decided on it took effect. Key events: the delivery of the app server's check of the pair
// (its latest before the edit), the revocation's commit (the database's reply send), the edit's
// commit (the database's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace seer::bench::explain {

namespace perm_cache {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kUsers = 3;
constexpr int kDocs = 4;
constexpr int kRevocations = 8;
constexpr sim::Duration kCacheFor = sim::milliseconds(30);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);

std::string user_name(int u) {
  return "u" + std::to_string(u);
}
std::string doc_name(int d) {
  return "d-" + std::to_string(d);
}

sim::Task<void> admin(sim::Env& env, sim::ProcessId db) {
  services::SqlClient sql(env, db, kSqlTimeout);
  std::set<std::pair<int, int>> revoked;
  for (int n = 0; n < kRevocations; ++n) {
    co_await env.sleep(sim::milliseconds(4) + static_cast<sim::Duration>(env.random() % 6'000'000));
    int u = 0;
    int d = 0;
    do {
      u = static_cast<int>(env.random() % kUsers) + 1;
      d = static_cast<int>(env.random() % kDocs) + 1;
    } while (revoked.count({u, d}) != 0);
    revoked.insert({u, d});
    const std::string user = user_name(u);
    const std::string doc = doc_name(d);
    const std::vector<services::SqlStatement> revoke = {
        {"DELETE FROM acl WHERE doc = ?1 AND user = ?2", {doc, user}, 1},
        {"INSERT INTO revocations (doc, user, after_edit) VALUES (?1, ?2, "
         "(SELECT coalesce(max(id), 0) FROM edits))",
         {doc, user},
         1}};
    co_await sql.transact(revoke, "revoke " + doc + " " + user);
  }
}

struct Cached {
  bool allowed = false;
  sim::Time fetched_at = 0;
};

sim::Task<void> app(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                    int requests, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  std::map<std::pair<std::string, std::string>, Cached> cache;  // buggy: (doc, user) -> answer
  for (int n = 1; n <= requests; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string user = user_name(static_cast<int>(env.random() % kUsers) + 1);
    const std::string doc = doc_name(static_cast<int>(env.random() % kDocs) + 1);
    history.invoke(index, "edit", doc + " " + user);
    if (fixed) {
      const std::vector<services::SqlStatement> edit = {
          {"INSERT INTO edits (doc, user, app) SELECT ?1, ?2, ?3 WHERE EXISTS "
           "(SELECT 1 FROM acl WHERE doc = ?1 AND user = ?2)",
           {doc, user, me},
           std::nullopt}};
      const auto r = co_await sql.transact(edit, "edit " + doc + " " + user);
      const bool done = !r.timed_out && r.committed && !r.changes.empty() && r.changes[0] == 1;
      history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "edit",
                       doc + " " + user, done ? std::string() : std::string("refused"));
      continue;
    }
    bool allowed = false;
    const auto key = std::make_pair(doc, user);
    const auto hit = cache.find(key);
    if (hit != cache.end() && env.now() - hit->second.fetched_at < kCacheFor) {
      allowed = hit->second.allowed;
    } else {
      const std::vector<services::SqlStatement> check = {
          {"SELECT count(*) FROM acl WHERE doc = ?1 AND user = ?2", {doc, user}, std::nullopt}};
      const auto c = co_await sql.transact(check, "check " + doc + " " + user);
      if (c.timed_out || !c.committed) {
        history.complete(index, sim::OpType::kInfo, "edit", doc + " " + user, "check failed");
        continue;
      }
      allowed = c.results[0][0][0].get<std::int64_t>() > 0;
      cache[key] = Cached{allowed, env.now()};
    }
    if (!allowed) {
      history.complete(index, sim::OpType::kOk, "edit", doc + " " + user, "refused");
      continue;
    }
    const std::vector<services::SqlStatement> edit = {
        {"INSERT INTO edits (doc, user, app) VALUES (?1, ?2, ?3)", {doc, user, me}, 1}};
    const auto r = co_await sql.transact(edit, "edit " + doc + " " + user);
    history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "edit",
                     doc + " " + user);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"perm_cache",
            "app servers record document edits after a permission check they cache for 30 ms",
            {"buggy", "fixed"},
            {{"no-edit-after-revoke", "no edit commits after the editor's access was revoked"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE acl (doc TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (doc, user))",
        "CREATE TABLE edits (id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, "
        "user TEXT NOT NULL, app TEXT NOT NULL)",
        "CREATE TABLE revocations (doc TEXT NOT NULL, user TEXT NOT NULL, "
        "after_edit INTEGER NOT NULL)"};
    for (int d = 1; d <= kDocs; ++d) {
      for (int u = 1; u <= kUsers; ++u) {
        config.schema.push_back("INSERT INTO acl VALUES ('" + doc_name(d) + "', '" + user_name(u) +
                                "')");
      }
    }
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process("admin", [d = db.process](sim::Env& env) { return admin(env, d); },
                    {.crashable = false, .client = false});
    auto& history = sim.history();
    const int requests = sim.config().ops;
    for (int a = 1; a <= 2; ++a) {
      sim.add_process("app" + std::to_string(a),
                      [&history, a, d = db.process, requests, fixed](sim::Env& env) {
                        return app(env, history, a - 1, d, requests, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "no-edit-after-revoke",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT e.doc, e.user, e.id FROM edits e JOIN revocations r "
                                "ON e.doc = r.doc AND e.user = r.user WHERE e.id > r.after_edit "
                                "ORDER BY e.id LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto doc = rows[0][0].get<std::string>();
                            const auto user = rows[0][1].get<std::string>();
                            return sim::Finding{"user " + user + " edited " + doc +
                                                    " after its access was revoked (edit " +
                                                    rows[0][2].dump() + ")",
                                                {doc, user}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The database's committed reply send for the transaction labelled `label`, the last before
// `before` (0: anywhere).
const TraceEvent* last_commit(const Trace& trace, const std::string& label, std::uint64_t before) {
  return find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
            !payload(e).value("committed", false)) {
          return false;
        }
        const auto* req = request_send_for(trace, e);
        return req && payload(*req).value("label", "") == label;
      },
      before);
}

// From the message: user U and document D. The edit's commit is the last committed "edit D U"
// before the violation (the invariant runs after every commit, so the first edit past the
// revocation is the one it fired on). Its app server A (the edit's requester); A's check of the
// pair is the latest delivery to A of the database's answer to "check D U" before the edit's
// request; the revocation's commit is the committed "revoke D U".
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string user = between(msg, "user ", " edited ");
  const std::string doc = between(msg, " edited ", " after ");
  if (user.empty() || doc.empty()) return {};
  const auto until = violation_event(trace);
  const auto* edit = last_commit(trace, "edit " + doc + " " + user, until + 1);
  const auto* revoke = last_commit(trace, "revoke " + doc + " " + user, until + 1);
  if (!edit || !revoke) return {};
  const auto* edit_req = request_send_for(trace, *edit);
  if (!edit_req) return {};
  const std::string app = process_of(trace, *edit_req);
  const auto* check = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.type != "sql_reply" || process_of(trace, e) != app) {
          return false;
        }
        const auto* send = send_of(trace, e);
        const auto* req = send ? request_send_for(trace, *send) : nullptr;
        return req && payload(*req).value("label", "") == "check " + doc + " " + user;
      },
      edit_req->seq);
  if (!check) return {};
  return {check->seq, revoke->seq, edit->seq};
}

}  // namespace perm_cache

Design make_perm_cache() {
  Design d;
  d.name = "perm_cache";
  d.bug =
      "app servers cache a permission check for 30 ms and record an edit after the editor's "
      "access was revoked";
  d.system = std::make_unique<perm_cache::System>();
  d.invariant = "no-edit-after-revoke";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = perm_cache::key_events;
  return d;
}

}  // namespace seer::bench::explain
