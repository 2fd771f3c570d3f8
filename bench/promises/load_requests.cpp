#include "load_requests.hpp"

#include <algorithm>

namespace seer::bench {

using json = nlohmann::json;

namespace {

json percentiles(std::vector<double> v) {
  if (v.empty()) return json::object();
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  return {{"p50_ms", at(0.50)}, {"p90_ms", at(0.90)}, {"p99_ms", at(0.99)}, {"max_ms", v.back()}};
}

}  // namespace

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json create_request(const std::string& id) {
  return {{"kind", "promise.create"},
          {"head", {{"corrId", id}, {"version", "load"}}},
          {"data",
           {{"id", id},
            {"timeoutAt", wall_ms() + 3'600'000},
            {"param", {{"headers", json::object()}, {"data", "cGF5bG9hZA=="}}},
            {"tags", json::object()}}}};
}

json settle_request(const std::string& id) {
  return {{"kind", "promise.settle"},
          {"head", {{"corrId", id}, {"version", "load"}}},
          {"data",
           {{"id", id},
            {"state", "resolved"},
            {"value", {{"headers", json::object()}, {"data", "ZG9uZQ=="}}}}}};
}

std::string load_promise_id(int client, long i) {
  return "load" + std::to_string(client) + "-" + std::to_string(i);
}

json load_report(const std::vector<Latencies>& per_client, int clients, double seconds, long errors,
                 bool connection_failed) {
  Latencies all;
  for (const auto& l : per_client) {
    all.create_ms.insert(all.create_ms.end(), l.create_ms.begin(), l.create_ms.end());
    all.settle_ms.insert(all.settle_ms.end(), l.settle_ms.begin(), l.settle_ms.end());
  }
  const double ops = static_cast<double>(all.create_ms.size() + all.settle_ms.size());
  return {{"clients", clients},
          {"seconds", seconds},
          {"ops", ops},
          {"ops_per_sec", ops / seconds},
          {"errors", errors},
          {"connection_failed", connection_failed},
          {"create", percentiles(std::move(all.create_ms))},
          {"settle", percentiles(std::move(all.settle_ms))}};
}

}  // namespace seer::bench
