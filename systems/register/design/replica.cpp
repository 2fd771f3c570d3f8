#include "replica.hpp"

#include "messages.hpp"
#include "record.hpp"

namespace seer::systems::reg {

namespace {
constexpr sim::Duration kIdleFlush = sim::milliseconds(20);
}

sim::Task<void> run_replica(sim::Env& env, Durability durability, StaleStore stale_store) {
  auto& disk = env.storage();
  // Recovery: the newest record that survived on disk (torn records fail their checksum).
  Record current;
  std::string current_key;
  if (auto r =
          newest_record(disk.keys("reg/"), [&](const std::string& k) { return disk.get(k); })) {
    current = *r;
    current_key = record_key(r->tag);
  }
  bool dirty = false;
  for (;;) {
    auto m = co_await env.receive_for(kIdleFlush);
    if (!m) {
      if (dirty) {
        co_await env.sync();
        dirty = false;
      }
      continue;
    }
    if (const auto* q = m->as<Query>()) {
      env.send(m->from, sim::make_payload<QueryReply>(q->req, current.tag, current.value));
    } else if (const auto* s = m->as<Store>()) {
      const bool newer = s->tag > current.tag;
      if (newer) {
        const std::string old_key = current_key;
        current = Record{s->tag, s->value};
        current_key = record_key(s->tag);
        // A new key per version: a torn write can only damage the unsynced newest record.
        disk.put(current_key, encode_record(current));
        if (durability == Durability::kSyncBeforeAck) {
          co_await env.sync();
          if (!old_key.empty()) disk.erase(old_key);  // durable at the next sync; harmless if lost
        } else {
          dirty = true;
          if (!old_key.empty()) disk.erase(old_key);
        }
      }
      if (newer || stale_store == StaleStore::kAck) {
        env.send(m->from, sim::make_payload<StoreAck>(s->req, s->tag));
      }
    }
  }
}

}  // namespace seer::systems::reg
