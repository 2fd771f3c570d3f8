// ledger_torn: a ledger server that keeps each account's balance in its own record on disk.
//
// Spec. A ledger server (`ledger`, the design's own process and messages) holds four accounts
// (alice, bob, carol, dave; 100 each) and moves money between them for two teller clients. It
// group-commits: a transfer is applied in memory and written to the local disk at once, and every
// 2 ms the server syncs the disk and only then answers the transfers of that batch (an answer is
// never sent before its transfer is durable). A transfer the account cannot cover is refused. On
// restart the server reads its balances back from disk. A teller waits 30 ms for an answer and
// moves on if none comes (the transfer may or may not have happened).
// Invariant `ledger-balanced`: the balances the server would recover from its disk (the durable
// state, read the way its recovery reads it) sum to 400 ("the ledger on disk does not balance:
// alice 90, bob 110, carol 80, dave 100 sum to 380, not 400").
// Operations (history): `transfer` (from, to, amount) by the tellers.
//
// Bug (variant `buggy`): each account is its own record (`bal/<name>`), and a transfer writes two
// of them; the design counts on the sync to make a batch's writes durable together. A crash during
// a batch may tear it (the `torn` fault: a prefix of the unsynced writes reaches the disk, the last
// one possibly cut short), so the debit of a transfer persists without its credit, or a balance is
// cut to a different number, and the recovered ledger no longer balances.
// Fix (variant `fixed`): the whole ledger is one record written once per batch, alternating
// between two slots (`ledger/a`, `ledger/b`) with a generation number; recovery takes the readable
// slot with the highest generation. A torn write can only cut the slot being written, and the
// other slot still holds the previous batch (a double-buffered superblock).
// Faults: delay, crash, torn.
//
// Label. `crash_lost_data`: the crash that tore the batch, and the unsynced write it took back
// (or cut short) that split a transfer: the first write of the batch that did not reach the disk
// whole.
#include "design.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace ledger_torn {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr std::int64_t kInitial = 100;
constexpr std::int64_t kTotal = 400;
constexpr int kTellers = 2;
constexpr sim::Duration kGroupCommit = sim::milliseconds(2);
constexpr sim::Duration kTellerTimeout = sim::milliseconds(30);

const std::vector<std::string>& accounts() {
  static const std::vector<std::string> names = {"alice", "bob", "carol", "dave"};
  return names;
}

struct Transfer : sim::Payload {
  Transfer(std::uint64_t r, std::string f, std::string t, std::int64_t a)
      : req(r), from(std::move(f)), to(std::move(t)), amount(a) {}
  std::uint64_t req;
  std::string from;
  std::string to;
  std::int64_t amount;
  std::string_view type() const override { return "transfer"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"from", from}, {"to", to}, {"amount", amount}};
  }
};

struct TransferReply : sim::Payload {
  TransferReply(std::uint64_t r, std::string s) : req(r), status(std::move(s)) {}
  std::uint64_t req;
  std::string status;  // ok, insufficient
  std::string_view type() const override { return "transfer_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"status", status}}; }
};

using Lookup = std::function<std::optional<std::string>(const std::string&)>;

struct Recovered {
  std::map<std::string, std::int64_t> balances;
  std::int64_t generation = 0;  // fixed: the slot's generation
};

std::optional<std::int64_t> parse_amount(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// The server's recovery, and the invariant's reading of the disk: the same function. nullopt
// (with `problem`) when a record cannot be read.
std::optional<Recovered> recover(const Lookup& disk, bool fixed, std::string* problem) {
  Recovered r;
  for (const auto& a : accounts()) r.balances[a] = kInitial;
  if (!fixed) {
    for (const auto& a : accounts()) {
      const auto v = disk("bal/" + a);
      if (!v) continue;
      const auto amount = parse_amount(*v);
      if (!amount) {
        *problem = "bal/" + a + " holds '" + *v + "'";
        return std::nullopt;
      }
      r.balances[a] = *amount;
    }
    return r;
  }
  for (const char* slot : {"ledger/a", "ledger/b"}) {
    const auto v = disk(slot);
    if (!v) continue;
    const auto j = nlohmann::json::parse(*v, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("gen")) continue;  // cut short
    const auto gen = j.value("gen", std::int64_t{0});
    if (gen <= r.generation) continue;
    r.generation = gen;
    for (const auto& a : accounts()) r.balances[a] = j.at("balances").value(a, kInitial);
  }
  return r;
}

sim::Task<void> ledger(sim::Env& env, bool fixed) {
  auto& disk = env.storage();
  std::string problem;
  const auto recovered =
      recover([&disk](const std::string& k) { return disk.get(k); }, fixed, &problem);
  std::map<std::string, std::int64_t> balances;
  std::int64_t generation = 0;
  if (recovered) {
    balances = recovered->balances;
    generation = recovered->generation;
  } else {
    for (const auto& a : accounts()) balances[a] = kInitial;
  }
  struct Answer {
    sim::ProcessId to;
    std::uint64_t req;
    std::string status;
  };
  std::vector<Answer> batch;
  sim::Time flush_at = 0;
  for (;;) {
    std::optional<sim::Message> m;
    if (batch.empty()) {
      m = co_await env.receive();
    } else {
      const sim::Duration left = flush_at - env.now();
      if (left <= 0) {
        if (fixed) {
          ++generation;
          nlohmann::json snapshot = {{"gen", generation}, {"balances", balances}};
          disk.put(generation % 2 == 1 ? "ledger/a" : "ledger/b", snapshot.dump());
        }
        co_await env.sync();
        for (const auto& a : batch)
          env.send(a.to, sim::make_payload<TransferReply>(a.req, a.status));
        batch.clear();
        continue;
      }
      m = co_await env.receive_for(left);
    }
    if (!m) continue;
    const auto* t = m->as<Transfer>();
    if (!t) continue;
    if (batch.empty()) flush_at = env.now() + kGroupCommit;
    if (t->from == t->to || !balances.count(t->from) || !balances.count(t->to) ||
        balances[t->from] < t->amount) {
      batch.push_back({m->from, t->req, "insufficient"});
      continue;
    }
    balances[t->from] -= t->amount;
    balances[t->to] += t->amount;
    if (!fixed) {
      disk.put("bal/" + t->from, std::to_string(balances[t->from]));
      disk.put("bal/" + t->to, std::to_string(balances[t->to]));
    }
    batch.push_back({m->from, t->req, "ok"});
  }
}

sim::Task<void> teller(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId server, int id,
                       int transfers) {
  std::uint64_t req = static_cast<std::uint64_t>(id) * 1'000'000;
  const auto& names = accounts();
  for (int n = 0; n < transfers; ++n) {
    co_await env.sleep(sim::microseconds(500) +
                       static_cast<sim::Duration>(env.random() % 2'500'000));
    const std::size_t f = env.random() % names.size();
    const std::size_t t = (f + 1 + env.random() % (names.size() - 1)) % names.size();
    const std::int64_t amount = 1 + static_cast<std::int64_t>(env.random() % 30);
    const nlohmann::json op = nlohmann::json::array({names[f], names[t], amount});
    history.invoke(id, "transfer", op);
    ++req;
    env.send(server, sim::make_payload<Transfer>(req, names[f], names[t], amount));
    std::string status;
    const sim::Time deadline = env.now() + kTellerTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* r = m->as<TransferReply>();
      if (r && r->req == req) {
        status = r->status;
        break;
      }
    }
    if (status.empty()) {
      history.complete(id, sim::OpType::kInfo, "transfer", op, "timeout");
    } else if (status == "ok") {
      history.complete(id, sim::OpType::kOk, "transfer", op);
    } else {
      history.complete(id, sim::OpType::kFail, "transfer", op, status);
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"ledger_torn",
            "a ledger server group-commits transfers between per-account records on its disk",
            {"buggy", "fixed"},
            {{"ledger-balanced", "the balances recovered from the server's disk sum to 400"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto server =
        sim.add_process("ledger", [fixed](sim::Env& env) { return ledger(env, fixed); },
                        {.crashable = true, .client = false});
    auto& history = sim.history();
    const int tellers = sim.config().clients_or(kTellers);
    for (int c = 1; c <= tellers; ++c) {
      const int share = sim.config().ops / tellers + (c <= sim.config().ops % tellers ? 1 : 0);
      sim.add_process("teller" + std::to_string(c),
                      [&history, server, c, share](sim::Env& env) {
                        return teller(env, history, server, c, share);
                      },
                      {.crashable = false, .client = true});
    }
    auto* simulator = &sim;
    sim.add_invariant(
        "ledger-balanced", [simulator, server, fixed]() -> std::optional<sim::Finding> {
          const auto view = simulator->disk(server);
          const auto* durable = view.durable;
          const Lookup lookup = [durable](const std::string& k) -> std::optional<std::string> {
            const auto it = durable->find(k);
            if (it == durable->end()) return std::nullopt;
            return it->second;
          };
          std::string problem;
          const auto r = recover(lookup, fixed, &problem);
          if (!r) return sim::Finding{"the ledger on disk is unreadable: " + problem};
          std::int64_t sum = 0;
          std::string listing;
          for (const auto& [name, balance] : r->balances) {
            sum += balance;
            listing += (listing.empty() ? "" : ", ") + name + " " + std::to_string(balance);
          }
          if (sum == kTotal) return std::nullopt;
          return sim::Finding{"the ledger on disk does not balance: " + listing + " sum to " +
                              std::to_string(sum) + ", not " + std::to_string(kTotal)};
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// The violation comes right after the crash that tore the batch: the ledger's last crash before
// it. The batch is the ledger's storage writes since its last sync before the crash; the crash's
// facts say how much of it persisted. The key events: the crash, and the first write of the batch
// that did not reach the disk whole.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const auto& v = trace.violation();
  if (v.is_null()) return {};
  const std::uint64_t after = v.value("after_event", v.value("event", std::uint64_t{0}));
  int lane = -2;
  for (std::size_t i = 0; i < trace.processes.size(); ++i)
    if (trace.processes[i] == "ledger") lane = static_cast<int>(i);
  const TraceEvent* crash = nullptr;
  for (std::uint64_t s = std::min<std::uint64_t>(after, trace.events.size()); s >= 1; --s) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kCrash && e.lane == lane) {
      crash = &e;
      break;
    }
  }
  if (!crash) return {};
  std::vector<const TraceEvent*> batch;
  for (std::uint64_t s = crash->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.lane != lane) continue;
    if (e.kind == EventKind::kStorageSync || e.kind == EventKind::kRestart ||
        e.kind == EventKind::kStart) {
      break;
    }
    if (e.kind == EventKind::kStorageWrite) batch.insert(batch.begin(), &e);
  }
  const auto& o = crash->oracle();
  // The crash's facts: `torn_persisted` lists the writes of the batch that reached the disk (a
  // prefix, in order), the last with `torn_to_bytes` when it was cut short.
  std::size_t whole = 0;  // writes of the batch that persisted whole
  if (o.is_object() && o.contains("torn_persisted") && o.at("torn_persisted").is_array()) {
    for (const auto& w : o.at("torn_persisted")) {
      if (w.is_object() && w.contains("torn_to_bytes")) break;
      ++whole;
    }
  }
  if (whole >= batch.size()) return {crash->seq};
  return {crash->seq, batch[whole]->seq};
}

}  // namespace ledger_torn

Design make_ledger_torn() {
  Design d;
  d.name = "ledger_torn";
  d.bug =
      "a transfer writes two per-account records and a torn crash persists one without the "
      "other";
  d.system = std::make_unique<ledger_torn::System>();
  d.invariant = "ledger-balanced";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash, sim::FaultKind::kTorn};
  d.ops = 80;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = ledger_torn::key_events;
  return d;
}

}  // namespace seer::bench::explain
