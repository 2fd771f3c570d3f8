#include "native.hpp"

#include "messages.hpp"
#include "promises/concrete/sql_rows.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/records.hpp"
#include "promises/model/validate.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace seer::promises::design {

namespace {

using json = nlohmann::json;
using services::SqlStatement;

// The outbox (postgres-native/README.md, "The outbox and its dequeue"): `id` is the emission
// order; at most one execute row per task.
constexpr const char* kOutboxSchema =
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
    "address TEXT NOT NULL, origin TEXT NOT NULL, task_id TEXT, version INTEGER, promise TEXT, "
    "message TEXT NOT NULL);"
    "CREATE INDEX outbox_by_address ON outbox (address, kind, id);"
    "CREATE INDEX outbox_execute ON outbox (task_id) WHERE kind = 'execute';";
constexpr std::int64_t kDequeueBatch = 100;       // the SDK dequeues 100 rows a call
constexpr std::size_t kMaxOriginsPerSweep = 100;  // process_timeouts(max_origins DEFAULT 100)
constexpr sim::Duration kCommitLatency = sim::milliseconds(2);
constexpr sim::Duration kNodeCallTimeout = kRequestTimeout;

// Node -> database: one of the SDK network's calls other than resonate_rpc, one transaction:
// "process_timeouts", or "dequeue" (dequeue_execute and dequeue_unblock of each address).
// Variant::unlocked_sweep: "sweep_read" (the due origins' rows) and "sweep_write" (`body`: the
// statements and the addresses they write outbox rows for).
struct NativeCall : sim::Payload {
  NativeCall(std::uint64_t c, std::string f, std::vector<std::string> a, json b = nullptr)
      : call(c), function(std::move(f)), addresses(std::move(a)), body(std::move(b)) {}
  std::uint64_t call;
  std::string function;
  std::vector<std::string> addresses;
  json body;
  std::string_view type() const override { return "native_call"; }
  json to_json() const override {
    json j = {{"call", call}, {"function", function}, {"addresses", addresses}};
    if (!body.is_null()) j["body"] = body;
    return j;
  }
};
struct NativeReply : sim::Payload {
  NativeReply(std::uint64_t c, json r) : call(c), result(std::move(r)) {}
  std::uint64_t call;
  json result;
  std::string_view type() const override { return "native_reply"; }
  json to_json() const override { return {{"call", call}, {"result", result}}; }
};
// Database -> a node that LISTENs: a NOTIFY on the channel of `address`, sent at the commit of a
// transaction that inserted outbox rows for it. Folded per transaction, and lost like any message.
struct Notify : sim::Payload {
  explicit Notify(std::string a) : address(std::move(a)) {}
  std::string address;
  std::string_view type() const override { return "notify"; }
  json to_json() const override { return {{"address", address}}; }
};

json statements_to_json(const std::vector<SqlStatement>& steps) {
  json out = json::array();
  for (const auto& st : steps) {
    json j = {{"sql", st.sql}, {"params", st.params}};
    if (st.expect_changes) j["expect_changes"] = *st.expect_changes;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<SqlStatement> statements_from_json(const json& steps) {
  std::vector<SqlStatement> out;
  for (const auto& j : steps) {
    SqlStatement st{j["sql"].get<std::string>(), j["params"]};
    if (j.contains("expect_changes")) st.expect_changes = j["expect_changes"].get<std::int64_t>();
    out.push_back(std::move(st));
  }
  return out;
}

std::int64_t lock_clock(const concrete::StoredOrigin& stored, std::int64_t wall) {
  return stored.clock == concrete::kNoClock ? wall : std::max(wall, stored.clock);
}

json tick_request(std::int64_t at) {
  return {{"kind", "debug.tick"},
          {"head", {{"corrId", "sweep"}, {"version", "seer"}}},
          {"data", {{"time", at}}}};
}

bool is_debug(Kind kind) {
  return kind == Kind::debug_start || kind == Kind::debug_reset || kind == Kind::debug_tick ||
         kind == Kind::debug_snap || kind == Kind::debug_stop;
}

// The step's messages as outbox rows, in emission order; an execute replaces the task's previous
// execute row. Collects the addresses to notify.
void outbox_rows(const std::string& origin, const std::vector<json>& messages,
                 std::vector<SqlStatement>& out, std::set<std::string>& addresses) {
  for (const auto& m : messages) {
    const auto address = m["address"].get<std::string>();
    const auto& message = m["message"];
    if (message.value("kind", "") == "execute") {
      const auto& task = message["data"]["task"];
      out.push_back({"DELETE FROM outbox WHERE kind = 'execute' AND task_id = ?1",
                     json::array({task["id"]})});
      out.push_back(
          {"INSERT INTO outbox (kind, address, origin, task_id, version, message) VALUES "
           "('execute', ?1, ?2, ?3, ?4, ?5)",
           json::array({address, origin, task["id"], task["version"], message.dump()})});
    } else {
      out.push_back(
          {"INSERT INTO outbox (kind, address, origin, promise, message) VALUES "
           "('unblock', ?1, ?2, ?3, ?4)",
           json::array(
               {address, origin, message["data"]["promise"].value("id", ""), message.dump()})});
    }
    addresses.insert(address);
  }
}

// What survives the database process's crashes (its disk and the oracle's notes).
struct DatabaseShared {
  std::shared_ptr<services::SqlDatabase> db;
  std::optional<json> pending;        // the transaction waiting for its commit instant
  std::set<std::uint64_t> seen;       // message ids taken (the network's copies share one)
  std::uint64_t serial = 0;           // numbers transactions for the oracle's read tracking
  std::vector<sim::ProcessId> nodes;  // who LISTENs (every node, on every channel)
  // The oracle's facts of each reply (tracing only), as the SQL service gives its replies: what
  // the call's transaction read and wrote, and which other reads its commit overtook. The reply
  // is held so that its address is not reused while the trace may still name it.
  std::map<const sim::Payload*, std::pair<sim::PayloadPtr, json>> facts;
};

struct DatabaseConfig {
  Variant variant;
  sim::Simulator* sim = nullptr;
  sim::HistoryRecorder* history = nullptr;
  std::shared_ptr<HistoryIds> ids;
  std::shared_ptr<DatabaseShared> shared;
};

class Database {
 public:
  Database(sim::Env& env, DatabaseConfig config)
      : env_(env),
        config_(std::move(config)),
        sim_(*config_.sim),
        shared_(*config_.shared),
        name_(env.name_of(env.self())),
        life_(env.random() | 1) {}

  sim::Task<void> run() {
    if (shared_.pending) {  // restarted: the transaction in its commit window never committed
      sim_.note("crash_dropped_transaction", std::move(*shared_.pending));
      shared_.pending.reset();
    }
    if (config_.ids) sweeper_ = config_.ids->fresh();
    for (;;) {
      const auto m = co_await env_.receive();
      if (const auto* c = m.as<ConnectRequest>()) {
        env_.send(m.from, std::make_shared<ConnectReply>(c->call, life_));
        continue;
      }
      const auto* rq = m.as<ProtocolRequest>();
      const auto* nc = m.as<NativeCall>();
      if (!rq && !nc) continue;
      if (rq && rq->life != 0 && rq->life != life_) {
        // A session of an earlier life: it ended with that life, uncommitted work rolled back.
        env_.send(m.from, std::make_shared<ConnectionReset>(rq->call));
        continue;
      }
      if (!shared_.seen.insert(m.id).second) continue;
      std::string label = rq ? "rpc" : nc->function;
      if (rq && rq->request.is_object()) label = rq->request.value("kind", label);
      requester_ = sim_.tracing() ? env_.name_of(m.from) : std::string();
      shared_.pending = json{{"name", name_}, {"label", label}};
      co_await env_.sleep(kCommitLatency);  // a crash here drops the transaction
      shared_.pending.reset();
      serial_ = ++shared_.serial;
      facts_ = {{"name", name_},
                {"label", label},
                {"serial", serial_},
                {"committed", true},
                {"statements", json::array()},
                {"overtook", json::array()}};
      sim::PayloadPtr reply;
      if (rq) {
        auto [response, now] = rpc(rq->request);
        reply = std::make_shared<ProtocolResponse>(rq->call, std::move(response), now);
      } else if (nc->function == "process_timeouts") {
        reply = std::make_shared<NativeReply>(nc->call, process_timeouts());
      } else if (nc->function == "sweep_read") {
        reply = std::make_shared<NativeReply>(nc->call, sweep_read());
      } else if (nc->function == "sweep_write") {
        reply = std::make_shared<NativeReply>(nc->call, sweep_write(nc->body));
      } else {
        reply = std::make_shared<NativeReply>(nc->call, dequeue(nc->addresses));
      }
      facts_["commit_index"] = shared_.db->committed().size();
      if (facts_["overtook"].empty()) facts_.erase("overtook");
      if (sim_.service_fault("lost_response",
                             env_.random() % 1'000'000 < sim_.faults().lost_response_ppm)) {
        sim_.note("lost_response", std::move(facts_));
      } else {
        if (sim_.tracing()) shared_.facts[reply.get()] = {reply, std::move(facts_)};
        env_.send(m.from, std::move(reply));
      }
      notify();
    }
  }

 private:
  std::int64_t wall() const { return model_time(env_.now()); }

  // One call is one transaction of the concrete target; here it may take several SQLite ones,
  // run at one instant, all under the call's serial. The oracle's facts collect them. A read
  // under the origin's lock (`locked`) is not tracked: nothing can overtake it before the call's
  // own write, so only the lock-free reads (Variant::unlocked_sweep) are the oracle's to watch.
  sql::Outcome transact(const std::vector<SqlStatement>& steps, const std::string& label,
                        bool locked = false) {
    shared_.db->track(sim_.tracing() && !locked);
    auto out = shared_.db->execute(steps, label, serial_, requester_);
    if (!sim_.tracing()) return out;
    if (out.accesses.is_array()) {
      for (const auto& a : out.accesses) facts_["statements"].push_back(a);
    }
    for (const auto& o : shared_.db->overtaken()) {
      if (o.value("serial", std::uint64_t{0}) != serial_) facts_["overtook"].push_back(o);
    }
    if (!out.committed) facts_["committed"] = false;
    facts_["rows_changed"] = facts_.value("rows_changed", std::int64_t{0}) + out.rows_changed;
    if (label.rfind("write ", 0) == 0 || label.rfind("clock ", 0) == 0 || label == "dequeue") {
      facts_["label"] = label;
    }
    return out;
  }

  sql::Outcome must(const std::vector<SqlStatement>& steps, const std::string& label,
                    bool locked = false) {
    auto out = transact(steps, label, locked);
    if (!out.committed) {
      throw std::runtime_error("promises native: " + label + ": " + out.error);
    }
    return out;
  }

  // The origin's rows the request can touch (whole if its footprint is unbounded), under its lock.
  concrete::StoredOrigin read(const std::string& origin,
                              const std::optional<Footprint>& footprint) {
    const auto steps =
        footprint ? concrete::read_rows(origin, *footprint) : concrete::read_origin(origin);
    const auto r = must(steps, "read " + origin, true);
    return footprint ? concrete::parse_rows(r.results) : concrete::parse_origin(r.results);
  }

  // The rows that differ and the step's outbox rows, or (nothing changed) only the origin's
  // clock, which _lock_origin stores for every request.
  void write(const std::string& origin, const concrete::StoredOrigin& before, const State& after,
             std::int64_t now, const std::vector<json>& messages) {
    std::vector<SqlStatement> steps;
    std::string label;
    if (after == before.state) {
      label = "clock " + origin;
      if (before.revision == 0) {
        steps.push_back({"INSERT INTO origins (origin, revision, clock) VALUES (?1, 1, ?2)",
                         json::array({origin, now})});
      } else {
        steps.push_back(
            {"UPDATE origins SET clock = ?2 WHERE origin = ?1", json::array({origin, now})});
      }
    } else {
      label = "write " + origin;
      steps = concrete::write_origin(origin, before, after, now);
    }
    outbox_rows(origin, messages, steps, notify_);
    must(steps, label);
  }

  std::pair<json, std::int64_t> rpc(const json& body) {
    const std::int64_t now = wall();
    auto parsed = parse_request(body);
    if (std::holds_alternative<Rejection>(parsed)) {  // RS400 from _parse: nothing written
      State none;
      return {apply(none, body, now).response, now};
    }
    const Request& request = std::get<Request>(parsed);
    const auto kind = kind_name(request.kind);
    if (validate(request) || named_ids(request).empty()) {
      if (is_debug(request.kind)) {
        return {envelope(kind, request.head, 400, "debug requests are not served over the network"),
                now};
      }
      State none;
      return {apply(none, request, now).response, now};
    }
    if (request.kind == Kind::task_heartbeat) return heartbeat(request, now);
    const auto ids = named_ids(request);
    const std::string origin(origin_of(ids.front()));
    for (const auto& id : ids) {
      if (origin_of(id) != origin) {
        return {
            envelope(kind, request.head, 400, "the request names promises of more than one origin"),
            now};
      }
    }
    const auto footprint = promises::footprint(request);
    const auto stored = read(origin, footprint);
    const std::int64_t at = lock_clock(stored, now);
    State state = stored.state;
    Step step = apply(state, request, at);
    write(origin, stored, state, at, step.messages);
    return {std::move(step.response), at};
  }

  // A heartbeat locks its origins in sorted order, takes the greatest `now` of them and applies
  // each origin's part at it.
  std::pair<json, std::int64_t> heartbeat(const Request& request, std::int64_t wall_now) {
    const auto& data = std::get<TaskHeartbeatReq>(request.data);
    const auto parts = heartbeat_parts(data);
    std::map<std::string, concrete::StoredOrigin> stored;
    std::int64_t at = wall_now;
    for (const auto& [origin, part] : parts) {
      const Request sub{Kind::task_heartbeat, request.head, part};
      stored[origin] = read(origin, promises::footprint(sub));
      at = lock_clock(stored[origin], at);
    }
    json response;
    for (const auto& [origin, part] : parts) {
      const Request sub{Kind::task_heartbeat, request.head, part};
      State state = stored[origin].state;
      Step step = apply(state, sub, at);
      write(origin, stored[origin], state, at, step.messages);
      response = std::move(step.response);
    }
    return {std::move(response), at};
  }

  // process_timeouts(): the origins with something due at the wall clock, in sorted order, each
  // under its lock at T = max(wall, its clock), the model's sweep restricted to it. The advisory
  // lock is implied: the whole call is one transaction, and transactions run one at a time.
  json process_timeouts() {
    const std::int64_t now = wall();
    auto origins =
        concrete::parse_due_origins(must({concrete::due_origins(now)}, "due", true).results[0]);
    if (origins.size() > kMaxOriginsPerSweep) origins.resize(kMaxOriginsPerSweep);
    int swept = 0;
    for (const auto& origin : origins) {
      const auto stored = concrete::parse_rows(
          must(concrete::read_due(origin, now), "read due " + origin, true).results);
      const std::int64_t at = lock_clock(stored, now);
      const json tick = tick_request(at);
      State state = stored.state;
      Step step = apply(state, tick, at);
      if (state == stored.state) {
        write(origin, stored, state, at, {});
        continue;
      }
      record_tick(origin, tick, step, at, true);
      write(origin, stored, state, at, step.messages);
      ++swept;
    }
    return swept;
  }

  // A sweep that changed an origin is an operation of the history (debug.tick with its origin),
  // recorded at its commit: the database is the one process that knows it committed.
  void record_tick(const std::string& origin, const json& tick, const Step& step, std::int64_t at,
                   bool ok) {
    const json data = step.response.contains("data") ? step.response.at("data") : json();
    auto* history = config_.history;
    if (!history) return;
    history->invoke(sweeper_, "debug.tick", {{"request", tick}, {"origin", origin}});
    if (ok) {
      history->complete(sweeper_, sim::OpType::kOk, "debug.tick",
                        {{"status", 200}, {"data", data}, {"now", at}});
    } else {
      history->complete(sweeper_, sim::OpType::kFail, "debug.tick", nullptr, "error");
    }
  }

  // Variant::unlocked_sweep, the first half: the due origins and their due rows, read without
  // their locks, with the wall clock (the node steps them and writes in another statement).
  json sweep_read() {
    const std::int64_t now = wall();
    auto origins =
        concrete::parse_due_origins(must({concrete::due_origins(now)}, "due").results[0]);
    if (origins.size() > kMaxOriginsPerSweep) origins.resize(kMaxOriginsPerSweep);
    json out = {{"wall", now}, {"origins", json::array()}};
    for (const auto& origin : origins) {
      out["origins"].push_back(
          {{"origin", origin},
           {"rows", must(concrete::read_due(origin, now), "read due " + origin).results}});
    }
    return out;
  }

  // The second half: the rows as the node computed them, whatever committed since the read.
  json sweep_write(const json& body) {
    const auto out = transact(statements_from_json(body["statements"]),
                              "write " + body["origin"].get<std::string>());
    if (out.committed) {
      for (const auto& a : body["addresses"]) notify_.insert(a.get<std::string>());
    }
    return {{"committed", out.committed}};
  }

  // dequeue_execute and dequeue_unblock of each address: the oldest rows, deleted by this
  // transaction, so a node that crashes (or loses the reply) before delivering loses them.
  json dequeue(const std::vector<std::string>& addresses) {
    std::vector<SqlStatement> steps;
    static const char* kKinds[] = {"execute", "unblock"};
    for (const auto& address : addresses) {
      for (const char* kind : kKinds) {
        const json params = json::array({address, kind, kDequeueBatch});
        steps.push_back(
            {"SELECT id, message FROM outbox WHERE address = ?1 AND kind = ?2 ORDER "
             "BY id LIMIT ?3",
             params});
        steps.push_back(
            {"DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE address = "
             "?1 AND kind = ?2 ORDER BY id LIMIT ?3)",
             params});
      }
    }
    const auto r = must(steps, "dequeue");
    json out = json::array();
    std::size_t i = 0;
    for (const auto& address : addresses) {
      for (std::size_t k = 0; k < 2; ++k, i += 2) {
        for (const auto& row : r.results[i]) {
          out.push_back(
              {{"address", address}, {"message", json::parse(row[1].get<std::string>())}});
        }
      }
    }
    return out;
  }

  // NOTIFY at commit: every node LISTENs on every address's channel.
  void notify() {
    for (const auto& address : notify_) {
      for (const auto node : shared_.nodes) env_.send(node, std::make_shared<Notify>(address));
    }
    notify_.clear();
  }

  sim::Env& env_;
  DatabaseConfig config_;
  sim::Simulator& sim_;
  DatabaseShared& shared_;
  std::string name_;
  std::uint64_t life_;
  int sweeper_ = 0;
  std::string requester_;
  std::set<std::string> notify_;  // the addresses the committed transaction wrote rows for
  std::uint64_t serial_ = 0;      // the call's, for the oracle
  json facts_;                    // the call's, for the oracle
};

// A node: the SDK's PostgresNetwork in one process. On a NOTIFY (of the addresses it names) and
// every kNativeTick (all addresses), it drains: process_timeouts(), then the outbox rows, each
// delivered to a process at its address.
struct NodeConfig {
  Variant variant;
  std::shared_ptr<const Deployment> deployment;
  sim::HistoryRecorder* history = nullptr;
  std::shared_ptr<HistoryIds> ids;
};

class Node {
 public:
  Node(sim::Env& env, NodeConfig config)
      : env_(env), config_(std::move(config)), next_call_(env.random()) {}

  sim::Task<void> run() {
    if (config_.ids) sweeper_ = config_.ids->fresh();
    sim::Time next_tick = env_.now() + static_cast<sim::Duration>(env_.random() % kNativeTick);
    for (;;) {
      if (wake_.empty()) {
        if (const auto wait = next_tick - env_.now(); wait > 0) {
          auto m = co_await env_.receive_for(wait);
          if (const auto* n = m ? m->as<Notify>() : nullptr) wake_.insert(n->address);
        }
      }
      std::vector<std::string> addresses;
      if (env_.now() >= next_tick) {
        for (const auto& [address, processes] : config_.deployment->addresses) {
          addresses.push_back(address);
        }
        next_tick = env_.now() + kNativeTick;
      } else {
        addresses.assign(wake_.begin(), wake_.end());
      }
      wake_.clear();
      if (!addresses.empty()) co_await drain(std::move(addresses));
    }
  }

 private:
  sim::Task<void> drain(std::vector<std::string> addresses) {
    if (config_.variant.unlocked_sweep) {
      co_await unlocked_sweep();
    } else {
      co_await call("process_timeouts", {});
    }
    const auto rows = co_await call("dequeue", std::move(addresses));
    if (!rows) co_return;  // taken from the outbox, or not: either way not delivered here
    const auto& routes = config_.deployment->addresses;
    for (const auto& row : *rows) {
      const auto it = routes.find(row["address"].get<std::string>());
      if (it == routes.end() || it->second.empty()) continue;
      const auto to = it->second[env_.random() % it->second.size()];
      env_.send(to, std::make_shared<ProtocolMessage>(row["message"]));
    }
  }

  // Variant::unlocked_sweep: process_timeouts() without the origins' locks, its statements
  // interleaved with other sessions' transactions: the due rows are read, the sweep stepped at
  // T = max(wall, clock), and each origin's rows written as computed, with no guard.
  sim::Task<void> unlocked_sweep() {
    const auto read = co_await call("sweep_read", {});
    if (!read) co_return;
    const std::int64_t wall = (*read)["wall"].get<std::int64_t>();
    for (const auto& o : (*read)["origins"]) {
      const auto origin = o["origin"].get<std::string>();
      const auto stored = concrete::parse_rows(o["rows"]);
      const std::int64_t at = lock_clock(stored, wall);
      const json tick = tick_request(at);
      State state = stored.state;
      const Step step = apply(state, tick, at);
      if (state == stored.state) continue;
      auto steps = concrete::write_origin(origin, stored, state, at);
      steps.front() = SqlStatement{
          "UPDATE origins SET revision = revision + 1, clock = max(clock, ?2) WHERE origin = ?1",
          json::array({origin, at}), 1};
      std::set<std::string> addresses;
      outbox_rows(origin, step.messages, steps, addresses);
      auto* history = config_.history;
      if (history) history->invoke(sweeper_, "debug.tick", {{"request", tick}, {"origin", origin}});
      const json body = {
          {"origin", origin}, {"statements", statements_to_json(steps)}, {"addresses", addresses}};
      const auto written = co_await call("sweep_write", {}, body);
      if (!history) continue;
      if (!written) {
        history->complete(sweeper_, sim::OpType::kInfo, "debug.tick", nullptr, "timeout");
        sweeper_ = config_.ids->fresh();
      } else if (!(*written)["committed"].get<bool>()) {
        history->complete(sweeper_, sim::OpType::kFail, "debug.tick", nullptr, "error");
      } else {
        const json data = step.response.contains("data") ? step.response.at("data") : json();
        history->complete(sweeper_, sim::OpType::kOk, "debug.tick",
                          {{"status", 200}, {"data", data}, {"now", at}});
      }
    }
  }

  sim::Task<std::optional<json>> call(std::string function, std::vector<std::string> addresses,
                                      json body = nullptr) {
    const std::uint64_t call = next_call_++;
    env_.send(config_.deployment->sql,
              std::make_shared<NativeCall>(call, std::move(function), std::move(addresses),
                                           std::move(body)));
    const sim::Time deadline = env_.now() + kNodeCallTimeout;
    for (;;) {
      const sim::Duration left = deadline - env_.now();
      if (left <= 0) co_return std::nullopt;
      auto m = co_await env_.receive_for(left);
      if (!m) co_return std::nullopt;
      if (const auto* n = m->as<Notify>()) {
        wake_.insert(n->address);
      } else if (const auto* r = m->as<NativeReply>(); r && r->call == call) {
        co_return r->result;
      }
    }
  }

  sim::Env& env_;
  NodeConfig config_;
  std::uint64_t next_call_;  // random: a late reply to a previous life's call is never ours
  std::set<std::string> wake_;
  int sweeper_ = 0;  // the history process of this node's sweeps (Variant::unlocked_sweep)
};

sim::Task<void> run_database(sim::Env& env, DatabaseConfig config) {
  Database database(env, std::move(config));
  co_await database.run();
}

sim::Task<void> run_node(sim::Env& env, NodeConfig config) {
  Node node(env, std::move(config));
  co_await node.run();
}

}  // namespace

std::shared_ptr<services::SqlDatabase> make_native_database() {
  return std::make_shared<services::SqlDatabase>(
      std::vector<std::string>{concrete::sqlite_schema(), kOutboxSchema});
}

void add_native(sim::Simulator& sim, const Variant& variant, std::shared_ptr<Deployment> deployment,
                std::shared_ptr<services::SqlDatabase> database, sim::HistoryRecorder* history,
                std::shared_ptr<HistoryIds> ids) {
  auto shared = std::make_shared<DatabaseShared>();
  shared->db = std::move(database);
  DatabaseConfig config{variant, &sim, history, ids, shared};
  const auto db =
      sim.add_process("postgres", [config](sim::Env& env) { return run_database(env, config); });
  deployment->sql = db;
  deployment->servers = {db};
  const NodeConfig node{variant, deployment, history, ids};
  for (int n = 0; n < kNativeNodes; ++n) {
    shared->nodes.push_back(sim.add_process("node" + std::to_string(n + 1),
                                            [node](sim::Env& env) { return run_node(env, node); }));
  }
  // The replies carry the oracle's facts, as the SQL service's do (docs/services.md).
  sim.add_annotator([shared](sim::TraceEvent& e) {
    if (e.kind != sim::EventKind::kSend && e.kind != sim::EventKind::kDeliver &&
        e.kind != sim::EventKind::kDrop) {
      return;
    }
    if (!e.payload) return;
    const auto it = shared->facts.find(e.payload->body.get());
    if (it != shared->facts.end()) e.oracle["service"] = it->second.second;
  });
}

}  // namespace seer::promises::design
