// A service client names the design's line of each call: the request's send and the delivery of
// its reply carry it ("at"), while the simulated service's own events, seer's code, carry none.
#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace seer::services {
namespace {

TEST(ClientCodeSite, KvCallsNameTheDesignsLine) {
  sim::RunConfig config;
  config.seed = 3;
  config.faults = std::vector<sim::FaultKind>{};
  config.record_trace = true;
  sim::Simulator sim(config);
  const auto kv = add_kv_service(sim, "kv", kv_config("linearizable"));
  int put_line = 0;
  int get_line = 0;
  sim.add_process("writer",
                  [&](sim::Env& env) -> sim::Task<void> {
                    KvClient client(env, kv.process, sim::milliseconds(50));
                    put_line = __LINE__ + 1;
                    co_await client.put("k", 1);
                    get_line = __LINE__ + 1;
                    co_await client.get("k");
                  },
                  {.crashable = false, .client = true});
  const auto r = sim.run();
  ASSERT_TRUE(r.ok());
  const std::string file = __FILE__;
  std::vector<std::string> writer_sites;
  int service_events = 0;
  for (const auto& text : r.trace_lines) {
    const auto j = nlohmann::json::parse(text);
    const auto process = j.value("process", "");
    const auto kind = j.value("kind", "");
    if (process == "kv") {
      ++service_events;
      EXPECT_FALSE(j.contains("at")) << text;
    }
    if (process == "writer" && (kind == "send" || kind == "deliver")) {
      writer_sites.push_back(kind + " " + j.value("at", ""));
    }
  }
  EXPECT_GT(service_events, 0);
  const auto put_at = file + ":" + std::to_string(put_line);
  const auto get_at = file + ":" + std::to_string(get_line);
  EXPECT_EQ(writer_sites, (std::vector<std::string>{"send " + put_at, "deliver " + put_at,
                                                    "send " + get_at, "deliver " + get_at}));
}

}  // namespace
}  // namespace seer::services
