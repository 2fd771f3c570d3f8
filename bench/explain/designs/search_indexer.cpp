// search_indexer: a product search index (KV store) kept up to date from the catalog (SQL).
//
// Spec. The catalog is a SQL table `products(id, title, version)`. An editor changes product
// titles (each change bumps the row's version) and, after each commit, enqueues a reindex job
// {product} on the at-least-once queue. Two indexer workers take jobs, read the product's row
// from the catalog, render the search document (a moment) and write it to the KV store under
// `index/<id>` = {title, version}, then ack the job.
// Invariant `index-moves-forward`: a product's index document never goes back to an older
// version of the product than one it already held ("index/p2 went back from version 5 to
// version 4").
// Operations (history): `edit` per title change.
//
// Bug (variant `buggy`): the workers overwrite the document with a plain put. Two jobs for the
// same product run at once on the two workers: one reads version v, the editor commits v+1, the
// other worker reads v+1 and writes it; the first worker's write, slowed on the way (a latency
// spike), lands last and puts v back.
// Fix (variant `fixed`): the write is conditional: the worker reads the document (linearizable)
// and creates it, or compare-and-sets it on the revision it read, only if its version is newer;
// on a conflict it reads again.
// Faults: delay, reorder.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace search_indexer {

constexpr int kProducts = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(200);

sim::Task<void> editor(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                       sim::ProcessId queue, int edits) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  services::QueueClient q(env, queue, kTimeout);
  for (int n = 1; n <= edits; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string product = "p" + std::to_string(env.random() % kProducts + 1);
    const std::string title = "title-" + std::to_string(n);
    history.invoke(0, "edit", nlohmann::json::array({product, title}));
    const std::vector<services::SqlStatement> tx_r = {
        {"UPDATE products SET title = ?1, version = version + 1 WHERE id = ?2",
         {title, product},
         1},
        {"SELECT version FROM products WHERE id = ?1", {product}, std::nullopt}};
    const auto r = co_await sql.transact(tx_r, "edit " + product);
    if (r.timed_out || !r.committed) {
      history.complete(0, sim::OpType::kInfo, "edit", nlohmann::json::array({product, title}));
      continue;
    }
    nlohmann::json job;
    job["product"] = product;
    while ((co_await q.enqueue(job)).timed_out) {
    }
    history.complete(0, sim::OpType::kOk, "edit", nlohmann::json::array({product, title}), "");
  }
  co_await env.sleep(sim::milliseconds(400));  // let the workers drain the queue
}

sim::Task<void> indexer(sim::Env& env, sim::ProcessId db, sim::ProcessId queue,
                        sim::ProcessId kv_store, bool fixed) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  services::QueueClient q(env, queue, kTimeout);
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  for (;;) {
    const auto job = co_await q.receive();
    if (job.timed_out) continue;
    if (!job.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    const auto product = job.body.at("product").get<std::string>();
    const std::vector<services::SqlStatement> tx_row = {
        {"SELECT title, version FROM products WHERE id = ?1", {product}, std::nullopt}};
    const auto row = co_await sql.transact(tx_row, "read " + product);
    if (row.timed_out || !row.committed || row.results[0].empty()) continue;  // redelivered
    nlohmann::json doc;
    doc["title"] = row.results[0][0][0];
    doc["version"] = row.results[0][0][1];
    const auto version = doc["version"].get<std::int64_t>();
    // Render the search document (tokenize, rank features).
    co_await env.sleep(static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string key = "index/" + product;
    bool written = false;
    if (!fixed) {
      written = (co_await kv.put(key, doc)).ok();
    } else {
      for (int attempt = 0; attempt < 5 && !written; ++attempt) {
        const auto got = co_await kv.get(key, services::KvRead::kLinearizable);
        if (got.timed_out) continue;
        if (got.status == services::KvStatus::kOk &&
            got.value.value("version", std::int64_t{0}) >= version) {
          written = true;  // the index already holds this version or a newer one
          break;
        }
        const auto r = got.status == services::KvStatus::kNotFound
                           ? co_await kv.create(key, doc)
                           : co_await kv.update(key, doc, got.revision);
        written = r.ok();
      }
    }
    if (written) co_await q.ack(job.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"search_indexer",
            "indexer workers copy catalog rows (SQL) into search documents (KV) on reindex jobs",
            {"buggy", "fixed"},
            {{"index-moves-forward", "an index document never goes back to an older version"}},
            {{"kv", {"linearizable"}}, {"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE products (id TEXT PRIMARY KEY, title TEXT NOT NULL, version INTEGER NOT "
        "NULL)"};
    for (int p = 1; p <= kProducts; ++p) {
      config.schema.push_back("INSERT INTO products VALUES ('p" + std::to_string(p) +
                              "', 'untitled', 1)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    for (int w = 1; w <= 2; ++w) {
      sim.add_process("indexer" + std::to_string(w),
                      [d = db.process, q = queue.process, k = kv.process, fixed](sim::Env& env) {
                        return indexer(env, d, q, k, fixed);
                      },
                      {.crashable = false, .client = false});
    }
    auto& history = sim.history();
    const int edits = sim.config().ops;
    sim.add_process("editor",
                    [&history, d = db.process, q = queue.process, edits](sim::Env& env) {
                      return editor(env, history, d, q, edits);
                    },
                    {.crashable = false, .client = true});
    const auto truth = kv.truth;
    auto seen = std::make_shared<std::int64_t>(-1);
    sim.add_invariant("index-moves-forward", [truth, seen]() -> std::optional<std::string> {
      if (truth->revision() == *seen) return std::nullopt;
      *seen = truth->revision();
      for (int p = 1; p <= kProducts; ++p) {
        const std::string key = "index/p" + std::to_string(p);
        std::int64_t newest = 0;
        for (const auto& v : truth->versions(key)) {
          if (!v.exists) continue;
          const auto version = v.value.value("version", std::int64_t{0});
          if (version < newest) {
            return key + " went back from version " + std::to_string(newest) + " to version " +
                   std::to_string(version);
          }
          newest = std::max(newest, version);
        }
      }
      return std::nullopt;
    });
  }
};

// Label. From the message: the document index/P, the version v it went back to and the version w
// it had. The cause: the stale writer's catalog read (the delivery of the "read P" reply that
// returned v to the worker that wrote v last), the editor's commit of version v+1 (the change that
// overtook the read), the other worker's write of w (the newer copy the stale one overwrote: the
// store's reply send) and the stale write (the store's reply send).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string key = between(msg, "", " went back from version ");
  const std::string newer = between(msg, " went back from version ", " to version ");
  const std::string older = between(msg, " to version ", "");
  if (key.empty() || newer.empty() || older.empty()) return {};
  const std::string product = between(key, "index/", "");
  const auto v = std::stoll(older);
  const auto w = std::stoll(newer);
  auto put_of = [&trace, key](std::int64_t version) {
    return [&trace, key, version](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
          payload(e).value("status", "") != "ok") {
        return false;
      }
      const auto* req = request_send_for(trace, e);
      if (!req) return false;
      const auto& p = payload(*req);
      const auto op = p.value("op", "");
      return (op == "put" || op == "create" || op == "update") && p.value("key", "") == key &&
             p.contains("value") && p["value"].value("version", std::int64_t{-1}) == version;
    };
  };
  const auto* stale = find_last(trace, put_of(v), violation_event(trace) + 1);
  if (!stale) return {};
  const auto* newer_put = find_last(trace, put_of(w), stale->seq);
  const auto* stale_req = request_send_for(trace, *stale);
  if (!newer_put || !stale_req) return {};
  const std::string worker = process_of(trace, *stale_req);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (process_of(trace, e) != worker || e.kind != EventKind::kDeliver ||
            e.type != "sql_reply") {
          return false;
        }
        const auto& results = payload(e).value("results", nlohmann::json::array());
        return results.size() == 1 && results[0].size() == 1 && results[0][0].size() == 2 &&
               results[0][0][1] == v;
      },
      stale_req->seq);
  const auto* overtaking = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || payload(*req).value("label", "") != "edit " + product) return false;
    const auto& results = payload(e).value("results", nlohmann::json::array());
    return results.size() == 2 && !results[1].empty() && results[1][0][0] == v + 1;
  });
  if (!read || !overtaking) return {};
  return {read->seq, overtaking->seq, newer_put->seq, stale->seq};
}

}  // namespace search_indexer

Design make_search_indexer() {
  Design d;
  d.name = "search_indexer";
  d.bug =
      "an indexer's write of a product document it read before a newer edit lands after the "
      "newer document and puts the old version back";
  d.system = std::make_unique<search_indexer::System>();
  d.invariant = "index-moves-forward";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write"};
  d.label.key_events = search_indexer::key_events;
  return d;
}

}  // namespace seer::bench::explain
