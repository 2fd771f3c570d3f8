#include "promises/model/state_hash.hpp"

#include <cstdint>
#include <string_view>

namespace seer::promises {

namespace {

// FNV-1a over the fields, in the containers' (deterministic) order.
class Hasher {
 public:
  void add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ = (h_ ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    }
  }
  void add(std::string_view s) {
    add(s.size());
    for (unsigned char c : s) h_ = (h_ ^ c) * 0x100000001b3ULL;
  }
  void add(const std::optional<std::string>& s) {
    add(std::uint64_t{s.has_value()});
    if (s) add(std::string_view(*s));
  }
  void add(const std::optional<std::int64_t>& v) {
    add(std::uint64_t{v.has_value()});
    if (v) add(static_cast<std::uint64_t>(*v));
  }
  void add(const std::map<std::string, std::string>& m) {
    add(m.size());
    for (const auto& [k, v] : m) {
      add(std::string_view(k));
      add(std::string_view(v));
    }
  }
  void add(const Value& v) {
    add(std::uint64_t{v.headers.has_value()});
    if (v.headers) add(*v.headers);
    add(v.data);
  }
  void add(const OrderedSet<std::string>& set) {
    add(set.size());
    for (const auto& item : set) add(std::string_view(item));
  }
  std::size_t value() const { return static_cast<std::size_t>(h_); }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::size_t hash_state(const State& state) {
  Hasher h;
  h.add(state.promises.size());
  for (const auto& [id, p] : state.promises) {
    h.add(std::string_view(id));
    h.add(static_cast<std::uint64_t>(p.seq));
    h.add(static_cast<std::uint64_t>(p.state));
    h.add(p.param);
    h.add(p.value);
    h.add(p.tags);
    h.add(static_cast<std::uint64_t>(p.timeout_at));
    h.add(static_cast<std::uint64_t>(p.created_at));
    h.add(p.settled_at);
    h.add(p.callbacks);
    h.add(p.listeners);
  }
  h.add(state.creation_order.size());
  for (const auto& id : state.creation_order) h.add(std::string_view(id));
  h.add(state.tasks.size());
  for (const auto& [id, t] : state.tasks) {
    h.add(std::string_view(id));
    h.add(static_cast<std::uint64_t>(t.state));
    h.add(static_cast<std::uint64_t>(t.version));
    h.add(t.pid);
    h.add(t.ttl);
    h.add(t.resumes);
  }
  const auto timeouts = state.task_timeouts.entries();
  h.add(timeouts.size());
  for (const auto& [id, t] : timeouts) {
    h.add(std::string_view(id));
    h.add(static_cast<std::uint64_t>(t.kind));
    h.add(static_cast<std::uint64_t>(t.at));
  }
  return h.value();
}

}  // namespace seer::promises
