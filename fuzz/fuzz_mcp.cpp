// libFuzzer target: the MCP request stream (`seer mcp`), one JSON-RPC message per line, through
// the protocol layer and the mapping of tool arguments onto command lines. Tools are not run (a
// fuzzed call could write files anywhere); the command line is returned instead. Every line must
// get a reply or none, never a crash or an exception.
#include "mcp_tools.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer::cli;
  const McpToolCall call = [](const std::string& name, const nlohmann::json& arguments) {
    try {
      return nlohmann::json{{"line", mcp_command_line(name, arguments)}};
    } catch (const std::invalid_argument& e) {
      return nlohmann::json{{"isError", true}, {"text", e.what()}};
    }
  };
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string line;
  while (std::getline(in, line)) {
    if (auto reply = mcp_reply(line, call)) {
      (void)reply->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return 0;
}
