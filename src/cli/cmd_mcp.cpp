// `seer mcp`: a Model Context Protocol server over stdio (JSON-RPC 2.0, one message per line) that
// offers seer's commands as tools, so a coding agent can drive the design loop: sweep, shrink,
// explain, query, fix, replay (docs/agents.md). Each call runs the command in-process with --json
// and returns its output, its exit code and what the code means.
#include "app.hpp"
#include "command.hpp"
#include "mcp_tools.hpp"

#include <iostream>
#include <sstream>

namespace seer::cli {

namespace {

constexpr const char* kDefaultProtocol = "2025-06-18";

const char* exit_meaning(int code) {
  switch (code) {
    case 0:
      return "ok";
    case 1:
      return "violation found";
    case 2:
      return "usage or input error";
    case 3:
      return "unknown (the checker gave up)";
    case 4:
      return "replay diverged";
    default:
      return "unexpected exit code";
  }
}

// Runs one tool: the command's stdout is captured (the real stdout carries the protocol).
nlohmann::json call_tool(const std::string& name, const nlohmann::json& arguments) {
  std::vector<std::string> line;
  try {
    line = mcp_command_line(name, arguments);
  } catch (const std::invalid_argument& e) {
    return {{"content", {{{"type", "text"}, {"text", e.what()}}}}, {"isError", true}};
  }
  std::ostringstream out;
  std::ostringstream err;
  auto* saved = std::cout.rdbuf(out.rdbuf());
  int code = 2;
  try {
    code = run_command_line(line, err);
  } catch (...) {
    std::cout.rdbuf(saved);
    throw;
  }
  std::cout.rdbuf(saved);
  nlohmann::json output;
  const auto text = out.str();
  // One JSON document per line (check prints one per file).
  std::istringstream lines(text);
  std::string l;
  nlohmann::json docs = nlohmann::json::array();
  while (std::getline(lines, l)) {
    if (l.empty()) continue;
    auto parsed = nlohmann::json::parse(l, nullptr, false);
    docs.push_back(parsed.is_discarded() ? nlohmann::json(l) : parsed);
  }
  output = docs.size() == 1 ? docs[0] : docs;
  nlohmann::json result = {{"exit_code", code}, {"meaning", exit_meaning(code)}};
  if (!docs.empty()) result["output"] = output;
  auto error = err.str();
  if (!error.empty()) {
    if (error.back() == '\n') error.pop_back();
    result["error"] = error;
  }
  return {{"content", {{{"type", "text"}, {"text", result.dump()}}}},
          {"structuredContent", result},
          {"isError", code == 2}};
}

nlohmann::json handle(const nlohmann::json& request) {
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

Command add_mcp_command(CLI::App& root) {
  auto* app = root.add_subcommand(
      "mcp", "Serve seer's commands as Model Context Protocol tools over stdio (for agents)");
  return {app, [] {
            std::string line;
            while (std::getline(std::cin, line)) {
              if (line.empty() || line == "\r") continue;
              auto request = nlohmann::json::parse(line, nullptr, false);
              nlohmann::json reply;
              if (request.is_discarded() || !request.is_object()) {
                reply = error_reply(nullptr, -32700, "parse error: not a JSON object");
              } else if (!request.contains("id")) {
                continue;  // a notification (e.g. notifications/initialized): no reply
              } else {
                const auto id = request["id"];
                try {
                  reply = {{"jsonrpc", "2.0"}, {"id", id}, {"result", handle(request)}};
                } catch (const std::out_of_range& e) {
                  reply = error_reply(id, -32601, std::string("method not found: ") + e.what());
                } catch (const std::exception& e) {
                  reply = error_reply(id, -32602, e.what());
                }
              }
              std::cout << reply.dump() << '\n' << std::flush;
            }
            return 0;
          }};
}

}  // namespace seer::cli
