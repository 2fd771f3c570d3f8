// `seer mcp`: a Model Context Protocol server over stdio (JSON-RPC 2.0, one message per line) that
// offers seer's commands as tools, so a coding agent can drive the design loop: sweep, shrink,
// explain, query, fix, replay (docs/agents.md). Each call runs the command in-process with --json
// and returns its output, its exit code and what the code means.
#include "app.hpp"
#include "bounded_line.hpp"
#include "command.hpp"
#include "mcp_tools.hpp"
#include "seer/input_size.hpp"
#include "seer/json_input.hpp"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <sstream>

namespace seer::cli {

namespace {

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
    auto parsed = parse_json_bounded_or_discarded(l);
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
  // Replacing invalid UTF-8: an error line may quote bytes of a malformed input file.
  return {{"content",
           {{{"type", "text"},
             {"text", result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}}}},
          {"structuredContent", result},
          {"isError", code == 2}};
}

// A protocol message names a tool and its options (paths, seeds, flags), never a file's content, so
// it is bounded far below the input files' limit; SEER_MAX_INPUT_BYTES lowers it further.
constexpr std::uint64_t kMaxMessageBytes = std::uint64_t{1} << 20;

void write_reply(const nlohmann::json& reply) {
  std::cout << reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'
            << std::flush;
}

}  // namespace

Command add_mcp_command(CLI::App& root) {
  auto* app = root.add_subcommand(
      "mcp", "Serve seer's commands as Model Context Protocol tools over stdio (for agents)");
  return {app, [] {
            const auto limit =
                static_cast<std::size_t>(std::min(kMaxMessageBytes, max_input_bytes()));
            std::string line;
            for (;;) {
              const auto read = read_line_bounded(std::cin, line, limit);
              if (read == LineRead::end) break;
              if (read == LineRead::too_long) {
                // Answered before the rest is read; its id is unknown, as for a parse error.
                write_reply({{"jsonrpc", "2.0"},
                             {"id", nullptr},
                             {"error",
                              {{"code", -32700},
                               {"message", "parse error: a message longer than " +
                                               std::to_string(limit) + " bytes"}}}});
                skip_line(std::cin);
                continue;
              }
              if (auto reply = mcp_reply(line, call_tool)) write_reply(*reply);
            }
            return 0;
          }};
}

}  // namespace seer::cli
