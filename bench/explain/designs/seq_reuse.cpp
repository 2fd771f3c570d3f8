// seq_reuse: a ledger that deduplicates retransmissions by (client, sequence number), and
// checkout terminals whose sequence numbers start again at 1 after a reboot.
//
// Spec. Two checkout terminals (`pos1`, `pos2`, the design's own processes) record each sale
// (`s-1`, `s-2`, ...) at a ledger server (`ledger`, own process and messages, no service). A
// terminal numbers its requests (`seq` 1, 2, ...) and retransmits a sale it got no answer for
// within 8 ms with the same number; the ledger remembers every (client, seq) it recorded and
// answers a retransmission from that table without recording the sale again (exactly once over
// a lossy network, as in Raft's client sessions). A terminal prints the receipt when the ledger's
// answer carrying its request's number arrives. Terminals may reboot (crash and restart) between
// sales; the sale in progress is then abandoned (the customer is told to try again).
// Invariant `receipted-sale-recorded`: every sale a terminal printed a receipt for is in the
// ledger ("sale s-17 got a receipt on pos2 but the ledger never recorded it").
// Operations (history): `sale` per sale by a terminal.
//
// Bug (variant `buggy`): the terminal's client id is its name and its sequence counter lives in
// memory. After a reboot it numbers from 1 again: the ledger takes the new sale for a
// retransmission of the previous life's sale with the same number, answers it from its table
// without recording it, and the terminal prints a receipt for a sale nobody recorded.
// Fix (variant `fixed`): a terminal opens a new session at every start (a random session id in
// the client id), so a new life's numbers never meet an earlier life's.
// Faults: delay, drop, crash (only the terminals crash; the ledger does not).
//
// Label. `crash_lost_data`: the terminal's crash took its sequence counter (volatile state, never
// persisted), the only knowledge of which numbers it had used. Key events: the previous life's
// request with the reused number (the ledger's delivery of it, where it was recorded), the crash
// between the two lives, the new life's request with the same number (its send), and the
// ledger's answer to it from the dedupe table (the receipt's cause).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace seer::bench::explain {

namespace seq_reuse {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kTerminals = 2;
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(8);
constexpr int kMaxAttempts = 6;

struct RecordSale : sim::Payload {
  RecordSale(std::string c, std::uint64_t s, std::string id, int a)
      : client(std::move(c)), seq(s), sale(std::move(id)), amount(a) {}
  std::string client;
  std::uint64_t seq;
  std::string sale;
  int amount;
  std::string_view type() const override { return "record_sale"; }
  nlohmann::json to_json() const override {
    return {{"client", client}, {"seq", seq}, {"sale", sale}, {"amount", amount}};
  }
};

struct Recorded : sim::Payload {
  Recorded(std::string c, std::uint64_t s) : client(std::move(c)), seq(s) {}
  std::string client;
  std::uint64_t seq;
  std::string_view type() const override { return "recorded"; }
  nlohmann::json to_json() const override { return {{"client", client}, {"seq", seq}}; }
};

// The workload: customers arriving at the terminals (shared by both, not the design's state).
struct Workload {
  int remaining = 0;
  int next_sale = 0;
};

// What the customers hold: the receipts printed (sale id -> terminal).
using Receipts = std::map<std::string, std::string>;

sim::Task<void> ledger(sim::Env& env) {
  std::set<std::pair<std::string, std::uint64_t>> seen;  // the dedupe table
  for (;;) {
    const auto m = co_await env.receive();
    const auto* r = m.as<RecordSale>();
    if (!r) continue;
    if (seen.insert({r->client, r->seq}).second) {
      env.storage().put("sale/" + r->sale,
                        nlohmann::json{{"amount", r->amount}, {"client", r->client}}.dump());
    }
    env.send(m.from, sim::make_payload<Recorded>(r->client, r->seq));
  }
}

sim::Task<void> terminal(sim::Env& env, sim::HistoryRecorder& history, int index,
                         sim::ProcessId ledger_id, std::shared_ptr<Workload> work,
                         std::shared_ptr<Receipts> receipts, bool fixed) {
  const std::string me = env.name_of(env.self());
  const std::string client = fixed ? me + "/" + std::to_string(env.random() % 1'000'000) : me;
  std::uint64_t seq = 0;
  while (work->remaining > 0) {
    --work->remaining;
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string sale = "s-" + std::to_string(++work->next_sale);
    const int amount = static_cast<int>(env.random() % 90) + 10;
    const std::uint64_t s = ++seq;
    history.invoke(index, "sale", sale);
    bool done = false;
    for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
      env.send(ledger_id, sim::make_payload<RecordSale>(client, s, sale, amount));
      const sim::Time deadline = env.now() + kAnswerTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<Recorded>();
        if (a && a->seq == s) {
          done = true;
          break;
        }
      }
    }
    if (done) (*receipts)[sale] = me;  // the receipt is printed
    history.complete(index, done ? sim::OpType::kOk : sim::OpType::kInfo, "sale", sale,
                     done ? std::string() : std::string("no answer from the ledger"));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"seq_reuse",
            "checkout terminals record sales at a ledger that deduplicates retransmissions by "
            "(client, sequence number)",
            {"buggy", "fixed"},
            {{"receipted-sale-recorded", "every sale with a receipt is in the ledger"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto ledger_id = sim.add_process("ledger", [](sim::Env& env) { return ledger(env); },
                                           {.crashable = false, .client = false});
    auto work = std::make_shared<Workload>();
    work->remaining = sim.config().ops;
    auto receipts = std::make_shared<Receipts>();
    auto& history = sim.history();
    for (int t = 1; t <= kTerminals; ++t) {
      sim.add_process("pos" + std::to_string(t),
                      [&history, t, ledger_id, work, receipts, fixed](sim::Env& env) {
                        return terminal(env, history, t - 1, ledger_id, work, receipts, fixed);
                      },
                      {.crashable = true, .client = true});
    }
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("receipted-sale-recorded",
                      [&sim, ledger_id, receipts, checked]() -> std::optional<sim::Finding> {
                        if (*checked == receipts->size()) return std::nullopt;
                        *checked = receipts->size();
                        const auto disk = sim.disk(ledger_id);
                        for (const auto& [sale, terminal] : *receipts) {
                          if (!disk.current("sale/" + sale)) {
                            return sim::Finding{"sale " + sale + " got a receipt on " + terminal +
                                                    " but the ledger never recorded it",
                                                {sale}};
                          }
                        }
                        return std::nullopt;
                      });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the sale S and terminal T. The new life's request for S (T's `record_sale`
// sends carrying S: the last one before the ledger's answer that printed the receipt) with
// (client C, seq N); the ledger's answer to it (its `recorded` send to T with N, after the
// request's delivery); the previous life's request from C with N for another sale (the ledger's
// delivery of it, where N was recorded); T's crash between the two.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string sale = between(msg, "sale ", " got a receipt on ");
  const std::string terminal = between(msg, " got a receipt on ", " but ");
  if (sale.empty() || terminal.empty()) return {};
  const int t_lane = lane_of(trace, terminal);
  const int l_lane = lane_of(trace, "ledger");
  const auto until = violation_event(trace);
  // The ledger's deliveries of S's request, and its answer to the last of them.
  const auto deliveries = find_all(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == l_lane && e.type == "record_sale" &&
               payload(e).value("sale", "") == sale;
      },
      until);
  if (deliveries.empty()) return {};
  const TraceEvent* request = deliveries.back();
  const auto client = payload(*request).value("client", "");
  const auto seq = payload(*request).value("seq", std::uint64_t{0});
  const auto* answer = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.lane == l_lane && e.peer == t_lane &&
               e.type == "recorded" && payload(e).value("seq", std::uint64_t{0}) == seq;
      },
      request->seq);
  const auto* request_send = send_of(trace, *request);
  // The previous life's request with the same (client, seq) for another sale: its first
  // delivery at the ledger (where the number was recorded).
  const auto* earlier = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kDeliver && e.lane == l_lane && e.type == "record_sale" &&
           payload(e).value("client", "") == client &&
           payload(e).value("seq", std::uint64_t{0}) == seq && payload(e).value("sale", "") != sale;
  });
  if (!earlier || !request_send || !answer) return {};
  const auto* earlier_send = send_of(trace, *earlier);
  const auto* crash = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kCrash && e.lane == t_lane &&
               (!earlier_send || e.seq > earlier_send->seq);
      },
      request_send->seq);
  std::vector<std::uint64_t> keys = {earlier->seq};
  if (crash) keys.push_back(crash->seq);
  keys.push_back(request_send->seq);
  keys.push_back(answer->seq);
  return keys;
}

}  // namespace seq_reuse

Design make_seq_reuse() {
  Design d;
  d.name = "seq_reuse";
  d.bug =
      "a rebooted terminal numbers its requests from 1 again, and the ledger answers a new sale "
      "from its dedupe table as a retransmission of the previous life's";
  d.system = std::make_unique<seq_reuse::System>();
  d.invariant = "receipted-sale-recorded";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = seq_reuse::key_events;
  return d;
}

}  // namespace seer::bench::explain
