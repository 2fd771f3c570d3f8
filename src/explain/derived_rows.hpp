// Whether a write that changed what a SQL read returned made a copy of that read wrong. A SQL read
// returns rows; a derived write (an enqueue, a cache fill, a summary) carries values from some of
// them. A new row does not make the rows the read returned wrong: the copy is stale only when a
// row it carries from changed or left the answer (an aggregate's row changes with its count), or,
// for a copy of the whole answer (it carries something of every row, and there were at least two),
// when the answer changed at all (docs/explain.md, stale_derived_write).
#pragma once

#include "accesses.hpp"

namespace seer::explain {

// Whether `x` (another process's committed write) changed what the derived write carrying
// `carried` took from the SQL read `r`. With the oracle's row-level tracking the read's rows
// before and after `x` say it; from logs alone, a write whose statements on the read's tables only
// insert is taken to change none of its rows unless the read is an aggregate, its answer filled
// its LIMIT (a new row can push one out), or the copy is of the whole answer. Non-SQL reads: true.
bool changes_carried_rows(const Trace& t, const Access& x, const Access& r,
                          const nlohmann::json& carried);

// Whether the derived write carrying `carried` copies a SQL read's whole answer of one value (a
// count, a sum, an existence flag) as a parameter, about what the read asked about: values like 0
// or 1 name nothing, so a copy of them is found only this way (a recount written back).
bool copies_answer_value(const Trace& t, const Access& r, const nlohmann::json& carried);

// Whether `x` changed what the SQL read `r` returned in a way that matters to the decision `w`
// (a write decided on it, not a copy of it): a row the read returned changed or left the answer
// (an aggregate's row changes with its count), the answer was empty (a check for absence), or a
// row that joined it carries a value the decision writes (a phantom it conflicts with). From logs
// alone, an insert-only `x` matters where the read is an aggregate, filled its LIMIT, was empty,
// or where what `x` inserted carries a value `w` writes. Non-SQL reads: true.
bool changes_what_decided(const Trace& t, const Access& x, const Access& r, const Access& w);

}  // namespace seer::explain
