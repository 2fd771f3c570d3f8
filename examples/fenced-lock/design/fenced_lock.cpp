// fenced-lock: clients increment a counter in a SQL database, each increment a read, some work,
// and a write, under a lock. The lock is a lease in a KV store: {holder, expires, token}, taken
// by a compare-and-set, good until `expires` on the taker's clock (spec.md).
//
// Variants:
//   lease-only  before the write the client checks, on its own clock, that its lease has not
//               expired, then writes. Between that check and the write landing, a pause, a slow
//               network or a skewed clock lets the lease expire and another client take it.
//   fenced-writes  every lease carries a token one higher than the last, and the database takes
//               a write only if its token is at least the highest it has seen. Half a fix: an old
//               holder's write that lands after the new holder's read but before its write passes,
//               and the new holder then writes what it computed from the older value.
//   fenced      as fenced-writes, but the client also stamps its read with its token (the
//               database keeps the highest token it has seen, and refuses a lower one) and
//               writes only while that token is still the latest: a client whose lease was taken
//               over is refused by the database itself, whatever the clocks say.
#include "fenced_lock.hpp"
#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql.hpp"
#include "seer/services/sql_client.hpp"
#include "seer/sim/env.hpp"
#include "seer/sim/system.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fenced_lock {

using namespace seer;

constexpr sim::Duration kLeaseTtl = sim::milliseconds(20);
constexpr sim::Duration kTimeout = sim::milliseconds(40);
const char* const kLockKey = "lock";

struct Lease {
  std::int64_t token;
  std::int64_t revision;  // the lock key's revision once taken: releasing is a compare-and-set
  sim::Time expires;      // on this client's clock
};

sim::Duration between(sim::Env& env, sim::Duration low, sim::Duration high) {
  return low + static_cast<sim::Duration>(env.random() % static_cast<std::uint64_t>(high - low));
}

// Takes the lock: waits while someone else's lease is unexpired (by this client's clock), then
// writes its own with a compare-and-set on the revision it read. nullopt after too many tries.
sim::Task<std::optional<Lease>> acquire(sim::Env& env, services::KvClient& locks,
                                        const std::string& me) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto lock = co_await locks.get(kLockKey, services::KvRead::kLinearizable);
    if (lock.timed_out) continue;
    const bool absent = lock.status == services::KvStatus::kNotFound;
    if (!absent && lock.value["expires"].get<sim::Time>() > env.now()) {
      co_await env.sleep(between(env, sim::milliseconds(1), sim::milliseconds(4)));
      continue;
    }
    const std::int64_t token = absent ? 1 : lock.value["token"].get<std::int64_t>() + 1;
    const sim::Time expires = env.now() + kLeaseTtl;
    const nlohmann::json mine = {{"holder", me}, {"expires", expires}, {"token", token}};
    services::KvResult taken;
    if (absent) {
      taken = co_await locks.create(kLockKey, mine);
    } else {
      taken = co_await locks.update(kLockKey, mine, lock.revision);
    }
    if (taken.ok()) co_return Lease{token, taken.revision, expires};
    // A conflict (another client took it first) or a timeout: look again.
  }
  co_return std::nullopt;
}

// Gives the lock back, if it is still the one this client took.
sim::Task<void> release(services::KvClient& locks, const Lease& lease) {
  const nlohmann::json free = {{"holder", ""}, {"expires", 0}, {"token", lease.token}};
  co_await locks.update(kLockKey, free, lease.revision);
}

// The read, stamped with the token in the fenced variant: it raises the database's token to
// ours, and is refused (rolled back) if a later lease already stamped it.
std::vector<services::SqlStatement> read_statements(Fencing fencing, std::int64_t token) {
  std::vector<services::SqlStatement> statements;
  if (fencing == Fencing::kReadsAndWrites) {
    statements.push_back({"UPDATE counter SET token = ?1 WHERE id = 1 AND token <= ?1",
                          nlohmann::json::array({token}), 1});
  }
  statements.push_back(
      {"SELECT value FROM counter WHERE id = 1", nlohmann::json::array(), std::nullopt});
  return statements;
}

// The write: in the fenced variant only while our token is still the database's latest; in
// fenced-writes if no higher token wrote before.
std::vector<services::SqlStatement> write_statements(Fencing fencing, std::int64_t token,
                                                     std::int64_t value) {
  if (fencing == Fencing::kWrites) {
    return {{"UPDATE counter SET value = ?1, token = ?2 WHERE id = 1 AND token <= ?2",
             nlohmann::json::array({value, token}), 1}};
  }
  if (fencing == Fencing::kReadsAndWrites) {
    return {{"UPDATE counter SET value = ?1 WHERE id = 1 AND token = ?2",
             nlohmann::json::array({value, token}), 1}};
  }
  return {
      {"UPDATE counter SET value = ?1 WHERE id = 1", nlohmann::json::array({value}), std::nullopt}};
}

sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, ClientConfig config) {
  services::KvClient locks(env, config.locks, kTimeout);
  services::SqlClient sql(env, config.db, kTimeout);
  const std::string me = env.name_of(env.self());
  int process = config.id;  // the history's process: a new one after an unknown outcome
  for (int i = 0; i < config.increments; ++i) {
    co_await env.sleep(between(env, sim::milliseconds(1), sim::milliseconds(4)));
    history.invoke(process, "increment", nullptr);
    const auto lease = co_await acquire(env, locks, me);
    if (!lease) {
      history.complete(process, sim::OpType::kFail, "increment", nullptr, "no lock");
      continue;
    }
    const auto label = me + "-" + std::to_string(i);
    const auto read =
        co_await sql.transact(read_statements(config.fencing, lease->token), label + "-read");
    if (read.timed_out || !read.committed) {  // nothing written: it did not happen
      history.complete(process, sim::OpType::kFail, "increment", nullptr, "read failed");
      co_await release(locks, *lease);
      continue;
    }
    const std::int64_t next = read.results.back()[0][0].get<std::int64_t>() + 1;
    // The work the lock protects: usually well within the lease.
    co_await env.sleep(between(env, sim::milliseconds(1), sim::milliseconds(8)));
    if (config.fencing == Fencing::kNone &&
        env.now() >= lease->expires) {  // lease-only: too late, give up
      history.complete(process, sim::OpType::kFail, "increment", nullptr, "lease expired");
      continue;
    }
    const auto write = co_await sql.transact(write_statements(config.fencing, lease->token, next),
                                             label + "-write");
    if (write.timed_out) {
      history.complete(process, sim::OpType::kInfo, "increment", nullptr, "timeout");
      process += kClients;
    } else if (!write.committed) {  // fenced off: a later lease's token is in the database
      history.complete(process, sim::OpType::kFail, "increment", nullptr, "fenced");
    } else {
      history.complete(process, sim::OpType::kOk, "increment", next);
    }
    co_await release(locks, *lease);
  }
}

Fencing fencing_of(const std::string& variant) {
  return variant == "fenced"          ? Fencing::kReadsAndWrites
         : variant == "fenced-writes" ? Fencing::kWrites
                                      : Fencing::kNone;
}

class FencedLockSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info;
    info.name = "fenced-lock";
    info.description =
        "clients increment a counter in a SQL database under a lease lock kept in a KV store";
    info.variants = {"lease-only", "fenced-writes", "fenced"};
    info.invariants = {{"counter-never-decreases",
                        "the counter in the database never goes back to an earlier value"}};
    info.history_model = "increment-and-get";  // design/increment_model.cpp
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const auto locks = services::add_kv_service(sim, "locks", services::KvConfig{});
    const std::vector<std::string> schema = {
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL, "
        "token INTEGER NOT NULL)",
        "INSERT INTO counter VALUES (1, 0, 0)"};
    const auto db = services::add_sql_service(sim, "db", {schema, sim::milliseconds(1)});
    auto& history = sim.history();
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      ClientConfig config;
      config.id = c;
      config.increments = sim.config().ops / clients + (c < sim.config().ops % clients ? 1 : 0);
      config.fencing = fencing_of(variant);
      config.locks = locks.process;
      config.db = db.process;
      // Clients do not crash, but they may stall (the `pause` fault): a garbage collection, a
      // descheduled VM, the classic way to outlive a lease.
      sim.add_process(
          "client" + std::to_string(c + 1),
          [&history, config](sim::Env& env) { return run_client(env, history, config); },
          {.crashable = false, .client = true, .pausable = true});
    }
    // Checked after every commit, on the database's committed state (which only the simulator
    // sees): the largest value so far, and the value now.
    auto highest = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "counter-never-decreases",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth, highest]() -> std::optional<std::string> {
                            const auto rows =
                                truth->query("SELECT value FROM counter WHERE id = 1");
                            const auto value = rows[0][0].get<std::int64_t>();
                            if (value < *highest) {
                              return "the counter went back from " + std::to_string(*highest) +
                                     " to " + std::to_string(value) +
                                     ": a write computed from an older read landed last";
                            }
                            *highest = value;
                            return std::nullopt;
                          }));
  }
};

SEER_REGISTER_SYSTEM(std::make_unique<FencedLockSystem>());

}  // namespace fenced_lock
