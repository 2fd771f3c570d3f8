// A worker: what the SDK does with an execute message (spec §7, core.js). It acquires the task with
// the version the message carries, then does one of the things a durable function does: finish
// (task.fulfill), start a child and wait for it (task.fence a promise.create, then task.suspend),
// give the task back (task.release), keep it alive for a while (task.heartbeat), or vanish (its
// lease runs out and a sweep gives the task to someone else). A worker is also an SDK instance
// with an application: now and then that application awaits a promise (resonate.get(id).result():
// a listener at the worker's unicast address), and re-registers its listeners every kListenAgain
// until it learns the promise settled, by an unblock or by a registration's answer.
#pragma once

#include "design.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

namespace seer::promises::design {

struct WorkerConfig {
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;
  std::shared_ptr<HistoryIds> ids;
  ResponseObserver observer;
  Variant variant;                     // keep_unanswered_tasks, listen_once
  std::shared_ptr<Awaiting> awaiting;  // bookkeeping for the oracle; may be null
};

sim::Task<void> run_worker(sim::Env& env, WorkerConfig config);

}  // namespace seer::promises::design
