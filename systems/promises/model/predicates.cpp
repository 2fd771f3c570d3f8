#include "promises/model/predicates.hpp"

#include <limits>

namespace seer::promises {

namespace {
const std::string* tag(const Tags& tags, const char* key) {
  const auto it = tags.find(key);
  return it == tags.end() ? nullptr : &it->second;
}
}  // namespace

bool has_target(const Tags& tags) {
  const std::string* t = tag(tags, "resonate:target");
  return t != nullptr && !t->empty();
}

const std::string& target(const Tags& tags) {
  return tags.at("resonate:target");
}

bool is_timer(const Tags& tags) {
  const std::string* t = tag(tags, "resonate:timer");
  return t != nullptr && *t == "true";
}

bool is_external(const Tags& tags) {
  const std::string* scope = tag(tags, "resonate:scope");
  const std::string* external = tag(tags, "resonate:external");
  return (scope != nullptr && *scope == "global") || (external != nullptr && *external == "true") ||
         tag(tags, "resonate:target") != nullptr || is_timer(tags);
}

std::optional<std::int64_t> delay(const Tags& tags) {
  const std::string* d = tag(tags, "resonate:delay");
  if (d == nullptr) return std::nullopt;
  const bool negative = !d->empty() && (*d)[0] == '-';
  const std::size_t first = negative ? 1 : 0;
  if (d->size() == first) return std::nullopt;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t magnitude = 0;
  for (std::size_t i = first; i < d->size(); ++i) {
    const char c = (*d)[i];
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    magnitude = magnitude > (kMax - digit) / 10 ? kMax : magnitude * 10 + digit;
  }
  return negative ? -magnitude : magnitude;
}

std::optional<std::string> branch(const Tags& tags) {
  const std::string* b = tag(tags, "resonate:branch");
  if (b == nullptr || b->empty()) return std::nullopt;
  return *b;
}

PromiseState timeout_state(const Tags& tags) {
  return is_timer(tags) ? PromiseState::resolved : PromiseState::rejected_timedout;
}

Promise view(const Promise& p, std::int64_t now) {
  Promise v = p;
  if (p.state == PromiseState::pending && now >= p.timeout_at) {
    v.state = timeout_state(p.tags);
    v.settled_at = p.timeout_at;
  }
  return v;
}

std::int64_t add_time(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

}  // namespace seer::promises
