// spec §5.1: promise handlers. Every id they name has been converged (spec §3.2) before they run,
// so the stored promise equals its view here.
#include "promises/model/ops.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

namespace seer::promises::ops {

using json = nlohmann::json;

// PG1–PG2
Outcome promise_get(Ctx& ctx, const IdReq& r) {
  const auto it = ctx.state.promises.find(r.id);
  if (it == ctx.state.promises.end()) return error(404, "Promise not found");
  return promise_ok(it->second);
}

// PC1–PC5
Outcome promise_create(Ctx& ctx, const PromiseCreateReq& r) {
  return create(ctx, r);
}

// PS1–PS3
Outcome promise_settle(Ctx& ctx, const PromiseSettleReq& r) {
  return settle_request(ctx, r);
}

// RC1–RC5: the callback is recorded only while both sides are pending; never resumes anything.
Outcome register_callback(Ctx& ctx, const RegisterCallbackReq& r) {
  const auto awaited = ctx.state.promises.find(r.awaited);
  if (awaited == ctx.state.promises.end()) return error(404, "Awaited promise not found");
  const auto awaiter = ctx.state.promises.find(r.awaiter);
  if (awaiter == ctx.state.promises.end()) return error(422, "Awaiter promise not found");
  if (!has_target(awaiter->second.tags)) return error(422, "Awaiter has no address");
  if (!is_settled(awaited->second) && !is_settled(awaiter->second))
    awaited->second.callbacks.add(r.awaiter);
  return promise_ok(awaited->second);
}

// RL1–RL4: only external promises take listeners (checked before the state).
Outcome register_listener(Ctx& ctx, const RegisterListenerReq& r) {
  const auto awaited = ctx.state.promises.find(r.awaited);
  if (awaited == ctx.state.promises.end()) return error(404, "Promise not found");
  if (!is_external(awaited->second.tags)) return error(422, "Awaited promise is not awaitable");
  if (!is_settled(awaited->second)) awaited->second.listeners.add(r.address);
  return promise_ok(awaited->second);
}

}  // namespace seer::promises::ops
