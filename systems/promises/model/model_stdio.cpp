// promises_model_stdio: the sequential model behind a JSON-lines pipe, for differential testing.
//
//   in:  {"now": N, "request": {kind, head, data}}   one step at time N
//        {"reset": true}                             start over from the empty state
//   out: {"response": {...}, "messages": [...]}      one line per input line, in order
//        {"reset": true}                             after a reset
//        {"error": "..."}                            the input line itself was unusable
//
// A malformed *request* is not an input error: the model answers it with 400 (spec §6). Blank lines
// are skipped.
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "promises/model/model.hpp"

namespace {
using json = nlohmann::json;
using seer::promises::State;

constexpr std::int64_t kMaxSafe = 9007199254740991;  // 2^53 − 1, as for every time (spec A4)

json error(const std::string& what) {
  json out = json::object();
  out["error"] = what;
  return out;
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

json step(State& state, const json& input) {
  if (!input.is_object()) return error("input line must be a JSON object");
  if (const auto reset = input.find("reset"); reset != input.end()) {
    if (*reset != true) return error("\"reset\" must be true");
    state = State{};
    json out = json::object();
    out["reset"] = true;
    return out;
  }
  const auto now = input.find("now");
  if (now == input.end() || !now->is_number_integer()) return error("\"now\" must be an integer");
  const bool too_big =
      now->is_number_unsigned()
          ? now->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxSafe)
          : now->get<std::int64_t>() > kMaxSafe || now->get<std::int64_t>() < -kMaxSafe;
  if (too_big) return error("\"now\" must be within ±(2^53−1)");
  const auto request = input.find("request");
  if (request == input.end()) return error("\"request\" is missing");
  seer::promises::Step result = seer::promises::apply(state, *request, now->get<std::int64_t>());
  json out = json::object();
  out["response"] = std::move(result.response);
  out["messages"] = std::move(result.messages);
  return out;
}
}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  State state;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (blank(line)) continue;
    json out;
    try {
      const json input = json::parse(line, nullptr, /*allow_exceptions=*/false);
      out = input.is_discarded() ? error("input line is not valid JSON") : step(state, input);
    } catch (const std::exception& e) {  // a model bug: report it, keep serving
      out = error(std::string("internal error: ") + e.what());
    }
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
  }
  return 0;
}
