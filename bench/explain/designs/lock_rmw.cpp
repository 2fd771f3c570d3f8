// lock_rmw (held out): a lock with a time-to-live guarding a read-modify-write of an object.
//
// Spec. Two workers add their results to one report object `report.json` in the object store
// ({"results": [...]}), each under a lock: the KV key `lock/report` = {holder, expires}, `expires`
// being the holder's clock plus 25 ms, taken with create-if-absent or, once expired, with a
// compare-and-set; released with a compare-and-set to {holder: "", expires: 0}. Under the lock a
// worker reads the report, adds its result, and writes the report back.
// Invariant `results-kept`: the report never loses a result whose write was acknowledged ("report
// lost result w1-4, acknowledged at 88.120ms").
// Operations (history): `add` per result.
//
// Bug (variant `buggy`): the worker trusts the lock for the whole read-modify-write. A pause while
// it holds the lock outlasts the lock's time-to-live: the other worker takes the expired lock and
// adds its result, and the first worker's late write either puts back the report it read, without
// that result, or lands inside the other's read-modify-write, which then writes over it.
// Fix (variant `fixed`): the write is conditional on the ETag the worker read (If-Match); a failed
// precondition means the lock was lost, and the worker starts over.
// Faults: delay, pause (the workers may be paused; no crashes).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/object_store.hpp"

#include <cstdio>
#include <map>
#include <set>

namespace seer::bench::explain {

namespace lock_rmw {

constexpr int kWorkers = 2;
constexpr sim::Duration kTtl = sim::milliseconds(25);
constexpr sim::Duration kTimeout = sim::milliseconds(50);

struct Oracle {
  const sim::Simulator* sim = nullptr;
  std::shared_ptr<const services::VersionedStore> objects;
  std::map<std::string, sim::Time> acked;  // result -> when its write was acknowledged
};

sim::Task<bool> try_lock(sim::Env& env, services::KvClient& kv, const std::string& me,
                         std::int64_t& revision) {
  const auto got = co_await kv.get("lock/report", services::KvRead::kLinearizable);
  if (got.timed_out) co_return false;
  nlohmann::json mine;
  mine["holder"] = me;
  mine["expires"] = env.now() + kTtl;
  services::KvResult taken;
  if (got.status == services::KvStatus::kNotFound) {
    taken = co_await kv.create("lock/report", mine);
  } else if (got.value["expires"].get<std::int64_t>() <= env.now()) {
    taken = co_await kv.update("lock/report", mine, got.revision);
  } else {
    co_return false;
  }
  if (!taken.ok()) co_return false;
  revision = taken.revision;
  co_return true;
}

sim::Task<void> worker(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                       sim::ProcessId objects, bool fixed, int id, int results,
                       std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kTimeout);
  services::ObjectClient store(env, objects, kTimeout);
  const std::string me = "w" + std::to_string(id);
  for (int n = 0; n < results; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000));
    const std::string result = me + "-" + std::to_string(n);
    history.invoke(id, "add", result);
    for (bool done = false; !done;) {
      std::int64_t revision = 0;
      if (!co_await try_lock(env, kv, me, revision)) {
        co_await env.sleep(sim::milliseconds(2));
        continue;
      }
      const auto report = co_await store.get("report.json");
      if (report.timed_out) continue;  // the lock expires by itself
      nlohmann::json body = report.status == services::ObjectStatus::kOk
                                ? report.body
                                : nlohmann::json{{"results", nlohmann::json::array()}};
      // Format the result (takes a moment).
      co_await env.sleep(static_cast<sim::Duration>(env.random() % 3'000'000));
      body["results"].push_back(result);
      services::ObjectResult written;
      if (fixed && report.status == services::ObjectStatus::kOk) {
        written =
            co_await store.put("report.json", body, services::Precondition::kIfMatch, report.etag);
      } else if (fixed) {
        written = co_await store.put("report.json", body, services::Precondition::kIfNoneMatch);
      } else {
        written = co_await store.put("report.json", body);
      }
      if (written.ok()) {
        done = true;
        oracle->acked[result] = oracle->sim->true_now();
      }
      nlohmann::json released;
      released["holder"] = "";
      released["expires"] = 0;
      co_await kv.update("lock/report", released, revision);
    }
    history.complete(id, sim::OpType::kOk, "add", result);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"lock_rmw",
            "two workers add results to one object under a KV lock with a time-to-live",
            {"buggy", "fixed"},
            {{"results-kept", "the report never loses an acknowledged result"}},
            {{"kv", {"linearizable"}}, {"object-store", {"strong"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    const auto objects = services::add_object_store_service(sim, "objects", {});
    auto oracle = std::make_shared<Oracle>();
    oracle->sim = &sim;
    oracle->objects = objects.truth;
    auto& history = sim.history();
    const int workers = sim.config().clients_or(kWorkers);
    for (int w = 0; w < workers; ++w) {
      const int share = sim.config().ops / workers + (w < sim.config().ops % workers ? 1 : 0);
      sim.add_process(
          "worker" + std::to_string(w + 1),
          [&history, k = kv.process, o = objects.process, fixed, w, share, oracle](sim::Env& env) {
            return worker(env, history, k, o, fixed, w + 1, share, oracle);
          },
          {.crashable = true, .client = true});
    }
    // Checked on every new version of the report and on every acknowledgment.
    auto checked = std::make_shared<std::pair<std::int64_t, std::size_t>>(-1, 0);
    sim.add_invariant("results-kept", [oracle, checked]() -> std::optional<std::string> {
      const auto latest = oracle->objects->latest("report.json");
      if (!latest.exists) return std::nullopt;
      const std::pair<std::int64_t, std::size_t> now{latest.revision, oracle->acked.size()};
      if (now == *checked) return std::nullopt;
      *checked = now;
      std::set<std::string> present;
      for (const auto& r : latest.value["results"]) present.insert(r.get<std::string>());
      for (const auto& [result, at] : oracle->acked) {
        if (!present.count(result)) {
          char when[32];
          std::snprintf(when, sizeof when, "%.3fms", static_cast<double>(at) / 1e6);
          return "report lost result " + result + ", acknowledged at " + when;
        }
      }
      return std::nullopt;
    });
  }
};

// Label. From the message: the lost result X. Of the write that lost X (the last report write
// before the violation) and X's own write, the act on an expired lock is the one whose writer's
// lock had been granted to the other worker between its own grant and the write. The cause: that
// writer's lock grant (the lock it trusted), its write (the store's reply: where it took effect),
// and the other worker's acquisition of the expired lock.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string result = between(violation_message(trace), "lost result ", ", acknowledged");
  if (result.empty()) return {};
  auto is_put_reply = [&](const TraceEvent& e) -> const TraceEvent* {
    if (e.kind != EventKind::kSend || e.type != "object_reply" ||
        payload(e).value("status", "") != "ok") {
      return nullptr;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || payload(*req).value("op", "") != "put") return nullptr;
    return req;
  };
  // X's write: the first put whose body holds X; the losing write: the last put before the
  // violation (the invariant is checked on every new version of the report).
  const auto until = violation_event(trace);
  const TraceEvent* x_write = nullptr;
  const TraceEvent* losing = nullptr;
  auto holds_x = [&](const TraceEvent& req) {
    const auto& results =
        payload(req).value("body", nlohmann::json()).value("results", nlohmann::json::array());
    return std::find(results.begin(), results.end(), result) != results.end();
  };
  for (const auto& e : trace.events) {
    if (e.seq > until) break;
    const auto* req = is_put_reply(e);
    if (!req) continue;
    if (!x_write && holds_x(*req)) x_write = &e;
    losing = &e;
  }
  if (!x_write || !losing || losing == x_write || holds_x(*request_send_for(trace, *losing))) {
    return {};
  }
  // A lock grant (the store's reply to a create or update that is not a release), by `who` or,
  // with `others`, by anyone else.
  auto is_grant = [&](const TraceEvent& e, const std::string& who, bool others) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || (process_of(trace, *req) == who) == others) return false;
    const auto& p = payload(*req);
    const auto op = p.value("op", "");
    return (op == "create" || op == "update") && p.contains("value") &&
           !p["value"].value("holder", "").empty();
  };
  // Of the two writes (the loser and X's), the one made under a lock another worker had taken
  // since the writer's last grant is the act on the expired lock.
  for (const auto* write : {losing, x_write}) {
    const auto* req = request_send_for(trace, *write);
    const std::string who = process_of(trace, *req);
    const auto* grant = find_last(
        trace, [&](const TraceEvent& e) { return is_grant(e, who, false); }, req->seq);
    if (!grant) continue;
    // Another worker's grant after this writer's own, before its write took effect.
    const auto* takeover = find_first(
        trace, [&](const TraceEvent& e) { return e.seq < write->seq && is_grant(e, who, true); },
        grant->seq);
    if (takeover) return {grant->seq, write->seq, takeover->seq};
  }
  return {};
}

}  // namespace lock_rmw

Design make_lock_rmw() {
  Design d;
  d.name = "lock_rmw";
  d.bug = "a worker writes back a report under a lock that expired during a pause";
  d.system = std::make_unique<lock_rmw::System>();
  d.invariant = "results-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 30;
  d.held_out = true;
  d.label.kinds = {"expired_lease", "outdated_read"};
  d.label.why_several =
      "the lock expired under its holder (the design's story), and the loss itself is a write "
      "decided on a report read that the other holder's write overtook; the fix, a write "
      "conditional on the ETag read, addresses exactly that overtaken read, so either names it";
  d.label.key_events = lock_rmw::key_events;
  return d;
}

}  // namespace seer::bench::explain
