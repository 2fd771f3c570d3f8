// shard_report: a scatter-gather report that takes a silent shard for an empty one.
//
// Spec. A bank keeps its accounts in two SQL shards (`shard_a`: a-1..a-4, `shard_b`: b-1..b-4).
// A teller (`teller`) moves money between two accounts of one shard, in one transaction, so each
// shard's sum never changes. A reporter (`reporter`, the design's own process) publishes the
// bank's holdings every few milliseconds: round `r-N` asks each shard for
// `SELECT sum(balance) FROM accounts`, adds the answers and writes the report to the KV store
// (`report/r-N`: `{total, shard_a, shard_b}`), which the treasury dashboard and the daily
// liquidity filing read.
// Invariant `report-total`: every report states the bank's real holdings ("report r-4 says the
// bank holds 400, but its accounts hold 1200").
// Operations (history): `transfer` (the teller), `report` (the reporter, per round).
//
// Bug (variant `buggy`): the gather is best effort: a shard that does not answer within 15 ms is
// counted as 0 (as a search front end drops a slow shard's hits), and the report is written
// anyway. The shard's query, or its answer, was lost on the network (or late): the report states
// half the bank.
// Fix (variant `fixed`): a shard that did not answer is asked again; the report is written only
// from every shard's answer.
// Faults: delay, drop.
//
// Label. `lost_response`: the shard's query took effect (its reply send) and the answer was lost
// (the drop of the answer), or the query itself was dropped (its drop); the reporter's receive
// timeout on it; the report's write (the KV store's reply send for `report/r-N`).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

namespace shard_report {

using seer::explain::EventKind;

constexpr int kAccountsPerShard = 4;
constexpr std::int64_t kTotal = kAccountsPerShard * 100 + kAccountsPerShard * 200;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(15);
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);

sim::Task<void> teller(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId a,
                       sim::ProcessId b, int transfers) {
  // One process, two clients: their request numbers must not meet.
  services::SqlClient sql_a(env, a, kSqlTimeout, nullptr, 1);
  services::SqlClient sql_b(env, b, kSqlTimeout, nullptr, 1'000'000);
  for (int n = 1; n <= transfers; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const bool on_a = env.random() % 2 == 0;
    const std::string prefix = on_a ? "a-" : "b-";
    const auto from = static_cast<int>(env.random() % kAccountsPerShard) + 1;
    const auto to = from % kAccountsPerShard + 1;
    const auto amount = static_cast<std::int64_t>(env.random() % 20) + 1;
    const std::string t = "t-" + std::to_string(n);
    history.invoke(1, "transfer", t);
    const std::vector<services::SqlStatement> move = {
        {"UPDATE accounts SET balance = balance - ?1 WHERE id = ?2",
         {amount, prefix + std::to_string(from)},
         1},
        {"UPDATE accounts SET balance = balance + ?1 WHERE id = ?2",
         {amount, prefix + std::to_string(to)},
         1}};
    const auto r = co_await (on_a ? sql_a : sql_b).transact(move, "transfer " + t);
    history.complete(1,
                     r.timed_out   ? sim::OpType::kInfo
                     : r.committed ? sim::OpType::kOk
                                   : sim::OpType::kFail,
                     "transfer", t);
  }
}

sim::Task<void> reporter(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId a,
                         sim::ProcessId b, sim::ProcessId kv_id, int rounds, bool fixed) {
  services::SqlClient sql_a(env, a, kSqlTimeout, nullptr, 1);
  services::SqlClient sql_b(env, b, kSqlTimeout, nullptr, 1'000'000);
  services::KvClient kv(env, kv_id, kKvTimeout, nullptr, 2'000'000);
  for (int n = 1; n <= rounds; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string round = "r-" + std::to_string(n);
    history.invoke(0, "report", round);
    nlohmann::json report = nlohmann::json::object();
    report["round"] = round;
    std::int64_t total = 0;
    for (int s = 0; s < 2; ++s) {
      const std::string shard = s == 0 ? "shard_a" : "shard_b";
      const std::vector<services::SqlStatement> sum = {
          {"SELECT coalesce(sum(balance), 0) FROM accounts", {}, std::nullopt}};
      std::int64_t part = 0;
      for (int attempt = 0; attempt < 20; ++attempt) {
        const auto r =
            co_await (s == 0 ? sql_a : sql_b).transact(sum, "sum " + shard + " " + round);
        if (!r.timed_out && r.committed) {
          part = r.results[0][0][0].get<std::int64_t>();
          break;
        }
        if (!fixed) break;  // best effort: a shard that did not answer counts as empty
      }
      report[shard] = part;
      total += part;
    }
    report["total"] = total;
    const auto w = co_await kv.put("report/" + round, report);
    history.complete(0, w.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "report", round);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"shard_report",
            "a reporter sums the balances of two SQL shards and publishes the total in KV",
            {"buggy", "fixed"},
            {{"report-total", "every report states the bank's real holdings"}},
            {{"sql", {"sqlite"}}, {"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    std::vector<services::SqlService> shards;
    for (int s = 0; s < 2; ++s) {
      services::SqlConfig config;
      config.schema = {"CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)"};
      for (int i = 1; i <= kAccountsPerShard; ++i) {
        config.schema.push_back("INSERT INTO accounts VALUES ('" +
                                std::string(s == 0 ? "a-" : "b-") + std::to_string(i) + "', " +
                                std::to_string(s == 0 ? 100 : 200) + ")");
      }
      shards.push_back(services::add_sql_service(sim, s == 0 ? "shard_a" : "shard_b", config));
    }
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto& history = sim.history();
    const int ops = sim.config().ops;
    sim.add_process(
        "reporter",
        [&history, a = shards[0].process, b = shards[1].process, k = kv.process, ops,
         fixed](sim::Env& env) { return reporter(env, history, a, b, k, ops / 2, fixed); },
        {.crashable = false, .client = true});
    sim.add_process("teller",
                    [&history, a = shards[0].process, b = shards[1].process, ops](sim::Env& env) {
                      return teller(env, history, a, b, ops);
                    },
                    {.crashable = false, .client = true});
    auto store = kv.truth;
    sim.add_invariant(
        "report-total",
        sim::when_changed([store] { return static_cast<std::uint64_t>(store->revision()); },
                          [store]() -> std::optional<sim::Finding> {
                            for (const auto& key : store->keys_at(store->revision(), "report/")) {
                              const auto& v = store->latest(key).encoded();
                              const auto total = v.value("total", std::int64_t{0});
                              if (total == kTotal) continue;
                              const std::string round = v.value("round", "?");
                              return sim::Finding{"report " + round + " says the bank holds " +
                                                      std::to_string(total) +
                                                      ", but its accounts hold " +
                                                      std::to_string(kTotal),
                                                  {round, key}};
                            }
                            return std::nullopt;
                          }));
  }
};

// Label. From the message: the round R. The reporter's sum requests of round R (labels
// "sum shard_X R"); the one whose answer never reached the reporter (no delivery of its reply):
// where its answer was lost (the drop of the reply, after the shard's reply send), or the drop of
// the query itself; the reporter's receive timeout after that request; the report's write (the KV
// store's reply send for the put of `report/R`).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string round = between(violation_message(trace), "report ", " says");
  if (round.empty()) return {};
  const auto requests = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_request" ||
        process_of(trace, e) != "reporter") {
      return false;
    }
    const std::string label = payload(e).value("label", "");
    return label.size() > round.size() + 1 &&
           label.compare(label.size() - round.size() - 1, std::string::npos, " " + round) == 0;
  });
  std::vector<std::uint64_t> keys;
  const TraceEvent* lost_req = nullptr;
  for (const auto* req : requests) {
    const auto* reply = reply_send_for(trace, *req);
    if (reply && delivery_of(trace, *reply)) continue;  // answered
    lost_req = req;
    if (reply) {
      keys.push_back(reply->seq);
      const auto* drop = find_first(
          trace,
          [&](const TraceEvent& e) {
            return e.kind == EventKind::kDrop && e.message == reply->message;
          },
          reply->seq);
      if (drop) keys.push_back(drop->seq);
    } else {
      const auto* drop = find_first(
          trace,
          [&](const TraceEvent& e) {
            return e.kind == EventKind::kDrop && e.message == req->message;
          },
          req->seq);
      if (drop) keys.push_back(drop->seq);
    }
    break;
  }
  if (!lost_req || keys.empty()) return {};
  const auto* timeout = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && process_of(trace, e) == "reporter" &&
               e.line.value("timer", "") == "receive_timeout";
      },
      lost_req->seq);
  if (!timeout) return {};
  keys.push_back(timeout->seq);
  const auto* put = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "kv_request" &&
               process_of(trace, e) == "reporter" &&
               payload(e).value("key", "") == "report/" + round;
      },
      timeout->seq);
  if (!put) return {};
  const auto* effect = reply_send_for(trace, *put);
  if (!effect) return {};
  keys.push_back(effect->seq);
  return keys;
}

}  // namespace shard_report

Design make_shard_report() {
  Design d;
  d.name = "shard_report";
  d.bug =
      "a scatter-gather report counts a shard whose answer was lost as empty and publishes half "
      "the bank's holdings";
  d.system = std::make_unique<shard_report::System>();
  d.invariant = "report-total";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = shard_report::key_events;
  return d;
}

}  // namespace seer::bench::explain
