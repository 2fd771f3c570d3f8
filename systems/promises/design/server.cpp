#include "server.hpp"

#include "messages.hpp"
#include "partition.hpp"
#include "partition_store.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/json_fields.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/records.hpp"
#include "promises/model/validate.hpp"

#include <deque>
#include <map>
#include <set>
#include <stdexcept>

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

// What applying a request to a partition produced, once it is safe to answer.
struct Outcome {
  json response;
  std::int64_t now = 0;
};

bool is_debug(Kind kind) {
  return kind == Kind::debug_start || kind == Kind::debug_reset || kind == Kind::debug_tick ||
         kind == Kind::debug_snap || kind == Kind::debug_stop;
}

std::unique_ptr<PartitionStore> make_store(sim::Env& env, const ServerConfig& config,
                                           std::deque<sim::Message>* stash) {
  if (!config.make_store) throw std::invalid_argument("ServerConfig::make_store is required");
  return config.make_store(env, stash);
}

class Server {
 public:
  Server(sim::Env& env, ServerConfig config)
      : env_(env),
        config_(std::move(config)),
        store_(make_store(env, config_, &stash_)),
        life_(config_.deployment->fenced_connections ? env.random() | 1 : 0) {}

  sim::Task<void> run() {
    if (config_.ids) sweeper_ = config_.ids->fresh();
    const sim::Duration every = config_.sweep_every;
    // Servers start their sweeps at different times, as real ones would.
    sim::Time next_sweep =
        every > 0 ? env_.now() + static_cast<sim::Duration>(env_.random() % every) : 0;
    for (;;) {
      std::optional<sim::Message> m;
      if (!stash_.empty()) {
        m = std::move(stash_.front());
        stash_.pop_front();
      } else if (every <= 0) {
        m = co_await env_.receive();
      } else if (const auto wait = next_sweep - env_.now(); wait > 0) {
        m = co_await env_.receive_for(wait);
      }
      if (m) {
        const auto* rq = m->as<ProtocolRequest>();
        if (const auto* c = m->as<ConnectRequest>()) {
          env_.send(m->from, std::make_shared<ConnectReply>(c->call, life_));
        } else if (rq && rq->life != 0 && rq->life != life_) {
          // Sent to an earlier life, which may have executed it: this life must not (seed 28175
          // of final, a task.create executed twice across a restart).
          env_.send(m->from, std::make_shared<ConnectionReset>(rq->call));
        } else if (rq && first_sight(m->id)) {
          // Over HTTP a server never sees one request twice; the network's copies are dropped.
          co_await serve(m->from, *rq);
        }
      }
      if (every > 0 && env_.now() >= next_sweep) {
        co_await sweep();
        next_sweep = env_.now() + every;
      }
    }
  }

 private:
  void reply(sim::ProcessId to, std::uint64_t call, json response, std::int64_t now) {
    env_.send(to, std::make_shared<ProtocolResponse>(call, std::move(response), now));
  }

  std::int64_t local_now() const { return model_time(env_.now(), config_.epoch_ms); }

  // The store's calls, started outside the coroutines that await them: a by-value argument built
  // in a co_await's full expression (the origin's copy, a footprint, a moved State) is kept in
  // the awaiting coroutine's frame, which grew the frames of execute and sweep_partition past
  // malloc's small-block cache (1 KiB), and every such allocation then cost a consolidation of
  // the heap. (Only the simulation's speed: the calls and their order are the same.)
  sim::Task<SharedPartition> start_read(const std::string& origin, bool fresh,
                                        const std::optional<Footprint>& footprint) {
    return store_->read_shared(origin, fresh, footprint);
  }
  sim::Task<SharedPartition> start_read_due(const std::string& origin, std::int64_t now) {
    return store_->read_due_shared(origin, now);
  }
  sim::Task<WriteOutcome> start_write(const std::string& origin, SharedPartition& read,
                                      State& state, std::int64_t clock) {
    return store_->write_shared(origin, std::move(read), std::move(state), clock);
  }

  // Whether a message id is new. The window is bounded so a long-lived server's memory is too:
  // the network's copies arrive within far fewer messages than kSeenWindow.
  bool first_sight(std::uint64_t id) {
    if (!seen_.insert(id).second) return false;
    seen_order_.push_back(id);
    if (seen_order_.size() > kSeenWindow) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
    return true;
  }

  // A request to apply to its origin's partition (a heartbeat: to each of its origins').
  struct Executable {
    std::string origin;                    // empty for a heartbeat
    std::optional<Request> parsed;         // parsed here, or
    std::shared_ptr<const Request> given;  // parsed by the sender (ProtocolRequest::parsed)
    const Request& request() const { return given ? *given : *parsed; }
  };

  // The part of serving that needs no store: a malformed or invalid request, or one that reads no
  // state, is answered here (nullopt). A plain function, so that what it builds stays out of
  // serve's frame (see start_read).
  std::optional<Executable> triage(sim::ProcessId from, const ProtocolRequest& rq) {
    const std::int64_t now = local_now();
    Executable executable;
    if (rq.parsed) {
      // Parsed once, by the sender (seer-resonate's front end, the simulated clients).
      executable.given = rq.parsed;
    } else {
      auto parsed = parse_request(rq.request);
      if (std::holds_alternative<Rejection>(parsed)) {  // malformed: 400, nothing read or written
        State none;
        reply(from, rq.call, apply(none, rq.request, now).response, now);
        return std::nullopt;
      }
      executable.parsed = std::move(std::get<Request>(parsed));
    }
    const Request& request = executable.request();
    const auto kind = kind_name(request.kind);
    if (validate(request) || named_ids(request).empty()) {
      // Invalid (400), or a kind that reads no state (search, schedules, an empty heartbeat):
      // the answer does not depend on σ.
      if (is_debug(request.kind)) {
        reply(from, rq.call,
              envelope(kind, request.head, 400, "debug requests are not served over the network"),
              now);
        return std::nullopt;
      }
      State none;
      reply(from, rq.call, apply(none, request, now).response, now);
      return std::nullopt;
    }
    if (request.kind == Kind::task_heartbeat) return executable;
    const auto ids = named_ids(request);
    std::string origin(origin_of(ids.front()));
    for (const auto& id : ids) {
      if (origin_of(id) != origin) {
        // The design partitions σ by origin; the SDK never sends such a request (spec §10).
        reply(
            from, rq.call,
            envelope(kind, request.head, 400, "the request names promises of more than one origin"),
            now);
        return std::nullopt;
      }
    }
    executable.origin = std::move(origin);
    return executable;
  }

  sim::Task<void> serve(sim::ProcessId from, const ProtocolRequest& rq) {
    const auto executable = triage(from, rq);
    if (!executable) co_return;
    if (executable->request().kind == Kind::task_heartbeat) {
      co_await serve_heartbeat(from, rq.call, executable->request());
      co_return;
    }
    if (auto outcome = co_await execute(executable->origin, executable->request())) {
      reply(from, rq.call, std::move(outcome->response), outcome->now);
    }
  }

  // A heartbeat's entries are independent (spec §10): each origin's part is applied to its
  // partition. The answer is always 200 {}, given only once every part is durable.
  sim::Task<void> serve_heartbeat(sim::ProcessId from, std::uint64_t call, const Request& request) {
    const auto& data = std::get<TaskHeartbeatReq>(request.data);
    auto parts = heartbeat_parts(data);
    std::optional<Outcome> last;
    for (auto& [origin, part] : parts) {
      Request sub{Kind::task_heartbeat, request.head, part};
      last = co_await execute(origin, sub);
      if (!last) co_return;  // the client times out: some leases may not have been extended
    }
    reply(from, call, std::move(last->response), last->now);
  }

  // Applies `request` to its origin's partition and makes the result durable; nullopt if that
  // could not be done (or confirmed) within the budget, in which case nothing is answered.
  sim::Task<std::optional<Outcome>> execute(const std::string& origin, const Request& request) {
    const sim::Time deadline = env_.now() + kServeBudget;
    SharedPartition read;
    // The rows the request can touch (nullopt: the whole partition); the guard is still the
    // origin's revision, so writers of one origin stay serialised.
    const auto footprint = promises::footprint(request);
    while (env_.now() < deadline) {
      if (!read) {
        read = co_await start_read(origin, false, footprint);
        if (!read) continue;
      }
      const Partition& before = *read;
      std::int64_t now = local_now();
      if (config_.variant.partition_clock && before.clock != kNoClock) {
        now = std::max(now, before.clock);
      }
      State state = before.state;
      Step step = apply(state, request, now);
      if (state == before.state) {
        if (!config_.variant.validate_reads) co_return Outcome{std::move(step.response), now};
        // The answer is only as fresh as the read: confirm the revision on the leader.
        auto fresh = co_await start_read(origin, true, footprint);
        if (!fresh) continue;
        if (fresh->revision == read->revision) co_return Outcome{std::move(step.response), now};
        read = std::move(fresh);  // recompute on the latest partition
        continue;
      }
      const std::int64_t clock = config_.variant.partition_clock ? now : kNoClock;
      // Moved, not copied: nothing reads the partition or the state after the write.
      const auto written = co_await start_write(origin, read, state, clock);
      // Unknown: it may have applied, and the client retries.
      if (written == WriteOutcome::kUnknown) co_return std::nullopt;
      if (written == WriteOutcome::kWritten) {
        if (config_.variant.sweep_only_dirty) dirty_.insert(origin);
        deliver(std::move(step.messages));
        co_return Outcome{std::move(step.response), now};
      }
      read.reset();  // someone else wrote the partition first: start again from the latest
    }
    co_return std::nullopt;
  }

  // The step's messages, after the write that emitted them is durable; moved into the messages
  // sent, not copied (the step is not read after).
  void deliver(std::vector<json>&& messages) {
    for (auto& m : messages) {
      auto& address = m["address"].get_ref<std::string&>();
      auto& message = m["message"];
      if (config_.deployment->mailroom != sim::kNoProcess) {
        env_.send(config_.deployment->mailroom,
                  std::make_shared<AddressedMessage>(std::move(address), std::move(message)));
        continue;
      }
      const auto it = config_.deployment->addresses.find(address);
      if (it == config_.deployment->addresses.end() || it->second.empty()) continue;
      const auto& group = it->second;
      const auto to = group[env_.random() % group.size()];
      env_.send(to, std::make_shared<ProtocolMessage>(std::move(message)));
    }
  }

  // debug.tick on every partition the store offers, as an operation of the history.
  sim::Task<void> sweep() {
    const auto origins = co_await store_->sweep_candidates(local_now());
    if (!origins) co_return;
    for (const auto& origin : *origins) {
      if (!config_.variant.sweep_only_dirty) {
        co_await sweep_partition(origin);
      } else if (dirty_.count(origin)) {
        // (A plain statement: g++ 12 mishandles co_await inside a short-circuit condition.)
        const bool due = co_await sweep_partition(origin);
        if (!due) dirty_.erase(origin);  // the bug: what falls due later here is forgotten
      }
    }
  }

  // The sweep's tick of `before` at `now`: the new state and the step, or nullopt if it changed
  // nothing. A plain function, so that the tick and its copy of the state stay out of
  // sweep_partition's frame (see start_read).
  static std::optional<std::pair<State, Step>> tick(const State& before, std::int64_t now) {
    // The tick as parse_request reads the JSON record_tick records: building and parsing the
    // JSON cost more than the tick itself.
    const Request tick{Kind::debug_tick, Head{"sweep", "seer"}, DebugTickReq{now}};
    State state = before;
    Step step = apply(state, tick, now);
    if (state == before) return std::nullopt;
    return std::pair<State, Step>{std::move(state), std::move(step)};
  }

  // {"origin", "request": {kind, head, data}}, built field by field in key order (json_fields.hpp):
  // a sweep records one for every tick that changes a partition.
  void record_tick(const std::string& origin, std::int64_t now) {
    JsonFields head;
    head.add("corrId", "sweep");
    head.add("version", "seer");
    JsonFields data;
    data.add("time", now);
    JsonFields request;
    request.add("data", std::move(data.object));
    request.add("head", std::move(head.object));
    request.add("kind", "debug.tick");
    JsonFields recorded;
    recorded.add("origin", origin);
    recorded.add("request", std::move(request.object));
    config_.history->invoke(sweeper_, "debug.tick", std::move(recorded.object));
  }

  // Whether anything was due (the tick changed the partition).
  sim::Task<bool> sweep_partition(const std::string& origin) {
    // A partial (due-only) read holds what is due at the time asked, so the tick is at that time.
    const std::int64_t asked = local_now();
    auto read = co_await start_read_due(origin, asked);
    if (!read || read->revision == 0) co_return true;  // unknown: keep it
    const Partition& before = *read;
    std::int64_t now = read->due_only ? asked : local_now();
    if (config_.variant.partition_clock && before.clock != kNoClock) {
      now = std::max(now, before.clock);
    }
    // Most ticks find nothing due: then the tick would change nothing, and the partition is
    // neither copied nor stepped.
    if (!tick_finds_due(before.state, now)) co_return false;
    auto ticked = tick(before.state, now);
    if (!ticked) co_return false;  // nothing was due: no effect, no operation
    auto& [state, step] = *ticked;
    auto* history = config_.history;
    if (history) record_tick(origin, now);
    // Moved, not copied: nothing reads the partition or the state after the write.
    const auto written =
        co_await start_write(origin, read, state, config_.variant.partition_clock ? now : kNoClock);
    if (written == WriteOutcome::kUnknown) {
      if (history) {
        history->complete(sweeper_, sim::OpType::kInfo, "debug.tick", nullptr, "timeout");
        sweeper_ = config_.ids->fresh();
      }
      co_return true;
    }
    if (written == WriteOutcome::kConflict) {  // the sweep did not happen; the next one will
      if (history)
        history->complete(sweeper_, sim::OpType::kFail, "debug.tick", nullptr, "conflict");
      co_return true;
    }
    if (history) {
      // The response's data moved, not copied: only the step's messages are read after this.
      JsonFields answered;
      answered.add("data", std::move(step.response["data"]));
      answered.add("now", now);
      answered.add("status", 200);
      history->complete(sweeper_, sim::OpType::kOk, "debug.tick", std::move(answered.object));
    }
    deliver(std::move(step.messages));
    co_return true;
  }

  sim::Env& env_;
  ServerConfig config_;
  std::deque<sim::Message> stash_;  // requests that arrived while the store was being asked
  std::unique_ptr<PartitionStore> store_;
  static constexpr std::size_t kSeenWindow = 100'000;
  std::set<std::uint64_t> seen_;  // message ids: the network's copies share one
  std::deque<std::uint64_t> seen_order_;
  std::set<std::string> dirty_;  // Variant::sweep_only_dirty: origins this life wrote
  int sweeper_ = 0;              // the history process of this server's sweeps
  std::uint64_t life_;           // this process life's number (fenced variants), never 0
};

}  // namespace

sim::Task<void> run_server(sim::Env& env, ServerConfig config) {
  Server server(env, std::move(config));
  co_await server.run();
}

}  // namespace seer::promises::design
