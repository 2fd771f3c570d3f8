// node_drain: a removed node that still gets requests routed by a stale placement table.
//
// Spec. Page-view counters for six tenants (`t1`..`t6`) are spread over three counter nodes
// (`node1`..`node3`, the design's own processes and messages, counts on local disk). A placement
// table in the KV store (`placement` = {epoch, owners: {tenant: node}}) says which node counts
// which tenant. Two web front ends (`web1`, `web2`, clients) count views: each view reads
// `placement` (an ordinary read) and sends `add` to the owner, which counts it and acknowledges;
// a view not acknowledged in 10 ms is sent again. An admin (`admin`, a client) drains `node3`: it
// writes the placement without it (epoch 2, node3's tenants reassigned), waits 20 ms for
// in-flight views to land, then tells node3 to hand its counts off; node3 sends each count to its
// tenant's new owner (`take`) and forgets it.
// Invariant `views-counted` (checked when the run ends): every acknowledged view is counted at
// its tenant's owner ("tenant t3: 19 views acknowledged, 17 counted at its owner node1").
// Operations (history): `view` by the front ends, `drain` by the admin.
//
// Bug (variant `buggy`): the front ends read the placement with serializable reads
// (`kv=stale-bounded`): a lagging follower keeps answering with epoch 1 after the drain, so a
// front end sends views to node3 after its hand-off; node3 (which counts whatever it is sent)
// acknowledges them, and they are counted where no one reads them.
// Fix (variant `fixed`): the front ends read the placement linearizably.
// Faults: delay.
//
// Label. `stale_read`: the front end's placement read that returned epoch 1 after the drain's
// write (its delivery), the admin's placement write it missed (where it took effect), and the
// view the front end then sent to node3 (the decision based on the read).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace node_drain {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kTenants = 6;
constexpr sim::Duration kAddTimeout = sim::milliseconds(10);
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kDrainWait = sim::milliseconds(20);

struct Add : sim::Payload {
  Add(std::uint64_t r, std::string t) : req(r), tenant(std::move(t)) {}
  std::uint64_t req;
  std::string tenant;
  std::string_view type() const override { return "add"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"tenant", tenant}}; }
};

struct Added : sim::Payload {
  Added(std::uint64_t r, std::string t) : req(r), tenant(std::move(t)) {}
  std::uint64_t req;
  std::string tenant;
  std::string_view type() const override { return "added"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"tenant", tenant}}; }
};

struct HandOff : sim::Payload {
  explicit HandOff(nlohmann::json o) : owners(std::move(o)) {}
  nlohmann::json owners;  // the new placement's owners
  std::string_view type() const override { return "hand_off"; }
  nlohmann::json to_json() const override { return {{"owners", owners}}; }
};

struct Take : sim::Payload {
  Take(std::string t, std::int64_t c) : tenant(std::move(t)), count(c) {}
  std::string tenant;
  std::int64_t count;
  std::string_view type() const override { return "take"; }
  nlohmann::json to_json() const override { return {{"tenant", tenant}, {"count", count}}; }
};

// Acknowledged views per tenant: the checker's record (the front ends write it, nobody reads it
// but the final check), like the history.
using Acked = std::map<std::string, std::int64_t>;

std::int64_t stored_count(const std::optional<std::string>& stored) {
  return stored ? std::stoll(*stored) : 0;
}

nlohmann::json placement(int epoch) {
  nlohmann::json owners = nlohmann::json::object();
  for (int t = 1; t <= kTenants; ++t) {
    // Epoch 1: two tenants per node (t1 node1, t2 node2, t3 node3, t4 node1, ...). Epoch 2:
    // node3's tenants (t3, t6) go to node1 and node2; the others stay where they are.
    int node = (t - 1) % 3 + 1;
    if (epoch >= 2 && node == 3) node = t == 3 ? 1 : 2;
    owners["t" + std::to_string(t)] = "node" + std::to_string(node);
  }
  return {{"epoch", epoch}, {"owners", owners}};
}

sim::Task<void> node(sim::Env& env, std::map<std::string, sim::ProcessId> nodes) {
  auto& disk = env.storage();
  for (;;) {
    const sim::Message m = co_await env.receive();
    if (const auto* a = m.as<Add>()) {
      const std::string key = "count/" + a->tenant;
      disk.put(key, std::to_string(stored_count(disk.get(key)) + 1));
      env.send(m.from, sim::make_payload<Added>(a->req, a->tenant));
    } else if (const auto* t = m.as<Take>()) {
      const std::string key = "count/" + t->tenant;
      disk.put(key, std::to_string(stored_count(disk.get(key)) + t->count));
    } else if (const auto* h = m.as<HandOff>()) {
      for (const auto& key : disk.keys("count/")) {
        const std::string tenant = key.substr(6);
        const auto owner = h->owners.value(tenant, "");
        if (owner.empty() || owner == env.name_of(env.self())) continue;
        env.send(nodes.at(owner), sim::make_payload<Take>(tenant, stored_count(disk.get(key))));
        disk.erase(key);
      }
    }
  }
}

sim::Task<void> front_end(sim::Env& env, sim::HistoryRecorder& history, int process,
                          sim::ProcessId kv, std::map<std::string, sim::ProcessId> nodes,
                          std::shared_ptr<Acked> acked, int views, bool fixed) {
  services::KvClient store(env, kv, kKvTimeout);
  std::uint64_t req = 0;
  co_await env.sleep(sim::milliseconds(2));  // the admin writes the first placement
  for (int n = 1; n <= views; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string tenant = "t" + std::to_string(env.random() % kTenants + 1);
    history.invoke(process, "view", tenant);
    bool counted = false;
    for (int attempt = 0; attempt < 5 && !counted; ++attempt) {
      const auto p = co_await store.get(
          "placement", fixed ? services::KvRead::kLinearizable : services::KvRead::kAny);
      if (!p.ok()) continue;
      const auto owner = p.value.at("owners").value(tenant, "");
      if (!nodes.count(owner)) continue;
      const std::uint64_t r = ++req;
      env.send(nodes.at(owner), sim::make_payload<Add>(r, tenant));
      const sim::Time deadline = env.now() + kAddTimeout;
      while (!counted) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<Added>();
        counted = a && a->req == r;
      }
    }
    if (counted) ++(*acked)[tenant];
    history.complete(process, counted ? sim::OpType::kOk : sim::OpType::kInfo, "view", tenant);
  }
}

sim::Task<void> admin(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv,
                      sim::ProcessId drained) {
  services::KvClient store(env, kv, kKvTimeout);
  while (!(co_await store.put("placement", placement(1))).ok()) {
  }
  co_await env.sleep(sim::milliseconds(20) + static_cast<sim::Duration>(env.random() % 40'000'000));
  history.invoke(3, "drain", "node3");
  const auto next = placement(2);
  while (!(co_await store.put("placement", next)).ok()) {
  }
  co_await env.sleep(kDrainWait);  // in-flight views land before the hand-off
  env.send(drained, sim::make_payload<HandOff>(next.at("owners")));
  history.complete(3, sim::OpType::kOk, "drain", "node3");
  co_await env.sleep(sim::milliseconds(200));
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"node_drain",
            "front ends route page views to counter nodes by a placement table in the KV store; "
            "an admin drains one node",
            {"buggy", "fixed"},
            {{"views-counted", "every acknowledged view is counted at its tenant's owner"}},
            {{"kv", services::kv_implementations()}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(
        sim, "kv", services::kv_config(sim.config().service_or("kv", "stale-bounded")));
    // The nodes learn each other's ids from a shared map filled as they are added.
    auto ids = std::make_shared<std::map<std::string, sim::ProcessId>>();
    for (int i = 1; i <= 3; ++i) {
      const std::string name = "node" + std::to_string(i);
      (*ids)[name] = sim.add_process(name, [ids](sim::Env& env) { return node(env, *ids); },
                                     {.crashable = false, .client = false, .pausable = false});
    }
    const auto nodes = *ids;
    auto acked = std::make_shared<Acked>();
    auto& history = sim.history();
    const int views = sim.config().ops / 2;
    for (int w = 1; w <= 2; ++w) {
      sim.add_process("web" + std::to_string(w),
                      [&history, w, kv = kv.process, nodes, acked, views, fixed](sim::Env& env) {
                        return front_end(env, history, w, kv, nodes, acked, views, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_process("admin",
                    [&history, kv = kv.process, drained = nodes.at("node3")](sim::Env& env) {
                      return admin(env, history, kv, drained);
                    },
                    {.crashable = false, .client = true});
    const auto owners = placement(2).at("owners");
    sim.add_final_check(
        "views-counted", [&sim, nodes, owners, acked]() -> std::optional<sim::Finding> {
          for (const auto& [tenant, n] : *acked) {
            const auto owner = owners.value(tenant, "");
            const auto counted = stored_count(sim.disk(nodes.at(owner)).current("count/" + tenant));
            if (counted < n) {
              return sim::Finding{"tenant " + tenant + ": " + std::to_string(n) +
                                      " views acknowledged, " + std::to_string(counted) +
                                      " counted at its owner " + owner,
                                  {tenant}};
            }
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the tenant T. node3's delivery of the hand-off; the first view of T that
// node3 received after it (a delivery of `add` for T): its send by front end W, W's latest
// placement read before that send (the delivery of its kv_reply), and the admin's write of the
// epoch-2 placement (the store's reply send to the admin's put that carried epoch 2).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string tenant = between(violation_message(trace), "tenant ", ": ");
  if (tenant.empty()) return {};
  const auto* hand_off = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kDeliver && e.type == "hand_off" && process_of(trace, e) == "node3";
  });
  if (!hand_off) return {};
  const auto* stray = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.type == "add" &&
               process_of(trace, e) == "node3" && payload(e).value("tenant", "") == tenant;
      },
      hand_off->seq);
  if (!stray) return {};
  const auto* sent = send_of(trace, *stray);
  if (!sent) return {};
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == sent->lane && e.type == "kv_reply";
      },
      sent->seq);
  const auto* move_put = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_request" || process_of(trace, e) != "admin") {
      return false;
    }
    const auto& value = payload(e).value("value", nlohmann::json());
    return value.is_object() && value.value("epoch", 0) == 2;
  });
  const auto* move = move_put ? reply_send_for(trace, *move_put) : nullptr;
  std::vector<std::uint64_t> keys;
  if (read) keys.push_back(read->seq);
  if (move) keys.push_back(move->seq);
  keys.push_back(sent->seq);
  return keys;
}

}  // namespace node_drain

Design make_node_drain() {
  Design d;
  d.name = "node_drain";
  d.bug =
      "front ends read the placement table from a lagging replica and keep sending views to a "
      "node after it was drained and handed its counts off";
  d.system = std::make_unique<node_drain::System>();
  d.invariant = "views-counted";
  d.faults = {sim::FaultKind::kDelay};
  d.services = {{"kv", "stale-bounded"}};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = node_drain::key_events;
  return d;
}

}  // namespace seer::bench::explain
