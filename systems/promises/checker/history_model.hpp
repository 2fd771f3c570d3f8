// The promises model as a linearizability checker model (`seer check --model promises`), so client
// histories of a promises server (simulated or real) are checked against the spec, key by key.
#pragma once

namespace seer::promises {

// Registers the "promises" model with the checker (idempotent). An operation's f is the request
// kind (promise.get, promise.create, promise.settle, promise.register_listener: the kinds that
// touch one promise, so the history is checked per promise id, spec §10); its invocation value is
// {"request": {kind, head, data}, "now": N} where `now` is the time the server applied it, and its
// ok completion value is the response ({status, data}; head is ignored). See docs/checkers.md.
void register_history_model();

}  // namespace seer::promises
