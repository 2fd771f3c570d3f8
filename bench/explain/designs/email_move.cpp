// email_move: moving users' email addresses to a new table while two app servers keep changing
// them, with the migration's switch read through each app server's config cache.
//
// Spec. Users' email addresses live in `users.email` (the old location). A migration moves them
// to `emails(user_id, email)` (the new location): the migrator copies every address and flips the
// switch (`migration.source` from 'old' to 'new') in one transaction. Two app servers (`app1`,
// `app2`) change addresses for four users (`u-1` .. `u-4`): each change writes the address to the
// location the switch names and a line in the change log (`changes(user_id, email)`), in one
// transaction. Like every other setting, the app servers read the switch through a config cache
// refreshed when older than 15 ms (`SELECT source FROM migration`). Readers read the address
// from the location the switch names.
// Invariant `email-is-last-change`: each user's address at the location the switch names is the
// one their last change set ("user u-3's email is u-3-c7 at the new location, but their last
// change set u-3-c12").
// Operations (history): `change` per address change by an app server.
//
// Bug (variant `buggy`): after the switch an app server whose cache still says 'old' writes the
// change to `users.email`, which the copy has already taken and nobody reads any more; the change
// is acknowledged and lost.
// Fix (variant `fixed`): the change's transaction decides the location itself: both writes are
// guarded on the switch in the same transaction (`UPDATE users ... WHERE (SELECT source FROM
// migration) = 'old'` and `INSERT OR REPLACE INTO emails ... SELECT ... WHERE (SELECT source FROM
// migration) = 'new'`), so exactly the current location is written.
// Faults: delay, reorder.
//
// Label. `outdated_read`: the app server's switch read that filled its cache (its delivery: 'old',
// fresh when served), the migrator's switch (its commit) that changed it, and the change written
// to the old location on that cached read (its commit).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace email_move {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kUsers = 4;
constexpr int kApps = 2;
constexpr sim::Duration kCacheTtl = sim::milliseconds(15);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);

// The changes still to make (shared by the app servers: the users' requests, not design state).
struct Workload {
  int remaining = 0;
  int next_change = 0;
};

sim::Task<void> app(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                    std::shared_ptr<Workload> work, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  std::string source;  // the cached switch
  sim::Time cached_at = 0;
  while (work->remaining > 0) {
    --work->remaining;
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string user = "u-" + std::to_string(env.random() % kUsers + 1);
    const std::string email = user + "-c" + std::to_string(++work->next_change);
    if (source.empty() || env.now() - cached_at > kCacheTtl) {
      const std::vector<services::SqlStatement> read_switch = {
          {"SELECT source FROM migration WHERE id = 1", {}, std::nullopt}};
      const auto r = co_await sql.transact(read_switch, "read switch");
      if (!r.timed_out && r.committed && !r.results[0].empty()) {
        source = r.results[0][0][0].get<std::string>();
        cached_at = env.now();
      }
    }
    if (source.empty()) continue;
    std::vector<services::SqlStatement> change;
    if (fixed) {
      change = {{"UPDATE users SET email = ?2 WHERE id = ?1 AND "
                 "(SELECT source FROM migration WHERE id = 1) = 'old'",
                 {user, email},
                 std::nullopt},
                {"INSERT OR REPLACE INTO emails (user_id, email) SELECT ?1, ?2 WHERE "
                 "(SELECT source FROM migration WHERE id = 1) = 'new'",
                 {user, email},
                 std::nullopt}};
    } else if (source == "old") {
      change = {{"UPDATE users SET email = ?2 WHERE id = ?1", {user, email}, 1}};
    } else {
      change = {{"INSERT OR REPLACE INTO emails (user_id, email) VALUES (?1, ?2)",
                 {user, email},
                 std::nullopt}};
    }
    change.push_back(
        {"INSERT INTO changes (user_id, email) VALUES (?1, ?2)", {user, email}, std::nullopt});
    history.invoke(index, "change", email);
    const auto r = co_await sql.transact(change, "change " + user);
    history.complete(index,
                     r.timed_out   ? sim::OpType::kInfo
                     : r.committed ? sim::OpType::kOk
                                   : sim::OpType::kFail,
                     "change", email, r.timed_out ? std::string("timed out") : r.error);
  }
}

sim::Task<void> migrator(sim::Env& env, sim::ProcessId db) {
  services::SqlClient sql(env, db, kSqlTimeout);
  co_await env.sleep(sim::milliseconds(20) + static_cast<sim::Duration>(env.random() % 40'000'000));
  const std::vector<services::SqlStatement> move = {
      {"INSERT OR REPLACE INTO emails (user_id, email) SELECT id, email FROM users",
       {},
       std::nullopt},
      {"UPDATE migration SET source = 'new' WHERE id = 1", {}, 1}};
  for (;;) {
    const auto r = co_await sql.transact(move, "switch");
    if (!r.timed_out) break;
    // Timed out: it may have committed; moving again copies the same (or newer) addresses.
    const std::vector<services::SqlStatement> check = {
        {"SELECT source FROM migration WHERE id = 1", {}, std::nullopt}};
    const auto c = co_await sql.transact(check, "check switch");
    if (!c.timed_out && c.committed && !c.results[0].empty() &&
        c.results[0][0][0].get<std::string>() == "new") {
      break;
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"email_move",
            "users' email addresses move to a new table while app servers, reading the switch "
            "through a config cache, keep changing them",
            {"buggy", "fixed"},
            {{"email-is-last-change", "each user's address is the one their last change set"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL)",
        "CREATE TABLE emails (user_id TEXT PRIMARY KEY, email TEXT NOT NULL)",
        "CREATE TABLE migration (id INTEGER PRIMARY KEY, source TEXT NOT NULL)",
        "CREATE TABLE changes (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, "
        "email TEXT NOT NULL)",
        "INSERT INTO migration VALUES (1, 'old')"};
    for (int u = 1; u <= kUsers; ++u) {
      const std::string user = "u-" + std::to_string(u);
      config.schema.push_back("INSERT INTO users VALUES ('" + user + "', '" + user + "-c0')");
      config.schema.push_back("INSERT INTO changes (user_id, email) VALUES ('" + user + "', '" +
                              user + "-c0')");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto work = std::make_shared<Workload>();
    work->remaining = sim.config().ops;
    auto& history = sim.history();
    for (int a = 1; a <= kApps; ++a) {
      sim.add_process("app" + std::to_string(a),
                      [&history, a, d = db.process, work, fixed](sim::Env& env) {
                        return app(env, history, a - 1, d, work, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_process("migrator", [d = db.process](sim::Env& env) { return migrator(env, d); },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "email-is-last-change",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth]() -> std::optional<sim::Finding> {
              const auto rows = truth->query(
                  "SELECT c.user_id, m.source, CASE m.source WHEN 'new' THEN "
                  "(SELECT email FROM emails WHERE user_id = c.user_id) ELSE "
                  "(SELECT email FROM users WHERE id = c.user_id) END AS current, c.email "
                  "FROM changes c, migration m WHERE c.id = (SELECT max(id) FROM changes "
                  "WHERE user_id = c.user_id) ORDER BY c.user_id");
              for (const auto& row : rows) {
                const auto current = row[2].is_string() ? row[2].get<std::string>() : "nothing";
                const auto last = row[3].get<std::string>();
                if (current == last) continue;
                const auto user = row[0].get<std::string>();
                return sim::Finding{"user " + user + "'s email is " + current + " at the " +
                                        row[1].get<std::string>() +
                                        " location, but their last change set " + last,
                                    {user}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the user U and the address C their last change set. The change's commit (the
// database's committed reply to "change U" whose request carries C), made by app server A; A's
// last switch read before that change (its delivery of the reply: the cache fill it decided on,
// returning 'old'); the migrator's switch commit (the committed reply to "switch").
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string user = between(msg, "user ", "'s email is ");
  const std::string last = between(msg, "their last change set ", "");
  if (user.empty() || last.empty()) return {};
  const auto until = violation_event(trace);
  const TraceEvent* commit = nullptr;
  const TraceEvent* request = nullptr;
  const TraceEvent* switch_commit = nullptr;
  for (const auto& e : trace.events) {
    if (e.seq > until) break;
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const auto label = payload(*req).value("label", "");
    if (label == "switch" && !switch_commit) switch_commit = &e;
    if (label == "change " + user &&
        req->line.dump().find("\"" + last + "\"") != std::string::npos) {
      commit = &e;
      request = req;
    }
  }
  if (!commit || !switch_commit) return {};
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.lane != request->lane || e.type != "sql_reply") {
          return false;
        }
        const auto* reply = send_of(trace, e);
        const auto* req = reply ? request_send_for(trace, *reply) : nullptr;
        return req && payload(*req).value("label", "") == "read switch";
      },
      request->seq);
  if (!read) return {};
  return {read->seq, switch_commit->seq, commit->seq};
}

}  // namespace email_move

Design make_email_move() {
  Design d;
  d.name = "email_move";
  d.bug =
      "an app server reads a migration's switch through a config cache and, after the switch, "
      "writes an address change to the old table the copy already took";
  d.system = std::make_unique<email_move::System>();
  d.invariant = "email-is-last-change";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = email_move::key_events;
  return d;
}

}  // namespace seer::bench::explain
