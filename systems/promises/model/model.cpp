// spec §6 processing order: parse → well-formedness → validation → converge → handler.
#include "promises/model/model.hpp"

#include <stdexcept>
#include <string>

#include "promises/model/footprint.hpp"
#include "promises/model/ops.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/records.hpp"
#include "promises/model/validate.hpp"

namespace seer::promises {

namespace {
using json = nlohmann::json;

ops::Outcome dispatch(ops::Ctx& ctx, const Request& r) {
  switch (r.kind) {
    case Kind::promise_get:
      return ops::promise_get(ctx, std::get<IdReq>(r.data));
    case Kind::promise_create:
      return ops::promise_create(ctx, std::get<PromiseCreateReq>(r.data));
    case Kind::promise_settle:
      return ops::promise_settle(ctx, std::get<PromiseSettleReq>(r.data));
    case Kind::promise_register_callback:
      return ops::register_callback(ctx, std::get<RegisterCallbackReq>(r.data));
    case Kind::promise_register_listener:
      return ops::register_listener(ctx, std::get<RegisterListenerReq>(r.data));
    case Kind::task_get:
      return ops::task_get(ctx, std::get<IdReq>(r.data));
    case Kind::task_create:
      return ops::task_create(ctx, std::get<TaskCreateReq>(r.data));
    case Kind::task_acquire:
      return ops::task_acquire(ctx, std::get<TaskAcquireReq>(r.data));
    case Kind::task_release:
      return ops::task_release(ctx, std::get<TaskReleaseReq>(r.data));
    case Kind::task_suspend:
      return ops::task_suspend(ctx, std::get<TaskSuspendReq>(r.data));
    case Kind::task_fulfill:
      return ops::task_fulfill(ctx, std::get<TaskFulfillReq>(r.data));
    case Kind::task_fence:
      return ops::task_fence(ctx, std::get<TaskFenceReq>(r.data));
    case Kind::task_heartbeat:
      return ops::task_heartbeat(ctx, std::get<TaskHeartbeatReq>(r.data));
    case Kind::task_halt:
      return ops::task_halt(ctx, std::get<IdReq>(r.data));
    case Kind::task_continue:
      return ops::task_continue(ctx, std::get<IdReq>(r.data));
    case Kind::debug_tick:
      return ops::debug_tick(ctx);
    case Kind::debug_snap:
      return ops::debug_snap(ctx);
    case Kind::debug_reset:
      return ops::debug_reset(ctx);
    case Kind::debug_start:
    case Kind::debug_stop:
      return {200, json::object()};
    case Kind::promise_search:
    case Kind::task_search:
    case Kind::schedule_search:
    case Kind::schedule_get:  // module S is not implemented (spec §5.4)
    case Kind::schedule_create:
    case Kind::schedule_delete:
      return ops::error(501, "Not implemented");
  }
  return ops::error(501, "Not implemented");
}
}  // namespace

Step apply(State& state, const Request& request, std::int64_t now) {
  Step step;
  const std::string_view kind = kind_name(request.kind);
  if (const std::optional<std::string> invalid = validate(request)) {
    step.response = envelope(kind, request.head, 400, json(*invalid));
    return step;
  }
  // debug.tick runs at its own data.time (spec §5.5, A12).
  const std::int64_t at =
      request.kind == Kind::debug_tick ? std::get<DebugTickReq>(request.data).time : now;
  ops::Ctx ctx{state, at, step.messages};
  for (const std::string& id : converge_ids(request)) ops::converge(ctx, id);
  ops::Outcome outcome = dispatch(ctx, request);
  const int status = outcome.status;
  step.response = envelope(kind, request.head, status, ops::build_data(std::move(outcome)));
  return step;
}

namespace {
// apply() without its envelope and messages: the same σ' and outcome, its data not built.
ops::Outcome outcome_of(State& state, const Request& request, std::int64_t now) {
  if (std::optional<std::string> invalid = validate(request)) {
    return {400, json(std::move(*invalid))};
  }
  const std::int64_t at =
      request.kind == Kind::debug_tick ? std::get<DebugTickReq>(request.data).time : now;
  std::vector<json> none;
  ops::Ctx ctx{state, at, none, false};
  for (const std::string& id : converge_ids(request)) ops::converge(ctx, id);
  return dispatch(ctx, request);
}
}  // namespace

Answer answer(State& state, const Request& request, std::int64_t now) {
  ops::Outcome outcome = outcome_of(state, request, now);
  const int status = outcome.status;
  return {status, ops::build_data(std::move(outcome))};
}

bool answers(State& state, const Request& request, std::int64_t now, int status, const json& data) {
  const ops::Outcome outcome = outcome_of(state, request, now);
  return outcome.status == status && ops::same_data(outcome, data);
}

bool reads_only(const State& state, const Request& request, std::int64_t now) {
  if (request.kind != Kind::promise_get && request.kind != Kind::task_get) return false;
  // Their handlers read σ; their converge (spec §3.2) writes only a pending promise past its
  // deadline.
  const auto it = state.promises.find(std::get<IdReq>(request.data).id);
  return it == state.promises.end() || it->second.state != PromiseState::pending ||
         now < it->second.timeout_at;
}

bool answers_unchanged(const State& state, const Request& request, std::int64_t now, int status,
                       const json& data) {
  if (!reads_only(state, request, now)) {
    throw std::logic_error("answers_unchanged: a request that may change the state");
  }
  // Not written: reads_only holds (the outcome reads σ in place, so no copy is taken).
  return answers(const_cast<State&>(state), request, now, status, data);
}

void apply_effect(State& state, const Request& request, std::int64_t now) {
  (void)outcome_of(state, request, now);
}

Step apply(State& state, const json& request, std::int64_t now) {
  std::variant<Request, Rejection> parsed = parse_request(request);
  if (const auto* rejection = std::get_if<Rejection>(&parsed)) {
    Step step;
    step.response = envelope(rejection->kind, rejection->head, 400, json(rejection->reason));
    return step;
  }
  return apply(state, std::get<Request>(parsed), now);
}

}  // namespace seer::promises
