// compaction: a log store whose compactor deletes segment files that readers may still use.
//
// Spec. A log is a list of segment files in the object store (`seg/<n>`), listed by a manifest in
// the KV store (`log/manifest` = {gen, segments}). An appender writes each batch of records as a
// new segment and adds it to the manifest (compare-and-set). A compactor merges the three oldest
// segments into one (`seg/c<n>`), swaps them in the manifest (compare-and-set, gen + 1), and
// deletes the old files once no reader uses them. Readers read the manifest, pin it (KV key
// `pins/<reader>-<n>` = {gen, segments}), read every segment it lists, and remove the pin. The
// compactor deletes a retired segment only when no pin of a generation that listed it exists.
// Invariant `segments-readable`: a reader never finds a segment of its pinned manifest missing
// ("reader2 found seg/4 of manifest gen 6 deleted").
// Operations (history): `append` (appender), `read` (readers).
//
// Bug (variant `buggy`): the pin is written after the manifest was read and never re-checked.
// A reader reads manifest gen g; the compactor swaps in gen g+1, lists the pins (the reader's is
// not there yet), and deletes the retired segments; the reader's pin lands just before the delete,
// or just after, and its reads find segments gone.
// Fix (variant `fixed`): hazard-pointer style: after writing the pin the reader reads the
// manifest again (linearizable) and uses it only if the generation is still the pinned one
// (otherwise it pins the new one). The compactor lists pins after its swap, so a pin it misses was
// written after the swap, and such a pin is never used.
// Faults: delay, reorder, pause (readers, appender and compactor may be paused; no crashes).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/object_store.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace compaction {

constexpr sim::Duration kTimeout = sim::milliseconds(100);
const char* const kManifest = "log/manifest";

struct Oracle {
  std::string violation;
};

sim::Task<void> appender(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                         sim::ProcessId objects, int batches) {
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  services::ObjectClient store(env, objects, kTimeout);
  for (int n = 1; n <= batches; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 5'000'000));
    const std::string seg = "seg/" + std::to_string(n);
    history.invoke(0, "append", seg);
    nlohmann::json body;
    body["records"] = nlohmann::json::array({n * 10, n * 10 + 1, n * 10 + 2});
    while (!(co_await store.put(seg, body)).ok()) {
    }
    for (;;) {
      const auto got = co_await kv.get(kManifest, services::KvRead::kLinearizable);
      if (got.timed_out) continue;
      if (got.status == services::KvStatus::kNotFound) {
        nlohmann::json first;
        first["gen"] = 1;
        first["segments"] = nlohmann::json::array({seg});
        if ((co_await kv.create(kManifest, first)).ok()) break;
        continue;
      }
      const auto& listed = got.value["segments"];
      if (std::find(listed.begin(), listed.end(), seg) != listed.end()) break;  // it landed
      auto next = got.value;
      next["gen"] = got.value["gen"].get<std::int64_t>() + 1;
      next["segments"].push_back(seg);
      const auto r = co_await kv.update(kManifest, next, got.revision);
      if (r.ok()) break;
    }
    history.complete(0, sim::OpType::kOk, "append", seg);
  }
}

sim::Task<void> compactor(sim::Env& env, sim::ProcessId kv_store, sim::ProcessId objects) {
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  services::ObjectClient store(env, objects, kTimeout);
  // Retired segments awaiting deletion: segment -> the first generation that no longer lists it.
  std::map<std::string, std::int64_t> retired;
  int merged = 0;
  for (;;) {
    co_await env.sleep(sim::milliseconds(6));
    const auto got = co_await kv.get(kManifest, services::KvRead::kLinearizable);
    if (got.ok()) {
      const auto& segments = got.value["segments"];
      if (segments.size() >= 4) {
        const std::string out = "seg/c" + std::to_string(++merged);
        nlohmann::json body;
        body["records"] = nlohmann::json::array();
        std::vector<std::string> inputs;
        bool read_all = true;
        for (std::size_t i = 0; i < 3 && read_all; ++i) {
          const auto seg = segments[i].get<std::string>();
          const auto part = co_await store.get(seg);
          if (!part.ok()) {
            read_all = false;
            break;
          }
          for (const auto& r : part.body.value("records", nlohmann::json::array())) {
            body["records"].push_back(r);
          }
          inputs.push_back(seg);
        }
        if (read_all && (co_await store.put(out, body)).ok()) {
          auto next = got.value;
          const auto gen = got.value["gen"].get<std::int64_t>() + 1;
          next["gen"] = gen;
          next["segments"] = nlohmann::json::array({out});
          for (std::size_t i = 3; i < segments.size(); ++i) next["segments"].push_back(segments[i]);
          const auto swapped = co_await kv.update(kManifest, next, got.revision);
          if (swapped.ok()) {
            for (const auto& seg : inputs) retired[seg] = gen;
          }
        }
      }
    }
    if (retired.empty()) continue;
    // Delete retired segments no pin still needs.
    const auto pins = co_await kv.list("pins/", services::KvRead::kLinearizable);
    if (!pins.ok()) continue;
    std::int64_t oldest_pinned = std::numeric_limits<std::int64_t>::max();
    bool complete = true;
    for (const auto& key : pins.value) {
      const auto pin = co_await kv.get(key.get<std::string>(), services::KvRead::kLinearizable);
      if (pin.timed_out) {
        complete = false;
        break;
      }
      if (pin.ok()) {
        oldest_pinned = std::min(oldest_pinned, pin.value["gen"].get<std::int64_t>());
      }
    }
    if (!complete) continue;
    for (auto it = retired.begin(); it != retired.end();) {
      if (oldest_pinned < it->second) {  // a pinned generation still lists it
        ++it;
        continue;
      }
      if ((co_await store.remove(it->first)).ok()) {
        it = retired.erase(it);
      } else {
        ++it;
      }
    }
  }
}

sim::Task<void> reader(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                       sim::ProcessId objects, bool fixed, int id, int reads,
                       std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  services::ObjectClient store(env, objects, kTimeout);
  const std::string me = "reader" + std::to_string(id);
  for (int n = 1; n <= reads; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    history.invoke(id, "read", nullptr);
    auto got = co_await kv.get(kManifest, services::KvRead::kLinearizable);
    if (!got.ok()) {
      history.complete(id, sim::OpType::kFail, "read", nullptr, "manifest unavailable");
      continue;
    }
    const std::string pin_key = "pins/" + me + "-" + std::to_string(n);
    bool pinned = false;
    for (int attempt = 0; attempt < 5; ++attempt) {
      nlohmann::json pin;
      pin["gen"] = got.value["gen"];
      pin["segments"] = got.value["segments"];
      if (!(co_await kv.put(pin_key, pin)).ok()) continue;
      if (!fixed) {
        pinned = true;
        break;
      }
      const auto again = co_await kv.get(kManifest, services::KvRead::kLinearizable);
      if (!again.ok()) continue;
      if (again.value["gen"] == got.value["gen"]) {
        pinned = true;
        break;
      }
      got = again;  // the manifest moved on: pin the new one
    }
    if (!pinned) {
      co_await kv.remove(pin_key);
      history.complete(id, sim::OpType::kFail, "read", nullptr, "could not pin");
      continue;
    }
    std::int64_t records = 0;
    for (const auto& s : got.value["segments"]) {
      const auto seg = s.get<std::string>();
      const auto part = co_await store.get(seg);
      if (part.timed_out) continue;
      if (part.status == services::ObjectStatus::kNotFound) {
        if (oracle->violation.empty()) {
          oracle->violation =
              me + " found " + seg + " of manifest gen " + got.value["gen"].dump() + " deleted";
        }
        continue;
      }
      records +=
          static_cast<std::int64_t>(part.body.value("records", nlohmann::json::array()).size());
    }
    while ((co_await kv.remove(pin_key)).timed_out) {
    }
    history.complete(id, sim::OpType::kOk, "read", records);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {
        "compaction",
        "a compactor deletes log segments (object store) retired from a KV manifest while "
        "readers pin it",
        {"buggy", "fixed"},
        {{"segments-readable", "a reader never finds a segment of its pinned manifest missing"}},
        {{"kv", {"linearizable"}}, {"object-store", {"strong"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    const auto objects = services::add_object_store_service(sim, "objects", {});
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int batches = sim.config().ops / 2;
    sim.add_process("appender",
                    [&history, k = kv.process, o = objects.process, batches](sim::Env& env) {
                      return appender(env, history, k, o, batches);
                    },
                    {.crashable = true, .client = true});
    sim.add_process(
        "compactor",
        [k = kv.process, o = objects.process](sim::Env& env) { return compactor(env, k, o); },
        {.crashable = true, .client = false});
    const int readers = 2;
    for (int r = 1; r <= readers; ++r) {
      const int share = (sim.config().ops - batches) / readers;
      sim.add_process(
          "reader" + std::to_string(r),
          [&history, k = kv.process, o = objects.process, fixed, r, share, oracle](sim::Env& env) {
            return reader(env, history, k, o, fixed, r, share, oracle);
          },
          {.crashable = true, .client = true});
    }
    sim.add_invariant("segments-readable", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: reader R, segment S, generation g. Two stories, told apart by the order
// of R's pin and the delete of S:
// - The pin took effect before the delete (after the compactor's listing): racing_delete, the
//   delete decided on a listing that R's concurrent pin made stale. The cause: that listing (the
//   last delivered to the compactor before it sent the delete of S), R's pin (the store's reply to
//   the put), and the delete (the object store's reply: where it took effect). The pin was also
//   copied from a manifest read the swap had overtaken, and the fix re-checks exactly that, so
//   stale_derived_write is accepted too.
// - The pin took effect after the delete: the listing was right when the delete was decided (no
//   pin of R existed), so no delete raced anything; R pinned a manifest the compactor had already
//   swapped out (stale_derived_write). The cause: R's manifest read (the store's reply), the
//   compactor's swap that retired S, and R's pin.
struct Story {
  std::vector<std::uint64_t> keys;
  bool pin_after_delete = false;
};

Story story(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string reader = between(msg, "", " found ");
  const std::string seg = between(msg, " found ", " of manifest gen ");
  const std::string gen = between(msg, " of manifest gen ", " deleted");
  if (reader.empty() || seg.empty() || gen.empty()) return {};
  const auto* del_req = find_first(trace, [&](const TraceEvent& e) {
    const auto& p = payload(e);
    return process_of(trace, e) == "compactor" && e.kind == EventKind::kSend &&
           e.type == "object_request" && p.value("op", "") == "delete" && p.value("key", "") == seg;
  });
  if (!del_req) return {};
  const auto* del_effect = reply_send_for(trace, *del_req);
  // The kv's ok reply to `who` for a request `op` on a key starting with `key`, whose request
  // (or, for a read, reply) value satisfies `value_ok`.
  auto kv_reply = [&](const TraceEvent& e, const std::string& who, const std::string& op,
                      const std::string& key,
                      const std::function<bool(const nlohmann::json&)>& value_ok) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
        trace.processes.at(static_cast<std::size_t>(e.peer)) != who ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) return false;
    const auto& p = payload(*req);
    if (p.value("op", "") != op || p.value("key", "").rfind(key, 0) != 0) return false;
    const auto& value = op == "get" ? payload(e).value("value", nlohmann::json())
                                    : p.value("value", nlohmann::json());
    return value.is_object() && value_ok(value);
  };
  auto of_gen = [&](const nlohmann::json& v) { return v["gen"].dump() == gen; };
  // R's pin of generation g (the last before the violation).
  const auto* pin = find_last(
      trace, [&](const TraceEvent& e) { return kv_reply(e, reader, "put", "pins/", of_gen); },
      violation_event(trace) + 1);
  if (!pin || !del_effect) return {};
  const auto* pin_req = request_send_for(trace, *pin);
  if (pin->seq > del_effect->seq) {
    const auto* read = find_last(
        trace,
        [&](const TraceEvent& e) { return kv_reply(e, reader, "get", "log/manifest", of_gen); },
        pin_req ? pin_req->seq : pin->seq);
    const auto* swap = find_last(
        trace,
        [&](const TraceEvent& e) {
          return kv_reply(e, "compactor", "update", "log/manifest", [&](const nlohmann::json& v) {
            const auto& segments = v.value("segments", nlohmann::json::array());
            return std::find(segments.begin(), segments.end(), seg) == segments.end();
          });
        },
        del_req->seq);
    if (!read || !swap) return {};
    return {{read->seq, swap->seq, pin->seq}, true};
  }
  const std::string pin_key = pin_req ? payload(*pin_req).value("key", "") : "";
  const auto* listing = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (process_of(trace, e) != "compactor" || e.kind != EventKind::kDeliver ||
            e.type != "kv_reply") {
          return false;
        }
        const auto* send = send_of(trace, e);
        const auto* req = send ? request_send_for(trace, *send) : nullptr;
        if (!req || payload(*req).value("op", "") != "list") return false;
        const auto& keys = payload(e).value("value", nlohmann::json::array());
        for (const auto& k : keys) {
          if (k == pin_key) return false;
        }
        return true;
      },
      del_req->seq);
  if (!listing) return {};
  return {{listing->seq, pin->seq, del_effect->seq}, false};
}

std::vector<std::uint64_t> key_events(const Trace& trace) {
  return story(trace).keys;
}

std::vector<std::string> kinds_for(const Trace& trace) {
  if (story(trace).pin_after_delete) return {"stale_derived_write"};
  return {"racing_delete", "stale_derived_write"};
}

}  // namespace compaction

Design make_compaction() {
  Design d;
  d.name = "compaction";
  d.bug =
      "a compactor deletes retired log segments after a pin listing that missed a reader's "
      "concurrent pin of the old manifest";
  d.system = std::make_unique<compaction::System>();
  d.invariant = "segments-readable";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kPause};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"racing_delete", "stale_derived_write"};
  d.label.why_several =
      "a pin that lands after the delete is a copy of an overtaken manifest read, not a race with "
      "the delete (see the label's comment)";
  d.label.key_events = compaction::key_events;
  d.label.kinds_for = compaction::kinds_for;
  return d;
}

}  // namespace seer::bench::explain
