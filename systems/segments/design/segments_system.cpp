// Log segments in an object store: each writer appends numbered segment objects under its own
// prefix, choosing the next number from a listing. The oracle checks that no segment object was
// ever written twice (an overwritten segment is lost data).
#include "segments_system.hpp"

#include "seer/services/object_store.hpp"

#include <cstdio>
#include <memory>

namespace seer::systems::segments {

namespace {

constexpr int kWriters = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

std::string segment_name(int writer, std::int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "w%d/seg-%06lld", writer, static_cast<long long>(n));
  return buf;
}

// `conditional`: write with If-None-Match and move to the next number when the name is taken.
// Otherwise trust the listing and write unconditionally.
sim::Task<void> write_segments(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId store,
                               int writer, int count, bool conditional) {
  services::ObjectClient objects(env, store, kTimeout);
  const std::string prefix = "w" + std::to_string(writer) + "/";
  for (int i = 0; i < count; ++i) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const int payload = writer * 1000 + i;
    history.invoke(writer, "append", payload);
    services::ObjectResult listing;
    do {
      listing = co_await objects.list(prefix);
    } while (listing.timed_out);
    auto n = static_cast<std::int64_t>(listing.keys.size()) + 1;
    for (;;) {
      const auto put = co_await objects.put(
          segment_name(writer, n), payload,
          conditional ? services::Precondition::kIfNoneMatch : services::Precondition::kNone);
      if (put.ok()) break;
      if (!put.timed_out) ++n;  // the name is taken: try the next one
      // A timeout: try the same name again. If the first attempt landed, If-None-Match now fails
      // and the next name is used (the segment is then written twice, under two names).
      if (put.timed_out && !conditional) {
        do {
          listing = co_await objects.list(prefix);
        } while (listing.timed_out);
        n = static_cast<std::int64_t>(listing.keys.size()) + 1;
      }
    }
    history.complete(writer, sim::OpType::kOk, "append", payload);
  }
}

class SegmentsSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"segments",
            "three writers append numbered segment objects to an object store, numbering them from "
            "a listing",
            {"list-then-put", "if-none-match"},
            {{"no-segment-overwritten",
              "no segment object is overwritten with another append's payload"}},
            {{"object-store", services::object_store_implementations()}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const auto store = services::add_object_store_service(
        sim, "objects", services::object_store_config(sim.config().service_or("object-store")));
    auto& history = sim.history();
    const bool conditional = variant == "if-none-match";
    const int writers = sim.config().clients_or(kWriters);
    for (int w = 0; w < writers; ++w) {
      const int count = sim.config().ops / writers + (w < sim.config().ops % writers ? 1 : 0);
      sim.add_process("writer" + std::to_string(w + 1),
                      [&history, s = store.process, w, count, conditional](sim::Env& env) {
                        return write_segments(env, history, s, w, count, conditional);
                      },
                      {.crashable = false, .client = true});
    }
    // Writing a segment again with the same payload loses nothing (a late retry of the same
    // append); writing it with another append's payload loses the first.
    // Checked only after the store changed, and only the keys written since the last check (the
    // others held then and are unchanged), found from the revisions since then: comparing every
    // version of every key after every event, or even walking every key to find the changed
    // ones, made long runs quadratic (4,000 ops: 10.6 s, then 6.8 s).
    auto checked = std::make_shared<std::int64_t>(0);  // the store revision checked last
    sim.add_invariant(
        "no-segment-overwritten",
        sim::when_changed(
            [truth = store.truth] { return static_cast<std::uint64_t>(truth->revision()); },
            [truth = store.truth, checked]() -> std::optional<sim::Finding> {
              const std::int64_t since = *checked;
              *checked = truth->revision();
              for (std::int64_t r = since + 1; r <= truth->revision(); ++r) {
                const auto [key, versions] = truth->change_at(r);
                if (!versions->back().exists) continue;  // writers never delete
                for (const auto& v : *versions) {
                  if (v.value != versions->front().value) {
                    return "segment " + std::string(key) + " held append " +
                           versions->front().value.dump() + ", then was overwritten with append " +
                           v.value.dump() + ": the first is lost";
                  }
                }
              }
              return std::nullopt;
            }));
  }
};

}  // namespace

std::unique_ptr<sim::System> make_segments_system() {
  return std::make_unique<SegmentsSystem>();
}

}  // namespace seer::systems::segments
