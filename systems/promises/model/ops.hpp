// Internal to the model: one step in progress, the shared procedures of spec §4 and the handlers
// of spec §5. Not part of the public API (see model.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "promises/model/request.hpp"
#include "promises/model/state.hpp"

namespace seer::promises::ops {

// A handler's answer: status and response `data` (spec §5 tables). The usual shapes are described,
// not built (`form`): the caller builds `data` (build_data) or compares it with a response it was
// given (same_data), which the history checker does at every step of its search, where building a
// record only to compare it once and free it cost more than the step. A described answer reads σ
// when built or compared: nothing may change σ in between (the caller does either at once).
struct Outcome {
  enum class Form {
    json,     // `data` as it is
    text,     // `text` (an error's message)
    empty,    // {}
    promise,  // {promise: Record(*promise)}, or of view(*promise, *view_at)
    task,     // {task: TaskRecord(*task)}
    task_ok,  // {preload: data, promise: Record(*promise), task: TaskRecord(*task)}
  };
  int status = 200;
  nlohmann::json data;
  Form form = Form::json;
  const char* text = nullptr;
  const Promise* promise = nullptr;
  std::optional<std::int64_t> view_at;
  const Task* task = nullptr;
};

// The response data an outcome describes, built (moved out of it for Form::json).
nlohmann::json build_data(Outcome&& outcome);
// Whether `data` is what build_data(outcome) would give, without building it (equal as JSON
// values, numbers compared as nlohmann compares them).
bool same_data(const Outcome& outcome, const nlohmann::json& data);

// One step: the state it mutates, its time (data.time for debug.tick) and its messages, in order.
struct Ctx {
  State& state;
  std::int64_t now;
  std::vector<nlohmann::json>& out;
  // false: `out` stays empty (answer(): a caller that reads only σ and the response's data).
  bool record_messages = true;
};

Outcome error(int status, const char* text);
// 200 {promise: Record(p)}; `p` is σ's (read when the outcome is built).
Outcome promise_ok(const Promise& p);
// 200 {promise: Record(view(p, now))}, `p` σ's.
Outcome promise_ok_view(const Promise& p, std::int64_t now);

// ---- spec §4 shared procedures (procedures.cpp) ----
Promise& promise_at(Ctx& ctx, const std::string& id);
Task* find_task(Ctx& ctx, const std::string& id);
// Inserts a new promise (pending, or born expired: spec PC2/TC6) with the next seq.
Promise& insert_promise(Ctx& ctx, const PromiseCreateReq& c, bool expired);
void emit_execute(Ctx& ctx, const std::string& id);
// Task back to `pending` with a fresh retry and an execute message (TR1, TK3, sweep release).
void release_to_pending(Ctx& ctx, Task& task);
void settle(Ctx& ctx, const std::string& id, PromiseState state, const Value& value,
            std::int64_t at);
void fulfil(Ctx& ctx, const std::string& id);
void resume(Ctx& ctx, const std::string& id);
void notify(Ctx& ctx, const std::string& id);
void converge(Ctx& ctx, const std::string& id);
nlohmann::json preload(Ctx& ctx, const std::string& id);
// CREATE and SETTLE_REQ; data is {promise: record} on 200.
Outcome create(Ctx& ctx, const PromiseCreateReq& c);
Outcome settle_request(Ctx& ctx, const PromiseSettleReq& s);

// ---- spec §5.1 (promises_ops.cpp) ----
Outcome promise_get(Ctx& ctx, const IdReq& r);
Outcome promise_create(Ctx& ctx, const PromiseCreateReq& r);
Outcome promise_settle(Ctx& ctx, const PromiseSettleReq& r);
Outcome register_callback(Ctx& ctx, const RegisterCallbackReq& r);
Outcome register_listener(Ctx& ctx, const RegisterListenerReq& r);

// ---- spec §5.2 (tasks_ops.cpp) ----
Outcome task_get(Ctx& ctx, const IdReq& r);
Outcome task_create(Ctx& ctx, const TaskCreateReq& r);
Outcome task_acquire(Ctx& ctx, const TaskAcquireReq& r);
Outcome task_release(Ctx& ctx, const TaskReleaseReq& r);
Outcome task_suspend(Ctx& ctx, const TaskSuspendReq& r);
Outcome task_fulfill(Ctx& ctx, const TaskFulfillReq& r);
Outcome task_fence(Ctx& ctx, const TaskFenceReq& r);
Outcome task_heartbeat(Ctx& ctx, const TaskHeartbeatReq& r);
Outcome task_halt(Ctx& ctx, const IdReq& r);
Outcome task_continue(Ctx& ctx, const IdReq& r);

// ---- spec §5.5 (debug_ops.cpp) ----
Outcome debug_tick(Ctx& ctx);  // ctx.now is data.time
Outcome debug_snap(Ctx& ctx);
Outcome debug_reset(Ctx& ctx);

}  // namespace seer::promises::ops
