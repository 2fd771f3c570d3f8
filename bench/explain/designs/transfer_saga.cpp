// transfer_saga: money transfers between accounts as two separate steps, debit then credit.
//
// Spec. Accounts live in a KV store (`acct/<name>` = {balance, entries: [transfer ids]}, opened
// with 1000 on first use; the store has no multi-key transactions). A transfer coordinator
// (`coordinator`, the design's own process and messages) serves two tellers' transfer requests one
// at a time: it debits the source account (read it, compare-and-set it with the amount taken out
// and the transfer id appended to its entries; a step whose id is already in the entries is not
// applied again), then credits the destination the same way, then answers the teller. The
// coordinator may crash and restart; a teller that gets no answer in 100 ms reports the transfer's
// outcome as unknown. Liveness property `transfers-complete`: within 1 s of the heal, every
// transfer that debited an account has credited its destination ("transfer t1-4 debited alice but
// never credited bob"). Operations (history): `transfer` per request.
//
// Bug (variant `buggy`): the coordinator keeps its progress in memory only. A crash between the
// debit and the credit (or while the debit is in flight) leaves the money taken out of one account
// and never put into the other: the restarted coordinator does not know the transfer existed, and
// nothing completes or compensates it.
// Fix (variant `fixed`): a saga log. The coordinator first records the transfer as an intent
// (`xfer/<id>` = {from, to, amount, state: "started"}), then runs the steps (idempotent thanks to
// the entries), then marks it done; on every start it lists `xfer/` and finishes each transfer not
// marked done.
// Faults: delay, crash (the coordinator may crash; the tellers and the KV store do not).
//
// Label: `crash_lost_data`, the closest documented kind. The real cause is a multi-step operation
// interrupted by a crash with no durable record of its progress: the crash discarded the only
// knowledge that a credit was still owed (volatile state), not an unsynced write.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace transfer_saga {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kTellers = 2;
constexpr sim::Duration kKvTimeout = sim::milliseconds(30);
constexpr sim::Duration kTellerTimeout = sim::milliseconds(100);
const char* const kAccounts[] = {"alice", "bob", "carol", "dave"};
constexpr int kAccountCount = 4;
constexpr std::int64_t kOpening = 1000;

struct Transfer : sim::Payload {
  Transfer(std::uint64_t r, std::string i, std::string f, std::string t, std::int64_t a)
      : req(r), id(std::move(i)), from(std::move(f)), to(std::move(t)), amount(a) {}
  std::uint64_t req;
  std::string id;
  std::string from;
  std::string to;
  std::int64_t amount;
  std::string_view type() const override { return "transfer"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"id", id}, {"from", from}, {"to", to}, {"amount", amount}};
  }
};

struct TransferReply : sim::Payload {
  TransferReply(std::uint64_t r, std::string i, std::string s)
      : req(r), id(std::move(i)), status(std::move(s)) {}
  std::uint64_t req;
  std::string id;
  std::string status;  // done, insufficient, failed
  std::string_view type() const override { return "transfer_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"id", id}, {"status", status}}; }
};

enum class Step { kApplied, kInsufficient, kFailed };

// One step: add `delta` to the account and append the transfer id to its entries, by
// compare-and-set, unless the id is already there. Retries conflicts and timeouts.
sim::Task<Step> apply_step(services::KvClient& kv, const std::string& account, std::int64_t delta,
                           const std::string& id) {
  const std::string key = "acct/" + account;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto cur = co_await kv.get(key);
    if (cur.timed_out) continue;
    if (cur.status == services::KvStatus::kNotFound) {
      // Accounts are opened on first use, with the opening balance.
      const nlohmann::json opening = {{"balance", kOpening}, {"entries", nlohmann::json::array()}};
      co_await kv.create(key, opening);
      continue;
    }
    auto entries = cur.value.value("entries", nlohmann::json::array());
    if (std::find(entries.begin(), entries.end(), nlohmann::json(id)) != entries.end()) {
      co_return Step::kApplied;
    }
    const std::int64_t balance = cur.value.value("balance", std::int64_t{0});
    if (delta < 0 && balance + delta < 0) co_return Step::kInsufficient;
    entries.push_back(id);
    const nlohmann::json next = {{"balance", balance + delta}, {"entries", entries}};
    const auto put = co_await kv.update(key, next, cur.revision);
    if (put.ok()) co_return Step::kApplied;
  }
  co_return Step::kFailed;
}

// Runs a transfer's two steps (and, fixed, its log's last state); returns its status.
sim::Task<std::string> run_transfer(services::KvClient& kv, const std::string& id,
                                    const std::string& from, const std::string& to,
                                    std::int64_t amount, bool fixed) {
  const auto debit = co_await apply_step(kv, from, -amount, id);
  std::string status = "failed";
  if (debit == Step::kInsufficient) {
    status = "insufficient";
  } else if (debit == Step::kApplied) {
    const auto credit = co_await apply_step(kv, to, amount, id);
    if (credit == Step::kApplied) status = "done";
  }
  if (fixed && status != "failed") {
    const nlohmann::json record = {
        {"from", from}, {"to", to}, {"amount", amount}, {"state", status}};
    for (;;) {
      const auto put = co_await kv.put("xfer/" + id, record);
      if (!put.timed_out) break;
    }
  }
  co_return status;
}

sim::Task<void> coordinator(sim::Env& env, sim::ProcessId kv_store, bool fixed) {
  std::deque<sim::Message> inbox;  // requests that arrive during a call
  services::KvClient kv(env, kv_store, kKvTimeout, &inbox, env.random());
  if (fixed) {
    // Recovery: finish every transfer the log has not marked finished.
    services::KvResult logged;
    do {
      logged = co_await kv.list("xfer/");
    } while (logged.timed_out);
    for (const auto& k : logged.value) {
      const std::string key = k.get<std::string>();
      services::KvResult record;
      do {
        record = co_await kv.get(key);
      } while (record.timed_out);
      if (!record.ok() || record.value.value("state", "") != "started") continue;
      co_await run_transfer(kv, key.substr(5), record.value.value("from", ""),
                            record.value.value("to", ""),
                            record.value.value("amount", std::int64_t{0}), true);
    }
  }
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* t = m.as<Transfer>();
    if (!t) continue;
    if (fixed) {
      const nlohmann::json intent = {
          {"from", t->from}, {"to", t->to}, {"amount", t->amount}, {"state", "started"}};
      services::KvResult logged;
      do {
        logged = co_await kv.create("xfer/" + t->id, intent);
      } while (logged.timed_out);
      // A conflict: a redelivered request of a transfer already logged; run it again (idempotent).
    }
    const auto status = co_await run_transfer(kv, t->id, t->from, t->to, t->amount, fixed);
    env.send(m.from, sim::make_payload<TransferReply>(t->req, t->id, status));
  }
}

sim::Task<void> teller(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId server, int id,
                       int transfers) {
  for (int n = 1; n <= transfers; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string tid = "t" + std::to_string(id) + "-" + std::to_string(n);
    const int a = static_cast<int>(env.random() % kAccountCount);
    const int b = (a + 1 + static_cast<int>(env.random() % (kAccountCount - 1))) % kAccountCount;
    const std::int64_t amount = 10 + static_cast<std::int64_t>(env.random() % 90);
    history.invoke(id, "transfer",
                   nlohmann::json::array({tid, kAccounts[a], kAccounts[b], amount}));
    const auto req = static_cast<std::uint64_t>(n);
    env.send(server, sim::make_payload<Transfer>(req, tid, kAccounts[a], kAccounts[b], amount));
    const sim::Time deadline = env.now() + kTellerTimeout;
    std::string status;
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
    if (status == "done") {
      history.complete(id, sim::OpType::kOk, "transfer", tid);
    } else if (status.empty() || status == "failed") {
      history.complete(id, sim::OpType::kInfo, "transfer", tid, "unknown");
    } else {
      history.complete(id, sim::OpType::kFail, "transfer", tid, status);
    }
  }
  co_await env.sleep(sim::milliseconds(100));
}

// A transfer id in exactly one account's entries: debited (or credited) on one side only.
std::optional<sim::Finding> half_done(const services::VersionedStore& store) {
  std::map<std::string, std::vector<std::string>> sides;  // transfer -> accounts it touched
  for (const auto* account : kAccounts) {
    const auto v = store.latest(std::string("acct/") + account);
    if (!v.exists) continue;
    for (const auto& e : v.value.value("entries", nlohmann::json::array())) {
      sides[e.get<std::string>()].push_back(account);
    }
  }
  for (const auto& [id, accounts] : sides) {
    if (accounts.size() == 1) {
      return sim::Finding{
          "transfer " + id + " changed " + accounts[0] + " but never its other account", {id}};
    }
  }
  return std::nullopt;
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info;
    info.name = "transfer_saga";
    info.description = "a coordinator moves money between KV accounts as a debit then a credit";
    info.variants = {"buggy", "fixed"};
    info.services = {{"kv", {"linearizable"}}};
    info.liveness = {{"transfers-complete",
                      "within 1 s of the heal, every transfer that debited an account has "
                      "credited its destination"}};
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    const auto server = sim.add_process(
        "coordinator",
        [k = kv.process, fixed](sim::Env& env) { return coordinator(env, k, fixed); },
        {.crashable = true, .client = false});
    auto& history = sim.history();
    const int tellers = sim.config().clients_or(kTellers);
    for (int t = 1; t <= tellers; ++t) {
      const int count = sim.config().ops / tellers + (t <= sim.config().ops % tellers ? 1 : 0);
      sim.add_process("teller" + std::to_string(t),
                      [&history, server, t, count](sim::Env& env) {
                        return teller(env, history, server, t, count);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_liveness("transfers-complete", sim::seconds(1),
                     [truth = kv.truth] { return half_done(*truth); });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the transfer T and the account A it changed. The cause: the coordinator's
// compare-and-set of A that appended T (its send), the store applying it (the reply's send), and
// the coordinator's crash after that send (the crash that discarded the rest of the transfer).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  // A liveness message starts with when it was due ("not within 1.000 s of the heal ...: ").
  const std::string head = "transfer ";
  const auto start = msg.find(head);
  const auto mid = msg.find(" changed ");
  const auto end = msg.find(" but never");
  if (start == std::string::npos || mid == std::string::npos || end == std::string::npos ||
      mid < start || end < mid) {
    return {};
  }
  const std::string id = msg.substr(start + head.size(), mid - start - head.size());
  const std::string account = msg.substr(mid + 9, end - mid - 9);
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply") continue;
    if (payload(e).value("status", "") != "ok") continue;
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const auto& p = payload(*req);
    if (p.value("op", "") != "update" || p.value("key", "") != "acct/" + account) continue;
    const auto& entries =
        p.value("value", nlohmann::json::object()).value("entries", nlohmann::json::array());
    if (std::find(entries.begin(), entries.end(), nlohmann::json(id)) == entries.end()) continue;
    for (std::uint64_t s = req->seq + 1; s <= trace.events.size(); ++s) {
      const auto& c = trace.at(s);
      if (c.lane == req->lane && c.kind == EventKind::kCrash) return {req->seq, e.seq, c.seq};
    }
    return {req->seq, e.seq};
  }
  return {};
}

}  // namespace transfer_saga

Design make_transfer_saga() {
  Design d;
  d.name = "transfer_saga";
  d.bug =
      "a coordinator crashes between a transfer's debit and its credit, and nothing completes the "
      "transfer";
  d.system = std::make_unique<transfer_saga::System>();
  d.invariant = "transfers-complete";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = transfer_saga::key_events;
  return d;
}

}  // namespace seer::bench::explain
