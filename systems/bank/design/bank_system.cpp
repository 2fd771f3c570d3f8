// Transfers between accounts in the simulated SQL database. The oracle reads the committed
// database: no balance below zero, the total conserved, no transfer committed twice.
#include "bank_system.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <set>

namespace seer::systems::bank {

namespace {

constexpr int kClients = 3;
constexpr int kAccounts = 3;
constexpr std::int64_t kOpening = 100;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

enum class Strategy {
  kCheckThenAct,  // read the balance in one transaction, move the money in another
  kGuardedRetry,  // one guarded transaction; on a timeout, send it again
  kIdempotent,    // as kGuardedRetry, plus the transfer's id in a uniquely keyed table
};

Strategy strategy_of(const std::string& variant) {
  if (variant == "check-then-act") return Strategy::kCheckThenAct;
  if (variant == "guarded-retry") return Strategy::kGuardedRetry;
  return Strategy::kIdempotent;
}

std::vector<services::SqlStatement> move_money(std::int64_t from, std::int64_t to,
                                               std::int64_t amount) {
  return {{"UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND balance >= ?1",
           {amount, from},
           1},
          {"UPDATE accounts SET balance = balance + ?1 WHERE id = ?2", {amount, to}, 1}};
}

std::vector<services::SqlStatement> read_balance(std::int64_t account) {
  return {{"SELECT balance FROM accounts WHERE id = ?1", {account}, std::nullopt}};
}

std::vector<services::SqlStatement> idempotent_move(const std::string& label, std::int64_t from,
                                                    std::int64_t to, std::int64_t amount) {
  auto statements = move_money(from, to, amount);
  statements.insert(statements.begin(),
                    services::SqlStatement{"INSERT INTO transfers (id) VALUES (?1)",
                                           nlohmann::json::array({label}), std::nullopt});
  return statements;
}

sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                           Strategy strategy, int id, int transfers) {
  services::SqlClient sql(env, db, kTimeout);
  int process = id;
  for (int t = 0; t < transfers; ++t) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const auto from = static_cast<std::int64_t>(env.random() % kAccounts) + 1;
    const auto to = from % kAccounts + 1;
    const auto amount = static_cast<std::int64_t>(env.random() % 60) + 1;
    const std::string label = "c" + std::to_string(id) + "-t" + std::to_string(t);
    const auto value = nlohmann::json::array({from, to, amount});
    history.invoke(process, "transfer", value);
    sim::OpType outcome = sim::OpType::kInfo;
    if (strategy == Strategy::kCheckThenAct) {
      const auto read = co_await sql.transact(read_balance(from), label + "-read");
      if (read.timed_out) {
        outcome = sim::OpType::kFail;  // nothing written yet
      } else if (read.results[0][0][0].get<std::int64_t>() < amount) {
        outcome = sim::OpType::kFail;  // insufficient funds
      } else {
        auto statements = move_money(from, to, amount);
        statements[0].sql = "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2";
        const auto write = co_await sql.transact(std::move(statements), label);
        outcome = write.timed_out ? sim::OpType::kInfo
                                  : (write.committed ? sim::OpType::kOk : sim::OpType::kFail);
      }
    } else {
      const auto statements = strategy == Strategy::kIdempotent
                                  ? idempotent_move(label, from, to, amount)
                                  : move_money(from, to, amount);
      for (;;) {
        const auto r = co_await sql.transact(statements, label);
        if (r.timed_out) continue;  // send it again: it may or may not have committed
        if (r.committed) {
          outcome = sim::OpType::kOk;
        } else if (r.error.find("UNIQUE") != std::string::npos) {
          outcome = sim::OpType::kOk;  // an earlier attempt committed
        } else {
          outcome = sim::OpType::kFail;  // insufficient funds
        }
        break;
      }
    }
    history.complete(process, outcome, "transfer", value,
                     outcome == sim::OpType::kInfo ? "timeout" : "");
    if (outcome == sim::OpType::kInfo) process += kClients;
  }
}

class BankSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"bank",
            "three clients transfer money between three accounts in a SQL database",
            {"check-then-act", "guarded-retry", "idempotent"},
            {{"no-overdraft", "no account balance is ever below zero"},
             {"money-conserved", "the balances always sum to the opening total"},
             {"transfer-once", "no transfer commits twice"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
        "CREATE TABLE transfers (id TEXT PRIMARY KEY)",
    };
    for (int a = 1; a <= kAccounts; ++a) {
      config.schema.push_back("INSERT INTO accounts VALUES (" + std::to_string(a) + ", " +
                              std::to_string(kOpening) + ")");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const auto strategy = strategy_of(variant);
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = sim.config().ops / clients + (c < sim.config().ops % clients ? 1 : 0);
      sim.add_process("client" + std::to_string(c + 1),
                      [&history, p = db.process, strategy, c, share](sim::Env& env) {
                        return run_client(env, history, p, strategy, c, share);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = db.truth;
    // Invariants run after every event; the database only changes on a commit.
    const auto commits = [truth] { return std::uint64_t{truth->committed().size()}; };
    sim.add_invariant(
        "no-overdraft", sim::when_changed(commits, [truth]() -> std::optional<std::string> {
          const auto rows = truth->query("SELECT id, balance FROM accounts WHERE balance < 0");
          if (rows.empty()) return std::nullopt;
          return "account " + rows[0][0].dump() + " has balance " + rows[0][1].dump();
        }));
    sim.add_invariant("money-conserved",
                      sim::when_changed(commits, [truth]() -> std::optional<std::string> {
                        const auto total = truth->query("SELECT sum(balance) FROM accounts")[0][0];
                        if (total == kOpening * kAccounts) return std::nullopt;
                        return "the balances sum to " + total.dump() + ", not " +
                               std::to_string(kOpening * kAccounts);
                      }));
    auto seen = std::make_shared<std::set<std::string>>();
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("transfer-once", [truth, seen, checked]() -> std::optional<std::string> {
      const auto& committed = truth->committed();
      for (; *checked < committed.size(); ++*checked) {
        const auto& label = committed[*checked];
        if (label.size() > 5 && label.compare(label.size() - 5, 5, "-read") == 0) continue;
        if (!seen->insert(label).second) return "transfer " + label + " committed twice";
      }
      return std::nullopt;
    });
  }
};

}  // namespace

std::unique_ptr<sim::System> make_bank_system() {
  return std::make_unique<BankSystem>();
}

}  // namespace seer::systems::bank
