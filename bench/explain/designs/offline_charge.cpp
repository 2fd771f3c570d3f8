// offline_charge: a payment terminal that falls back to store-and-forward when the bank is slow.
//
// Spec. Two payment terminals (`terminal1`, `terminal2`) sell to customers; a bank (`bank`) and a
// settlement server (`settlement`) are the design's own processes and messages, no service. A
// terminal charges a sale online: `charge {req, sale, amount}` to the bank, which authorizes it
// (1-3 ms), journals the charge on its disk (`charge/<sale>/<n>`, synced) and answers
// `approved {req, sale}`. A terminal that hears nothing within 10 ms approves the sale offline
// (the customer leaves with the goods) and keeps it in its offline batch; after every third sale
// it uploads the batch to the settlement server (`upload {req, batch, sales}`, sent again with
// the same batch id until `uploaded` comes back), which posts each sale to the bank
// (`post {req, sale, amount}`), where it is journaled like an online charge, answered `posted`.
// Invariant `sale-charged-once`: no sale is charged twice ("sale t1-s7 was charged 2 times").
// Operations (history): `sale` per sale by a terminal.
//
// Bug (variant `buggy`): the bank deduplicates each path on its own: online charges on the
// terminal's request number (a retransmission), posts on the batch line. A sale whose online
// charge took effect but whose approval was lost (dropped) or late (a slow link, the bank busy
// with the settlement's posts) reaches the bank a second time through the settlement path, and
// is charged again.
// Fix (variant `fixed`): the bank deduplicates on the sale id across both paths: a post of a sale
// it already charged online is answered `posted` without charging it again.
// Faults: delay, drop.
//
// Label: `lost_response`: the online charge took effect (the bank's approval), the terminal
// never learned it (the approval's drop, or the terminal's receive timeout while the approval was
// late), and the terminal's retry, through the other path: its upload of the sale, and the bank's
// second charge of it (its `posted` answer for the sale).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <deque>
#include <map>
#include <memory>
#include <set>

namespace seer::bench::explain {

namespace offline_charge {

using seer::explain::EventKind;

constexpr int kTerminals = 2;
constexpr sim::Duration kOnlineTimeout = sim::milliseconds(10);
constexpr sim::Duration kUploadTimeout = sim::milliseconds(40);
constexpr int kBatchEvery = 3;

struct Charge : sim::Payload {
  Charge(std::uint64_t r, std::string s, int a) : req(r), sale(std::move(s)), amount(a) {}
  std::uint64_t req;
  std::string sale;
  int amount;
  std::string_view type() const override { return "charge"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"sale", sale}, {"amount", amount}};
  }
};

struct Approved : sim::Payload {
  Approved(std::uint64_t r, std::string s) : req(r), sale(std::move(s)) {}
  std::uint64_t req;
  std::string sale;
  std::string_view type() const override { return "approved"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"sale", sale}}; }
};

struct Upload : sim::Payload {
  Upload(std::uint64_t r, std::string b, nlohmann::json s)
      : req(r), batch(std::move(b)), sales(std::move(s)) {}
  std::uint64_t req;
  std::string batch;
  nlohmann::json sales;  // [{sale, amount}]
  std::string_view type() const override { return "upload"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"batch", batch}, {"sales", sales}};
  }
};

struct Uploaded : sim::Payload {
  Uploaded(std::uint64_t r, std::string b) : req(r), batch(std::move(b)) {}
  std::uint64_t req;
  std::string batch;
  std::string_view type() const override { return "uploaded"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"batch", batch}}; }
};

struct Post : sim::Payload {
  Post(std::uint64_t r, std::string l, std::string s, int a)
      : req(r), line(std::move(l)), sale(std::move(s)), amount(a) {}
  std::uint64_t req;
  std::string line;  // batch id and position
  std::string sale;
  int amount;
  std::string_view type() const override { return "post"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"line", line}, {"sale", sale}, {"amount", amount}};
  }
};

struct Posted : sim::Payload {
  Posted(std::uint64_t r, std::string s) : req(r), sale(std::move(s)) {}
  std::uint64_t req;
  std::string sale;
  std::string_view type() const override { return "posted"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"sale", sale}}; }
};

// Ghost state for the invariant: the charges the bank journaled, per sale.
struct Ledger {
  std::map<std::string, int> charges;
  std::uint64_t version = 0;
  std::string twice;  // the first sale charged twice
};

// Waits up to `timeout` for a reply of type T carrying request number `req`; other messages are
// late replies to earlier requests and are dropped.
template <typename T>
sim::Task<bool> await_reply(sim::Env& env, std::uint64_t req, sim::Duration timeout) {
  const sim::Time deadline = env.now() + timeout;
  for (;;) {
    const sim::Duration left = deadline - env.now();
    if (left <= 0) co_return false;
    const auto m = co_await env.receive_for(left);
    if (!m) co_return false;
    const auto* r = m->template as<T>();
    if (r && r->req == req) co_return true;
  }
}

sim::Task<void> terminal(sim::Env& env, sim::HistoryRecorder& history, int index,
                         sim::ProcessId bank, sim::ProcessId settlement, int sales) {
  const std::string me = "t" + std::to_string(index + 1);  // terminalN sells tN-s1, ...
  std::uint64_t req = 0;
  nlohmann::json offline = nlohmann::json::array();
  int batches = 0;
  for (int n = 1; n <= sales; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string sale = me + "-s" + std::to_string(n);
    const int amount = static_cast<int>(env.random() % 90) + 10;
    history.invoke(index, "sale", sale);
    const std::uint64_t r = ++req;
    env.send(bank, sim::make_payload<Charge>(r, sale, amount));
    const bool online = co_await await_reply<Approved>(env, r, kOnlineTimeout);
    if (!online) offline.push_back({{"sale", sale}, {"amount", amount}});  // approved offline
    history.complete(index, sim::OpType::kOk, "sale", sale, online ? "online" : "offline");
    if ((n % kBatchEvery == 0 || n == sales) && !offline.empty()) {
      const std::string batch = me + "-b" + std::to_string(++batches);
      for (bool done = false; !done;) {  // the same batch id until the settlement has it
        const std::uint64_t u = ++req;
        env.send(settlement, sim::make_payload<Upload>(u, batch, offline));
        done = co_await await_reply<Uploaded>(env, u, kUploadTimeout);
      }
      offline = nlohmann::json::array();
    }
  }
  co_await env.sleep(sim::milliseconds(200));  // let the settlement post the last batches
}

sim::Task<void> settlement(sim::Env& env, sim::ProcessId bank) {
  std::set<std::string> received;  // batch ids already posted
  std::deque<sim::Message> inbox;
  std::uint64_t req = 0;
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* u = m.as<Upload>();
    if (!u) continue;
    const std::string batch = u->batch;
    const auto sales = u->sales;
    const std::uint64_t upload_req = u->req;
    const sim::ProcessId from = m.from;
    if (received.insert(batch).second) {
      int line = 0;
      for (const auto& s : sales) {
        const std::string sale = s.at("sale").get<std::string>();
        const std::string line_id = batch + "/" + std::to_string(++line);
        for (bool posted = false; !posted;) {  // the bank answers every post in the end
          const std::uint64_t r = ++req;
          env.send(bank, sim::make_payload<Post>(r, line_id, sale, s.at("amount").get<int>()));
          const sim::Time deadline = env.now() + kUploadTimeout;
          for (;;) {
            const sim::Duration left = deadline - env.now();
            if (left <= 0) break;
            auto got = co_await env.receive_for(left);
            if (!got) break;
            if (const auto* p = got->as<Posted>(); p) {
              if (p->req == r) {
                posted = true;
                break;
              }
              continue;
            }
            inbox.push_back(std::move(*got));  // another upload: after this batch
          }
        }
      }
    }
    env.send(from, sim::make_payload<Uploaded>(upload_req, batch));
  }
}

sim::Task<void> bank(sim::Env& env, std::shared_ptr<Ledger> ledger, bool fixed) {
  std::set<std::string> seen;  // buggy: per path (terminal + request, batch line); fixed: sales
  for (;;) {
    const auto m = co_await env.receive();
    const auto* c = m.as<Charge>();
    const auto* p = m.as<Post>();
    if (!c && !p) continue;
    const std::string sale = c ? c->sale : p->sale;
    const std::uint64_t req = c ? c->req : p->req;
    const int amount = c ? c->amount : p->amount;
    const std::string dedup =
        fixed ? sale : (c ? env.name_of(m.from) + "#" + std::to_string(req) : p->line);
    const sim::ProcessId from = m.from;
    const bool online = c != nullptr;
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    if (seen.insert(dedup).second) {
      const int n = ++ledger->charges[sale];
      env.storage().put(
          "charge/" + sale + "/" + std::to_string(n),
          nlohmann::json{
              {"sale", sale}, {"amount", amount}, {"path", online ? "online" : "settlement"}}
              .dump());
      co_await env.sync();
      ++ledger->version;
      if (n > 1 && ledger->twice.empty()) ledger->twice = sale;
    }
    if (online) {
      env.send(from, sim::make_payload<Approved>(req, sale));
    } else {
      env.send(from, sim::make_payload<Posted>(req, sale));
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"offline_charge",
            "payment terminals charge online and fall back to store-and-forward through a "
            "settlement server when the bank is slow",
            {"buggy", "fixed"},
            {{"sale-charged-once", "no sale is charged twice"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto ledger = std::make_shared<Ledger>();
    const auto bank_id =
        sim.add_process("bank", [ledger, fixed](sim::Env& env) { return bank(env, ledger, fixed); },
                        {.crashable = false, .client = false});
    const auto settlement_id =
        sim.add_process("settlement", [bank_id](sim::Env& env) { return settlement(env, bank_id); },
                        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int sales = sim.config().ops / kTerminals;
    for (int t = 1; t <= kTerminals; ++t) {
      sim.add_process("terminal" + std::to_string(t),
                      [&history, t, bank_id, settlement_id, sales](sim::Env& env) {
                        return terminal(env, history, t - 1, bank_id, settlement_id, sales);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("sale-charged-once",
                      sim::when_changed([ledger] { return ledger->version; },
                                        [ledger]() -> std::optional<sim::Finding> {
                                          if (ledger->twice.empty()) return std::nullopt;
                                          return sim::Finding{
                                              "sale " + ledger->twice + " was charged 2 times",
                                              {ledger->twice}};
                                        }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the sale S. The bank's `approved` send for S (the online charge that took
// effect; the bank answers every charge it took), where the terminal lost it (the network's drop
// of that approval, else the terminal's receive timeout after its `charge` of S and before the
// approval's delivery), the terminal's first `upload` carrying S (the retry through the other
// path), and the bank's `posted` send for S that charged it again (the first after the upload).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string sale = between(violation_message(trace), "sale ", " was charged");
  if (sale.empty()) return {};
  const std::string terminal = "terminal" + sale.substr(1, sale.find('-') - 1);
  const auto names_sale = [&](const TraceEvent& e) { return payload(e).value("sale", "") == sale; };
  const auto* approved = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "approved" && process_of(trace, e) == "bank" &&
           names_sale(e);
  });
  const auto* charge = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "charge" && process_of(trace, e) == terminal &&
           names_sale(e);
  });
  const auto* upload = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "upload" || process_of(trace, e) != terminal) {
      return false;
    }
    for (const auto& s : payload(e).value("sales", nlohmann::json::array())) {
      if (s.value("sale", "") == sale) return true;
    }
    return false;
  });
  if (!approved || !charge || !upload) return {};
  const auto* posted = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "posted" && process_of(trace, e) == "bank" &&
               names_sale(e);
      },
      upload->seq);
  if (!posted) return {};
  const TraceEvent* lost_at = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDrop && e.message == approved->message;
      },
      approved->seq);
  if (!lost_at) {
    lost_at = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kTimer && process_of(trace, e) == terminal &&
                 e.line.value("timer", "") == "receive_timeout";
        },
        charge->seq);
  }
  std::vector<std::uint64_t> keys = {approved->seq};
  if (lost_at) keys.push_back(lost_at->seq);
  keys.push_back(upload->seq);
  keys.push_back(posted->seq);
  return keys;
}

}  // namespace offline_charge

Design make_offline_charge() {
  Design d;
  d.name = "offline_charge";
  d.bug =
      "a terminal whose online charge timed out approves the sale offline and uploads it through "
      "settlement; the bank deduplicates each path on its own and charges the sale twice";
  d.system = std::make_unique<offline_charge::System>();
  d.invariant = "sale-charged-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = offline_charge::key_events;
  return d;
}

}  // namespace seer::bench::explain
