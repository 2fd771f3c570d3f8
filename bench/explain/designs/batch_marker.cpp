// batch_marker: a store that records a batch as done before it has written the batch.
//
// Spec. A loader (`loader`) sends batches of three items (`b-N` with items `b-N/1`..`b-N/3`) to a
// store node (`store`, the design's own process, on its local disk; it may crash and restart). The
// store writes each item to disk (`item/b-N/K`) and answers `stored` once the batch is durable;
// the loader waits 12 ms for the answer and sends the batch again (a new request number) until one
// comes. So that a batch sent again is not written twice, the store keeps a marker per batch
// (`done/b-N`) and answers a batch whose marker it has at once. No service is involved.
// Invariant `acked-batches-durable`: every item of a batch the store acknowledged is on its disk
// ("item b-7/2 of acknowledged batch b-7 is not on the store's disk").
// Operations (history): `load` per batch by the loader.
//
// Bug (variant `buggy`): the store writes and syncs the marker first ("so that a retry is
// recognised"), then writes the items one by one, syncing each. A crash after the marker's sync
// and before the last item's takes back the item being written (and the rest were never written);
// the restarted store finds the marker when the loader sends the batch again, answers `stored`
// without writing anything, and the loader takes the batch for stored.
// Fix (variant `fixed`): the items first, the marker last, one sync for all of them: the marker is
// durable only with the items (a crash before the sync loses all of them, and the retry writes
// them again).
// Faults: delay, crash (the store only; the loader never crashes).
//
// Label. `crash_lost_data`: the crash took back the unsynced write of the item that is missing
// (after the marker that says the batch is done was made durable), and the store then
// acknowledged the batch. Key events: the marker's storage write, the missing item's storage
// write (its last before the crash), the crash, and the store's `stored` answer to the batch sent
// again after the crash.
#include "design.hpp"
#include "trace_lookup.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace batch_marker {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kItems = 3;
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(12);
constexpr int kMaxAttempts = 60;

struct PutBatch : sim::Payload {
  PutBatch(std::uint64_t r, std::string b, std::vector<std::string> i)
      : req(r), batch(std::move(b)), items(std::move(i)) {}
  std::uint64_t req;
  std::string batch;
  std::vector<std::string> items;
  std::string_view type() const override { return "put_batch"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"batch", batch}, {"items", items}};
  }
};

struct Stored : sim::Payload {
  Stored(std::uint64_t r, std::string b) : req(r), batch(std::move(b)) {}
  std::uint64_t req;
  std::string batch;
  std::string_view type() const override { return "stored"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"batch", batch}}; }
};

std::string item_key(const std::string& item) {
  return "item/" + item;
}

sim::Task<void> store(sim::Env& env, bool fixed) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* b = m.as<PutBatch>();
    if (!b) continue;
    const auto req = b->req;
    const std::string batch = b->batch;
    const std::vector<std::string> items = b->items;
    const std::string marker = "done/" + batch;
    if (!env.storage().get(marker)) {
      if (fixed) {
        for (const auto& item : items) env.storage().put(item_key(item), batch);
        env.storage().put(marker, "1");
        co_await env.sync();
      } else {
        env.storage().put(marker, "1");
        co_await env.sync();
        for (const auto& item : items) {
          env.storage().put(item_key(item), batch);
          co_await env.sync();
        }
      }
    }
    env.send(m.from, sim::make_payload<Stored>(req, batch));
  }
}

sim::Task<void> loader(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId store_id,
                       int batches, std::shared_ptr<std::vector<std::string>> acked) {
  std::uint64_t req = 0;
  for (int n = 1; n <= batches; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string batch = "b-" + std::to_string(n);
    std::vector<std::string> items;
    for (int k = 1; k <= kItems; ++k) items.push_back(batch + "/" + std::to_string(k));
    history.invoke(0, "load", batch);
    bool stored = false;
    for (int attempt = 0; attempt < kMaxAttempts && !stored; ++attempt) {
      const std::uint64_t r = ++req;
      env.send(store_id, sim::make_payload<PutBatch>(r, batch, items));
      const sim::Time deadline = env.now() + kAnswerTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* s = m->as<Stored>();
        if (s && s->req == r) {
          stored = true;
          break;
        }
      }
    }
    if (stored) acked->push_back(batch);
    history.complete(0, stored ? sim::OpType::kOk : sim::OpType::kInfo, "load", batch,
                     stored ? std::string() : std::string("never acknowledged"));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"batch_marker",
            "a store node marks a batch done, then writes its items; a retried batch that has "
            "the marker is acknowledged at once",
            {"buggy", "fixed"},
            {{"acked-batches-durable", "every item of an acknowledged batch is on the disk"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto store_id =
        sim.add_process("store", [fixed](sim::Env& env) { return store(env, fixed); },
                        {.crashable = true, .client = false});
    auto acked = std::make_shared<std::vector<std::string>>();
    auto& history = sim.history();
    const int batches = sim.config().ops;
    sim.add_process("loader",
                    [&history, store_id, batches, acked](sim::Env& env) {
                      return loader(env, history, store_id, batches, acked);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "acked-batches-durable",
        sim::when_changed([acked] { return acked->size(); },
                          [&sim, store_id, acked]() -> std::optional<sim::Finding> {
                            const auto disk = sim.disk(store_id);
                            for (const auto& batch : *acked) {
                              for (int k = 1; k <= kItems; ++k) {
                                const std::string item = batch + "/" + std::to_string(k);
                                if (disk.durable->count(item_key(item)) == 0) {
                                  return sim::Finding{"item " + item + " of acknowledged batch " +
                                                          batch + " is not on the store's disk",
                                                      {batch}};
                                }
                              }
                            }
                            return std::nullopt;
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the batch B and its missing item I. The store's last storage write of
// `item/I` before the violation; the store's crash after it (the first); the marker's write
// (`done/B`, the last before the item's write); the store's first `stored` answer for B after the
// crash (the acknowledgement of the batch sent again).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string item = between(msg, "item ", " of acknowledged");
  const std::string batch = between(msg, "acknowledged batch ", " is not");
  if (item.empty() || batch.empty()) return {};
  const auto until = violation_event(trace);
  const int store_lane = lane_of(trace, "store");
  const auto storage_write_of = [&](const std::string& key) {
    return [store_lane, key](const TraceEvent& e) {
      return e.lane == store_lane && e.kind == EventKind::kStorageWrite &&
             e.line.value("key", "") == key;
    };
  };
  const auto* write = find_last(trace, storage_write_of(item_key(item)), until);
  if (!write) return {};
  const auto* crash = find_first(
      trace,
      [&](const TraceEvent& e) { return e.lane == store_lane && e.kind == EventKind::kCrash; },
      write->seq);
  if (!crash || crash->seq > until) return {};
  const auto* marker = find_last(trace, storage_write_of("done/" + batch), write->seq);
  const auto* ack = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == store_lane && e.kind == EventKind::kSend && e.type == "stored" &&
               payload(e).value("batch", "") == batch;
      },
      crash->seq);
  if (!marker || !ack || ack->seq > until) return {};
  return {marker->seq, write->seq, crash->seq, ack->seq};
}

}  // namespace batch_marker

Design make_batch_marker() {
  Design d;
  d.name = "batch_marker";
  d.bug =
      "a store syncs a batch's done marker before its items; a crash in between loses items and "
      "the retried batch is acknowledged from the marker";
  d.system = std::make_unique<batch_marker::System>();
  d.invariant = "acked-batches-durable";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = batch_marker::key_events;
  return d;
}

}  // namespace seer::bench::explain
