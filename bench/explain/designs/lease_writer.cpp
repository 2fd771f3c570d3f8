// lease_writer: a single writer elected by a lease in the KV store, appending to a SQL log.
//
// Spec. Two writers append items to a log table in the database (`log(id, writer, epoch, item)`).
// Only the lease holder may append. The lease is the KV key `lease`: {holder, epoch, expires},
// where `expires` is the holder's clock plus 30 ms. A writer that finds the lease missing or
// expired takes it with a compare-and-set (epoch + 1); the holder renews it (compare-and-set)
// after each batch of three appends.
// Invariant `fenced-log`: the log's epochs never go down in commit order: once a write under epoch
// e committed, no write under an older epoch commits ("log entry 17 by writer1 under lease epoch 3
// committed after writer2's entry 15 under epoch 4").
// Operations (history): `append` per item.
//
// Bug (variant `buggy`): the holder checks its lease against its own clock once per batch, then
// appends three items. A pause (GC, VM stall) or a slow request in the middle of the batch makes
// it append after the lease expired in real time; meanwhile the other writer took the lease and
// appended under the next epoch.
// Fix (variant `fixed`): fencing: each append carries the lease epoch and the database accepts it
// only if no higher epoch was written (`INSERT ... SELECT ... WHERE ?epoch >= MAX(epoch)`); a
// rejected append means the lease is lost.
// Faults: delay, reorder, pause (no clock skew: the lease's clock arithmetic is on one clock).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace lease_writer {

constexpr int kWriters = 2;
constexpr int kBatch = 3;
constexpr sim::Duration kTtl = sim::milliseconds(30);
constexpr sim::Duration kTimeout = sim::milliseconds(50);

struct Lease {
  bool held = false;
  std::int64_t epoch = 0;
  std::int64_t revision = 0;
  sim::Time expires = 0;  // on this writer's clock
};

// Takes the lease if it is free or expired. Returns the lease if this writer holds it.
sim::Task<Lease> acquire(sim::Env& env, services::KvClient& kv, const std::string& me) {
  const auto got = co_await kv.get("lease", services::KvRead::kLinearizable);
  if (got.timed_out) co_return Lease{};
  const sim::Time now = env.now();
  nlohmann::json next;
  next["holder"] = me;
  next["expires"] = now + kTtl;
  services::KvResult taken;
  if (got.status == services::KvStatus::kNotFound) {
    next["epoch"] = 1;
    taken = co_await kv.create("lease", next);
  } else if (got.value["holder"] == me && got.value["expires"].get<sim::Time>() > now) {
    co_return Lease{true, got.value["epoch"].get<std::int64_t>(), got.revision,
                    got.value["expires"].get<sim::Time>()};
  } else if (got.value["expires"].get<sim::Time>() <= now) {
    next["epoch"] = got.value["epoch"].get<std::int64_t>() + 1;
    taken = co_await kv.update("lease", next, got.revision);
  } else {
    co_return Lease{};  // someone else holds it
  }
  if (!taken.ok()) co_return Lease{};
  co_return Lease{true, next["epoch"].get<std::int64_t>(), taken.revision, now + kTtl};
}

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                       sim::ProcessId db, bool fixed, int id, int items) {
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const std::string me = "writer" + std::to_string(id);
  int next_item = 0;
  Lease lease;
  while (next_item < items) {
    if (!lease.held) {
      lease = co_await acquire(env, kv, me);
      if (!lease.held) {
        co_await env.sleep(sim::milliseconds(3));
        continue;
      }
    }
    // The lease check: on this writer's clock, once per batch.
    if (env.now() >= lease.expires) {
      lease.held = false;
      continue;
    }
    for (int b = 0; b < kBatch && next_item < items; ++b) {
      const std::int64_t item = id * 1000 + next_item++;
      history.invoke(id, "append", item);
      std::vector<services::SqlStatement> append;
      if (fixed) {
        append.push_back(
            {"INSERT INTO log (writer, epoch, item) SELECT ?1, ?2, ?3 "
             "WHERE ?2 >= COALESCE((SELECT MAX(epoch) FROM log), 0)",
             {me, lease.epoch, item},
             1});
      } else {
        append.push_back({"INSERT INTO log (writer, epoch, item) VALUES (?1, ?2, ?3)",
                          {me, lease.epoch, item},
                          std::nullopt});
      }
      const auto r =
          co_await sql.transact(append, "append " + me + " e" + std::to_string(lease.epoch) +
                                            " item " + std::to_string(item));
      history.complete(
          id,
          r.timed_out ? sim::OpType::kInfo : (r.committed ? sim::OpType::kOk : sim::OpType::kFail),
          "append", item, r.timed_out ? "timeout" : r.error);
      if (!r.timed_out && !r.committed) {  // fixed: fenced off, the lease is lost
        lease.held = false;
        break;
      }
      co_await env.sleep(sim::milliseconds(1));
    }
    if (!lease.held) continue;
    // Renew.
    nlohmann::json renewed;
    renewed["holder"] = me;
    renewed["epoch"] = lease.epoch;
    const sim::Time now = env.now();
    renewed["expires"] = now + kTtl;
    const auto r = co_await kv.update("lease", renewed, lease.revision);
    if (r.ok()) {
      lease.revision = r.revision;
      lease.expires = now + kTtl;
    } else {
      lease.held = false;
    }
    co_await env.sleep(static_cast<sim::Duration>(env.random() % 4'000'000));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"lease_writer",
            "two writers append to a SQL log; a lease in the KV store elects the one allowed to",
            {"buggy", "fixed"},
            {{"fenced-log", "no append under an older lease epoch commits after a newer one"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, writer TEXT NOT NULL, "
        "epoch INTEGER NOT NULL, item INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int writers = sim.config().clients_or(kWriters);
    for (int w = 0; w < writers; ++w) {
      const int share = sim.config().ops / writers + (w < sim.config().ops % writers ? 1 : 0);
      sim.add_process("writer" + std::to_string(w + 1),
                      [&history, k = kv.process, d = db.process, fixed, w, share](sim::Env& env) {
                        return writer(env, history, k, d, fixed, w + 1, share);
                      },
                      {.crashable = true, .client = true});
    }
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("fenced-log", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query("SELECT id, writer, epoch FROM log ORDER BY id");
      std::size_t newest = 0;  // the row with the highest epoch so far
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i > 0 && rows[i][2].get<std::int64_t>() < rows[newest][2].get<std::int64_t>()) {
          return "log entry " + rows[i][0].dump() + " by " + rows[i][1].get<std::string>() +
                 " under lease epoch " + rows[i][2].dump() + " committed after " +
                 rows[newest][1].get<std::string>() + "'s entry " + rows[newest][0].dump() +
                 " under epoch " + rows[newest][2].dump();
        }
        if (rows[i][2].get<std::int64_t>() > rows[newest][2].get<std::int64_t>()) newest = i;
      }
      return std::nullopt;
    });
  }
};

// Label. From the message: the late entry's writer W and epoch e, the newer epoch f. The cause:
// W's last lease grant or renewal under epoch e (the store's reply: the lease whose expiry passed),
// W's append under epoch e sent after the other writer took epoch f (the act on the expired
// lease), and the other writer's acquisition of epoch f (the takeover the expiry allowed).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string writer = between(msg, " by ", " under lease epoch ");
  const std::string epoch_e = between(msg, " under lease epoch ", " committed after ");
  const std::string other = between(msg, " committed after ", "'s entry ");
  const std::string epoch_f = between(between(msg, "'s entry ", ""), " under epoch ", "");
  if (writer.empty() || epoch_e.empty() || other.empty() || epoch_f.empty()) return {};
  const auto e = std::stoll(epoch_e);
  const auto f = std::stoll(epoch_f);
  auto lease_write = [&](const std::string& who, std::int64_t epoch) {
    return [&trace, who, epoch](const TraceEvent& ev) {
      if (ev.kind != EventKind::kSend || ev.type != "kv_reply" || process_of(trace, ev) != "kv" ||
          trace.processes.at(static_cast<std::size_t>(ev.peer)) != who ||
          payload(ev).value("status", "") != "ok") {
        return false;
      }
      const auto* req = request_send_for(trace, ev);
      if (!req) return false;
      const auto& p = payload(*req);
      const auto op = p.value("op", "");
      return (op == "create" || op == "update") && p.contains("value") &&
             p["value"].value("epoch", std::int64_t{-1}) == epoch;
    };
  };
  const auto* takeover = find_first(trace, lease_write(other, f));
  if (!takeover) return {};
  // The late append: entry N is the N-th committed append (every transaction here is an append).
  const std::string entry = between(msg, "log entry ", " by ");
  if (entry.empty()) return {};
  const auto n = static_cast<std::size_t>(std::stoll(entry));
  const auto commits = find_all(trace, [&](const TraceEvent& ev) {
    return process_of(trace, ev) == "db" && ev.kind == EventKind::kSend && ev.type == "sql_reply" &&
           payload(ev).value("committed", false);
  });
  if (n == 0 || n > commits.size()) return {};
  const auto* act = request_send_for(trace, *commits[n - 1]);
  if (!act || process_of(trace, *act) != writer) return {};
  const auto* grant = find_last(trace, lease_write(writer, e), act->seq);
  if (!grant) return {};
  return {grant->seq, act->seq, takeover->seq};
}

}  // namespace lease_writer

Design make_lease_writer() {
  Design d;
  d.name = "lease_writer";
  d.bug = "the lease holder appends after its lease expired in real time (a pause mid-batch)";
  d.system = std::make_unique<lease_writer::System>();
  d.invariant = "fenced-log";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kPause};
  d.ops = 40;
  d.label.kinds = {"expired_lease"};
  d.label.key_events = lease_writer::key_events;
  return d;
}

}  // namespace seer::bench::explain
