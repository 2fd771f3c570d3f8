// The same queue message handed out twice, each time acted on (duplicate_delivery, `how:
// handed_out_twice`), from the replies alone: two receives whose replies carry the same message
// (their accesses' scope, `message N`), the second consumer's first write after it carrying what
// the message held. The oracle's redelivery mark (detect_duplicates) says the same when a trace
// has it; a log does not, but it shows the message handed out twice.
#include "causes.hpp"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

namespace seer::explain {

namespace {

// Whether the delivery carries the oracle's redelivery mark: detect_duplicates names it.
bool marked_redelivery(const TraceEvent& e) {
  const auto& oracle = e.oracle();
  if (!oracle.is_object()) return false;
  const auto service = oracle.find("service");
  return service != oracle.end() && service->is_object() &&
         (service->value("duplicate", false) || service->value("while_in_flight_elsewhere", false));
}

// The consumer's first write after it took the message in (before its next receive of another
// message) that carries what the message held: its handling of it. Null if none.
const Access* handling_of(const DetectContext& c, const Access& receive,
                          const nlohmann::json& held) {
  const auto& all = c.index.accesses;
  for (auto i = static_cast<std::size_t>(&receive - all.data()) + 1; i < all.size(); ++i) {
    const auto& a = all[i];
    if (a.served > c.horizon) break;
    if (a.client != receive.client) continue;
    if (!a.write || a.removes || a.scope == receive.scope) continue;  // an ack of the message
    if (flows_into(held, written_value(c.trace, a))) return &a;
  }
  return nullptr;
}

}  // namespace

std::vector<Cause> detect_handed_out_twice(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  std::map<std::string, std::vector<const Access*>> receives;  // by message, in trace order
  for (const auto& a : c.index.accesses) {
    if (a.op != "receive" || !a.read || !a.delivered || a.event > c.horizon) continue;
    if (!a.scope.starts_with("message ") || a.scope == "message none") continue;
    receives[a.scope].push_back(&a);
  }
  for (const auto& [message, list] : receives) {
    for (std::size_t i = 1; i < list.size(); ++i) {
      const auto& first = *list[i - 1];
      const auto& again = *list[i];
      if (!t.has(again.event) || marked_redelivery(t.at(again.event))) continue;
      const auto held = read_value(t, again);
      if (held.is_null() || held.empty()) continue;
      // Handled twice: the first consumer acted on it too.
      const auto* act = handling_of(c, again, held);
      if (!act || !handling_of(c, first, read_value(t, first))) continue;
      Cause cause;
      cause.kind = "duplicate_delivery";
      cause.process = t.lane_name(again.client);
      cause.events = {again.event, first.event, act->served};
      cause.facts = {{"how", "handed_out_twice"},
                     {"message", message},
                     {"first_delivery_event", first.event},
                     {"delivery_event", again.event},
                     {"act_event", act->served}};
      cause.summary = fmt::format(
          "{} handed out {} to {} at #{} ({}) after handing it to {} at #{} ({}); {} acted on it "
          "again ({} at #{}, {}): the same message handled twice",
          again.service.empty() ? std::string("the queue") : again.service, message, cause.process,
          again.event, format_time(t.at(again.event).time), t.lane_name(first.client), first.event,
          format_time(t.at(first.event).time), cause.process, access_named(t, *act), act->served,
          format_time(t.at(act->served).time));
      out.push_back(std::move(cause));
    }
  }
  return out;
}

}  // namespace seer::explain
