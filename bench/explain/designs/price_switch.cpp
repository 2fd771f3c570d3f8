// price_switch (held out): checkouts price orders from the active price list named in the KV store.
//
// Spec. An admin process activates price lists 1, 2, 3, ... in turn by writing `pricing/active` =
// {"list": n} in the KV store (the lists themselves are static: list n charges 100 + n per item).
// Two checkout processes price each order from the active list and record it in SQL
// (`orders(id, list, total)`).
// Invariant `current-prices`: an order is never priced with a list older than one whose activation
// had been acknowledged before the order began ("order c1-7 was priced with list 2, but list 3 was
// active before the order began").
// Operations (history): `activate` (admin), `checkout` (checkouts).
//
// Bug (variant `buggy`): the checkouts read `pricing/active` with the KV store's default reads (any
// replica, the store runs `stale-bounded`): a lagging follower answers with a list that was
// already replaced, and the order is priced and committed with it.
// Fix (variant `fixed`): read `pricing/active` linearizably.
// Faults: delay, drop.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

namespace price_switch {

constexpr int kCheckouts = 2;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

struct Oracle {
  std::int64_t activated = 0;  // the newest list whose activation was acknowledged
  std::string violation;
};

sim::Task<void> admin(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                      int lists, std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kTimeout);
  for (std::int64_t list = 1; list <= lists; ++list) {
    history.invoke(0, "activate", list);
    nlohmann::json active;
    active["list"] = list;
    while (!(co_await kv.put("pricing/active", active)).ok()) {
    }
    oracle->activated = list;
    history.complete(0, sim::OpType::kOk, "activate", list);
    co_await env.sleep(sim::milliseconds(5) +
                       static_cast<sim::Duration>(env.random() % 10'000'000));
  }
}

sim::Task<void> checkout(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                         sim::ProcessId db, bool fixed, int id, int orders,
                         std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const auto read = fixed ? services::KvRead::kLinearizable : services::KvRead::kAny;
  for (int n = 0; n < orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "c" + std::to_string(id) + "-" + std::to_string(n);
    const std::int64_t required = oracle->activated;
    history.invoke(id, "checkout", order);
    services::KvResult active;
    do {
      active = co_await kv.get("pricing/active", read);
    } while (active.timed_out);
    const std::int64_t list =
        active.status == services::KvStatus::kOk ? active.value["list"].get<std::int64_t>() : 0;
    const std::int64_t items = static_cast<std::int64_t>(env.random() % 5) + 1;
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO orders (id, list, total) VALUES (?1, ?2, ?3)",
         {order, list, items * (100 + list)},
         1}};
    services::SqlResult r;
    do {
      r = co_await sql.transact(record, "order " + order);
    } while (r.timed_out);
    history.complete(id, sim::OpType::kOk, "checkout", order);
    if (list < required && oracle->violation.empty()) {
      oracle->violation = "order " + order + " was priced with list " + std::to_string(list) +
                          ", but list " + std::to_string(required) +
                          " was active before the order began";
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"price_switch",
            "checkouts price orders from the active price list named in a KV store, record them "
            "in SQL",
            {"buggy", "fixed"},
            {{"current-prices", "no order is priced with a list replaced before it began"}},
            {{"kv", {"stale-bounded"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("stale-bounded"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (id TEXT PRIMARY KEY, list INTEGER NOT NULL, total INTEGER NOT "
        "NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    sim.add_process("admin",
                    [&history, k = kv.process, oracle](sim::Env& env) {
                      return admin(env, history, k, 12, oracle);
                    },
                    {.crashable = false, .client = true});
    const int checkouts = sim.config().clients_or(kCheckouts);
    for (int c = 0; c < checkouts; ++c) {
      const int share = sim.config().ops / checkouts + (c < sim.config().ops % checkouts ? 1 : 0);
      sim.add_process(
          "checkout" + std::to_string(c + 1),
          [&history, k = kv.process, d = db.process, fixed, c, share, oracle](sim::Env& env) {
            return checkout(env, history, k, d, fixed, c + 1, share, oracle);
          },
          {.crashable = false, .client = true});
    }
    sim.add_invariant("current-prices", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: the order O, the stale list s and the required list q. The cause: the
// checkout's read of `pricing/active` that returned s (its last before it recorded O), the
// activation of list s+1 that the read missed (the store's reply: where it took effect), and the
// commit of O priced with s (the decision).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string order = between(msg, "order ", " was priced");
  const std::string stale = between(msg, " with list ", ", but");
  if (order.empty() || stale.empty()) return {};
  const auto s = std::stoll(stale);
  const auto* commit = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "order " + order;
  });
  if (!commit) return {};
  const auto* req = request_send_for(trace, *commit);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == req->lane && e.kind == EventKind::kDeliver && e.type == "kv_reply";
      },
      req->seq);
  const auto* missed = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* put = request_send_for(trace, e);
    return put && payload(*put).value("op", "") == "put" && payload(*put).contains("value") &&
           payload(*put)["value"].value("list", std::int64_t{-1}) == s + 1;
  });
  if (!read || !missed) return {};
  return {read->seq, missed->seq, commit->seq};
}

}  // namespace price_switch

Design make_price_switch() {
  Design d;
  d.name = "price_switch";
  d.bug = "checkouts price orders from a price list read from a lagging replica";
  d.system = std::make_unique<price_switch::System>();
  d.invariant = "current-prices";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = price_switch::key_events;
  return d;
}

}  // namespace seer::bench::explain
