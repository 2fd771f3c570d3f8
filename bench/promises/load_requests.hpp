// What resonate_load sends and how it sums up a load: the create and settle requests of one
// promise (each its own origin), latencies per kind, and their percentiles.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace seer::bench {

using LoadClock = std::chrono::steady_clock;

struct Latencies {
  std::vector<double> create_ms, settle_ms;
};

std::int64_t wall_ms();
nlohmann::json create_request(const std::string& id);
nlohmann::json settle_request(const std::string& id);
// The id of client `client`'s `i`-th promise.
std::string load_promise_id(int client, long i);

// The load's report: operations per second and latency percentiles per kind, over every client.
nlohmann::json load_report(const std::vector<Latencies>& per_client, int clients, double seconds,
                           long errors, bool connection_failed);

}  // namespace seer::bench
