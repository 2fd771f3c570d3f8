// offset_page: a key-rotation job that pages through users with LIMIT/OFFSET while accounts close.
//
// Spec. A SQL table `users(id, name, key_version)` holds 40 users (`u-1`..`u-40`, id 1..40), each
// encrypted under key version 1. A rotation job (`rotator`) re-encrypts every user under version
// 2, page by page: one transaction reads a page of five users in id order, a second sets their
// `key_version` to 2; when a page comes back short the job records itself done
// (`jobs(name, state)` = `rotation`, `done`). Meanwhile an account service (`closer`) closes a
// few accounts (deletes their rows) at random moments.
// Invariant `rotation-complete`: once the rotation is recorded done, every user left is under
// key version 2 ("user u-17 is still under key version 1 after the key rotation finished").
// Operations (history): `close` per account closed by the closer, `rotate` for the whole job.
//
// Bug (variant `buggy`): the pages are read with `ORDER BY id LIMIT 5 OFFSET ?`, the offset
// advanced by five per page. A closure of an account the job has already paged past (a row
// before the offset) shifts every later row one position down: the user just past the page
// boundary slides into the page already read, the next page starts after it, and the job never
// sees it.
// Fix (variant `fixed`): keyset pagination (`WHERE id > ?last ORDER BY id LIMIT 5`): the next
// page starts after the last id read, which no deletion moves.
// Faults: delay.
//
// Label. `outdated_read`: the page the next offset was computed from was right when read, but a
// closure committed after it changed what that position means before the next page was asked
// for. Key events: the delivery of that page (the last page read before the skipped user's id),
// the first closure of a lower-numbered user committed after that page was served and before the
// next page was (the database's reply send), and the rotator's request for the next page (the
// offset it computed).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace offset_page {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kUsers = 40;
constexpr int kPage = 5;
constexpr int kClosures = 4;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);

sim::Task<void> rotator(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                        bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  co_await env.sleep(static_cast<sim::Duration>(env.random() % 20'000'000));
  history.invoke(0, "rotate", "rotation");
  std::int64_t offset = 0;   // buggy: rows already paged
  std::int64_t last_id = 0;  // fixed: the last id paged
  int page = 0;
  for (;;) {
    ++page;
    const std::vector<services::SqlStatement> read = {
        fixed ? services::SqlStatement{"SELECT id, name FROM users WHERE id > ?1 ORDER BY id "
                                       "LIMIT 5",
                                       {last_id},
                                       std::nullopt}
              : services::SqlStatement{"SELECT id, name FROM users ORDER BY id LIMIT 5 OFFSET ?1",
                                       {offset},
                                       std::nullopt}};
    const auto r = co_await sql.transact(read, "page " + std::to_string(page));
    if (r.timed_out || !r.committed) {
      --page;  // read the same page again
      continue;
    }
    const auto& rows = r.results[0];
    if (!rows.empty()) {
      std::vector<services::SqlStatement> rotate;
      for (const auto& row : rows) {
        rotate.push_back(
            {"UPDATE users SET key_version = 2 WHERE id = ?1", {row[0].get<std::int64_t>()}});
      }
      for (;;) {
        const auto w = co_await sql.transact(rotate, "rotate page " + std::to_string(page));
        if (!w.timed_out && w.committed) break;
      }
      last_id = rows.back()[0].get<std::int64_t>();
      offset += static_cast<std::int64_t>(rows.size());
    }
    if (static_cast<int>(rows.size()) < kPage) break;
  }
  const std::vector<services::SqlStatement> done = {
      {"INSERT INTO jobs (name, state) VALUES ('rotation', 'done')", {}}};
  for (;;) {
    const auto w = co_await sql.transact(done, "rotation done");
    if (!w.timed_out && w.committed) break;
  }
  history.complete(0, sim::OpType::kOk, "rotate", "rotation");
}

sim::Task<void> closer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db) {
  services::SqlClient sql(env, db, kSqlTimeout);
  std::set<int> closed;
  for (int n = 0; n < kClosures; ++n) {
    co_await env.sleep(sim::milliseconds(2) +
                       static_cast<sim::Duration>(env.random() % 25'000'000));
    int user = static_cast<int>(env.random() % kUsers) + 1;
    while (closed.count(user)) user = user % kUsers + 1;
    closed.insert(user);
    const std::string name = "u-" + std::to_string(user);
    history.invoke(1, "close", name);
    const std::vector<services::SqlStatement> close = {
        {"DELETE FROM users WHERE name = ?1", {name}}};
    const auto r = co_await sql.transact(close, "close " + name);
    history.complete(1, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "close", name);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"offset_page",
            "a key-rotation job pages through a SQL table of users while accounts are closed",
            {"buggy", "fixed"},
            {{"rotation-complete", "once the rotation is done every user is under the new key"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, key_version INTEGER NOT "
        "NULL)",
        "CREATE TABLE jobs (name TEXT PRIMARY KEY, state TEXT NOT NULL)"};
    for (int u = 1; u <= kUsers; ++u) {
      config.schema.push_back("INSERT INTO users VALUES (" + std::to_string(u) + ", 'u-" +
                              std::to_string(u) + "', 1)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    sim.add_process("rotator",
                    [&history, d = db.process, fixed](sim::Env& env) {
                      return rotator(env, history, d, fixed);
                    },
                    {.crashable = false, .client = true});
    sim.add_process("closer",
                    [&history, d = db.process](sim::Env& env) { return closer(env, history, d); },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "rotation-complete",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            if (truth->query("SELECT 1 FROM jobs WHERE state = 'done'").empty()) {
                              return std::nullopt;
                            }
                            const auto rows = truth->query(
                                "SELECT name FROM users WHERE key_version = 1 ORDER BY id "
                                "LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto user = rows[0][0].get<std::string>();
                            return sim::Finding{"user " + user +
                                                    " is still under key version 1 after the "
                                                    "key rotation finished",
                                                {user}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The label of the request a database reply answers ("" if none).
std::string label_of(const Trace& trace, const TraceEvent& reply_send) {
  const auto* req = request_send_for(trace, reply_send);
  return req ? payload(*req).value("label", "") : "";
}

// From the message: the skipped user u-S (id S). The rotator's page reads in order (the
// database's reply sends of "page N" with their rows). The page before the skip: the last page
// whose ids are all below S; the next page: the one after it. Keys: the before-page's delivery
// to the rotator, the first committed closure of a user with a lower id served between the two
// pages' reads (the database's reply send), and the rotator's request for the next page.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string user = between(violation_message(trace), "user ", " is still");
  if (user.rfind("u-", 0) != 0) return {};
  const std::int64_t skipped = std::stoll(user.substr(2));
  const auto pages = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "sql_reply" && process_of(trace, e) == "db" &&
           payload(e).value("committed", false) && label_of(trace, e).rfind("page ", 0) == 0;
  });
  const TraceEvent* before = nullptr;
  const TraceEvent* next = nullptr;
  for (const auto* p : pages) {
    const auto& results = payload(*p).value("results", nlohmann::json::array());
    if (!results.is_array() || results.empty()) continue;
    const auto& rows = results[0];
    bool all_below = !rows.empty();
    for (const auto& row : rows) {
      if (row[0].get<std::int64_t>() >= skipped) all_below = false;
    }
    if (all_below) {
      before = p;
      next = nullptr;
    } else if (before && !next) {
      next = p;
    }
  }
  if (!before || !next) return {};
  const auto* before_delivery = delivery_of(trace, *before);
  const auto* next_request = request_send_for(trace, *next);
  if (!before_delivery || !next_request) return {};
  const auto* shift = find_first(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.type != "sql_reply" || process_of(trace, e) != "db" ||
            !payload(e).value("committed", false) || e.seq >= next->seq) {
          return false;
        }
        const std::string label = label_of(trace, e);
        if (label.rfind("close u-", 0) != 0) return false;
        return std::stoll(label.substr(8)) < skipped;
      },
      before->seq);
  if (!shift) return {};
  return {before_delivery->seq, shift->seq, next_request->seq};
}

}  // namespace offset_page

Design make_offset_page() {
  Design d;
  d.name = "offset_page";
  d.bug =
      "a key-rotation job pages with LIMIT/OFFSET: an account closed behind the offset shifts the "
      "next user into a page already read, and the job never rotates it";
  d.system = std::make_unique<offset_page::System>();
  d.invariant = "rotation-complete";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = offset_page::key_events;
  return d;
}

}  // namespace seer::bench::explain
