// The promises model as a linearizability checker model (`seer check --model promises`), so client
// histories of a promises server (simulated or real) are checked against the spec.
#pragma once

namespace seer::promises {

// Registers the "promises" model with the checker (idempotent).
//
// An operation's f is the request kind; its invocation value is {"request": {kind, head, data}}
// with, optionally, "now" (the time the server applied it) and "origin" (the partition of a
// debug.tick that swept one origin only); its ok completion value is the response
// {"status", "data"} (head ignored), optionally with "now" if only the completion knows it.
//
// The history is checked per origin (spec §10: every id an operation names must share one origin;
// ids without ':' are their own origin), and `now` must not decrease in linearization order (spec
// §3.1). An operation whose `now` is not recorded (an outcome-unknown request: the client never
// heard which time the server used) may take any time the history makes distinguishable: the
// times other responses show, and one on each side of every deadline, lease expiry and retry the
// partition's sweeps could have crossed. See docs/checkers.md.
void register_history_model();

}  // namespace seer::promises
