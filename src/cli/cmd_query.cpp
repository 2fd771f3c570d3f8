// `seer query TRACE [filters]`: look around a run (by process, kind, key, time, staleness, messages
// in flight, causal past and future, what a process knew). Exit 0 with matches, 1 with none.
#include "command.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/query.hpp"
#include "trace_input.hpp"

#include <iostream>

namespace seer::cli {

Command add_query_command(CLI::App& root) {
  struct Options {
    std::string trace;
    explain::TraceQuery q;
    std::string from, to, in_flight_at;
    std::uint64_t before = 0, after = 0, at = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app =
      root.add_subcommand("query", "Select events of a trace (filters are combined with AND)");
  app->add_option("trace", o->trace, "Trace file")->required();
  app->add_option("--process", o->q.processes,
                  "Only these processes (repeatable; 'sim' = network)");
  app->add_option("--kind", o->q.kinds, "Only these event kinds (repeatable: send, deliver, ...)");
  app->add_option("--key", o->q.key,
                  "Only events touching this entity: a key, prefix, label, name or value in their "
                  "data, and the replies to requests that name it");
  app->add_option("--from", o->from, "From this virtual time (e.g. 120ms; ns without a unit)");
  app->add_option("--to", o->to, "Up to this virtual time");
  app->add_flag("--stale", o->q.stale, "Only replies the oracle marks stale");
  app->add_flag("--facts", o->q.facts, "Only events with forbidden facts (oracle annotations)");
  app->add_option(
      "--in-flight-at", o->in_flight_at,
      "Sends of the messages in flight at this time (sent, not yet delivered or dropped)");
  app->add_option("--before", o->before, "Only events causally before this event id");
  app->add_option("--after", o->after, "Only events causally after this event id");
  app->add_option("--knows", o->q.knows, "With --at: what this process knew at that event");
  app->add_option("--at", o->at, "Event id for --knows");
  app->add_option("--limit", o->q.limit, "At most this many events");
  app->add_flag("--json", o->json, "Machine-readable output (the matching trace events)");
  return {
      app, [o] {
        auto& q = o->q;
        const auto time = [](const char* option, const std::string& text) {
          try {
            return explain::parse_duration(text);
          } catch (const std::invalid_argument& e) {
            throw UsageError(std::string("bad ") + option + " " + e.what());
          }
        };
        if (!o->from.empty()) q.from = time("--from", o->from);
        if (!o->to.empty()) q.to = time("--to", o->to);
        if (!o->in_flight_at.empty()) q.in_flight_at = time("--in-flight-at", o->in_flight_at);
        if (o->before) q.before = o->before;
        if (o->after) q.after = o->after;
        if (o->at) q.at = o->at;
        std::vector<std::uint64_t> found;
        const explain::Trace trace = load_trace(o->trace);
        try {
          const explain::CausalGraph graph(trace);
          found = explain::run_query(trace, graph, q);
        } catch (const explain::TraceError& e) {
          throw UsageError(e.what());  // a query naming what the trace lacks
        }
        if (o->json) {
          nlohmann::json events = nlohmann::json::array();
          for (const auto s : found) events.push_back(trace.at(s).line);
          std::cout << nlohmann::json{{"count", found.size()}, {"events", events}}.dump() << '\n';
        } else {
          for (const auto s : found) std::cout << explain::describe_event(trace, s) << '\n';
          std::cout << found.size() << " event(s)\n";
        }
        return found.empty() ? 1 : 0;
      }};
}

}  // namespace seer::cli
