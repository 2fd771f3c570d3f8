// fence_check: a fencing token checked in one transaction and used in the next.
//
// Spec. Two publishers (`writer1`, `writer2`) append items to a news feed, a SQL table
// (`entries(id, feed, item, token, writer)`); only the holder of the feed's lease may append. The
// lease is a KV record (`lease/news` = {holder, token, expires}, `expires` on the holder's clock,
// 15 ms ahead), taken with create-if-absent or, once expired, with a compare-and-set that raises
// the token; the holder renews it (compare-and-set) when less than 5 ms remain. Because a holder
// can stall (a GC pause) past its lease, the feed is fenced: a new holder first registers its
// token in SQL (`fence(feed, token)`, raised only upwards), and appends are meant to be refused
// for any token below the registered one.
// Invariant `fenced-appends`: no append commits under a token below the registered one ("feed
// news: writer1 appended news-w1-7 under token 3 after writer2 registered token 4").
// Operations (history): `append` per item by each writer.
//
// Bug (variant `buggy`): the fence is checked in its own transaction (`SELECT token FROM fence`)
// and the append is a second one. A writer paused between the two (or whose append is slow on the
// network) lets its lease expire; the other writer takes the lease over and registers a higher
// token; the first writer's append then commits under its old token, past the fence it checked.
// Fix (variant `fixed`): the check and the append are one guarded statement
// (`INSERT ... SELECT ... WHERE (SELECT token FROM fence WHERE feed = ?) = ?token`, expected to
// insert one row).
// Faults: delay, pause (the writers and the database may pause; nothing crashes). A timed-out
// append is made again under the same item (its outcome is unknown).
//
// Label. `outdated_read` or `expired_lease` (why_several below): the deposed writer's last lease
// write the store acknowledged before its append, its fence read (the delivery of the check's
// answer), the other writer's takeover of the lease (the store's reply send), the other writer's
// fence registration (its commit), and the late append's commit.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace fence_check {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

const std::string kFeed = "news";
const std::string kLeaseKey = "lease/news";
constexpr sim::Duration kLeaseTtl = sim::milliseconds(15);
constexpr sim::Duration kRenewBefore = sim::milliseconds(5);
constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(50);

struct Writer {
  sim::Env& env;
  services::KvClient kv;
  services::SqlClient sql;
  std::string me;
  bool holding = false;
  std::int64_t token = 0;
  std::int64_t revision = 0;
  sim::Time expires = 0;

  nlohmann::json lease_value(std::int64_t t, sim::Time until) const {
    return {{"holder", me}, {"token", t}, {"expires", until}};
  }

  // Takes the lease if it is free or expired, and registers the new token in the fence.
  sim::Task<void> acquire() {
    const auto cur = co_await kv.get(kLeaseKey, services::KvRead::kLinearizable);
    if (cur.timed_out) co_return;
    const sim::Time until = env.now() + kLeaseTtl;
    std::int64_t next = 1;
    services::KvResult w;
    if (cur.status == services::KvStatus::kNotFound) {
      w = co_await kv.create(kLeaseKey, lease_value(next, until));
    } else {
      if (cur.value.value("expires", sim::Time{0}) > env.now()) co_return;  // still held
      next = cur.value.value("token", std::int64_t{0}) + 1;
      w = co_await kv.update(kLeaseKey, lease_value(next, until), cur.revision);
    }
    if (!w.ok()) co_return;
    const std::vector<services::SqlStatement> register_token = {
        {"UPDATE fence SET token = ?1, holder = ?2 WHERE feed = ?3 AND token < ?1",
         {next, me, kFeed},
         1}};
    const auto reg =
        co_await sql.transact(register_token, "fence " + me + " token " + std::to_string(next));
    if (reg.timed_out || !reg.committed) co_return;
    holding = true;
    token = next;
    revision = w.revision;
    expires = until;
  }

  sim::Task<void> renew() {
    const sim::Time until = env.now() + kLeaseTtl;
    const auto w = co_await kv.update(kLeaseKey, lease_value(token, until), revision);
    if (!w.ok()) {
      holding = false;
      co_return;
    }
    revision = w.revision;
    expires = until;
  }

  // One append of `item`; false if it was not made (the writer lost the lease or could not tell).
  sim::Task<bool> append(const std::string& item, bool fixed) {
    if (fixed) {
      const std::vector<services::SqlStatement> guarded = {
          {"INSERT INTO entries (feed, item, token, writer) SELECT ?1, ?2, ?3, ?4 "
           "WHERE (SELECT token FROM fence WHERE feed = ?1) = ?3",
           {kFeed, item, token, me},
           1}};
      const auto r = co_await sql.transact(guarded, "append " + item);
      if (!r.timed_out && !r.committed) holding = false;
      co_return !r.timed_out && r.committed;
    }
    const std::vector<services::SqlStatement> read_fence = {
        {"SELECT token FROM fence WHERE feed = ?1", {kFeed}, std::nullopt}};
    const auto check = co_await sql.transact(read_fence, "check " + item);
    if (check.timed_out || !check.committed || check.results[0].empty()) co_return false;
    if (check.results[0][0][0].get<std::int64_t>() != token) {
      holding = false;  // fenced off
      co_return false;
    }
    const std::vector<services::SqlStatement> insert = {
        {"INSERT INTO entries (feed, item, token, writer) VALUES (?1, ?2, ?3, ?4)",
         {kFeed, item, token, me},
         std::nullopt}};
    const auto r = co_await sql.transact(insert, "append " + item);
    co_return !r.timed_out && r.committed;
  }
};

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId kv_id, sim::ProcessId db, int items, bool fixed) {
  Writer w{env, services::KvClient(env, kv_id, kKvTimeout),
           services::SqlClient(env, db, kSqlTimeout), env.name_of(env.self())};
  const std::string tag = "w" + std::to_string(index + 1);
  int made = 0;
  for (int attempt = 0; made < items && attempt < items * 20; ++attempt) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    if (!w.holding) {
      co_await w.acquire();
      if (!w.holding) continue;
    }
    if (env.now() >= w.expires - kRenewBefore) {
      co_await w.renew();
      if (!w.holding) continue;
    }
    const std::string item = kFeed + "-" + tag + "-" + std::to_string(made + 1);
    history.invoke(index, "append", item);
    const bool ok = co_await w.append(item, fixed);
    history.complete(index, ok ? sim::OpType::kOk : sim::OpType::kInfo, "append", item);
    if (ok) ++made;
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"fence_check",
            "two writers append to a feed under a KV lease, fenced by a token registered in SQL",
            {"buggy", "fixed"},
            {{"fenced-appends", "no append commits under a token below the registered one"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE fence (feed TEXT PRIMARY KEY, token INTEGER NOT NULL, holder TEXT)",
        "INSERT INTO fence VALUES ('news', 0, NULL)",
        "CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, feed TEXT NOT NULL, "
        "item TEXT NOT NULL, token INTEGER NOT NULL, writer TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int items = sim.config().ops / 2;
    for (int i = 0; i < 2; ++i) {
      sim.add_process("writer" + std::to_string(i + 1),
                      [&history, i, k = kv.process, d = db.process, items, fixed](sim::Env& env) {
                        return writer(env, history, i, k, d, items, fixed);
                      },
                      {.crashable = false, .client = true, .pausable = true});
    }
    auto checked = std::make_shared<std::int64_t>(0);  // the last entry id checked
    sim.add_invariant(
        "fenced-appends",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth, checked]() -> std::optional<sim::Finding> {
              // Commits are one at a time, so the fence now is the fence each new entry met.
              const auto fence = truth->query("SELECT token, holder FROM fence");
              const auto entries =
                  truth->query("SELECT id, item, token, writer FROM entries WHERE id > " +
                               std::to_string(*checked) + " ORDER BY id");
              for (const auto& e : entries) {
                *checked = e[0].get<std::int64_t>();
                if (e[2].get<std::int64_t>() >= fence[0][0].get<std::int64_t>()) continue;
                const auto item = e[1].get<std::string>();
                return sim::Finding{"feed news: " + e[3].get<std::string>() + " appended " + item +
                                        " under token " + e[2].dump() + " after " +
                                        fence[0][1].get<std::string>() + " registered token " +
                                        fence[0][0].dump(),
                                    {item}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The first committed sql_reply (its send) to a request labelled `label`, or nullptr.
const TraceEvent* first_commit_of(const Trace& trace, const std::string& label) {
  return find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == label;
  });
}

// The last committed sql_reply (its send) to a request labelled `label` at or before `until`: an
// append that timed out is made again under the same item, so the one that broke the invariant
// is the last before the violation.
const TraceEvent* last_commit_of(const Trace& trace, const std::string& label,
                                 std::uint64_t until) {
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
      until + 1);
}

// The store's acknowledgement (reply send, status ok) of a lease write by `lane` under `token`:
// the last one before `before` (0: the first one).
const TraceEvent* lease_write(const Trace& trace, int lane, std::int64_t token,
                              std::uint64_t before) {
  const TraceEvent* found = nullptr;
  for (const auto& e : trace.events) {
    if (before != 0 && e.seq >= before) break;
    if (e.kind != EventKind::kSend || e.lane != lane || e.type != "kv_request") continue;
    const auto& p = payload(e);
    const auto op = p.value("op", "");
    if ((op != "create" && op != "update") || p.value("key", "") != kLeaseKey) continue;
    const auto& v = p.value("value", nlohmann::json());
    if (!v.is_object() || v.value("token", std::int64_t{-1}) != token) continue;
    const auto* reply = reply_send_for(trace, e);
    if (!reply || payload(*reply).value("status", "") != "ok") continue;
    if (before != 0 && reply->seq >= before) continue;
    if (before == 0) return reply;
    found = reply;
  }
  return found;
}

// From the message: the late writer W, its item I and token T, the writer W2 that registered
// token T2. The keys: W's last acknowledged lease write under T before its append, the delivery
// of W's last fence check for I before the append that broke the invariant, W2's lease write under
// T2 (the takeover), W2's fence registration commit, and the commit of W's append of I.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string who = between(msg, "feed news: ", " appended ");
  const std::string item = between(msg, " appended ", " under token ");
  const std::string token = between(msg, " under token ", " after ");
  const std::string other = between(msg, " after ", " registered token ");
  const std::string other_token = between(msg, " registered token ", "");
  if (who.empty() || item.empty() || token.empty() || other.empty() || other_token.empty()) {
    return {};
  }
  const int w = lane_of(trace, who);
  const int w2 = lane_of(trace, other);
  const auto* append = last_commit_of(trace, "append " + item, violation_event(trace));
  const auto* registered = first_commit_of(trace, "fence " + other + " token " + other_token);
  if (!append || !registered || w < 0 || w2 < 0) return {};
  const auto* check_req = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.lane == w && e.type == "sql_request" &&
               payload(e).value("label", "") == "check " + item;
      },
      append->seq);
  const auto* check_reply = check_req ? reply_send_for(trace, *check_req) : nullptr;
  const auto* check_read = check_reply ? delivery_of(trace, *check_reply) : nullptr;
  const auto* append_req = request_send_for(trace, *append);
  const auto* own_lease =
      append_req ? lease_write(trace, w, std::stoll(token), append_req->seq) : nullptr;
  const auto* takeover = lease_write(trace, w2, std::stoll(other_token), 0);
  if (!check_read || !own_lease || !takeover) return {};
  return {own_lease->seq, check_read->seq, takeover->seq, registered->seq, append->seq};
}

}  // namespace fence_check

Design make_fence_check() {
  Design d;
  d.name = "fence_check";
  d.bug =
      "a writer checks the fencing token in one transaction and appends in the next; paused in "
      "between past its lease, it appends under a token the new holder already fenced off";
  d.system = std::make_unique<fence_check::System>();
  d.invariant = "fenced-appends";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read", "expired_lease"};
  d.label.why_several =
      "the append was decided on a fence read that the other writer's registration changed "
      "before the append took effect (outdated_read, the half the fix repairs: check and write in "
      "one statement), and it is an act of a holder whose lease had expired and been taken over "
      "(expired_lease, the pause that let it happen); both name the same events";
  d.label.key_events = fence_check::key_events;
  return d;
}

}  // namespace seer::bench::explain
