// The real runtime (docs/runtime.md): a client process and the real KV server (serve_kv on a
// FileStorage) on two TcpNodes in this process, talking over TCP on loopback. Each iteration is
// one coroutine making 100 requests one after another with the unchanged KvClient, so the time per
// request is a round trip through both nodes' network threads and event loops; a put also waits
// for the server's fsync.
//   build/release/bench/runtime/bench_runtime
#include "seer/runtime/file_storage.hpp"
#include "seer/runtime/servers.hpp"
#include "seer/runtime/tcp_node.hpp"
#include "seer/services/kv_client.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

namespace {

using namespace seer;

constexpr int kRequests = 100;
constexpr sim::Duration kTimeout = sim::seconds(5);

// An empty directory for the server's FileStorage.
std::string fresh_dir() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("seer-bench-runtime-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// The KV server on its own thread, and a client node whose run() the benchmark drives.
struct Deployment {
  Deployment()
      : dir(fresh_dir()),
        config(runtime::NodeConfig::loopback({"kv", "client"})),
        storage(dir),
        server(config, "kv", &storage),
        client(config, "client"),
        serving([this] { server.run(runtime::serve_kv(server.env())); }) {}
  ~Deployment() {
    server.stop();
    serving.join();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  runtime::NodeConfig config;
  runtime::FileStorage storage;
  runtime::TcpNode server;
  runtime::TcpNode client;
  std::thread serving;
};

sim::Task<void> requests(sim::Env& env, sim::ProcessId kv, bool write, std::uint64_t first,
                         int& failed) {
  services::KvClient client(env, kv, kTimeout, nullptr, first);
  for (int i = 0; i < kRequests; ++i) {
    const auto r = write ? co_await client.put("key", i)
                         : co_await client.get("key", services::KvRead::kLinearizable);
    if (r.timed_out || (write && !r.ok())) ++failed;
  }
}

void run(benchmark::State& state, bool write) {
  Deployment d;
  const auto kv = d.client.id_of("kv");
  int failed = 0;
  std::uint64_t first = 1;
  d.client.run(requests(d.client.env(), kv, true, first, failed));  // the key exists; warm
  for (auto _ : state) {
    first += 1000;
    d.client.run(requests(d.client.env(), kv, write, first, failed));
  }
  if (failed > 0) state.SkipWithError("requests failed or timed out");
  state.SetItemsProcessed(state.iterations() * kRequests);
}

// A linearizable get: one round trip, no disk.
void BM_KvGetOverTcp(benchmark::State& state) {
  run(state, false);
}
// A put: one round trip and the server's fsync before it answers.
void BM_KvPutDurableOverTcp(benchmark::State& state) {
  run(state, true);
}

BENCHMARK(BM_KvGetOverTcp)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_KvPutDurableOverTcp)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
