// saga_cancel: an order saga whose compensation can overtake the step it compensates.
//
// Spec. An order service (`orders`, the saga's orchestrator) places orders (`o-1`, `o-2`, ...)
// one after another. The saga's first step reserves the order's stock at the inventory service
// (`inventory`, the design's own process and messages: `reserve` -> `reserved`). The inventory
// keeps its stock and reservations on its local disk (`stock/<sku>`, `res/<order>` = "sku qty").
// When the reservation is not confirmed within 6 ms, the orchestrator compensates: it sends
// `release` for the order (asked again until `released` comes back) and records the order as
// cancelled on its own disk (`order/<id>` = "cancelled"). A confirmed order is recorded
// "confirmed". No service is involved: the bug is in the design's own processes.
// Invariant `cancelled-orders-hold-nothing`: no cancelled order holds stock ("order o-7 was
// cancelled but inventory still holds its reservation (2 x sku-b)").
// Operations (history): `order` per order by the orchestrator.
//
// Bug (variant `buggy`): the inventory answers a `release` of a reservation it does not have by
// doing nothing. When the `reserve` is slow on the network (a latency spike), the orchestrator
// gives up, and its `release` overtakes the `reserve`: the release finds nothing, and the late
// reserve then takes the stock for an order that is already cancelled. Nothing ever frees it.
// Fix (variant `fixed`): a release of an unknown reservation leaves a tombstone
// (`released/<order>`), and a reserve that finds the order's tombstone is refused.
// Faults: delay, reorder.
//
// Label. `lost_response`: the reserve took effect, but only after the orchestrator had given up
// on it (the request itself was late), and the orchestrator acted on the silence (its
// compensation, in place of a retry). The key events: the orchestrator's reserve (its send), its
// receive timeout, the inventory's delivery of the release that found nothing (the last release
// delivered before the reserve), and the inventory's answer to the late reserve (where the
// reservation took effect).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace seer::bench::explain {

namespace saga_cancel {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kReserveTimeout = sim::milliseconds(6);
constexpr sim::Duration kReleaseTimeout = sim::milliseconds(6);
constexpr int kMaxReleaseAttempts = 50;
constexpr int kInitialStock = 1000;
const std::vector<std::string> kSkus = {"sku-a", "sku-b", "sku-c"};

struct Reserve : sim::Payload {
  Reserve(std::uint64_t r, std::string o, std::string s, int q)
      : req(r), order(std::move(o)), sku(std::move(s)), qty(q) {}
  std::uint64_t req;
  std::string order;
  std::string sku;
  int qty;
  std::string_view type() const override { return "reserve"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"sku", sku}, {"qty", qty}};
  }
};

struct Reserved : sim::Payload {
  Reserved(std::uint64_t r, std::string o, bool k) : req(r), order(std::move(o)), ok(k) {}
  std::uint64_t req;
  std::string order;
  bool ok;
  std::string_view type() const override { return "reserved"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}, {"ok", ok}}; }
};

struct Release : sim::Payload {
  Release(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "release"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Released : sim::Payload {
  Released(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "released"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

int stock_of(sim::Storage& disk, const std::string& sku) {
  const auto v = disk.get("stock/" + sku);
  return v ? std::stoi(*v) : kInitialStock;
}

sim::Task<void> inventory(sim::Env& env, bool fixed) {
  auto& disk = env.storage();
  for (;;) {
    const auto m = co_await env.receive();
    if (const auto* r = m.as<Reserve>()) {
      bool ok = false;
      if (fixed && disk.get("released/" + r->order)) {
        ok = false;  // the saga already compensated this order: refuse the late step
      } else if (disk.get("res/" + r->order)) {
        ok = true;  // a network copy of a reserve already applied
      } else if (const int stock = stock_of(disk, r->sku); stock >= r->qty) {
        disk.put("stock/" + r->sku, std::to_string(stock - r->qty));
        disk.put("res/" + r->order, r->sku + " " + std::to_string(r->qty));
        ok = true;
      }
      env.send(m.from, sim::make_payload<Reserved>(r->req, r->order, ok));
    } else if (const auto* rel = m.as<Release>()) {
      if (const auto held = disk.get("res/" + rel->order)) {
        std::istringstream in(*held);
        std::string sku;
        int qty = 0;
        in >> sku >> qty;
        disk.put("stock/" + sku, std::to_string(stock_of(disk, sku) + qty));
        disk.erase("res/" + rel->order);
      } else if (fixed) {
        disk.put("released/" + rel->order, "1");
      }
      env.send(m.from, sim::make_payload<Released>(rel->req, rel->order));
    }
  }
}

sim::Task<void> orders(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId inv,
                       int count) {
  std::uint64_t req = 0;
  for (int n = 1; n <= count; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string order = "o-" + std::to_string(n);
    const std::string sku = kSkus[env.random() % kSkus.size()];
    const int qty = static_cast<int>(env.random() % 3) + 1;
    history.invoke(0, "order", order);
    const std::uint64_t r = ++req;
    env.send(inv, sim::make_payload<Reserve>(r, order, sku, qty));
    std::optional<bool> reserved;
    const sim::Time deadline = env.now() + kReserveTimeout;
    while (!reserved) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* a = m->as<Reserved>(); a && a->req == r) reserved = a->ok;
    }
    if (reserved) {
      env.storage().put("order/" + order, *reserved ? "confirmed" : "rejected");
      history.complete(0, *reserved ? sim::OpType::kOk : sim::OpType::kFail, "order", order);
      continue;
    }
    // Compensate: the reservation may or may not have happened; release it until confirmed.
    bool released = false;
    for (int attempt = 0; attempt < kMaxReleaseAttempts && !released; ++attempt) {
      const std::uint64_t rr = ++req;
      env.send(inv, sim::make_payload<Release>(rr, order));
      const sim::Time until = env.now() + kReleaseTimeout;
      for (;;) {
        const sim::Duration left = until - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        if (const auto* a = m->as<Released>(); a && a->req == rr) {
          released = true;
          break;
        }
      }
    }
    env.storage().put("order/" + order, "cancelled");
    history.complete(0, sim::OpType::kFail, "order", order, "cancelled: reservation timed out");
  }
}

// Every key under `prefix` and its current value (durable values overlaid with pending writes).
std::map<std::string, std::string> current_under(const sim::DiskView& disk,
                                                 const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : *disk.durable) {
    if (k.rfind(prefix, 0) == 0) out[k] = v;
  }
  for (const auto& [k, v] : *disk.pending) {
    if (k.rfind(prefix, 0) != 0) continue;
    if (v) {
      out[k] = *v;
    } else {
      out.erase(k);
    }
  }
  return out;
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"saga_cancel",
            "an order saga reserves stock and releases it when the reservation times out",
            {"buggy", "fixed"},
            {{"cancelled-orders-hold-nothing", "no cancelled order holds stock"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto inv =
        sim.add_process("inventory", [fixed](sim::Env& env) { return inventory(env, fixed); },
                        {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int count = sim.config().ops;
    const auto orch = sim.add_process(
        "orders",
        [&history, inv, count](sim::Env& env) { return orders(env, history, inv, count); },
        {.crashable = false, .client = true});
    sim.add_invariant(
        "cancelled-orders-hold-nothing", [&sim, inv, orch]() -> std::optional<sim::Finding> {
          const auto held = current_under(sim.disk(inv), "res/");
          if (held.empty()) return std::nullopt;
          const auto orch_disk = sim.disk(orch);
          for (const auto& [key, what] : held) {
            const std::string order = key.substr(4);
            if (orch_disk.current("order/" + order) != std::optional<std::string>("cancelled")) {
              continue;
            }
            std::istringstream in(what);
            std::string sku;
            int qty = 0;
            in >> sku >> qty;
            return sim::Finding{"order " + order +
                                    " was cancelled but inventory still holds its reservation (" +
                                    std::to_string(qty) + " x " + sku + ")",
                                {order}};
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O. The orchestrator's reserve of O (its only one) and the
// inventory's answer to it (where the reservation took effect); the orchestrator's receive
// timeout after the reserve (it gave up); the inventory's delivery of a release of O before the
// reserve's delivery (the compensation that overtook the step and found nothing).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was cancelled");
  if (order.empty()) return {};
  const int orch = lane_of(trace, "orders");
  const int inv = lane_of(trace, "inventory");
  const auto* reserve = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.lane == orch && e.type == "reserve" &&
           payload(e).value("order", "") == order;
  });
  if (!reserve) return {};
  const auto* answer = reply_send_for(trace, *reserve);
  const auto* reserve_delivery = delivery_of(trace, *reserve);
  if (!answer || !reserve_delivery || !payload(*answer).value("ok", false)) return {};
  const auto* first_release = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.lane == orch && e.type == "release" &&
               payload(e).value("order", "") == order;
      },
      reserve->seq);
  if (!first_release) return {};
  const auto* timeout = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && e.lane == orch && e.seq > reserve->seq &&
               e.line.value("timer", "") == "receive_timeout";
      },
      first_release->seq);
  const auto* overtaking = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == inv && e.type == "release" &&
               payload(e).value("order", "") == order;
      },
      reserve_delivery->seq);
  if (!timeout || !overtaking) return {};
  return {reserve->seq, timeout->seq, overtaking->seq, answer->seq};
}

}  // namespace saga_cancel

Design make_saga_cancel() {
  Design d;
  d.name = "saga_cancel";
  d.bug =
      "a saga's compensation (release) overtakes the slow reservation it compensates; the release "
      "finds nothing and the late reservation holds stock for a cancelled order";
  d.system = std::make_unique<saga_cancel::System>();
  d.invariant = "cancelled-orders-hold-nothing";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = saga_cancel::key_events;
  return d;
}

}  // namespace seer::bench::explain
