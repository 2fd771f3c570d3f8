// cas_retry: group membership documents updated with compare-and-set, retried on a conflict.
//
// Spec. Each of two groups is one KV document (`group/g-1`, `group/g-2` = `{members: [...]}`).
// Three admin consoles (`admin1`..`admin3`) add members (`m-1-1`, `m-2-1`, ...) to random groups:
// get the document, append the member, and compare-and-set it (`update` with the revision read).
// A conflict (another console wrote the group since) is retried, up to five times.
// Invariant `members-kept`: a member whose addition was acknowledged (the update answered ok) is in
// its group's document ("member m-2-3 added to g-1 is missing from group/g-1").
// Operations (history): `add` per member.
//
// Bug (variant `buggy`): the conflict retry re-reads the document only for its revision and sends
// the members it computed from its first read: the compare-and-set passes, and it writes back the
// list without the member the other console added in between. (A retry loop that "refreshes the
// version" to get past the conflict, without recomputing the change.)
// Fix (variant `fixed`): the retry recomputes from the document it re-read (its members plus the
// new one).
// Faults: delay, reorder.
//
// Label. `outdated_read`: a lost update. The console's first read was right when served, but
// another console's addition changed the document before the console's write took effect, and
// the write was computed from that read. Key events: the delivery of the read the written list
// came from (the console's latest get of the group whose members the write carries, all of them),
// the other console's addition of the lost member (the store's reply send), and the write that
// dropped it (the store's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace cas_retry {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kAdmins = 3;
constexpr int kGroups = 2;
constexpr int kMaxAttempts = 5;
constexpr sim::Duration kKvTimeout = sim::milliseconds(20);

// The acknowledged additions (group -> members), filled in by the consoles as the test's record
// of what users were told; design code never reads it.
struct Acked {
  std::map<std::string, std::set<std::string>> members;
  std::uint64_t changes = 0;
};

nlohmann::json with_member(const nlohmann::json& doc, const std::string& member) {
  nlohmann::json out = doc.is_object() ? doc : nlohmann::json{{"members", nlohmann::json::array()}};
  out["members"].push_back(member);
  return out;
}

sim::Task<void> admin(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv, int index,
                      int adds, std::shared_ptr<Acked> acked, bool fixed) {
  services::KvClient store(env, kv, kKvTimeout);
  for (int n = 1; n <= adds; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string group = "g-" + std::to_string(env.random() % kGroups + 1);
    const std::string key = "group/" + group;
    const std::string member = "m-" + std::to_string(index) + "-" + std::to_string(n);
    history.invoke(index - 1, "add", member + " to " + group);
    const auto read = co_await store.get(key);
    if (read.timed_out) {
      history.complete(index - 1, sim::OpType::kFail, "add", member + " to " + group);
      continue;
    }
    nlohmann::json doc = with_member(read.value, member);
    std::int64_t revision = read.revision;  // 0: the group has no document yet
    bool ok = false;
    bool unknown = false;
    for (int attempt = 0; attempt < kMaxAttempts && !ok && !unknown; ++attempt) {
      const auto w = revision == 0 ? co_await store.create(key, doc)
                                   : co_await store.update(key, doc, revision);
      if (w.timed_out) {
        unknown = true;
      } else if (w.ok()) {
        ok = true;
      } else if (w.status == services::KvStatus::kConflict) {
        const auto again = co_await store.get(key);
        if (!again.ok()) break;                             // (a group document is never deleted)
        revision = again.revision;                          // buggy: only the revision
        if (fixed) doc = with_member(again.value, member);  // fixed: recompute the change
      } else {
        break;
      }
    }
    if (ok) {
      acked->members[group].insert(member);
      ++acked->changes;
    }
    history.complete(index - 1,
                     ok        ? sim::OpType::kOk
                     : unknown ? sim::OpType::kInfo
                               : sim::OpType::kFail,
                     "add", member + " to " + group);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"cas_retry",
            "admin consoles add members to group documents in the KV store with compare-and-set",
            {"buggy", "fixed"},
            {{"members-kept", "an acknowledged member stays in its group"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto acked = std::make_shared<Acked>();
    auto& history = sim.history();
    const int adds = std::max(1, sim.config().ops / kAdmins);
    for (int a = 1; a <= kAdmins; ++a) {
      sim.add_process("admin" + std::to_string(a),
                      [&history, k = kv.process, a, adds, acked, fixed](sim::Env& env) {
                        return admin(env, history, k, a, adds, acked, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = kv.truth;
    sim.add_invariant(
        "members-kept",
        sim::when_changed(
            [truth, acked] {
              return static_cast<std::uint64_t>(truth->revision()) + acked->changes;
            },
            [truth, acked]() -> std::optional<sim::Finding> {
              for (const auto& [group, members] : acked->members) {
                const auto& doc = truth->latest("group/" + group);
                std::set<std::string> present;
                if (doc.exists) {
                  for (const auto& m : doc.encoded().value("members", nlohmann::json::array())) {
                    present.insert(m.get<std::string>());
                  }
                }
                for (const auto& m : members) {
                  if (!present.count(m)) {
                    return sim::Finding{
                        "member " + m + " added to " + group + " is missing from group/" + group,
                        {m}};
                  }
                }
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

std::set<std::string> members_of(const nlohmann::json& value) {
  std::set<std::string> out;
  if (value.is_object()) {
    for (const auto& m : value.value("members", nlohmann::json::array())) {
      if (m.is_string()) out.insert(m.get<std::string>());
    }
  }
  return out;
}

// From the message: the member M and group G. The addition of M: the first successful write
// (update, or the create of the document) of `group/G` whose value holds M (the store's reply
// send). The overwrite: the first successful write of `group/G` after it whose value lacks M. Its
// console's read the value came from: the latest get of `group/G` by that console delivered before
// the overwrite's request whose members are all in the written value (the re-read for the revision
// holds M, so it is not that one); a get that found no document yet is a read of an empty list.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string member = between(msg, "member ", " added to ");
  const std::string group = between(msg, " added to ", " is missing");
  if (member.empty() || group.empty()) return {};
  const std::string key = "group/" + group;
  auto update_with = [&](bool holds, std::uint64_t after) -> const TraceEvent* {
    return find_first(
        trace,
        [&](const TraceEvent& e) {
          if (e.kind != EventKind::kSend || e.type != "kv_reply" ||
              payload(e).value("status", "") != "ok") {
            return false;
          }
          const auto* req = request_send_for(trace, e);
          const std::string op = req ? payload(*req).value("op", "") : "";
          if ((op != "update" && op != "create") || payload(*req).value("key", "") != key) {
            return false;
          }
          return members_of(payload(*req).value("value", nlohmann::json())).count(member) ==
                 (holds ? 1u : 0u);
        },
        after);
  };
  const auto* addition = update_with(true, 0);
  if (!addition) return {};
  const auto* overwrite = update_with(false, addition->seq);
  if (!overwrite) return {};
  const auto* write_req = request_send_for(trace, *overwrite);
  if (!write_req) return {};
  const auto written = members_of(payload(*write_req).value("value", nlohmann::json()));
  const auto* source = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.lane != write_req->lane || e.kind != EventKind::kDeliver || e.type != "kv_reply") {
          return false;
        }
        // A get that found no document yet is a read of an empty list (then a create).
        const std::string status = payload(e).value("status", "");
        if (status != "ok" && status != "not_found") return false;
        const auto* send = send_of(trace, e);
        const auto* req = send ? request_send_for(trace, *send) : nullptr;
        if (!req || payload(*req).value("op", "") != "get" ||
            payload(*req).value("key", "") != key) {
          return false;
        }
        const auto read = members_of(payload(e).value("value", nlohmann::json()));
        return std::includes(written.begin(), written.end(), read.begin(), read.end()) &&
               !read.count(member);
      },
      write_req->seq);
  if (!source) return {};
  return {source->seq, addition->seq, overwrite->seq};
}

}  // namespace cas_retry

Design make_cas_retry() {
  Design d;
  d.name = "cas_retry";
  d.bug =
      "a compare-and-set retried on a conflict re-reads only the revision and writes the list "
      "computed from its first read, dropping the member another console added in between";
  d.system = std::make_unique<cas_retry::System>();
  d.invariant = "members-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 45;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = cas_retry::key_events;
  return d;
}

}  // namespace seer::bench::explain
