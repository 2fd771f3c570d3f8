// cache_aside: a cache (KV store) in front of a database (SQL), filled on a miss.
//
// Spec. Three items live in the database (`items(id, value, version)`). A writer updates an item's
// row (a new version) and then makes the cache forget it; two readers serve reads from the cache
// `item/<id>` and, on a miss, read the row and fill the cache with it.
// Invariant `no-stale-cached-read`: a read never returns an older version than one whose write had
// been acknowledged before the read began ("reader1's read of item/2 returned version 3, but
// version 4 had been acknowledged before the read began").
// Operations (history): `write` (writer), `read` (readers).
//
// Bug (variant `buggy`): the classic cache-aside race. A reader misses, reads version v from the
// database, and is slow to fill (a pause, a slow request); meanwhile the writer commits v+1 and
// deletes the cache entry; then the reader's fill lands and puts v back. The cache serves v until
// the next write.
// Fix (variant `fixed`): the cache only moves forward. Readers fill with create-if-absent (never
// over an entry), and the writer, instead of deleting, sets the entry to its version with a
// compare-and-set on the entry's revision unless it already holds that version or a newer one.
// Faults: delay, reorder, pause (readers and the writer may be paused; no crashes).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <map>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace cache_aside {

constexpr int kItems = 3;
constexpr int kReaders = 2;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

struct Oracle {
  std::map<int, std::int64_t> acked;  // item -> newest version whose write was acknowledged
  std::string violation;
};

std::string key_of(int item) {
  return "item/" + std::to_string(item);
}

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId cache_id,
                       sim::ProcessId db, bool fixed, int writes, std::shared_ptr<Oracle> oracle) {
  services::KvClient cache(env, cache_id, kTimeout, nullptr, env.random());
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  std::map<int, std::int64_t> version;
  for (int w = 0; w < writes; ++w) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    const int item = static_cast<int>(env.random() % kItems) + 1;
    const std::int64_t v = ++version[item];
    const std::string value = "v" + std::to_string(v) + "-of-item" + std::to_string(item);
    history.invoke(0, "write", nlohmann::json::array({item, v}));
    const std::vector<services::SqlStatement> update = {
        {"UPDATE items SET value = ?1, version = ?2 WHERE id = ?3", {value, v, item}, 1}};
    while ((co_await sql.transact(update, "write " + key_of(item) + " v" + std::to_string(v)))
               .timed_out) {
    }
    if (!fixed) {
      while ((co_await cache.remove(key_of(item))).timed_out) {
      }
    } else {
      for (;;) {
        const auto got = co_await cache.get(key_of(item), services::KvRead::kLinearizable);
        if (got.timed_out) continue;
        nlohmann::json entry;
        entry["value"] = value;
        entry["version"] = v;
        services::KvResult set;
        if (got.status == services::KvStatus::kNotFound) {
          set = co_await cache.create(key_of(item), entry);
        } else if (got.value["version"].get<std::int64_t>() >= v) {
          break;
        } else {
          set = co_await cache.update(key_of(item), entry, got.revision);
        }
        if (set.ok()) break;
      }
    }
    oracle->acked[item] = std::max(oracle->acked[item], v);
    history.complete(0, sim::OpType::kOk, "write", nlohmann::json::array({item, v}));
  }
}

sim::Task<void> reader(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId cache_id,
                       sim::ProcessId db, bool fixed, int id, std::shared_ptr<Oracle> oracle) {
  services::KvClient cache(env, cache_id, kTimeout, nullptr, env.random());
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const std::string me = "reader" + std::to_string(id);
  for (int r = 0; r < 60; ++r) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const int item = static_cast<int>(env.random() % kItems) + 1;
    const std::int64_t required = oracle->acked[item];
    history.invoke(id, "read", item);
    std::int64_t got_version = -1;
    const auto hit = co_await cache.get(key_of(item));
    if (hit.timed_out) {
      history.complete(id, sim::OpType::kFail, "read", item, "timeout");
      continue;
    }
    if (hit.status == services::KvStatus::kOk) {
      got_version = hit.value["version"].get<std::int64_t>();
    } else {
      const std::vector<services::SqlStatement> select = {
          {"SELECT value, version FROM items WHERE id = ?1", {item}, std::nullopt}};
      const auto row = co_await sql.transact(select, "read " + key_of(item));
      if (row.timed_out || !row.committed) {
        history.complete(id, sim::OpType::kFail, "read", item, "timeout");
        continue;
      }
      nlohmann::json entry;
      entry["value"] = row.results[0][0][0];
      entry["version"] = row.results[0][0][1];
      got_version = entry["version"].get<std::int64_t>();
      if (fixed) {
        co_await cache.create(key_of(item), entry);
      } else {
        co_await cache.put(key_of(item), entry);
      }
    }
    history.complete(id, sim::OpType::kOk, "read", nlohmann::json::array({item, got_version}));
    if (got_version < required && oracle->violation.empty()) {
      oracle->violation = me + "'s read of " + key_of(item) + " returned version " +
                          std::to_string(got_version) + ", but version " +
                          std::to_string(required) + " had been acknowledged before the read began";
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"cache_aside",
            "a KV cache in front of a SQL database: readers fill it on a miss, the writer "
            "invalidates it",
            {"buggy", "fixed"},
            {{"no-stale-cached-read",
              "a read never returns a version older than one acknowledged before it began"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto cache = services::add_kv_service(sim, "cache", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE items (id INTEGER PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT "
        "NULL)"};
    for (int i = 1; i <= kItems; ++i) {
      config.schema.push_back("INSERT INTO items VALUES (" + std::to_string(i) + ", 'initial', 0)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int writes = sim.config().ops;
    sim.add_process(
        "writer",
        [&history, c = cache.process, d = db.process, fixed, writes, oracle](sim::Env& env) {
          return writer(env, history, c, d, fixed, writes, oracle);
        },
        {.crashable = true, .client = true});
    const int readers = sim.config().clients_or(kReaders);
    for (int r = 0; r < readers; ++r) {
      sim.add_process(
          "reader" + std::to_string(r + 1),
          [&history, c = cache.process, d = db.process, fixed, r, oracle](sim::Env& env) {
            return reader(env, history, c, d, fixed, r + 1, oracle);
          },
          {.crashable = true, .client = true});
    }
    sim.add_invariant("no-stale-cached-read", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: the item's key K and the stale version s the read returned. The cause:
// the fill F that put version s into the cache after the invalidation (the store's reply to the
// put: where it took effect, the last such before the violation), the invalidation D it landed
// after (the last delete of K before F), the writer's commit C of the newer version that D
// invalidated for (the last commit for K before D), and the database read R the fill was derived
// from (the filler's last read of K before it sent F).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string key = between(msg, "'s read of ", " returned version ");
  const std::string stale = between(msg, " returned version ", ", but");
  if (key.empty() || stale.empty()) return {};
  const auto s = std::stoll(stale);
  const auto until = violation_event(trace);
  auto is_reply_to = [&](const TraceEvent& ev, const std::string& op) -> const TraceEvent* {
    if (ev.kind != EventKind::kSend || ev.type != "kv_reply" || process_of(trace, ev) != "cache") {
      return nullptr;
    }
    const auto* req = request_send_for(trace, ev);
    if (!req || payload(*req).value("op", "") != op || payload(*req).value("key", "") != key) {
      return nullptr;
    }
    return req;
  };
  const auto* fill = find_last(
      trace,
      [&](const TraceEvent& ev) {
        const auto* req = is_reply_to(ev, "put");
        return req && payload(*req).contains("value") &&
               payload(*req)["value"].value("version", std::int64_t{-1}) == s;
      },
      until + 1);
  if (!fill) return {};
  const auto* fill_req = request_send_for(trace, *fill);
  const auto* invalidation = find_last(
      trace, [&](const TraceEvent& ev) { return is_reply_to(ev, "delete") != nullptr; }, fill->seq);
  if (!invalidation) return {};
  const auto* commit = find_last(
      trace,
      [&](const TraceEvent& ev) {
        if (ev.kind != EventKind::kSend || ev.type != "sql_reply" ||
            process_of(trace, ev) != "db" || !payload(ev).value("committed", false)) {
          return false;
        }
        const auto* req = request_send_for(trace, ev);
        return req && payload(*req).value("label", "").rfind("write " + key + " v", 0) == 0;
      },
      invalidation->seq);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& ev) {
        return ev.lane == fill_req->lane && ev.kind == EventKind::kDeliver &&
               ev.type == "sql_reply";
      },
      fill_req->seq);
  if (!commit || !read) return {};
  return {read->seq, commit->seq, invalidation->seq, fill->seq};
}

}  // namespace cache_aside

Design make_cache_aside() {
  Design d;
  d.name = "cache_aside";
  d.bug = "a reader's cache fill from an old database read lands after the writer's invalidation";
  d.system = std::make_unique<cache_aside::System>();
  d.invariant = "no-stale-cached-read";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kPause};
  d.ops = 40;
  d.label.kinds = {"stale_derived_write"};
  d.label.key_events = cache_aside::key_events;
  return d;
}

}  // namespace seer::bench::explain
