// quota_nodes: a per-tenant quota enforced by two API nodes that share their counts by gossip.
//
// Spec. Three apps (`app1`..`app3`) spend units of their tenants' quotas (`t1`..`t3`, 20 units
// each) at two quota nodes (`node1`, `node2`, the design's own processes and messages), each
// request to a random node: `spend {req, tenant, units}`, answered `spent {req, tenant, units,
// granted}`. Each node counts what it granted per tenant, and every 5 ms tells the other node its
// counts (`usage {node, used}`). No service is involved. An app waits 20 ms for its answer.
// Invariant `within-quota`: no tenant is granted more than its quota, summed over both nodes
// ("tenant t2 was granted 22 units, over its quota of 20").
// Operations (history): `spend` per request, by each app.
//
// Bug (variant `buggy`): a node grants a spend if its own count plus the other node's last
// gossiped count plus the units fit the quota. The other node's count is up to a gossip period
// (plus the network's delay) old: when both nodes grant a tenant's last units in the same
// window, each counting the other's older total, the tenant is granted more than its quota in
// sum.
// Fix (variant `fixed`): each tenant has a home node (t1, t3: node1; t2: node2) that alone
// decides its spends; the other node forwards a spend to the home node, which answers the app.
// Faults: delay, reorder.
//
// Label. `outdated_read` or `stale_read`: the granting node's view of the other node's count
// (the gossip it last received from it) was outdated by the other node's grant made after that
// gossip was sent. Keys: the node's last delivery of the other node's gossip before the grant
// that took the tenant over its quota, the other node's first grant to the tenant that gossip
// missed, and the grant that took the tenant over.
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace quota_nodes {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kTenants = 3;
constexpr int kQuota = 20;
constexpr int kApps = 3;
constexpr sim::Duration kGossipEvery = sim::milliseconds(5);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(20);

struct Spend : sim::Payload {
  Spend(std::uint64_t r, sim::ProcessId a, std::string t, int u)
      : req(r), app(a), tenant(std::move(t)), units(u) {}
  std::uint64_t req;
  sim::ProcessId app;  // who to answer (a forwarded spend keeps its app)
  std::string tenant;
  int units;
  std::string_view type() const override { return "spend"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"tenant", tenant}, {"units", units}};
  }
};

struct Spent : sim::Payload {
  Spent(std::uint64_t r, std::string t, int u, bool g)
      : req(r), tenant(std::move(t)), units(u), granted(g) {}
  std::uint64_t req;
  std::string tenant;
  int units;
  bool granted;
  std::string_view type() const override { return "spent"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"tenant", tenant}, {"units", units}, {"granted", granted}};
  }
};

struct Usage : sim::Payload {
  Usage(std::string n, std::map<std::string, int> u) : node(std::move(n)), used(std::move(u)) {}
  std::string node;
  std::map<std::string, int> used;
  std::string_view type() const override { return "usage"; }
  nlohmann::json to_json() const override { return {{"node", node}, {"used", used}}; }
};

// What was granted, per tenant: the invariant's view (design code never reads it).
using Ledger = std::map<std::string, int>;

std::string tenant_name(std::uint64_t n) {
  return "t" + std::to_string(n % kTenants + 1);
}
int home_of(const std::string& tenant) {
  return tenant == "t2" ? 1 : 0;
}

sim::Task<void> app(sim::Env& env, sim::HistoryRecorder& history, int index,
                    std::vector<sim::ProcessId> nodes, int spends) {
  std::uint64_t req = 0;
  for (int n = 1; n <= spends; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string tenant = tenant_name(env.random());
    const int units = static_cast<int>(env.random() % 4) + 1;
    const std::uint64_t r = ++req;
    history.invoke(index, "spend", tenant);
    env.send(nodes[env.random() % nodes.size()],
             sim::make_payload<Spend>(r, env.self(), tenant, units));
    std::optional<bool> granted;
    const sim::Time deadline = env.now() + kAnswerTimeout;
    while (!granted) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* s = m->as<Spent>();
      if (s && s->req == r) granted = s->granted;
    }
    history.complete(index, granted ? sim::OpType::kOk : sim::OpType::kInfo, "spend", tenant,
                     !granted ? std::string("no answer")
                              : (*granted ? std::string() : std::string("over quota")));
  }
}

sim::Task<void> node(sim::Env& env, int index, std::shared_ptr<std::vector<sim::ProcessId>> nodes,
                     std::shared_ptr<Ledger> ledger, bool fixed) {
  const std::string me = env.name_of(env.self());
  const sim::ProcessId peer = (*nodes)[static_cast<std::size_t>(1 - index)];
  std::map<std::string, int> used;       // what this node granted
  std::map<std::string, int> peer_used;  // the other node's counts, as last gossiped
  sim::Time next_gossip = env.now() + kGossipEvery;
  for (;;) {
    const sim::Duration left = next_gossip - env.now();
    if (left <= 0) {
      env.send(peer, sim::make_payload<Usage>(me, used));
      next_gossip = env.now() + kGossipEvery;
      continue;
    }
    const auto m = co_await env.receive_for(left);
    if (!m) continue;
    if (const auto* u = m->as<Usage>()) {
      peer_used = u->used;
      continue;
    }
    const auto* s = m->as<Spend>();
    if (!s) continue;
    const int home = home_of(s->tenant);
    if (fixed && home != index) {  // only the tenant's home node decides
      env.send((*nodes)[static_cast<std::size_t>(home)],
               sim::make_payload<Spend>(s->req, s->app, s->tenant, s->units));
      continue;
    }
    const bool grant = used[s->tenant] + peer_used[s->tenant] + s->units <= kQuota;
    if (grant) {
      used[s->tenant] += s->units;
      (*ledger)[s->tenant] += s->units;
    }
    env.send(s->app, sim::make_payload<Spent>(s->req, s->tenant, s->units, grant));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"quota_nodes",
            "two API nodes enforce per-tenant quotas, sharing their counts by gossip",
            {"buggy", "fixed"},
            {{"within-quota", "no tenant is granted more than its quota over both nodes"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto ledger = std::make_shared<Ledger>();
    auto nodes = std::make_shared<std::vector<sim::ProcessId>>();
    for (int n = 0; n < 2; ++n) {
      nodes->push_back(sim.add_process(
          "node" + std::to_string(n + 1),
          [n, nodes, ledger, fixed](sim::Env& env) { return node(env, n, nodes, ledger, fixed); },
          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int spends = sim.config().ops / kApps;
    for (int a = 0; a < kApps; ++a) {
      sim.add_process("app" + std::to_string(a + 1),
                      [&history, a, nodes, spends](sim::Env& env) {
                        return app(env, history, a, *nodes, spends);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("within-quota",
                      sim::when_changed(
                          [ledger] {
                            int total = 0;
                            for (const auto& [t, u] : *ledger) total += u;
                            return total;
                          },
                          [ledger]() -> std::optional<sim::Finding> {
                            for (const auto& [tenant, units] : *ledger) {
                              if (units <= kQuota) continue;
                              return sim::Finding{
                                  "tenant " + tenant + " was granted " + std::to_string(units) +
                                      " units, over its quota of " + std::to_string(kQuota),
                                  {tenant}};
                            }
                            return std::nullopt;
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the tenant T. The grants to T (`spent` sends with `granted`), summed in order
// until the sum passes the quota: that grant X, by node A. A's last delivery of the other node's
// `usage` before X (what it counted of the other node), and the other node's first grant to T
// sent after that gossip's send (from the start, if A never heard from it) and before X: the
// grant A's view missed.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string tenant = between(violation_message(trace), "tenant ", " was granted ");
  if (tenant.empty()) return {};
  const auto grants = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "spent" && payload(e).value("granted", false) &&
           payload(e).value("tenant", "") == tenant;
  });
  int sum = 0;
  const TraceEvent* over = nullptr;
  for (const auto* g : grants) {
    sum += payload(*g).value("units", 0);
    if (sum > kQuota) {
      over = g;
      break;
    }
  }
  if (!over) return {};
  const auto* gossip = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == over->lane && e.type == "usage";
      },
      over->seq);
  const auto* gossip_send = gossip ? send_of(trace, *gossip) : nullptr;
  const TraceEvent* missed = nullptr;
  for (const auto* g : grants) {
    if (g->seq >= over->seq) break;
    if (g->lane == over->lane) continue;
    if (gossip_send && g->seq < gossip_send->seq) continue;
    missed = g;
    break;
  }
  if (!missed) return {};
  std::vector<std::uint64_t> keys;
  if (gossip) keys.push_back(gossip->seq);
  keys.push_back(missed->seq);
  keys.push_back(over->seq);
  return keys;
}

}  // namespace quota_nodes

Design make_quota_nodes() {
  Design d;
  d.name = "quota_nodes";
  d.bug =
      "a quota enforced per node against the other node's gossiped count: both nodes grant a "
      "tenant's last units in the same gossip window, and the tenant goes over in sum";
  d.system = std::make_unique<quota_nodes::System>();
  d.invariant = "within-quota";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"outdated_read", "stale_read"};
  d.label.why_several =
      "the granting node's view of the other node's count came from the other node's gossip: "
      "the count was exact when sent and the other node's grant outdated it before the decision "
      "(outdated_read); seen from the decision, the node acted on a copy that lagged behind the "
      "other node (stale_read). Both name the same missed grant";
  d.label.key_events = quota_nodes::key_events;
  return d;
}

}  // namespace seer::bench::explain
