// The tools `seer mcp` offers: each is a seer command, its JSON arguments mapped onto the command's
// flags (so the tools validate exactly like the command line does).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace seer::cli {

// {"name","description","inputSchema"} for every tool, as tools/list returns them.
nlohmann::json mcp_tool_list();

// The command line for a tools/call (always with --json where the command has it). Throws
// std::invalid_argument for an unknown tool, a missing required argument or a wrong type.
std::vector<std::string> mcp_command_line(const std::string& tool, const nlohmann::json& arguments);

// Runs one tool call: (tool name, arguments) -> the tools/call result.
using McpToolCall = std::function<nlohmann::json(const std::string&, const nlohmann::json&)>;

// The JSON-RPC reply to one line of the MCP request stream, or nullopt for none (a blank line or
// a notification). Never throws: malformed requests get JSON-RPC errors.
std::optional<nlohmann::json> mcp_reply(const std::string& line, const McpToolCall& call_tool);

}  // namespace seer::cli
