// price_invalidate: an invalidation sent before the write it announces.
//
// Spec. A shop's prices live in the KV store (`price/p-1`, `price/p-2`: `{version, cents}`). Two
// app servers (`app1`, `app2`, the design's own processes) keep each price in memory and take
// orders from a shopper (`shopper`): an order is priced from the cached price and recorded in SQL
// (`orders(order_id, product, version, cents, server)`), then answered. A price manager (`admin`)
// changes a price every 20-40 ms and tells both app servers to drop their copy (an `invalidate`
// message naming the product); an app server that drops a copy loads the price again at once, so
// that the next order does not wait for the store (it re-warms its cache).
// Invariant `order-current-price`: no order is priced from a price replaced more than 20 ms
// before ("order o-31 charged p-2 at price version 3, 24 ms after version 4 was published (by
// app1)"). The grace covers the time an invalidation takes to arrive.
// Operations (history): `order` (the shopper), `reprice` (the admin).
//
// Bug (variant `buggy`): the admin invalidates first, then writes the new price (so that, it
// reasons, nobody keeps the old one). The invalidation can overtake the write: the app server
// re-warms while the put is still on its way, reads the old price, and keeps it until the
// product's next change, charging the old price meanwhile.
// Fix (variant `fixed`): the admin writes the price, waits for the store's answer, and only then
// invalidates: the re-warm reads the new price.
// Faults: delay.
//
// Label: `outdated_read` or `stale_derived_write` (why_several below): the app server's re-warm
// read (the reply's delivery), the admin's write of the newer version (the KV store's reply send),
// the invalidation's delivery that came before that write took effect, and the order's commit
// (the database's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql.hpp"

#include <deque>
#include <map>

namespace seer::bench::explain {

namespace price_invalidate {

using seer::explain::EventKind;

constexpr int kProducts = 2;
constexpr int kChanges = 10;
constexpr sim::Duration kGrace = sim::milliseconds(20);
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);
constexpr sim::Duration kOrderTimeout = sim::milliseconds(100);

struct Invalidate : sim::Payload {
  explicit Invalidate(std::string p) : product(std::move(p)) {}
  std::string product;
  std::string_view type() const override { return "invalidate"; }
  nlohmann::json to_json() const override { return {{"product", product}}; }
};

struct Order : sim::Payload {
  Order(std::uint64_t r, std::string o, std::string p)
      : req(r), order(std::move(o)), product(std::move(p)) {}
  std::uint64_t req;
  std::string order;
  std::string product;
  std::string_view type() const override { return "order"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"product", product}};
  }
};

struct Ordered : sim::Payload {
  Ordered(std::uint64_t r, std::string o, std::int64_t c) : req(r), order(std::move(o)), cents(c) {}
  std::uint64_t req;
  std::string order;
  std::int64_t cents;
  std::string_view type() const override { return "ordered"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"cents", cents}};
  }
};

std::string product_name(int p) {
  return "p-" + std::to_string(p);
}

sim::Task<void> app(sim::Env& env, sim::ProcessId kv_id, sim::ProcessId db) {
  std::deque<sim::Message> inbox;  // orders and invalidations that arrive while it waits
  services::KvClient kv(env, kv_id, kKvTimeout, &inbox, 1);
  services::SqlClient sql(env, db, kSqlTimeout, &inbox, 1'000'000);
  const std::string me = env.name_of(env.self());
  std::map<std::string, nlohmann::json> cache;
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    if (const auto* inv = m.as<Invalidate>()) {
      const std::string product = inv->product;
      cache.erase(product);
      const auto g = co_await kv.get("price/" + product);  // re-warm
      if (g.ok()) cache[product] = g.value;
      continue;
    }
    const auto* o = m.as<Order>();
    if (!o) continue;
    const auto req = o->req;
    const std::string order = o->order;
    const std::string product = o->product;
    if (!cache.count(product)) {
      const auto g = co_await kv.get("price/" + product);
      if (!g.ok()) continue;  // unanswered: the shopper gives up
      cache[product] = g.value;
    }
    const auto version = cache[product].value("version", std::int64_t{0});
    const auto cents = cache[product].value("cents", std::int64_t{0});
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO orders (order_id, product, version, cents, server) VALUES (?1, ?2, ?3, ?4, "
         "?5)",
         {order, product, version, cents, me},
         1}};
    const auto r = co_await sql.transact(record, "order " + order);
    if (!r.timed_out && r.committed)
      env.send(m.from, sim::make_payload<Ordered>(req, order, cents));
  }
}

sim::Task<void> admin(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_id,
                      std::vector<sim::ProcessId> apps, bool fixed) {
  services::KvClient kv(env, kv_id, kKvTimeout);
  std::map<std::string, std::int64_t> version;
  for (int p = 1; p <= kProducts; ++p) {
    version[product_name(p)] = 1;
    nlohmann::json first = nlohmann::json::object();
    first["version"] = 1;
    first["cents"] = 100 * p;
    co_await kv.put("price/" + product_name(p), first);
  }
  for (int n = 1; n <= kChanges; ++n) {
    co_await env.sleep(sim::milliseconds(20) +
                       static_cast<sim::Duration>(env.random() % 20'000'000));
    const std::string product = product_name(static_cast<int>(env.random() % kProducts) + 1);
    const auto v = ++version[product];
    nlohmann::json price = nlohmann::json::object();
    price["version"] = v;
    price["cents"] = static_cast<std::int64_t>(env.random() % 400) + 50;
    history.invoke(1, "reprice", product);
    if (!fixed) {
      for (const auto a : apps) env.send(a, sim::make_payload<Invalidate>(product));
    }
    auto w = co_await kv.put("price/" + product, price);
    while (w.timed_out) w = co_await kv.put("price/" + product, price);
    if (fixed) {
      for (const auto a : apps) env.send(a, sim::make_payload<Invalidate>(product));
    }
    history.complete(1, sim::OpType::kOk, "reprice", product);
  }
}

sim::Task<void> shopper(sim::Env& env, sim::HistoryRecorder& history,
                        std::vector<sim::ProcessId> apps, int orders) {
  co_await env.sleep(sim::milliseconds(2));  // the admin publishes the first prices
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string order = "o-" + std::to_string(n);
    const std::string product = product_name(static_cast<int>(env.random() % kProducts) + 1);
    const auto to = apps[env.random() % apps.size()];
    history.invoke(0, "order", order);
    const auto req = static_cast<std::uint64_t>(n);
    env.send(to, sim::make_payload<Order>(req, order, product));
    bool ok = false;
    const sim::Time deadline = env.now() + kOrderTimeout;
    while (!ok) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* r = m->as<Ordered>();
      ok = r && r->req == req;
    }
    history.complete(0, ok ? sim::OpType::kOk : sim::OpType::kInfo, "order", order);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"price_invalidate",
            "two app servers cache prices from KV and record orders in SQL; the price manager "
            "invalidates their copies when a price changes",
            {"buggy", "fixed"},
            {{"order-current-price", "no order is priced from a price replaced 20 ms before"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "product TEXT NOT NULL, version INTEGER NOT NULL, cents INTEGER NOT NULL, "
        "server TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    std::vector<sim::ProcessId> apps;
    for (int a = 1; a <= 2; ++a) {
      apps.push_back(sim.add_process(
          "app" + std::to_string(a),
          [k = kv.process, d = db.process](sim::Env& env) { return app(env, k, d); },
          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("admin",
                    [&history, k = kv.process, apps, fixed](sim::Env& env) {
                      return admin(env, history, k, apps, fixed);
                    },
                    {.crashable = false, .client = true});
    sim.add_process(
        "shopper",
        [&history, apps, orders](sim::Env& env) { return shopper(env, history, apps, orders); },
        {.crashable = false, .client = true});
    // When each price version was stored (true time), seen from the store's ground truth.
    auto published = std::make_shared<std::map<std::string, std::map<std::int64_t, sim::Time>>>();
    auto store = kv.truth;
    auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    auto seen_revision = std::make_shared<std::int64_t>(-1);
    sim.add_invariant(
        "order-current-price",
        [&sim, store, truth, published, checked, seen_revision]() -> std::optional<sim::Finding> {
          if (store->revision() != *seen_revision) {
            *seen_revision = store->revision();
            for (int p = 1; p <= kProducts; ++p) {
              const auto& v = store->latest("price/" + product_name(p));
              if (!v.exists) continue;
              const auto version = v.encoded().value("version", std::int64_t{0});
              auto& times = (*published)[product_name(p)];
              if (!times.count(version)) times[version] = sim.true_now();
            }
          }
          if (*checked == truth->committed().size()) return std::nullopt;
          *checked = truth->committed().size();
          const auto rows = truth->query(
              "SELECT order_id, product, version, server FROM orders ORDER BY id DESC LIMIT 1");
          if (rows.empty()) return std::nullopt;
          const auto order = rows[0][0].get<std::string>();
          const auto product = rows[0][1].get<std::string>();
          const auto version = rows[0][2].get<std::int64_t>();
          const auto server = rows[0][3].get<std::string>();
          const auto& times = (*published)[product];
          const auto next = times.find(version + 1);
          if (next == times.end()) return std::nullopt;
          const sim::Duration since = sim.true_now() - next->second;
          if (since <= kGrace) return std::nullopt;
          return sim::Finding{"order " + order + " charged " + product + " at price version " +
                                  std::to_string(version) + ", " +
                                  std::to_string(since / sim::milliseconds(1)) +
                                  " ms after version " + std::to_string(version + 1) +
                                  " was published (by " + server + ")",
                              {order, product, "price/" + product}};
        });
  }
};

// Label. From the message: the order O, the product P, the version V and the server A. The
// order's commit (the database's reply send for "order O"); A's last get of `price/P` sent before
// the order's request (the reply's delivery: the read whose price the order carries); the admin's
// put of `price/P` carrying version V + 1 (its effect: the KV store's reply send); A's last
// delivery of an `invalidate` for P before that get (the invalidation it re-warmed on).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string order = between(msg, "order ", " charged ");
  const std::string product = between(msg, " charged ", " at price version ");
  const std::string version_text = between(msg, " at price version ", ", ");
  const std::string server = between(msg, "(by ", ")");
  if (order.empty() || product.empty() || version_text.empty() || server.empty()) return {};
  const std::int64_t next_version = std::stoll(version_text) + 1;
  const auto* commit = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* r = request_send_for(trace, e);
    return r && payload(*r).value("label", "") == "order " + order;
  });
  if (!commit) return {};
  const auto* order_req = request_send_for(trace, *commit);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "kv_request" &&
               process_of(trace, e) == server && payload(e).value("key", "") == "price/" + product;
      },
      order_req->seq);
  if (!read) return {};
  const auto* read_reply = reply_send_for(trace, *read);
  const auto* read_delivery = read_reply ? delivery_of(trace, *read_reply) : nullptr;
  if (!read_delivery) return {};
  const auto* put = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_request" || process_of(trace, e) != "admin" ||
        payload(e).value("key", "") != "price/" + product) {
      return false;
    }
    const auto& value = payload(e).value("value", nlohmann::json());
    return value.is_object() && value.value("version", std::int64_t{0}) == next_version;
  });
  if (!put) return {};
  const auto* put_effect = reply_send_for(trace, *put);
  if (!put_effect) return {};
  const auto* invalidation = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.type == "invalidate" &&
               process_of(trace, e) == server && payload(e).value("product", "") == product;
      },
      read->seq);
  std::vector<std::uint64_t> keys = {read_delivery->seq, put_effect->seq};
  if (invalidation) keys.push_back(invalidation->seq);
  keys.push_back(commit->seq);
  return keys;
}

}  // namespace price_invalidate

Design make_price_invalidate() {
  Design d;
  d.name = "price_invalidate";
  d.bug =
      "the price manager invalidates the app servers' cached price before writing the new one; "
      "an app server re-warms from the old price and charges it until the next change";
  d.system = std::make_unique<price_invalidate::System>();
  d.invariant = "order-current-price";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 150;
  d.held_out = true;
  d.label.kinds = {"outdated_read", "stale_derived_write"};
  d.label.why_several =
      "the re-warm read was fresh when served and the write that outdated it landed right after, "
      "long before the order (an outdated read); the order row carries the price read, a value "
      "written elsewhere after the write that changed it (a stale derived write)";
  d.label.key_events = price_invalidate::key_events;
  return d;
}

}  // namespace seer::bench::explain
