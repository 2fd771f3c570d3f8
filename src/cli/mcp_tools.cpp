#include "mcp_tools.hpp"

#include "seer/json_input.hpp"

#include <stdexcept>

namespace seer::cli {

namespace {

enum class Kind { kPositional, kString, kInteger, kNumber, kFlag, kStrings, kPositionals };

struct Arg {
  const char* name;  // JSON argument
  const char* flag;  // command-line flag ("" for positionals)
  Kind kind;
  bool required;
  const char* description;
};

struct Tool {
  const char* name;
  const char* command;
  const char* description;
  std::vector<Arg> args;
  bool json = true;  // the command takes --json
};

// The run options shared by run, sweep and shrink.
std::vector<Arg> run_args(bool seed_required) {
  return {{"system", "", Kind::kPositional, true, "System name (see the list tool)"},
          {"variant", "--variant", Kind::kString, false, "Variant (default: the system's first)"},
          {"seed", "--seed", Kind::kInteger, seed_required, "Seed of the run"},
          {"ops", "--ops", Kind::kInteger, false, "Client operations per run (default 50)"},
          {"faults", "--faults", Kind::kString, false,
           "swarm (default), none, all, or a comma list: delay,reorder,drop,duplicate,partition,"
           "crash,pause,clock,torn,lost-response; KIND:LEVEL pins a kind's intensity, 1 to 4 "
           "(default 2), e.g. clock:3"},
          {"services", "--service", Kind::kStrings, false,
           "Service implementations NAME=IMPL, e.g. [\"kv=stale\"]"}};
}

const std::vector<Tool>& tools() {
  static const std::vector<Tool> all = [] {
    std::vector<Tool> t;
    t.push_back({"list", "list", "Systems, variants, invariants, services and fault kinds", {}});
    const Arg clients{"clients", "--clients", Kind::kInteger, false,
                      "Concurrent clients, if fewer than the system's default"};
    auto run = run_args(true);
    run.push_back(clients);
    run.push_back({"trace", "--trace", Kind::kString, false,
                   "Write the trace (JSONL) to this path, for explain/query/view"});
    run.push_back({"history", "--history", Kind::kString, false, "Write the client history"});
    run.push_back({"save_run", "--save-run", Kind::kString, false,
                   "Write the run file (run + recorded fault schedule), for replay"});
    t.push_back({"run", "run",
                 "Simulate one seed of a system. Exit code 1 and a violation object if an "
                 "invariant broke.",
                 run});
    auto sweep = run_args(false);
    sweep.erase(sweep.begin() + 2);  // no single seed
    sweep.push_back(
        {"seeds", "--seeds", Kind::kString, false, "Seed range A..B (default 1..1000)"});
    sweep.push_back(clients);
    sweep.push_back({"shard", "--shard", Kind::kString, false,
                     "Run shard I of N of the range, e.g. 0/4 (one machine's part of a sweep)"});
    sweep.push_back({"out", "--out", Kind::kString, false,
                     "Append one JSON line per seed to this file; a re-run resumes it, and the "
                     "merge tool combines the shards' files"});
    sweep.push_back({"for", "--for", Kind::kString, false,
                     "Search for this long instead of a seed range (e.g. 30s, 10m): runs drawn "
                     "from a seeded stream, each with its own seed and fault profile"});
    sweep.push_back({"seed_stream", "--seed-stream", Kind::kInteger, false,
                     "With for: the stream to draw runs from (a search reports its stream; the "
                     "same stream repeats it)"});
    sweep.push_back({"any_variant", "--any-variant", Kind::kFlag, false,
                     "With for: draw each run's variant from all of the system's"});
    t.push_back({"sweep", "sweep",
                 "Simulate a range of seeds (or search for a while); lists the failing seeds "
                 "with their violations and reproduce lines",
                 sweep});
    t.push_back({"merge",
                 "merge",
                 "Combine the out files of a sweep's shards into the sweep's report: the failing "
                 "seeds, and the seeds no file has (exit 2 if any is missing)",
                 {{"files", "", Kind::kPositionals, true, "Sweep outputs (sweep with out)"}}});
    t.push_back({"replay",
                 "replay",
                 "Re-run a seed, a trace or a run file and prove it identical (exit 4 if not)",
                 {{"system", "", Kind::kPositional, false, "System (not with trace/run_file)"},
                  {"variant", "--variant", Kind::kString, false, "Variant"},
                  {"seed", "--seed", Kind::kInteger, false, "Seed"},
                  {"services", "--service", Kind::kStrings, false, "NAME=IMPL"},
                  {"trace", "--trace", Kind::kString, false, "Trace file to reproduce"},
                  {"run_file", "--run", Kind::kString, false, "Run file to reproduce"},
                  {"recheck", "--recheck", Kind::kFlag, false,
                   "Re-test a fix: run the run file's or trace's seed and fault schedule on the "
                   "code as it is now (with variant: on that variant) and answer holds (exit 0) "
                   "or violates (exit 1), without comparing trace hashes"}}});
    auto shrink = run_args(false);
    shrink[0].required = false;
    shrink.push_back({"from", "--from", Kind::kString, false,
                      "Shrink the run a trace or run file describes (instead of system+seed)"});
    shrink.push_back({"output", "--output", Kind::kString, false, "Run file to write"});
    shrink.push_back({"trace", "--trace", Kind::kString, false, "Write the shrunk run's trace"});
    shrink.push_back(
        {"max_runs", "--max-runs", Kind::kInteger, false, "Most candidate replays (default 4000)"});
    shrink.push_back({"time_limit", "--time-limit", Kind::kNumber, false,
                      "Seconds before stopping with the smallest run so far (default 60)"});
    t.push_back({"shrink", "shrink",
                 "Find a smaller run failing the same invariant; saves a run file that replay "
                 "reproduces and (with trace) its trace",
                 shrink});
    t.push_back({"explain",
                 "explain",
                 "Why a recorded run failed: ranked causes with event ids and forbidden facts, and "
                 "the minimal event sequence",
                 {{"trace", "", Kind::kPositional, true, "Trace file"},
                  {"verify", "--verify", Kind::kFlag, false,
                   "Re-run the run without what each of the first three causes shows and say "
                   "whether the violation goes away (confirmed) or not"}}});
    t.push_back(
        {"query",
         "query",
         "Select trace events (filters combine with AND)",
         {{"trace", "", Kind::kPositional, true, "Trace file"},
          {"process", "--process", Kind::kStrings, false, "Only these processes (sim = network)"},
          {"kind", "--kind", Kind::kStrings, false, "Only these kinds: send, deliver, drop, ..."},
          {"key", "--key", Kind::kString, false, "Events touching this key or label"},
          {"from", "--from", Kind::kString, false, "From virtual time, e.g. 5ms"},
          {"to", "--to", Kind::kString, false, "Up to virtual time"},
          {"stale", "--stale", Kind::kFlag, false, "Only replies the oracle marks stale"},
          {"facts", "--facts", Kind::kFlag, false, "Only events with forbidden facts"},
          {"in_flight_at", "--in-flight-at", Kind::kString, false,
           "Sends of messages in flight at this time"},
          {"before", "--before", Kind::kInteger, false, "Events causally before this event id"},
          {"after", "--after", Kind::kInteger, false, "Events causally after this event id"},
          {"knows", "--knows", Kind::kString, false, "With at: what this process knew"},
          {"at", "--at", Kind::kInteger, false, "Event id for knows"},
          {"limit", "--limit", Kind::kInteger, false, "At most this many events"}}});
    t.push_back(
        {"check",
         "check",
         "Check histories for linearizability against a model (exit 1 violation, 3 "
         "unknown)",
         {{"model", "--model", Kind::kString, true,
           "register, cas-register, kv, set, queue, counter, mutex"},
          {"files", "", Kind::kPositionals, true, "History files"},
          {"init", "--init", Kind::kString, false, "Initial state (e.g. 0, nil)"},
          {"format", "--format", Kind::kString, false, "auto, jsonl, json, edn, jepsen-log"},
          {"timeout", "--timeout", Kind::kNumber, false, "Seconds per history"}}});
    t.push_back({"view",
                 "view",
                 "Write a self-contained HTML timeline of a trace",
                 {{"trace", "", Kind::kPositional, true, "Trace file"},
                  {"output", "--output", Kind::kString, true, "HTML file to write"}}});
    return t;
  }();
  return all;
}

const char* json_type(Kind k) {
  switch (k) {
    case Kind::kInteger:
      return "integer";
    case Kind::kNumber:
      return "number";
    case Kind::kFlag:
      return "boolean";
    case Kind::kStrings:
    case Kind::kPositionals:
      return "array";
    default:
      return "string";
  }
}

}  // namespace

nlohmann::json mcp_tool_list() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tools()) {
    nlohmann::json properties = nlohmann::json::object();
    nlohmann::json required = nlohmann::json::array();
    for (const auto& a : t.args) {
      nlohmann::json p = {{"type", json_type(a.kind)}, {"description", a.description}};
      if (a.kind == Kind::kStrings || a.kind == Kind::kPositionals) {
        p["items"] = {{"type", "string"}};
      }
      if (a.kind == Kind::kInteger) p["minimum"] = 0;
      properties[a.name] = std::move(p);
      if (a.required) required.push_back(a.name);
    }
    list.push_back({{"name", t.name},
                    {"description", t.description},
                    {"inputSchema",
                     {{"type", "object"},
                      {"properties", std::move(properties)},
                      {"required", std::move(required)},
                      {"additionalProperties", false}}}});
  }
  return list;
}

std::vector<std::string> mcp_command_line(const std::string& name,
                                          const nlohmann::json& arguments) {
  const Tool* tool = nullptr;
  for (const auto& t : tools()) {
    if (name == t.name) tool = &t;
  }
  if (!tool) throw std::invalid_argument("unknown tool '" + name + "'");
  const auto& args = arguments.is_null() ? nlohmann::json::object() : arguments;
  if (!args.is_object()) throw std::invalid_argument("arguments must be an object");
  for (const auto& [key, value] : args.items()) {
    bool known = false;
    for (const auto& a : tool->args) known = known || key == a.name;
    if (!known) {
      std::string message = "tool " + name;
      message += " has no argument '" + key + "'";
      throw std::invalid_argument(message);
    }
  }
  std::vector<std::string> line{tool->command};
  for (const auto& a : tool->args) {
    const auto it = args.find(a.name);
    if (it == args.end() || it->is_null()) {
      if (a.required) throw std::invalid_argument(std::string("missing argument '") + a.name + "'");
      continue;
    }
    const auto& v = *it;
    const auto bad = [&] {
      return std::invalid_argument(
          std::string("argument '") + a.name + "' must be a " + json_type(a.kind) +
          (a.kind == Kind::kStrings || a.kind == Kind::kPositionals ? " of strings" : ""));
    };
    switch (a.kind) {
      case Kind::kPositional:
      case Kind::kString:
        if (!v.is_string()) throw bad();
        if (a.kind == Kind::kString) line.emplace_back(a.flag);
        line.push_back(v.get<std::string>());
        break;
      case Kind::kInteger:
        if (!v.is_number_unsigned()) throw bad();  // a non-negative integer, up to 2^64-1
        line.emplace_back(a.flag);
        line.push_back(std::to_string(v.get<std::uint64_t>()));
        break;
      case Kind::kNumber:
        if (!v.is_number()) throw bad();
        line.emplace_back(a.flag);
        line.push_back(v.dump());
        break;
      case Kind::kFlag:
        if (!v.is_boolean()) throw bad();
        if (v.get<bool>()) line.emplace_back(a.flag);
        break;
      case Kind::kStrings:
      case Kind::kPositionals:
        if (!v.is_array()) throw bad();
        for (const auto& item : v) {
          if (!item.is_string()) throw bad();
          if (a.kind == Kind::kStrings) line.emplace_back(a.flag);
          line.push_back(item.get<std::string>());
        }
        break;
    }
  }
  if (tool->json) line.emplace_back("--json");
  return line;
}

namespace {

constexpr const char* kDefaultProtocol = "2025-06-18";

nlohmann::json handle(const nlohmann::json& request, const McpToolCall& call_tool) {
  const auto method = request.value("method", std::string());
  const auto params = request.value("params", nlohmann::json::object());
  if (method == "initialize") {
    const auto version = params.value("protocolVersion", std::string(kDefaultProtocol));
    return {{"protocolVersion", version},
            {"capabilities", {{"tools", {{"listChanged", false}}}}},
            {"serverInfo", {{"name", "seer"}, {"version", "0.1"}}},
            {"instructions",
             "seer simulates distributed-system designs deterministically. Typical loop: sweep a "
             "system to find failing seeds; shrink one (with trace) to a small run; explain the "
             "trace to get the cause and event ids; query around those ids; fix the design; "
             "replay the run file and sweep again. Every tool returns exit_code (0 ok, 1 "
             "violation, 2 bad input, 3 unknown, 4 replay diverged) and the command's JSON."}};
  }
  if (method == "ping") return nlohmann::json::object();
  if (method == "tools/list") return {{"tools", mcp_tool_list()}};
  if (method == "tools/call") {
    if (!params.contains("name") || !params["name"].is_string()) {
      throw std::invalid_argument("tools/call needs a tool name");
    }
    return call_tool(params["name"].get<std::string>(),
                     params.value("arguments", nlohmann::json::object()));
  }
  throw std::out_of_range(method);
}

nlohmann::json error_reply(const nlohmann::json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

std::optional<nlohmann::json> mcp_reply(const std::string& line, const McpToolCall& call_tool) {
  if (line.empty() || line == "\r") return std::nullopt;
  auto request = parse_json_bounded_or_discarded(line);
  if (request.is_discarded() || !request.is_object()) {
    return error_reply(nullptr, -32700, "parse error: not a JSON object");
  }
  if (!request.contains("id")) return std::nullopt;  // a notification: no reply
  const auto id = request["id"];
  try {
    return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"result", handle(request, call_tool)}};
  } catch (const std::out_of_range& e) {
    return error_reply(id, -32601, std::string("method not found: ") + e.what());
  } catch (const std::exception& e) {
    return error_reply(id, -32602, e.what());
  }
}

}  // namespace seer::cli
