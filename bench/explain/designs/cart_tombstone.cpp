// cart_tombstone: a shopping cart replicated on three nodes by anti-entropy gossip, with
// removals kept as tombstones that are garbage-collected after a while.
//
// Spec. A cart is replicated on three replicas (`r1`..`r3`, the design's own processes and
// messages, no service; each keeps the cart on its local disk as `cart/<item>` =
// {state, version}). Two shoppers (`shopper1`, `shopper2`) add items (`i-1`, `i-2`, ...: version
// 1) and remove most of them a few milliseconds later (version 2), each request to a random
// replica, which applies it and answers. Every 10 ms each replica sends its whole cart to a
// random peer (`gossip`); the receiver keeps, per item, the higher version (a removal beats the
// add). A removal is kept as a tombstone (`removed`) so that gossip does not bring the item
// back, and a replica drops a tombstone 12 ms after it stored it, to keep the cart small.
// Invariant `removed-item-stays-removed`: no replica holds an item again after it held its
// removal ("item i-2-7 came back on r2 after its removal").
// Operations (history): `add` and `remove` per item by a shopper.
//
// Bug (variant `buggy`): the tombstone is dropped on a timer, whether or not every replica has
// it. A replica that has not heard of the removal yet (the gossip that carries it went to the
// other peer, or is slow on the network), or a gossip message sent before it heard, reaches a
// replica that already dropped the tombstone; the receiver has no entry for the item and takes
// it as new: the removed item is back (and spreads).
// Fix (variant `fixed`): a replica drops a tombstone only once it has received gossip holding it
// from every peer, and ignores a peer's gossip older than one it already merged (gossip messages
// carry a per-sender sequence number), so no copy sent before a peer had the tombstone is merged
// after it was dropped.
// Faults: delay, reorder.
//
// Label. `stale_derived_write`: a replica sent on its copy of the item (version 1, from before
// the removal reached it) and the receiver stored it where it had held the removal. Key events:
// the receiver's drop of the tombstone (its storage erase), the stale gossip's send and its
// delivery at the receiver, and the receiver's storage write that brought the item back.
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace cart_tombstone {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kReplicas = 3;
constexpr int kShoppers = 2;
constexpr sim::Duration kGossipEvery = sim::milliseconds(10);
constexpr sim::Duration kTombstoneTtl = sim::milliseconds(12);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(40);

struct CartRequest : sim::Payload {
  CartRequest(std::string o, std::string i) : op(std::move(o)), item(std::move(i)) {}
  std::string op;  // "add" or "remove"
  std::string item;
  std::string_view type() const override { return "cart_request"; }
  nlohmann::json to_json() const override { return {{"op", op}, {"item", item}}; }
};

struct CartReply : sim::Payload {
  CartReply(std::string o, std::string i) : op(std::move(o)), item(std::move(i)) {}
  std::string op;
  std::string item;
  std::string_view type() const override { return "cart_reply"; }
  nlohmann::json to_json() const override { return {{"op", op}, {"item", item}}; }
};

struct Gossip : sim::Payload {
  Gossip(std::string f, std::uint64_t s, nlohmann::json c)
      : from(std::move(f)), seq(s), cart(std::move(c)) {}
  std::string from;
  std::uint64_t seq;
  nlohmann::json cart;  // item -> {state, version}
  std::string_view type() const override { return "gossip"; }
  nlohmann::json to_json() const override { return {{"from", from}, {"seq", seq}, {"cart", cart}}; }
};

// The test's probe of what each replica stored (not the design's state): an item a replica held
// as removed and later held again.
struct Observed {
  std::set<std::pair<std::string, std::string>> removed;  // (replica, item) that held a tombstone
  std::vector<std::pair<std::string, std::string>> came_back;
  void stored(const std::string& replica, const std::string& item, const std::string& state) {
    if (state == "removed") {
      removed.insert({replica, item});
    } else if (removed.count({replica, item})) {
      came_back.emplace_back(replica, item);
    }
  }
};

struct Entry {
  std::string state;  // "in" or "removed"
  int version = 0;
  sim::Time stored_at = 0;             // local time the tombstone was stored
  std::set<std::string> confirmed_by;  // fixed: peers whose gossip held the tombstone
};

sim::Task<void> replica(sim::Env& env, std::vector<sim::ProcessId> peers,
                        std::shared_ptr<Observed> observed, bool fixed) {
  const std::string me = env.name_of(env.self());
  std::map<std::string, Entry> cart;
  std::map<std::string, std::uint64_t> merged_seq;  // fixed: the last gossip merged per peer
  std::uint64_t seq = 0;
  const auto store = [&](const std::string& item, const std::string& state, int version) {
    Entry& e = cart[item];
    e.state = state;
    e.version = version;
    e.stored_at = env.now();
    e.confirmed_by.clear();
    env.storage().put("cart/" + item,
                      nlohmann::json{{"state", state}, {"version", version}}.dump());
    observed->stored(me, item, state);
  };
  sim::Time next_gossip = env.now() + static_cast<sim::Duration>(env.random() % kGossipEvery);
  for (;;) {
    const sim::Duration left = next_gossip - env.now();
    std::optional<sim::Message> m;
    if (left > 0) m = co_await env.receive_for(left);
    if (!m) {
      next_gossip = env.now() + kGossipEvery;
      // Drop tombstones old enough (fixed: and held by every peer).
      for (auto it = cart.begin(); it != cart.end();) {
        const Entry& e = it->second;
        const bool old = e.state == "removed" && env.now() - e.stored_at >= kTombstoneTtl;
        const bool everywhere = !fixed || e.confirmed_by.size() == peers.size();
        if (old && everywhere) {
          env.storage().erase("cart/" + it->first);
          it = cart.erase(it);
        } else {
          ++it;
        }
      }
      nlohmann::json snapshot = nlohmann::json::object();
      for (const auto& [item, e] : cart) {
        snapshot[item] = {{"state", e.state}, {"version", e.version}};
      }
      const auto peer = peers[env.random() % peers.size()];
      env.send(peer, sim::make_payload<Gossip>(me, ++seq, std::move(snapshot)));
      co_await env.sync();
      continue;
    }
    if (const auto* r = m->as<CartRequest>()) {
      const int version = r->op == "add" ? 1 : 2;
      const auto it = cart.find(r->item);
      if (it == cart.end() || it->second.version < version) {
        store(r->item, r->op == "add" ? "in" : "removed", version);
        co_await env.sync();
      }
      env.send(m->from, sim::make_payload<CartReply>(r->op, r->item));
    } else if (const auto* g = m->as<Gossip>()) {
      if (fixed) {
        auto& last = merged_seq[g->from];
        if (g->seq <= last) continue;  // overtaken by a newer gossip from the same peer
        last = g->seq;
      }
      bool wrote = false;
      for (const auto& [item, theirs] : g->cart.items()) {
        const auto state = theirs.at("state").get<std::string>();
        const int version = theirs.at("version").get<int>();
        const auto it = cart.find(item);
        if (it == cart.end() || it->second.version < version) {
          store(item, state, version);
          wrote = true;
        }
        if (state == "removed") {
          const auto mine = cart.find(item);
          if (mine != cart.end() && mine->second.state == "removed") {
            mine->second.confirmed_by.insert(g->from);
          }
        }
      }
      if (wrote) co_await env.sync();
    }
  }
}

// One request to a random replica, answered or not within the timeout.
sim::Task<bool> ask(sim::Env& env, sim::HistoryRecorder& history, int index,
                    const std::vector<sim::ProcessId>& replicas, std::string op, std::string item) {
  history.invoke(index, op, item);
  const auto to = replicas[env.random() % replicas.size()];
  env.send(to, sim::make_payload<CartRequest>(op, item));
  const sim::Time deadline = env.now() + kAnswerTimeout;
  bool ok = false;
  for (;;) {
    const sim::Duration left = deadline - env.now();
    if (left <= 0) break;
    const auto m = co_await env.receive_for(left);
    if (!m) break;
    const auto* a = m->as<CartReply>();
    if (a && a->op == op && a->item == item) {
      ok = true;
      break;
    }
  }
  history.complete(index, ok ? sim::OpType::kOk : sim::OpType::kInfo, op, item,
                   ok ? std::string() : std::string("no answer"));
  co_return ok;
}

sim::Task<void> shopper(sim::Env& env, sim::HistoryRecorder& history, int index,
                        std::vector<sim::ProcessId> replicas, int items) {
  for (int n = 1; n <= items; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string item = "i-" + std::to_string(index + 1) + "-" + std::to_string(n);
    if (!co_await ask(env, history, index, replicas, "add", item)) continue;
    if (env.random() % 4 == 0) continue;  // kept in the cart
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    co_await ask(env, history, index, replicas, "remove", item);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"cart_tombstone",
            "a shopping cart replicated by anti-entropy gossip, removals kept as tombstones that "
            "are garbage-collected",
            {"buggy", "fixed"},
            {{"removed-item-stays-removed",
              "no replica holds an item again after it held its removal"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto observed = std::make_shared<Observed>();
    // Each replica learns its peers' ids once all are added.
    auto ids = std::make_shared<std::vector<sim::ProcessId>>();
    for (int r = 1; r <= kReplicas; ++r) {
      const std::string name = "r" + std::to_string(r);
      ids->push_back(sim.add_process(name,
                                     [ids, observed, fixed](sim::Env& env) {
                                       std::vector<sim::ProcessId> peers;
                                       for (const auto id : *ids) {
                                         if (id != env.self()) peers.push_back(id);
                                       }
                                       return replica(env, peers, observed, fixed);
                                     },
                                     {.crashable = false, .client = false}));
    }
    auto& history = sim.history();
    const int items = sim.config().ops / kShoppers;
    for (int s = 1; s <= kShoppers; ++s) {
      sim.add_process("shopper" + std::to_string(s),
                      [&history, s, ids, items](sim::Env& env) {
                        return shopper(env, history, s - 1, *ids, items);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("removed-item-stays-removed", [observed]() -> std::optional<sim::Finding> {
      if (observed->came_back.empty()) return std::nullopt;
      const auto& [replica, item] = observed->came_back.front();
      return sim::Finding{"item " + item + " came back on " + replica + " after its removal",
                          {item}};
    });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the item I and the replica R. R's storage write of `cart/I` that brought it
// back (the last write of that key on R before the violation); the gossip delivery R was
// handling then (R's last delivery of a `gossip` before that write) and its send; R's erase of
// `cart/I` before it (the tombstone's drop).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string item = between(msg, "item ", " came back on ");
  const std::string replica = between(msg, " came back on ", " after ");
  if (item.empty() || replica.empty()) return {};
  const int lane = lane_of(trace, replica);
  const std::string key = "cart/" + item;
  const auto until = violation_event(trace);
  const auto is_write = [&](const TraceEvent& e) {
    return e.kind == EventKind::kStorageWrite && e.lane == lane && e.line.value("key", "") == key;
  };
  const auto* back = find_last(trace, is_write, until + 1);
  if (!back || back->line.value("erase", false)) return {};
  const auto* erase = find_last(
      trace, [&](const TraceEvent& e) { return is_write(e) && e.line.value("erase", false); },
      back->seq);
  const auto* delivery = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == lane && e.type == "gossip";
      },
      back->seq);
  if (!erase || !delivery) return {};
  const auto* send = send_of(trace, *delivery);
  if (!send) return {};
  return {erase->seq, send->seq, delivery->seq, back->seq};
}

}  // namespace cart_tombstone

Design make_cart_tombstone() {
  Design d;
  d.name = "cart_tombstone";
  d.bug =
      "replicas drop a removal's tombstone on a timer, and a peer's gossip from before the removal "
      "brings the item back";
  d.system = std::make_unique<cart_tombstone::System>();
  d.invariant = "removed-item-stays-removed";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write"};
  d.label.key_events = cart_tombstone::key_events;
  return d;
}

}  // namespace seer::bench::explain
