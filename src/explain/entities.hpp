// Entities: the application objects a run is about (a key, a file, an invoice number, a row). The
// violation message names some; an event touches one when its data (keys, labels, parameters,
// values, rows, and the oracle's record of them) names it. Used by `explain` to anchor its story
// and by `query --key`.
#pragma once

#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace seer::explain {

// The identifiers a violation message names: bracketed tags ("[22,1]"), words with a digit
// ("obj-3", "wf:1/t2", "5"), quoted strings, and any other word that is a whole key, label or
// string value somewhere in the trace's data ("counter").
std::vector<std::string> entities_named(const std::string& message, const Trace& trace);

// The entities the trace's violation names, for comparing with values of the trace's data: those
// its check listed (Finding::entities), then every identifier and word its message names (as
// entities_named finds them, without checking plain words against the data). Empty without a
// violation.
std::set<std::string> violation_entities(const Trace& trace);
// The entities the violation is about, most specific first: those its check listed, or, when it
// listed none, those its message names. A rule that links events through the violated entity
// uses these: a message's other words ("run by worker") name who took part, not what broke.
std::set<std::string> checked_entities(const Trace& trace);

// Whether `data` (a payload, facts or a field's value) names `entity`. Strings match whole or as a
// path component ("files/obj-3" names "obj-3"; "wf:1" is named by "wf"); numbers match only
// numeric entities, and never in bookkeeping fields (request numbers, serials, revisions, times).
bool data_names(const nlohmann::json& data, const std::string& entity);
// Whether `data` names any of `entities` (data_names).
bool data_names_any(const nlohmann::json& data, const std::set<std::string>& entities);

// Whether an object's key is data rather than a field name: it holds a digit ("i-2-3", "obj-7").
// A map keyed by id ({"cart": {"i-2-3": {...}}}) names its items only in its keys.
bool key_is_data(const std::string& key);

// Whether the string `s` names `entity` whole or as a path component.
bool string_names(const std::string& s, const std::string& entity);

// Whether the event itself names `entity`: its key, payload, value, or the oracle's facts about it.
bool event_names(const TraceEvent& e, const std::string& entity);
// Whether the event names any of `entities` (event_names).
bool event_names_any(const TraceEvent& e, const std::set<std::string>& entities);

// Every event that touches `entity`: the events naming it, the deliveries and drops of messages
// whose send names it, and the replies (and their deliveries) to requests that name it.
std::set<std::uint64_t> events_touching(const Trace& trace, const std::string& entity);

}  // namespace seer::explain
