// name_index: sign-ups that check a username against an index built asynchronously.
//
// Spec. Two sign-up servers (`signup1`, `signup2`, the design's own processes) register accounts.
// An account is a KV document `user/u-S-N` (`{name}`); a sign-up picks a handle (`ana-7`, ...)
// and publishes an `account_created` event on the at-least-once queue. A search indexer
// (`indexer`) consumes the events and maintains the lookup index `index/name/<handle>` (the
// account holding the handle) in the KV store, which the profile pages and the mention search
// read. Sign-up checks the handle is free by reading the index, and registers the account if it
// found nothing.
// Invariant `unique-username`: no handle is held by two accounts ("username ana-7 is held by 2
// accounts (u-1-3, u-2-5)").
// Operations (history): `signup` per attempt (ok: registered; fail: the handle was taken).
//
// Bug (variant `buggy`): the index is derived from the accounts asynchronously (queue, then the
// indexer's put), and the indexer, handling one event at a time, falls behind the two servers by
// tens of milliseconds: a handle registered recently is not in it yet. A sign-up of the same
// handle in that window (on either server) finds it free and registers a second account.
// Fix (variant `fixed`): the handle is claimed before the account is written, with a create of
// its index key (`index/name/<handle>`, create-if-absent): a second claim conflicts and the
// sign-up reports the handle taken. The indexer's later put of the same account changes nothing.
// Faults: delay.
//
// Label: `outdated_read` or `stale_read` (why_several below): the second sign-up's index read
// (the reply's delivery), the first account's write (the KV store's reply send for its `user/`
// put), the indexer's put of the handle's index key for the first account if it took effect
// before the second account's write, and the second account's write.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/queue.hpp"
#include "seer/services/queue_client.hpp"

#include <map>

namespace seer::bench::explain {

namespace name_index {

using seer::explain::EventKind;

constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kQueueTimeout = sim::milliseconds(50);
const char* const kFirstNames[] = {"ana", "ben", "chloe", "dev", "eli", "fay"};
constexpr int kNumbers = 20;

std::string pick_handle(sim::Env& env) {
  const auto first = kFirstNames[env.random() % 6];
  return std::string(first) + "-" + std::to_string(env.random() % kNumbers + 1);
}

sim::Task<void> signup(sim::Env& env, sim::HistoryRecorder& history, int server,
                       sim::ProcessId kv_id, sim::ProcessId queue, int attempts, bool fixed) {
  // One process, two clients: their request numbers must not meet.
  services::KvClient kv(env, kv_id, kKvTimeout, nullptr, 1);
  services::QueueClient q(env, queue, kQueueTimeout);
  for (int n = 1; n <= attempts; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string handle = pick_handle(env);
    const std::string account = "u-" + std::to_string(server) + "-" + std::to_string(n);
    history.invoke(server - 1, "signup", handle);
    if (fixed) {
      const auto claim = co_await kv.create("index/name/" + handle, account);
      if (claim.timed_out) {
        history.complete(server - 1, sim::OpType::kInfo, "signup", handle);
        continue;
      }
      if (claim.status == services::KvStatus::kConflict) {
        history.complete(server - 1, sim::OpType::kFail, "signup", handle, "taken");
        continue;
      }
    } else {
      const auto found = co_await kv.get("index/name/" + handle);
      if (found.timed_out) {
        history.complete(server - 1, sim::OpType::kInfo, "signup", handle);
        continue;
      }
      if (found.status == services::KvStatus::kOk) {
        history.complete(server - 1, sim::OpType::kFail, "signup", handle, "taken");
        continue;
      }
    }
    nlohmann::json doc = nlohmann::json::object();
    doc["name"] = handle;
    const auto w = co_await kv.put("user/" + account, doc);
    if (w.timed_out) {
      history.complete(server - 1, sim::OpType::kInfo, "signup", handle);
      continue;
    }
    nlohmann::json event = nlohmann::json::object();
    event["event"] = "account_created";
    event["account"] = account;
    event["name"] = handle;
    co_await q.enqueue(event);
    history.complete(server - 1, sim::OpType::kOk, "signup", handle);
  }
  co_await env.sleep(sim::milliseconds(50));  // let the indexer catch up
}

sim::Task<void> indexer(sim::Env& env, sim::ProcessId kv_id, sim::ProcessId queue) {
  services::KvClient kv(env, kv_id, kKvTimeout, nullptr, 1);
  services::QueueClient q(env, queue, kQueueTimeout);
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    const auto account = got.body.value("account", "");
    const auto handle = got.body.value("name", "");
    const auto w = co_await kv.put("index/name/" + handle, account);
    if (w.timed_out) continue;  // not acked: indexed again on redelivery
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"name_index",
            "two sign-up servers check a handle against a lookup index an indexer builds from "
            "account events on a queue",
            {"buggy", "fixed"},
            {{"unique-username", "no handle is held by two accounts"}},
            {{"kv", {"linearizable"}}, {"queue", {"at-least-once"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    const auto queue = services::add_queue_service(sim, "queue");
    sim.add_process(
        "indexer",
        [k = kv.process, q = queue.process](sim::Env& env) { return indexer(env, k, q); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int attempts = sim.config().ops / 2;
    for (int s = 1; s <= 2; ++s) {
      sim.add_process("signup" + std::to_string(s),
                      [&history, s, k = kv.process, q = queue.process, attempts, fixed](
                          sim::Env& env) { return signup(env, history, s, k, q, attempts, fixed); },
                      {.crashable = false, .client = true});
    }
    auto store = kv.truth;
    sim.add_invariant(
        "unique-username",
        sim::when_changed(
            [store] { return static_cast<std::uint64_t>(store->revision()); },
            [store]() -> std::optional<sim::Finding> {
              std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>> holders;
              for (const auto& key : store->keys_at(store->revision(), "user/")) {
                const auto& v = store->latest(key);
                holders[v.encoded().value("name", "")].emplace_back(
                    v.revision, key.substr(std::string("user/").size()));
              }
              for (auto& [handle, accounts] : holders) {
                if (accounts.size() < 2) continue;
                std::sort(accounts.begin(), accounts.end());
                std::string list;
                std::vector<std::string> entities = {handle};
                for (const auto& [rev, account] : accounts) {
                  list += (list.empty() ? "" : ", ") + account;
                  entities.push_back(account);
                }
                return sim::Finding{"username " + handle + " is held by " +
                                        std::to_string(accounts.size()) + " accounts (" + list +
                                        ")",
                                    entities};
              }
              return std::nullopt;
            }));
  }
};

// Label. From the message: the handle H and the two accounts, in the order their documents were
// written. The second account's sign-up server S2 and its `user/` put (its effect: the KV store's
// reply send); S2's last get of `index/name/H` before that put (the reply's delivery: the check
// that found H free); the first account's `user/` put (its effect); the indexer's put of
// `index/name/H` (its effect) when it came before the second account's write.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string handle = between(msg, "username ", " is held");
  const std::string list = between(msg, " accounts (", ")");
  if (handle.empty() || list.empty()) return {};
  const auto comma = list.find(", ");
  if (comma == std::string::npos) return {};
  const std::string first = list.substr(0, comma);
  const std::string second = list.substr(comma + 2, list.find(", ", comma + 2) - comma - 2);
  auto put_of = [&](const std::string& account) -> const TraceEvent* {
    return find_first(trace, [&](const TraceEvent& e) {
      return e.kind == EventKind::kSend && e.type == "kv_request" &&
             payload(e).value("key", "") == "user/" + account &&
             payload(e).value("op", "") == "put";
    });
  };
  const auto* first_put = put_of(first);
  const auto* second_put = put_of(second);
  if (!first_put || !second_put) return {};
  const auto* first_effect = reply_send_for(trace, *first_put);
  const auto* second_effect = reply_send_for(trace, *second_put);
  if (!first_effect || !second_effect) return {};
  const auto* check = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "kv_request" && e.lane == second_put->lane &&
               payload(e).value("key", "") == "index/name/" + handle;
      },
      second_put->seq);
  if (!check) return {};
  const auto* check_reply = reply_send_for(trace, *check);
  const auto* check_delivery = check_reply ? delivery_of(trace, *check_reply) : nullptr;
  if (!check_delivery) return {};
  std::vector<std::uint64_t> keys = {check_delivery->seq, first_effect->seq};
  const auto* index_put = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "kv_request" &&
           process_of(trace, e) == "indexer" &&
           payload(e).value("key", "") == "index/name/" + handle;
  });
  if (index_put) {
    const auto* index_effect = reply_send_for(trace, *index_put);
    if (index_effect && index_effect->seq < second_effect->seq) keys.push_back(index_effect->seq);
  }
  keys.push_back(second_effect->seq);
  return keys;
}

}  // namespace name_index

Design make_name_index() {
  Design d;
  d.name = "name_index";
  d.bug =
      "sign-up checks a handle against a lookup index built asynchronously from account events, "
      "and registers a handle the index has not caught up with";
  d.system = std::make_unique<name_index::System>();
  d.invariant = "unique-username";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read", "stale_read"};
  d.label.why_several =
      "the index is a copy the design derives from the accounts itself: the check missed an "
      "account already written (the copy behind, a stale view) and, when the indexer's put "
      "landed before the second account's write, the check was outdated before the decision";
  d.label.key_events = name_index::key_events;
  return d;
}

}  // namespace seer::bench::explain
