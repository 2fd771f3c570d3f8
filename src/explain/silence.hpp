// A lost response read from the message flow, for requests whose answer is a message of its own
// (not a reply carrying the request's number): the requester gave up waiting (its receive timeout
// fired) while the answer was already on its way, or after its request had taken effect, and then
// wrote on that silence instead of asking again (docs/explain.md, lost_response, how
// `acted_on_silence`); or its request took effect only after it gave up, and it had meanwhile
// compensated or retried (how `took_effect_after_give_up`).
#pragma once

#include "causes.hpp"

#include <vector>

namespace seer::explain {

// What a request asked, without its bookkeeping (request numbers, attempts): two requests that ask
// the same are a retry (causes_faults.cpp).
nlohmann::json asked(const Trace& t, std::uint64_t send);
// Whether two payloads share a name (a string of 3 or more characters that is not the statement's
// text, the operation or a status); numbers alone do not (causes_faults.cpp).
bool shares_a_name(const nlohmann::json& a, const nlohmann::json& b);

// A word with a digit (an id: a round, an order) that the strings of `asked` and of `written` both
// carry (not a statement's text, an operation or a status; not `own`, the requester's name):
// "r-28" in "sum shard_b r-28" and "report/r-28". Empty if none (partial_answer.cpp).
std::string shared_id_word(const nlohmann::json& asked, const nlohmann::json& written,
                           const std::string& own);

// The lost_response causes of requesters that acted on silence.
std::vector<Cause> detect_silent_give_ups(const DetectContext& c);

// The lost_response causes of requesters that gave up on a read's answer and wrote, about what
// they had asked, from the answers that did arrive (partial_answer.cpp).
std::vector<Cause> detect_writes_without_answer(const DetectContext& c);

}  // namespace seer::explain
