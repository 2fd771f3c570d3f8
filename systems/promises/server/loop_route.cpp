#include "loop_route.hpp"

#include "promises/model/footprint.hpp"
#include "promises/model/parse.hpp"

#include <functional>
#include <string_view>
#include <variant>

namespace seer::promises::server {

std::size_t loop_for(const nlohmann::json& request, std::size_t loops) {
  if (loops <= 1) return 0;
  const auto parsed = parse_request(request);
  return loop_for(std::get_if<Request>(&parsed), loops);
}

std::size_t loop_for(const Request* request, std::size_t loops) {
  if (loops <= 1 || !request) return 0;
  const auto ids = named_ids(*request);
  if (ids.empty()) return 0;
  return std::hash<std::string_view>{}(origin_of(ids.front())) % loops;
}

}  // namespace seer::promises::server
