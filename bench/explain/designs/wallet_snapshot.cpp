// wallet_snapshot: a wallet ledger on local disk that compacts its log into snapshots.
//
// Spec. A ledger server (`ledger`, the design's own process, crashable) keeps wallet balances on
// its local disk as a write-ahead log: each deposit (`deposit {req, deposit, wallet, amount}` from
// the tellers `teller1`, `teller2`, every 2-10 ms each) is appended as one entry (`entry/000017`:
// seq, deposit, wallet, amount), synced, and acknowledged with the wallet's new balance. Every
// third deposit it compacts: it writes each wallet's balance as a snapshot (`snapshot/w-2`), syncs,
// and erases the log entries the snapshots now hold. The erases are not synced on their own: they
// become durable with the next deposit's sync (truncating a log is not urgent). On restart the
// ledger recovers each wallet's balance as its snapshot plus the log entries on disk. Invariant
// `balance-recoverable`: while the ledger is down, the balance its disk recovers for a wallet is
// never more than was ever deposited to it ("wallet w-2: the ledger's disk recovers a balance of
// 41, but only 33 was deposited"). Operations (history): `deposit` per teller request.
//
// Bug (variant `buggy`): the snapshot does not say which entries it holds. A crash after a
// compaction's snapshots were synced and before the next sync takes back the erases: the entries
// the snapshot already counts are still on disk, and the restart adds them again.
// Fix (variant `fixed`): the snapshot records the last entry it folded in (`through`), and
// recovery adds only the entries after it.
// Faults: delay, crash (the ledger crashes; the tellers do not).
//
// Label: `crash_lost_data`: the crash took back the erases of log entries (unsynced writes) that
// the snapshot, already durable, had counted. The key events: the wallet's snapshot write before
// the crash, the last erase of one of the wallet's entries that the crash took back, the crash.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/sim/simulator.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace wallet_snapshot {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWallets = 3;
constexpr int kTellers = 2;
constexpr int kCompactEvery = 3;
constexpr sim::Duration kReplyTimeout = sim::milliseconds(20);

struct Deposit : sim::Payload {
  Deposit(std::uint64_t r, std::string d, std::string w, std::int64_t a)
      : req(r), deposit(std::move(d)), wallet(std::move(w)), amount(a) {}
  std::uint64_t req;
  std::string deposit;
  std::string wallet;
  std::int64_t amount;
  std::string_view type() const override { return "deposit"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"deposit", deposit}, {"wallet", wallet}, {"amount", amount}};
  }
};

struct Deposited : sim::Payload {
  Deposited(std::uint64_t r, std::string d, std::int64_t b)
      : req(r), deposit(std::move(d)), balance(b) {}
  std::uint64_t req;
  std::string deposit;
  std::int64_t balance;
  std::string_view type() const override { return "deposited"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"deposit", deposit}, {"balance", balance}};
  }
};

std::string entry_key(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "entry/%06llu", static_cast<unsigned long long>(seq));
  return buf;
}

// What a restart recovers from `disk` (key -> value): each wallet's balance.
std::map<std::string, std::int64_t> recover(const std::map<std::string, std::string>& disk,
                                            bool fixed, std::uint64_t* next = nullptr) {
  std::map<std::string, std::int64_t> balance;
  std::map<std::string, std::uint64_t> through;
  std::uint64_t n = 1;
  for (auto it = disk.lower_bound("snapshot/");
       it != disk.end() && it->first.rfind("snapshot/", 0) == 0; ++it) {
    const auto v = nlohmann::json::parse(it->second);
    const std::string wallet = it->first.substr(std::string("snapshot/").size());
    balance[wallet] = v.at("balance").get<std::int64_t>();
    if (fixed) {
      through[wallet] = v.at("through").get<std::uint64_t>();
      n = std::max(n, through[wallet] + 1);
    }
  }
  for (auto it = disk.lower_bound("entry/"); it != disk.end() && it->first.rfind("entry/", 0) == 0;
       ++it) {
    const auto v = nlohmann::json::parse(it->second);
    const auto seq = v.at("seq").get<std::uint64_t>();
    const auto wallet = v.at("wallet").get<std::string>();
    n = std::max(n, seq + 1);
    if (fixed && seq <= through[wallet]) continue;  // already in the snapshot
    balance[wallet] += v.at("amount").get<std::int64_t>();
  }
  if (next) *next = n;
  return balance;
}

sim::Task<void> ledger(sim::Env& env, bool fixed) {
  auto& disk = env.storage();
  // Recovery: read the snapshots and the log back.
  std::map<std::string, std::string> on_disk;
  for (const auto& key : disk.keys("snapshot/")) on_disk[key] = *disk.get(key);
  for (const auto& key : disk.keys("entry/")) on_disk[key] = *disk.get(key);
  std::uint64_t next = 1;
  auto balance = recover(on_disk, fixed, &next);
  int since_compaction = 0;
  for (;;) {
    const sim::Message m = co_await env.receive();
    const auto* d = m.as<Deposit>();
    if (!d) continue;
    const std::uint64_t req = d->req;
    const std::string deposit = d->deposit;
    const std::string wallet = d->wallet;
    const std::int64_t amount = d->amount;
    const std::uint64_t seq = next++;
    const nlohmann::json entry = {
        {"seq", seq}, {"deposit", deposit}, {"wallet", wallet}, {"amount", amount}};
    disk.put(entry_key(seq), entry.dump());
    co_await env.sync();  // the deposit (and any earlier truncation) is durable
    balance[wallet] += amount;
    env.send(m.from, sim::make_payload<Deposited>(req, deposit, balance[wallet]));
    if (++since_compaction < kCompactEvery) continue;
    since_compaction = 0;
    // Compaction: the balances as snapshots, durable first, then the log they hold is dropped.
    const auto entries = disk.keys("entry/");
    for (const auto& [w, b] : balance) {
      nlohmann::json snapshot = {{"wallet", w}, {"balance", b}};
      if (fixed) snapshot["through"] = seq;
      disk.put("snapshot/" + w, snapshot.dump());
    }
    co_await env.sync();
    for (const auto& key : entries) disk.erase(key);  // durable with the next deposit's sync
  }
}

sim::Task<void> teller(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId ledger_id, int deposits,
                       std::shared_ptr<std::map<std::string, std::int64_t>> deposited) {
  std::uint64_t req = 0;
  for (int n = 1; n <= deposits; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string deposit = "d-" + std::to_string(index + 1) + "-" + std::to_string(n);
    const std::string wallet = "w-" + std::to_string(env.random() % kWallets + 1);
    const auto amount = static_cast<std::int64_t>(env.random() % 9) + 1;
    const nlohmann::json value = {{"deposit", deposit}, {"wallet", wallet}, {"amount", amount}};
    history.invoke(index, "deposit", value);
    (*deposited)[wallet] += amount;  // what the tellers handed over, for the invariant
    const std::uint64_t r = ++req;
    env.send(ledger_id, sim::make_payload<Deposit>(r, deposit, wallet, amount));
    bool ok = false;
    const sim::Time deadline = env.now() + kReplyTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto reply = co_await env.receive_for(left);
      if (!reply) break;
      const auto* a = reply->as<Deposited>();
      if (a && a->req == r) {
        ok = true;
        break;
      }
    }
    history.complete(index, ok ? sim::OpType::kOk : sim::OpType::kInfo, "deposit", value,
                     ok ? std::string() : std::string("no answer"));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"wallet_snapshot",
            "a wallet ledger keeps a log on local disk and compacts it into per-wallet snapshots",
            {"buggy", "fixed"},
            {{"balance-recoverable",
              "the balance the ledger's disk recovers never exceeds what was deposited"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto ledger_id =
        sim.add_process("ledger", [fixed](sim::Env& env) { return ledger(env, fixed); },
                        {.crashable = true, .client = false});
    auto deposited = std::make_shared<std::map<std::string, std::int64_t>>();
    auto& history = sim.history();
    const int per_teller = std::max(1, sim.config().ops / kTellers);
    for (int t = 0; t < kTellers; ++t) {
      sim.add_process("teller" + std::to_string(t + 1),
                      [&history, t, ledger_id, per_teller, deposited](sim::Env& env) {
                        return teller(env, history, t, ledger_id, per_teller, deposited);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("balance-recoverable",
                      [&sim, ledger_id, deposited, fixed]() -> std::optional<sim::Finding> {
                        if (sim.is_up(ledger_id))
                          return std::nullopt;  // checked as a restart would read it
                        const auto view = sim.disk(ledger_id);
                        if (!view.durable) return std::nullopt;
                        const auto balance = recover(*view.durable, fixed);
                        for (const auto& [wallet, b] : balance) {
                          const auto it = deposited->find(wallet);
                          const std::int64_t in = it == deposited->end() ? 0 : it->second;
                          if (b > in) {
                            return sim::Finding{"wallet " + wallet +
                                                    ": the ledger's disk recovers a balance of " +
                                                    std::to_string(b) + ", but only " +
                                                    std::to_string(in) + " was deposited",
                                                {wallet}};
                          }
                        }
                        return std::nullopt;
                      });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the wallet W. The crash: the ledger's last crash before the violation. The
// erases it took back: the ledger's storage writes with `erase` between its last sync before the
// crash and the crash, of keys the crash lists as lost (`lost_unsynced_writes`); an entry is W's
// when the deposit delivery the ledger handled before writing that entry named W. The snapshot:
// the ledger's last storage write of `snapshot/W` before those erases. The keys: the snapshot
// write, the last of W's erases the crash took back, the crash.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string wallet = between(violation_message(trace), "wallet ", ":");
  if (wallet.empty()) return {};
  const int ledger = lane_of(trace, "ledger");
  const std::uint64_t until = violation_event(trace);
  const TraceEvent* crash = find_last(
      trace, [&](const TraceEvent& e) { return e.lane == ledger && e.kind == EventKind::kCrash; },
      until + 1);
  if (!crash) return {};
  std::set<std::string> lost;
  const auto& oracle = crash->line.value("oracle", nlohmann::json::object());
  if (oracle.contains("lost_unsynced_writes")) {
    for (const auto& w : oracle["lost_unsynced_writes"]) {  // {"erase": true, "key": ...}
      if (w.is_object() && w.value("erase", false)) lost.insert(w.value("key", ""));
    }
  }
  // Which wallet each entry key belongs to: the deposit the ledger was handling when it wrote it.
  std::map<std::string, std::string> entry_wallet;
  std::string handling;
  for (const auto& e : trace.events) {
    if (e.seq >= crash->seq) break;
    if (e.lane != ledger) continue;
    if (e.kind == EventKind::kDeliver && e.type == "deposit") {
      handling = payload(e).value("wallet", "");
    } else if (e.kind == EventKind::kStorageWrite && !e.line.value("erase", false)) {
      const std::string key = e.line.value("key", "");
      if (key.rfind("entry/", 0) == 0) entry_wallet[key] = handling;
    }
  }
  const TraceEvent* erase = nullptr;
  for (const auto& e : trace.events) {
    if (e.seq >= crash->seq) break;
    if (e.lane != ledger || e.kind != EventKind::kStorageWrite || !e.line.value("erase", false)) {
      continue;
    }
    const std::string key = e.line.value("key", "");
    if (lost.count(key) && entry_wallet[key] == wallet) erase = &e;
  }
  if (!erase) return {};
  const TraceEvent* snapshot = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == ledger && e.kind == EventKind::kStorageWrite &&
               !e.line.value("erase", false) && e.line.value("key", "") == "snapshot/" + wallet;
      },
      erase->seq);
  std::vector<std::uint64_t> keys;
  if (snapshot) keys.push_back(snapshot->seq);
  keys.push_back(erase->seq);
  keys.push_back(crash->seq);
  return keys;
}

}  // namespace wallet_snapshot

Design make_wallet_snapshot() {
  Design d;
  d.name = "wallet_snapshot";
  d.bug =
      "a ledger's snapshot does not say which log entries it holds: a crash that takes back the "
      "log's truncation makes the restart count them twice";
  d.system = std::make_unique<wallet_snapshot::System>();
  d.invariant = "balance-recoverable";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = wallet_snapshot::key_events;
  return d;
}

}  // namespace seer::bench::explain
