// status_notifier: order-status notifications from polling a replicated KV store.
//
// Spec. A warehouse moves six orders (`o-1`..`o-6`) through their statuses in the KV store
// (`order/<id>` = {"status", "step"}: placed 0, packed 1, shipped 2, delivered 3), one step at a
// time, orders interleaved, every few milliseconds; writes go through the store's leader. A
// notifier service polls every order not yet delivered every 2 ms with ordinary (serializable)
// reads, which any replica may serve (`kv=stale-bounded`: half the reads come from a follower up
// to 3 revisions behind), and when an order's status differs from the last one it told the
// customer about, it records a notification in SQL (`notifications(order_id, status, step)`, the
// outbox a mailer sends from) and remembers it.
// Invariant `notified-in-order`: a customer is never told of an earlier status after a later one
// ("order o-2 notified packed (step 1) after shipped (step 2)").
// Operations (history): `advance` (order, status) by the warehouse.
//
// Bug (variant `buggy`): reads are not monotonic across polls: a poll served by a lagging follower
// returns a status older than the one already notified, it differs from the last one, and the
// notifier tells the customer the order went back.
// Fix (variant `fixed`): monotonic reads: the notifier keeps the mod revision of the last value it
// acted on for each order and ignores a read older than that (a session guarantee, as etcd clients
// keep a revision floor).
// Faults: delay.
//
// Label. `stale_read`: the notifier's read that returned the older status (its delivery), the
// warehouse's write it missed (the latest write of the order before the read was served), and the
// commit of the backwards notification.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace status_notifier {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kOrders = 6;
constexpr int kLastStep = 3;
constexpr sim::Duration kPoll = sim::milliseconds(2);
constexpr sim::Duration kTimeout = sim::seconds(1);

const char* status_name(std::int64_t step) {
  static const char* names[] = {"placed", "packed", "shipped", "delivered"};
  return step >= 0 && step <= kLastStep ? names[step] : "?";
}

sim::Task<void> warehouse(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                          int advances) {
  services::KvClient kv(env, kv_store, kTimeout);
  std::vector<std::int64_t> step(kOrders + 1, -1);
  int done = 0;
  for (int n = 0; n < advances && done < kOrders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    // The next order to move: a random one not yet delivered.
    int order = 1 + static_cast<int>(env.random() % kOrders);
    while (step[order] == kLastStep) order = order % kOrders + 1;
    const std::int64_t next = ++step[order];
    if (next == kLastStep) ++done;
    const std::string id = "o-" + std::to_string(order);
    const nlohmann::json value = {{"order", id}, {"status", status_name(next)}, {"step", next}};
    history.invoke(0, "advance", nlohmann::json::array({id, status_name(next)}));
    for (;;) {
      const auto r = co_await kv.put("order/" + id, value);
      if (!r.timed_out) break;
    }
    history.complete(0, sim::OpType::kOk, "advance",
                     nlohmann::json::array({id, status_name(next)}));
  }
  co_await env.sleep(sim::milliseconds(20));  // let the last notifications go out
}

sim::Task<void> notifier(sim::Env& env, sim::ProcessId kv_store, sim::ProcessId db, bool fixed) {
  services::KvClient kv(env, kv_store, kTimeout);
  services::SqlClient sql(env, db, kTimeout);
  std::map<std::string, std::string> told;   // order -> the status last notified
  std::map<std::string, std::int64_t> seen;  // fixed: order -> revision last acted on
  std::map<std::string, bool> finished;
  for (;;) {
    co_await env.sleep(kPoll);
    for (int o = 1; o <= kOrders; ++o) {
      const std::string id = "o-" + std::to_string(o);
      if (finished[id]) continue;
      const auto r = co_await kv.get("order/" + id);
      if (!r.ok()) continue;
      if (fixed && r.revision < seen[id]) continue;  // older than what we acted on: ignore
      const std::string status = r.value.value("status", "");
      const std::int64_t step = r.value.value("step", std::int64_t{-1});
      seen[id] = std::max(seen[id], r.revision);
      if (status == told[id]) continue;
      const std::vector<services::SqlStatement> notify = {
          {"INSERT INTO notifications (order_id, status, step) VALUES (?1, ?2, ?3)",
           {id, status, step},
           1}};
      const auto c = co_await sql.transact(notify, "notify " + id + " " + status);
      if (c.timed_out || !c.committed) continue;  // try again on the next poll
      told[id] = status;
      if (step == kLastStep) finished[id] = true;
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"status_notifier",
            "a notifier polls order statuses from a replicated KV store and notifies customers "
            "of each change",
            {"buggy", "fixed"},
            {{"notified-in-order", "no customer is told of an earlier status after a later one"}},
            {{"kv", {"stale-bounded", "linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(
        sim, "kv", services::kv_config(sim.config().service_or("kv", "stale-bounded")));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT "
        "NULL, status TEXT NOT NULL, step INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process("notifier",
                    [k = kv.process, d = db.process, fixed](sim::Env& env) {
                      return notifier(env, k, d, fixed);
                    },
                    {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int advances = sim.config().ops;
    sim.add_process("warehouse",
                    [&history, k = kv.process, advances](sim::Env& env) {
                      return warehouse(env, history, k, advances);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "notified-in-order",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT a.order_id, a.status, a.step, b.status, b.step "
                                "FROM notifications a JOIN notifications b ON a.order_id = "
                                "b.order_id AND b.id < a.id AND b.step > a.step ORDER BY a.id "
                                "LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{"order " + order + " notified " +
                                                    rows[0][1].get<std::string>() + " (step " +
                                                    rows[0][2].dump() + ") after " +
                                                    rows[0][3].get<std::string>() + " (step " +
                                                    rows[0][4].dump() + ")",
                                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O and the status S notified out of order. The backwards
// notification's commit: the first committed "notify O S" after the commit of the later status.
// The notifier's read behind it: its latest delivery of a reply to a get of order/O before the
// notification's request. The write it missed: the latest applied put of order/O (the store's
// reply send) before the store served that read.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string head = "order ";
  const auto a = msg.find(" notified ");
  const auto b = msg.find(" (step ");
  const auto c = msg.find(" after ");
  const auto d = msg.rfind(" (step ");
  if (msg.rfind(head, 0) != 0 || a == std::string::npos || b == std::string::npos ||
      c == std::string::npos || d == std::string::npos || d <= c) {
    return {};
  }
  const std::string order = msg.substr(head.size(), a - head.size());
  const std::string status = msg.substr(a + 10, b - a - 10);
  const std::string later = msg.substr(c + 7, d - c - 7);
  const TraceEvent* later_commit = nullptr;
  const TraceEvent* commit = nullptr;
  const TraceEvent* notify_request = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const std::string label = payload(*req).value("label", "");
    if (!later_commit && label == "notify " + order + " " + later) {
      later_commit = &e;
    } else if (later_commit && label == "notify " + order + " " + status) {
      commit = &e;
      notify_request = req;
      break;
    }
  }
  if (!commit) return {};
  // The notifier's latest get of order/O answered before it sent the notification: the reply's
  // delivery (`read`) and the store's reply send (`served`, where the read was served).
  const TraceEvent* read = nullptr;
  const TraceEvent* served = nullptr;
  for (std::uint64_t s = notify_request->seq; s-- > 1 && !read;) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kDeliver || e.lane != notify_request->lane || e.type != "kv_reply") {
      continue;
    }
    for (std::uint64_t t = e.seq; t-- > 1;) {
      const auto& send = trace.at(t);
      if (send.kind != EventKind::kSend || send.message != e.message) continue;
      const auto* req = request_send_for(trace, send);
      if (req && payload(*req).value("op", "") == "get" &&
          payload(*req).value("key", "") == "order/" + order) {
        read = &e;
        served = &send;
      }
      break;
    }
  }
  if (!read || !served) return {};
  const TraceEvent* missed = nullptr;
  for (std::uint64_t s = served->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || e.type != "kv_reply") continue;
    const auto* req = request_send_for(trace, e);
    if (req && payload(*req).value("op", "") == "put" &&
        payload(*req).value("key", "") == "order/" + order) {
      missed = &e;
      break;
    }
  }
  if (!missed) return {};
  return {read->seq, missed->seq, commit->seq};
}

}  // namespace status_notifier

Design make_status_notifier() {
  Design d;
  d.name = "status_notifier";
  d.bug =
      "a notifier polling a replicated store reads an order's older status from a lagging "
      "follower and tells the customer the order went back";
  d.system = std::make_unique<status_notifier::System>();
  d.invariant = "notified-in-order";
  d.faults = {sim::FaultKind::kDelay};
  d.services = {{"kv", "stale-bounded"}};
  d.ops = 18;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = status_notifier::key_events;
  return d;
}

}  // namespace seer::bench::explain
