// Store contracts as runnable systems: clients issue random reads, writes, creates, conditional
// updates and deletes straight at a simulated store and record what they saw at its boundary. The
// strong implementations must give linearizable histories; the stale ones must not, and the oracle
// marks every read a lagging replica served.
#include "contract_systems.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/object_store.hpp"
#include "seer/services/sql.hpp"

#include <map>

namespace seer::systems::contract {

namespace {

constexpr int kClients = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(100);
const char* const kKeys[] = {"x", "y"};

// What a client needs from a store, whatever its API: the value and version of a key,
// unconditional and conditional writes.
struct Outcome {
  bool timed_out = false;
  bool ok = false;
  nlohmann::json value;
  std::int64_t version = 0;
};

struct KvAdapter {
  services::KvClient kv;
  static Outcome of(const services::KvResult& r) {
    return {r.timed_out, r.ok(), r.value, r.revision};
  }
  sim::Task<Outcome> get(std::string k) { co_return of(co_await kv.get(std::move(k))); }
  sim::Task<Outcome> put(std::string k, nlohmann::json v) {
    co_return of(co_await kv.put(std::move(k), std::move(v)));
  }
  sim::Task<Outcome> create(std::string k, nlohmann::json v) {
    co_return of(co_await kv.create(std::move(k), std::move(v)));
  }
  sim::Task<Outcome> update(std::string k, nlohmann::json v, std::int64_t version) {
    co_return of(co_await kv.update(std::move(k), std::move(v), version));
  }
  sim::Task<Outcome> remove(std::string k) { co_return of(co_await kv.remove(std::move(k))); }
};

struct ObjectAdapter {
  services::ObjectClient store;
  static Outcome of(const services::ObjectResult& r) {
    return {r.timed_out, r.ok(), r.body, r.etag};
  }
  sim::Task<Outcome> get(std::string k) { co_return of(co_await store.get(std::move(k))); }
  sim::Task<Outcome> put(std::string k, nlohmann::json v) {
    co_return of(co_await store.put(std::move(k), std::move(v)));
  }
  sim::Task<Outcome> create(std::string k, nlohmann::json v) {
    co_return of(
        co_await store.put(std::move(k), std::move(v), services::Precondition::kIfNoneMatch));
  }
  sim::Task<Outcome> update(std::string k, nlohmann::json v, std::int64_t etag) {
    co_return of(
        co_await store.put(std::move(k), std::move(v), services::Precondition::kIfMatch, etag));
  }
  sim::Task<Outcome> remove(std::string k) { co_return of(co_await store.remove(std::move(k))); }
};

// History values use Jepsen's independent form, [key value], so the `kv` model checks each key on
// its own. Written values are unique, so an update's expected version stands for exactly one
// value and the update is a cas [old new]; a create is a cas [nil new]; a delete writes nil.
template <class Store>
sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, Store store, int id,
                           int ops) {
  struct Known {
    nlohmann::json value;
    std::int64_t version = 0;
  };
  std::map<std::string, Known> known;
  int process = id;
  std::int64_t next_value = static_cast<std::int64_t>(id + 1) * 1'000'000;
  for (int i = 0; i < ops; ++i) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string key = kKeys[env.random() % 2];
    const auto roll = env.random() % 100;
    const auto it = known.find(key);
    nlohmann::json entry = nlohmann::json::array({key, nullptr});
    Outcome r;
    std::string f;
    if (roll < 40 || (roll >= 80 && roll < 95 && it == known.end())) {
      f = "read";
      history.invoke(process, f, entry);
      r = co_await store.get(key);
      if (!r.timed_out) {
        entry[1] = r.value;
        known[key] = Known{r.value, r.version};
      }
    } else if (roll < 65) {
      f = "write";
      entry[1] = ++next_value;
      history.invoke(process, f, entry);
      r = co_await store.put(key, entry[1]);
    } else if (roll < 80) {
      f = "cas";
      entry[1] = nlohmann::json::array({nullptr, ++next_value});
      history.invoke(process, f, entry);
      r = co_await store.create(key, entry[1][1]);
    } else if (roll < 95) {
      f = "cas";
      entry[1] = nlohmann::json::array({it->second.value, ++next_value});
      history.invoke(process, f, entry);
      r = co_await store.update(key, entry[1][1], it->second.version);
    } else {
      f = "write";
      history.invoke(process, f, entry);
      r = co_await store.remove(key);
    }
    if (r.timed_out) {
      history.complete(process, sim::OpType::kInfo, f, entry, "timeout");
      process += kClients;  // outcome unknown: this process is done (Jepsen convention)
    } else if (f == "cas" && !r.ok) {
      history.complete(process, sim::OpType::kFail, f, entry, "precondition");
    } else {
      history.complete(process, sim::OpType::kOk, f, entry);
    }
  }
}

class StoreContractSystem final : public sim::System {
 public:
  explicit StoreContractSystem(bool object_store) : object_(object_store) {}

  sim::SystemInfo info() const override {
    const std::string service = object_ ? "object-store" : "kv";
    sim::SystemInfo info{
        object_ ? "object-contract" : "kv-contract",
        "the simulated " + std::string(object_ ? "object store" : "KV store") +
            "'s contract: random reads, writes, creates, conditional updates and deletes at "
            "its boundary, checked for linearizability",
        {"default"},
        {{"linearizable", "the store's boundary history is linearizable (kv model)"}},
        {{service,
          object_ ? services::object_store_implementations() : services::kv_implementations()}}};
    info.history_model = "kv";
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& /*variant*/) const override {
    const auto server =
        object_ ? services::add_object_store_service(
                      sim, "objects",
                      services::object_store_config(sim.config().service_or("object-store")))
                      .process
                : services::add_kv_service(sim, "kv",
                                           services::kv_config(sim.config().service_or("kv")))
                      .process;
    auto& history = sim.history();
    const int ops = sim.config().ops;
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = ops / clients + (c < ops % clients ? 1 : 0);
      const bool object = object_;
      sim.add_process(
          "client" + std::to_string(c + 1),
          [&history, server, c, share, object](sim::Env& env) {
            if (object) {
              return run_client(env, history,
                                ObjectAdapter{services::ObjectClient(env, server, kTimeout)}, c,
                                share);
            }
            return run_client(env, history, KvAdapter{services::KvClient(env, server, kTimeout)}, c,
                              share);
          },
          {.crashable = false, .client = true});
    }
  }

 private:
  bool object_;
};

// The SQL server's contract: each transaction commits at one instant between its request and its
// reply, in one serial order, so inserts of distinct values and reads of the whole table are a
// linearizable grow-only set (which the set model checks in linear time, outcome-unknown inserts
// included).
std::vector<services::SqlStatement> add_statement(std::int64_t value) {
  return {{"INSERT INTO items (v) VALUES (?1)", nlohmann::json::array({value}), 1}};
}
std::vector<services::SqlStatement> read_statement() {
  return {{"SELECT v FROM items ORDER BY v", nlohmann::json::array(), std::nullopt}};
}

nlohmann::json read_values(const services::SqlResult& r) {
  nlohmann::json values = nlohmann::json::array();
  if (r.results.is_array() && !r.results.empty()) {
    for (const auto& row : r.results[0]) values.push_back(row[0]);
  }
  return values;
}

// GCC 12 miscompiles conditional expressions that build non-trivial temporaries inside coroutines
// (a double destruction), so every such value here is a named local built outside co_await.
sim::Task<void> run_sql_client(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                               int id, int ops) {
  services::SqlClient sql(env, db, kTimeout);
  int process = id;
  for (int i = 0; i < ops; ++i) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const bool add = env.random() % 2 == 0;
    const std::string f = add ? "add" : "read";
    nlohmann::json value;                       // null for a read's invocation
    if (add) value = (id + 1) * 1'000'000 + i;  // distinct values
    history.invoke(process, f, value);
    std::vector<services::SqlStatement> statements;
    if (add) {
      statements = add_statement(value.get<std::int64_t>());
    } else {
      statements = read_statement();
    }
    const auto r = co_await sql.transact(std::move(statements));
    if (r.timed_out) {
      history.complete(process, sim::OpType::kInfo, f, value, "timeout");
      process += kClients;
    } else if (!r.committed) {
      history.complete(process, sim::OpType::kFail, f, value, r.error);
    } else if (add) {
      history.complete(process, sim::OpType::kOk, f, value);
    } else {
      history.complete(process, sim::OpType::kOk, f, read_values(r));
    }
  }
}

class SqlContractSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info{
        "sql-contract",
        "the simulated SQL database's contract: inserts and whole-table reads, each a "
        "transaction, checked as a linearizable set",
        {"default"},
        {{"linearizable", "the database's boundary history is linearizable (set model)"}},
        {{"sql", {"sqlite"}}}};
    info.history_model = "set";
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& /*variant*/) const override {
    services::SqlConfig config;
    config.schema = {"CREATE TABLE counter (n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)"};
    const auto db = services::add_sql_service(sim, "db", config).process;
    auto& history = sim.history();
    const int ops = sim.config().ops;
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = ops / clients + (c < ops % clients ? 1 : 0);
      sim.add_process("client" + std::to_string(c + 1),
                      [&history, db, c, share](sim::Env& env) {
                        return run_sql_client(env, history, db, c, share);
                      },
                      {.crashable = false, .client = true});
    }
  }
};

}  // namespace

std::unique_ptr<sim::System> make_sql_contract_system() {
  return std::make_unique<SqlContractSystem>();
}

std::unique_ptr<sim::System> make_kv_contract_system() {
  return std::make_unique<StoreContractSystem>(false);
}
std::unique_ptr<sim::System> make_object_contract_system() {
  return std::make_unique<StoreContractSystem>(true);
}

}  // namespace seer::systems::contract
