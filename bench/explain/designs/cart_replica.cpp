// cart_replica: shopping carts on two replicated cart nodes behind a load balancer.
//
// Spec. Three shoppers (`shopper1`..`shopper3`, clients) each fill carts (`c-1`, `c-2`, ...: a
// new cart per visit) with three items (`i-7-1`, `i-7-2`, `i-7-3` for cart c-7), one `add` at a
// time, then `checkout`. Every request goes through a load balancer that picks one of two cart
// nodes (`cart1`, `cart2`, the design's own processes) at random. A node keeps each cart on its
// local disk (`cart/c-7`: the items, a set); it answers an add once the item is in its copy, and
// then pushes its copy to the other node (`replicate`), which merges it into its own (a union:
// carts only grow). A checkout is answered by the node that gets it: it reads its copy of the
// cart and records the order in SQL (`orders(cart, items)`).
// Invariant `order-has-acknowledged-items`: an order holds every item whose add the shopper had
// been answered before it checked out ("order of cart c-7 is missing i-7-3, added and
// acknowledged before checkout").
// Operations (history): `add` and `checkout` per shopper.
//
// Bug (variant `buggy`): no read-your-writes. The load balancer may send the checkout (or the
// next add) to the node the last add's push has not reached yet (the push is slow on the network
// while the shopper's answer and its next request are fast), and that node checks out the copy
// it has, without the acknowledged item.
// Fix (variant `fixed`): each request carries the session's token, the number of items the
// shopper has been answered; a node whose copy of the cart holds fewer answers `behind`, and the
// shopper sends the request again (the load balancer picks again) after 1 ms.
// Faults: delay, reorder.
//
// Label. `stale_read`: the checkout was answered from a copy an acknowledged write had not
// reached. The keys: the other node's answer to the add of the missing item (its `added` send),
// its push of the copy holding the item to the checkout's node (the `replicate` send that had
// not arrived when the checkout read its copy), the checkout node's read of its copy of the cart
// (its storage read while serving the checkout), and the order's commit (the database's reply
// send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace cart_replica {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kShoppers = 3;
constexpr int kItemsPerCart = 3;
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(40);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);

struct CartRequest : sim::Payload {
  CartRequest(std::uint64_t r, std::string o, std::string c, std::string i, int s)
      : req(r), op(std::move(o)), cart(std::move(c)), item(std::move(i)), seen(s) {}
  std::uint64_t req;
  std::string op;  // "add" or "checkout"
  std::string cart;
  std::string item;  // add
  int seen;          // fixed: the session token, the items the shopper has been answered; else -1
  std::string_view type() const override { return "cart_request"; }
  nlohmann::json to_json() const override {
    nlohmann::json j = {{"req", req}, {"op", op}, {"cart", cart}};
    if (!item.empty()) j["item"] = item;
    if (seen >= 0) j["seen"] = seen;
    return j;
  }
};

struct CartReply : sim::Payload {
  CartReply(std::uint64_t r, std::string c, std::string s)
      : req(r), cart(std::move(c)), status(std::move(s)) {}
  std::uint64_t req;
  std::string cart;
  std::string status;  // "added", "ordered", "behind"
  std::string_view type() const override { return "cart_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"cart", cart}, {"status", status}};
  }
};

struct Replicate : sim::Payload {
  Replicate(std::string c, std::vector<std::string> i) : cart(std::move(c)), items(std::move(i)) {}
  std::string cart;
  std::vector<std::string> items;
  std::string_view type() const override { return "replicate"; }
  nlohmann::json to_json() const override { return {{"cart", cart}, {"items", items}}; }
};

// What each shopper had been answered when it checked out (the invariant's record).
using Expected = std::map<std::string, std::vector<std::string>>;

sim::Task<void> shopper(sim::Env& env, sim::HistoryRecorder& history, int index,
                        std::vector<sim::ProcessId> nodes, int visits,
                        std::shared_ptr<Expected> expected, bool fixed) {
  std::uint64_t req = 0;
  for (int v = 0; v < visits; ++v) {
    const int number = v * kShoppers + index;
    const std::string cart = "c-" + std::to_string(number);
    std::vector<std::string> answered;
    for (int j = 0; j <= kItemsPerCart; ++j) {
      co_await env.sleep(sim::microseconds(500) +
                         static_cast<sim::Duration>(env.random() % 2'000'000));
      const bool checkout = j == kItemsPerCart;
      const std::string item =
          checkout ? std::string() : "i-" + std::to_string(number) + "-" + std::to_string(j + 1);
      const std::string op = checkout ? "checkout" : "add";
      if (checkout) (*expected)[cart] = answered;
      history.invoke(index, op, checkout ? cart : item);
      bool done = false;
      while (!done) {
        const auto node = nodes[env.random() % nodes.size()];  // the load balancer
        const std::uint64_t r = ++req;
        const int seen = fixed ? static_cast<int>(answered.size()) : -1;  // the session token
        env.send(node, sim::make_payload<CartRequest>(r, op, cart, item, seen));
        const sim::Time deadline = env.now() + kAnswerTimeout;
        std::string status;
        for (;;) {
          const sim::Duration left = deadline - env.now();
          if (left <= 0) break;
          const auto m = co_await env.receive_for(left);
          if (!m) break;
          const auto* a = m->as<CartReply>();
          if (a && a->req == r) {
            status = a->status;
            break;
          }
        }
        if (status == "added" || status == "ordered") {
          done = true;
        } else if (status == "behind") {
          co_await env.sleep(sim::milliseconds(1));
        }
      }
      if (!checkout) answered.push_back(item);
      history.complete(index, sim::OpType::kOk, op, checkout ? cart : item);
    }
  }
}

std::vector<std::string> read_cart(sim::Env& env, const std::string& cart) {
  const auto stored = env.storage().get("cart/" + cart);
  if (!stored) return {};
  return nlohmann::json::parse(*stored).get<std::vector<std::string>>();
}

void write_cart(sim::Env& env, const std::string& cart, const std::set<std::string>& items) {
  env.storage().put("cart/" + cart,
                    nlohmann::json(std::vector<std::string>(items.begin(), items.end())).dump());
}

sim::Task<void> node(sim::Env& env, sim::ProcessId db, std::shared_ptr<sim::ProcessId> peer,
                     bool fixed) {
  std::deque<sim::Message> inbox;  // messages that arrive while an order commits
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    if (const auto* p = m.as<Replicate>()) {
      const auto mine = read_cart(env, p->cart);
      std::set<std::string> merged(mine.begin(), mine.end());
      const std::size_t before = merged.size();
      merged.insert(p->items.begin(), p->items.end());
      if (merged.size() != before) write_cart(env, p->cart, merged);
      continue;
    }
    const auto* q = m.as<CartRequest>();
    if (!q) continue;
    const std::uint64_t r = q->req;
    const std::string cart = q->cart;
    const auto mine = read_cart(env, cart);
    if (fixed && static_cast<int>(mine.size()) < q->seen) {
      env.send(m.from, sim::make_payload<CartReply>(r, cart, "behind"));
      continue;
    }
    if (q->op == "add") {
      std::set<std::string> items(mine.begin(), mine.end());
      items.insert(q->item);
      write_cart(env, cart, items);
      env.send(m.from, sim::make_payload<CartReply>(r, cart, "added"));
      env.send(*peer, sim::make_payload<Replicate>(
                          cart, std::vector<std::string>(items.begin(), items.end())));
      continue;
    }
    const auto from = m.from;
    const std::vector<services::SqlStatement> order = {
        {"INSERT INTO orders (cart, items) VALUES (?1, ?2)",
         {cart, nlohmann::json(mine).dump()},
         1}};
    const auto res = co_await sql.transact(order, "order " + cart);
    if (res.timed_out || !res.committed) continue;
    env.send(from, sim::make_payload<CartReply>(r, cart, "ordered"));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"cart_replica",
            "shoppers fill carts on two asynchronously replicated cart nodes behind a load "
            "balancer and check out into SQL",
            {"buggy", "fixed"},
            {{"order-has-acknowledged-items",
              "an order holds every item the shopper was answered for before checking out"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, cart TEXT NOT NULL, "
        "items TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto peer1 = std::make_shared<sim::ProcessId>(sim::kNoProcess);
    auto peer2 = std::make_shared<sim::ProcessId>(sim::kNoProcess);
    std::vector<sim::ProcessId> nodes;
    nodes.push_back(sim.add_process(
        "cart1",
        [d = db.process, peer1, fixed](sim::Env& env) { return node(env, d, peer1, fixed); },
        {.crashable = false, .client = false, .pausable = false}));
    nodes.push_back(sim.add_process(
        "cart2",
        [d = db.process, peer2, fixed](sim::Env& env) { return node(env, d, peer2, fixed); },
        {.crashable = false, .client = false, .pausable = false}));
    *peer1 = nodes[1];
    *peer2 = nodes[0];
    auto expected = std::make_shared<Expected>();
    auto& history = sim.history();
    const int visits = std::max(1, sim.config().ops / kShoppers);
    for (int s = 1; s <= kShoppers; ++s) {
      sim.add_process("shopper" + std::to_string(s),
                      [&history, s, nodes, visits, expected, fixed](sim::Env& env) {
                        return shopper(env, history, s, nodes, visits, expected, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "order-has-acknowledged-items",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth, expected, checked]() -> std::optional<sim::Finding> {
              const auto rows = truth->query("SELECT id, cart, items FROM orders WHERE id > " +
                                             std::to_string(*checked) + " ORDER BY id");
              for (const auto& row : rows) {
                *checked = row[0].get<std::int64_t>();
                const auto cart = row[1].get<std::string>();
                const auto items =
                    nlohmann::json::parse(row[2].get<std::string>()).get<std::set<std::string>>();
                const auto it = expected->find(cart);
                if (it == expected->end()) continue;
                for (const auto& item : it->second) {
                  if (items.count(item) == 0) {
                    return sim::Finding{"order of cart " + cart + " is missing " + item +
                                            ", added and acknowledged before checkout",
                                        {cart, item}};
                  }
                }
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the cart C and the missing item I. The order's commit (the database's reply
// send for "order C", committed) and the node N whose request it was. The add of I that was
// answered: the `added` send of a node A (not N) answering a `cart_request` add of I. A's
// `replicate` of C carrying I sent to N (the first after its answer). N's read of its copy of C
// while serving the checkout: its latest storage read of `cart/C` before its order request.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string cart = between(msg, "order of cart ", " is missing ");
  const std::string item = between(msg, " is missing ", ",");
  if (cart.empty() || item.empty()) return {};
  const auto* commit = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "order " + cart;
  });
  if (!commit) return {};
  const auto* order_req = request_send_for(trace, *commit);
  if (!order_req) return {};
  const int checkout_node = order_req->lane;
  // The add of the item: its delivery at a node other than the checkout's, then the answer.
  const TraceEvent* added = nullptr;
  for (const auto* d : find_all(trace, [&](const TraceEvent& e) {
         return e.kind == EventKind::kDeliver && e.type == "cart_request" &&
                e.lane != checkout_node && payload(e).value("op", "") == "add" &&
                payload(e).value("item", "") == item;
       })) {
    added = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kSend && e.lane == d->lane && e.type == "cart_reply" &&
                 payload(e).value("req", std::uint64_t{0}) ==
                     payload(*d).value("req", std::uint64_t{0}) &&
                 payload(e).value("status", "") == "added";
        },
        d->seq);
    if (added) break;
  }
  if (!added) return {};
  const auto* push = find_first(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.lane != added->lane || e.type != "replicate" ||
            e.peer != checkout_node || payload(e).value("cart", "") != cart) {
          return false;
        }
        const auto& items = payload(e).value("items", nlohmann::json::array());
        for (const auto& i : items) {
          if (i == item) return true;
        }
        return false;
      },
      added->seq);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kStorageRead && e.lane == checkout_node &&
               e.line.value("key", "") == "cart/" + cart;
      },
      order_req->seq);
  std::vector<std::uint64_t> keys = {added->seq};
  if (push) keys.push_back(push->seq);
  if (read) keys.push_back(read->seq);
  keys.push_back(commit->seq);
  return keys;
}

}  // namespace cart_replica

Design make_cart_replica() {
  Design d;
  d.name = "cart_replica";
  d.bug =
      "a load balancer sends a checkout to the cart node that the last add's asynchronous push "
      "has not reached, and the order misses the acknowledged item";
  d.system = std::make_unique<cart_replica::System>();
  d.invariant = "order-has-acknowledged-items";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = cart_replica::key_events;
  return d;
}

}  // namespace seer::bench::explain
