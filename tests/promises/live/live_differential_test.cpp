// Differential test of the production server: random request sequences go to a live seer-resonate
// over HTTP and to the sequential model (spec.md), applied at the `now` the server reports
// (X-Seer-Now); every response must be the model's, byte for byte as JSON, and every message the
// model emits (execute to a task's target, unblock to a listener) must arrive on that address's
// poll stream, in order, with nothing else. The server is stopped
// every so often, cleanly or with SIGKILL, and restarted on the same database: what it answered
// before must still hold after.
#include "../random_requests.hpp"
#include "databases.hpp"
#include "poll_listener.hpp"
#include "promises/model/model.hpp"
#include "server_process.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>

namespace seer::promises::live {
namespace {

using json = nlohmann::json;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("seer-live-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct Answer {
  int status = 0;
  json body;
  std::int64_t now = 0;
};

// The poll streams the sequences' addresses name, and the stream an address reaches.
const std::vector<std::string> kTargets{"poll://uni@targets/t1", "poll://uni@targets/t2"};
const std::vector<std::string> kListeners{"poll://uni@listeners/l1", "poll://uni@listeners/l2"};
const std::vector<std::string> kStreams{"/poll/targets/t1", "/poll/targets/t2",
                                        "/poll/listeners/l1", "/poll/listeners/l2"};
std::string stream_of(const std::string& address) {
  const auto at = address.find('@');
  return "/poll/" + address.substr(at + 1);
}

// One life of the server: its process, a keep-alive client, and the poll streams with what the
// model says each should have received.
struct ServerLife {
  ServerLife(const std::vector<std::string>& args)
      : server(std::make_unique<ServerProcess>(SEER_RESONATE_BINARY, args)),
        client(std::make_unique<httplib::Client>("127.0.0.1", server->port())),
        streams(std::make_unique<PollListener>(server->port(), kStreams)) {
    client->set_tcp_nodelay(true);
  }
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<httplib::Client> client;
  std::unique_ptr<PollListener> streams;
  std::map<std::string, std::vector<json>> expected;
};

Answer post(httplib::Client& client, const json& request) {
  const auto res = client.Post("/", request.dump(), "application/json");
  if (!res) throw std::runtime_error("no HTTP response to " + request.dump());
  Answer a{res->status, json::parse(res->body, nullptr, false), 0};
  if (res->has_header("X-Seer-Now")) a.now = std::stoll(res->get_header_value("X-Seer-Now"));
  return a;
}

class LiveDifferential : public ::testing::TestWithParam<Engine> {};

TEST_P(LiveDifferential, EveryResponseIsTheModelsAcrossRestartsAndKills) {
  if (GetParam() == Engine::kPostgres && !postgres_cluster()) {
    GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL); ctest starts one";
  }
  const auto dir = fresh_dir("differential-" + engine_name(GetParam()));
  const std::string db =
      fresh_database(GetParam(), dir, "seer_differential_" + std::to_string(getpid()));
  const std::vector<std::string> args{"--db", db, "--port", "0", "--sweep-every-ms", "0"};
  std::mt19937_64 seeds(20261201);
  int requests = 0, messages = 0, restarts = 0, kills = 0;
  for (std::uint64_t sequence = 0; sequence < seer::testing::sweep_seeds(20, 3); ++sequence) {
    // Each sequence has its own origin: the database keeps every earlier one.
    testing::Generator gen(seeds(), "s" + std::to_string(sequence) + ":");
    gen.addresses(kTargets, kListeners);
    State state;
    auto life = std::make_unique<ServerLife>(args);
    // Every message the model emitted reached its stream, in order, and nothing else did.
    const auto check_messages = [&](std::size_t extra, std::chrono::milliseconds wait) {
      for (const auto& path : kStreams) {
        const auto& want = life->expected[path];
        const auto got = life->streams->received(path, want.size() + extra, wait);
        ASSERT_EQ(got, want) << "messages on " << path;
      }
    };
    for (int i = 0; i < 150; ++i) {
      const json r = gen.next(wall_clock_ms(), state);
      if (r["kind"].get<std::string>().rfind("debug.", 0) == 0) continue;  // not served over HTTP
      const Answer got = post(*life->client, r);
      ASSERT_GT(got.now, 0) << "no X-Seer-Now for " << r.dump();
      const auto step = apply(state, r, got.now);
      const json& expected = step.response;
      ASSERT_EQ(got.body, expected) << "request " << r.dump() << " at now " << got.now;
      ASSERT_EQ(got.status, expected["head"]["status"].get<int>());
      for (const auto& m : step.messages) {
        life->expected[stream_of(m["address"].get<std::string>())].push_back(m["message"]);
        ++messages;
      }
      ASSERT_NO_FATAL_FAILURE(check_messages(0, std::chrono::seconds(2))) << "after " << r.dump();
      ++requests;
      if (i % 50 == 49) {  // a restart: clean twice as often as a crash
        ASSERT_NO_FATAL_FAILURE(check_messages(1, std::chrono::milliseconds(50)))
            << "a message the model did not emit";
        const bool kill = (i / 50) % 3 == 2;
        life->streams.reset();
        ASSERT_EQ(life->server->stop(kill ? SIGKILL : SIGTERM), kill ? 128 + SIGKILL : 0);
        (kill ? kills : restarts)++;
        life = std::make_unique<ServerLife>(args);
      }
    }
    life->streams.reset();
    EXPECT_EQ(life->server->stop(SIGTERM), 0) << "a clean stop exits 0";
  }
  std::cout << "live differential (" << engine_name(GetParam()) << "): " << requests
            << " requests, " << messages << " messages, " << restarts << " restarts, " << kills
            << " kills\n";
  EXPECT_GT(requests, 100);
  EXPECT_GT(messages, requests / 100);  // about 3 in 100 requests emit one
  EXPECT_GT(kills, 0);
  EXPECT_GT(restarts, 0);
  std::filesystem::remove_all(dir);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A request's `now` is the wall clock when it was applied, however long the server took to open
// its connections (it once counted model time from before opening them, so every `now` ran ahead
// by that long and timeouts came early).
TEST_P(LiveDifferential, ANowIsTheWallClockOfItsRequest) {
  if (GetParam() == Engine::kPostgres && !postgres_cluster()) {
    GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL); ctest starts one";
  }
  const auto dir = fresh_dir("clock-" + engine_name(GetParam()));
  const std::string db = fresh_database(GetParam(), dir, "seer_clock_" + std::to_string(getpid()));
  ServerProcess server(SEER_RESONATE_BINARY,
                       {"--db", db, "--port", "0", "--sweep-every-ms", "0", "--connections", "32"});
  httplib::Client client("127.0.0.1", server.port());
  for (int i = 0; i < 5; ++i) {
    const json get = {{"kind", "promise.get"},
                      {"head", {{"corrId", "c"}, {"version", "v"}}},
                      {"data", {{"id", "clock" + std::to_string(i)}}}};
    const auto before = wall_ms();
    const auto answer = post(client, get);
    const auto after = wall_ms();
    EXPECT_EQ(answer.status, 404);
    // A millisecond either way for the two clocks' rounding.
    EXPECT_GE(answer.now, before - 1);
    EXPECT_LE(answer.now, after + 1);
  }
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Stores, LiveDifferential,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const auto& info) { return engine_name(info.param); });

}  // namespace
}  // namespace seer::promises::live
