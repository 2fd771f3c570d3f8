// effective_config: effective-dated configuration entries, picked by each node's own clock.
//
// Spec. A publisher (`publisher`) releases new versions of two configurations (`cfg-a`, `cfg-b`)
// as effective-dated entries in the KV store: version V of NAME is the key
// `config/NAME/vV@STAMP`, STAMP being the publisher's clock (ns) when it released it ("effective
// from now"), the value the settings. Once the store acknowledged the entry, the publisher tells
// both nodes (`node1`, `node2`, the design's own processes) to refresh (a `refresh` message with
// NAME and V). A node lists `config/NAME/` (a linearizable read), takes the entry in effect, reads
// it and loads it, and records what it loaded in an audit table in SQL
// (`applied(node, name, told, version)`).
// Invariant `refresh-applies-told-version`: a node that was told of version V loads V or later
// ("node1 loaded cfg-a v2 after it was told of v3").
// Operations (history): `release` per version, by the publisher.
//
// Bug (variant `buggy`): the entry in effect is the one with the latest STAMP that is not in the
// future *by the node's own clock*: STAMP is the publisher's clock, so with skew a node whose clock
// is behind the publisher's (or a publisher ahead) takes the new entry for one not yet in effect
// and loads the previous version, though it was told of the new one.
// Fix (variant `fixed`): versions are ordered by the publisher's sequence, not by comparing its
// clock with another's: a node loads the highest version listed (at least the one it was told of).
// Faults: delay, clock.
//
// Label. `clock_behind` or `clock_ahead`: a node judged a stamp another process wrote from its
// clock with its own clock and put it on the wrong side of now. Key events: the publisher's
// release of the entry the node was told of (the store's reply send for its put), the node's
// listing that showed it (its delivery), and the node's record of loading the older version (the
// database's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace effective_config {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(50);
const std::vector<std::string> kNames = {"cfg-a", "cfg-b"};

struct Refresh : sim::Payload {
  Refresh(std::string n, std::int64_t v) : name(std::move(n)), version(v) {}
  std::string name;
  std::int64_t version;
  std::string_view type() const override { return "refresh"; }
  nlohmann::json to_json() const override { return {{"name", name}, {"version", version}}; }
};

sim::Task<void> publisher(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv,
                          std::vector<sim::ProcessId> nodes, int releases) {
  services::KvClient store(env, kv, kKvTimeout);
  std::vector<std::int64_t> version(kNames.size(), 0);
  for (int n = 0; n < releases; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::size_t i = env.random() % kNames.size();
    const std::string& name = kNames[i];
    const std::int64_t v = ++version[i];
    const std::int64_t stamp = env.now();
    const std::string key =
        "config/" + name + "/v" + std::to_string(v) + "@" + std::to_string(stamp);
    history.invoke(0, "release", name + " v" + std::to_string(v));
    nlohmann::json settings;
    settings["version"] = v;
    settings["effective_at"] = stamp;
    settings["limit"] = 100 + v;
    const auto r = co_await store.put(key, settings);
    history.complete(0, r.ok() ? sim::OpType::kOk : sim::OpType::kInfo, "release",
                     name + " v" + std::to_string(v));
    if (!r.ok()) continue;
    for (const auto node : nodes) env.send(node, sim::make_payload<Refresh>(name, v));
  }
  co_await env.sleep(sim::milliseconds(100));  // let the nodes load the last ones
}

struct Entry {
  std::string key;
  std::int64_t version = 0;
  std::int64_t stamp = 0;
};

std::optional<Entry> parse_entry(const std::string& key) {
  const auto v = key.rfind("/v");
  const auto at = key.rfind('@');
  if (v == std::string::npos || at == std::string::npos || at < v) return std::nullopt;
  Entry e;
  e.key = key;
  e.version = std::stoll(key.substr(v + 2, at - v - 2));
  e.stamp = std::stoll(key.substr(at + 1));
  return e;
}

sim::Task<void> node(sim::Env& env, sim::ProcessId kv, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // refreshes that arrive while the node talks to a service
  services::KvClient store(env, kv, kKvTimeout, &inbox);
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* refresh = m.as<Refresh>();
    if (!refresh) continue;
    const std::string name = refresh->name;
    const std::int64_t told = refresh->version;
    const auto listing =
        co_await store.list("config/" + name + "/", services::KvRead::kLinearizable);
    if (!listing.ok()) continue;
    std::optional<Entry> chosen;
    const std::int64_t now = env.now();
    for (const auto& k : listing.value) {
      const auto e = parse_entry(k.get<std::string>());
      if (!e) continue;
      if (fixed) {
        if (!chosen || e->version > chosen->version) chosen = e;
      } else if (e->stamp <= now && (!chosen || e->stamp > chosen->stamp)) {
        chosen = e;  // the latest entry in effect by this node's clock
      }
    }
    std::int64_t loaded = 0;
    if (chosen) {
      const auto got = co_await store.get(chosen->key, services::KvRead::kLinearizable);
      if (!got.ok()) continue;
      loaded = got.value.value("version", std::int64_t{0});
    }
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO applied (node, name, told, version) VALUES (?1, ?2, ?3, ?4)",
         {me, name, told, loaded},
         1}};
    co_await sql.transact(record, "applied " + me + " " + name + " v" + std::to_string(told));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"effective_config",
            "nodes load the effective-dated configuration entry in effect by their own clock",
            {"buggy", "fixed"},
            {{"refresh-applies-told-version", "a node told of a version loads it or a later one"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE applied (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, "
        "name TEXT NOT NULL, told INTEGER NOT NULL, version INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    std::vector<sim::ProcessId> nodes;
    for (int n = 1; n <= 2; ++n) {
      nodes.push_back(sim.add_process(
          "node" + std::to_string(n),
          [k = kv.process, d = db.process, fixed](sim::Env& env) { return node(env, k, d, fixed); },
          {.crashable = false, .client = false}));
    }
    auto& history = sim.history();
    const int releases = sim.config().ops;
    sim.add_process("publisher",
                    [&history, k = kv.process, nodes, releases](sim::Env& env) {
                      return publisher(env, history, k, nodes, releases);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "refresh-applies-told-version",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT node, name, told, version FROM applied WHERE version < "
                                "told ORDER BY id LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto name = rows[0][1].get<std::string>();
                            return sim::Finding{rows[0][0].get<std::string>() + " loaded " + name +
                                                    " v" + rows[0][3].dump() +
                                                    " after it was told of v" + rows[0][2].dump(),
                                                {name}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: node N, configuration NAME, told version T. The record's commit: the
// database's committed reply send for "applied N NAME vT" (the last before the violation). The
// listing: N's last delivery of a KV reply to a list before the record's request. The release:
// the store's reply send for the publisher's put of `config/NAME/vT@...`.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const auto space = msg.find(' ');
  if (space == std::string::npos) return {};
  const std::string node = msg.substr(0, space);
  const std::string name = between(msg, " loaded ", " v");
  const auto told_at = msg.rfind("told of v");
  if (name.empty() || told_at == std::string::npos) return {};
  const std::string told = msg.substr(told_at + 9);
  const auto until = violation_event(trace);
  const auto* record = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
            !payload(e).value("committed", false)) {
          return false;
        }
        const auto* req = request_send_for(trace, e);
        return req &&
               payload(*req).value("label", "") == "applied " + node + " " + name + " v" + told;
      },
      until + 1);
  if (!record) return {};
  const auto* record_req = request_send_for(trace, *record);
  if (!record_req) return {};
  const auto* listing = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.type != "kv_reply" || process_of(trace, e) != node) {
          return false;
        }
        const auto* send = send_of(trace, e);
        const auto* req = send ? request_send_for(trace, *send) : nullptr;
        return req && payload(*req).value("op", "") == "list";
      },
      record_req->seq);
  const std::string prefix = "config/" + name + "/v" + told + "@";
  const auto* put = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "kv_request" &&
           process_of(trace, e) == "publisher" && payload(e).value("op", "") == "put" &&
           payload(e).value("key", "").rfind(prefix, 0) == 0;
  });
  const auto* release = put ? reply_send_for(trace, *put) : nullptr;
  if (!listing || !release) return {};
  return {release->seq, listing->seq, record->seq};
}

}  // namespace effective_config

Design make_effective_config() {
  Design d;
  d.name = "effective_config";
  d.bug =
      "nodes load the effective-dated config entry in effect by their own clock, stamped by the "
      "publisher's clock, and load an older version than they were told of";
  d.system = std::make_unique<effective_config::System>();
  d.invariant = "refresh-applies-told-version";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kClock};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"clock_behind", "clock_ahead"};
  d.label.why_several =
      "the node compares two clocks (the publisher's stamp against its own now): that the node's "
      "clock is behind the publisher's is the same fact as the publisher's being ahead of the "
      "node's; which of the two is wrong against true time is incidental to the bug";
  d.label.key_events = effective_config::key_events;
  return d;
}

}  // namespace seer::bench::explain
