// The tools `seer mcp` offers: each is a seer command, its JSON arguments mapped onto the command's
// flags (so the tools validate exactly like the command line does).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace seer::cli {

// {"name","description","inputSchema"} for every tool, as tools/list returns them.
nlohmann::json mcp_tool_list();

// The command line for a tools/call (always with --json where the command has it). Throws
// std::invalid_argument for an unknown tool, a missing required argument or a wrong type.
std::vector<std::string> mcp_command_line(const std::string& tool, const nlohmann::json& arguments);

}  // namespace seer::cli
