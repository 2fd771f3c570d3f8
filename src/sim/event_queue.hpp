// The run's future: the scheduled events, earliest first, ties in the order they were scheduled.
#pragma once

#include "seer/assert.hpp"
#include "seer/sim/message.hpp"
#include "seer/sim/time.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace seer::sim {

enum class Scheduled : std::uint8_t {
  kDeliver,
  kWake,
  kCrash,
  kRestart,
  kPause,
  kResume,
  kPartition,
  kHeal
};

struct QueuedEvent {
  Time time;
  std::uint64_t order;  // insertion order: the deterministic tie-break (set by the queue)
  Scheduled kind;
  ProcessId process = kNoProcess;
  std::uint32_t incarnation = 0;
  std::uint64_t token = 0;  // wake token, partition id, or send event
  Time sent_at = 0;
  std::uint64_t link_index = 0;  // position of the message among those sent on its link
  std::uint64_t fault = 0;       // replay: 1 + the crash, pause or partition's schedule index
  bool duplicate = false;
  Message message{};
};

// A binary heap of small keys (time, order, slot) over a slab of events. Sifting moves 24-byte keys
// instead of whole events with their shared payloads, and an event is built once, where it lies,
// and dispatched from there: a std::priority_queue of events moved each one three or four times
// (7% of a ping-pong delivery).
class EventQueue {
 public:
  using Slot = std::uint32_t;

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  Time next_time() const { return heap_.front().time; }

  // A new event due at `time`, default fields otherwise, for the caller to fill in. The reference
  // stays valid until the event is popped and released (adding more events does not move it).
  QueuedEvent& add(Time time, Scheduled kind) {
    const Slot slot = take_slot();
    QueuedEvent& e = at(slot);
    // Reset field by field rather than assigned a fresh QueuedEvent: a slot's message body is
    // already empty (released, or never used), and building then moving a whole event cost as
    // much as the rest of add.
    e.time = time;
    e.order = next_order_;
    e.kind = kind;
    e.process = kNoProcess;
    e.incarnation = 0;
    e.token = 0;
    e.sent_at = 0;
    e.link_index = 0;
    e.fault = 0;
    e.duplicate = false;
    e.message.from = kNoProcess;
    e.message.to = kNoProcess;
    e.message.id = 0;
    SEER_ASSERT(!e.message.body, "a free slot holds no message");
    heap_.push_back({time, next_order_++, slot});
    std::push_heap(heap_.begin(), heap_.end(), later);
    return e;
  }
  void push(QueuedEvent&& event) {
    QueuedEvent& e = add(event.time, event.kind);
    const auto order = e.order;
    e = std::move(event);
    e.order = order;
  }

  // Removes the earliest event from the queue; it stays in its slot until release(slot).
  Slot pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Slot slot = heap_.back().slot;
    heap_.pop_back();
    return slot;
  }
  QueuedEvent& at(Slot slot) { return chunks_[slot / kChunk][slot % kChunk]; }
  // The slot may be reused; its message's payload is let go now, not when the slot is reused.
  void release(Slot slot) {
    at(slot).message.body.reset();
    free_.push_back(slot);
  }

 private:
  static constexpr Slot kChunk = 256;
  struct Key {
    Time time;
    std::uint64_t order;
    Slot slot;
  };
  // std::push_heap keeps the greatest on top: "greater" is the later event. A type, not a function
  // pointer, so that the heap algorithms inline it.
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.time != b.time ? a.time > b.time : a.order > b.order;
    }
  };
  static constexpr Later later{};
  Slot take_slot() {
    if (!free_.empty()) {
      const Slot slot = free_.back();
      free_.pop_back();
      return slot;
    }
    if (used_ == chunks_.size() * kChunk) {
      chunks_.push_back(std::make_unique<QueuedEvent[]>(kChunk));
    }
    return used_++;
  }

  std::vector<Key> heap_;
  std::vector<std::unique_ptr<QueuedEvent[]>> chunks_;  // chunks: growing keeps events in place
  std::vector<Slot> free_;
  Slot used_ = 0;
  std::uint64_t next_order_ = 0;
};

}  // namespace seer::sim
