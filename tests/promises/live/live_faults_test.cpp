// The live fault test, Jepsen style: clients load a real seer-resonate through a fault proxy while
// a nemesis kills the server with SIGKILL (restarting it on the same database) and cuts every
// connection through the proxy. The server sweeps every 100 ms and records its sweeps (--history),
// which join the clients' operations in the history checked. Each client records what it saw in
// seer's history format; at the end, with the faults healed, a quiet period in which the sweeps
// must settle every targeted promise that was due (liveness), then each client reads back every
// promise it used. `seer check --model promises` must find the history linearizable: no
// acknowledged create or settle lost.
#include "../random_requests.hpp"
#include "databases.hpp"
#include "fault_proxy.hpp"
#include "server_process.hpp"

#include "seer/postgres/connection.hpp"
#include "seer/sqlite/connection.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

namespace seer::promises::live {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t epoch_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the quiet period waits for (the design's timeouts-settle, live): targeted promises still
// pending in the database though their timeout is at or before `due` (the server's model time is
// the wall clock in ms). Read with a connection of its own, beside the running server.
std::int64_t pending_past(Engine engine, const std::string& db, std::int64_t due) {
  const sql::Statement count{
      "SELECT COUNT(*) FROM promises WHERE state = 'pending' AND has_target = 1 AND "
      "timeout_at <= ?1",
      json::array({due})};
  const json rows = engine == Engine::kSqlite ? sqlite::Connection(db).query(count)
                                              : postgres::Connection(db).query(count);
  return rows.at(0).at(0).get<std::int64_t>();
}

// The history, shared by the clients: invocations and completions in the order they happened.
class History {
 public:
  void add(int process, const char* type, const std::string& f, json value,
           const std::string& error = "") {
    std::lock_guard lock(mutex_);
    // The machine's monotonic clock, which the server's history file uses too.
    json e = {{"time",
               std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
                   .count()},
              {"process", process},
              {"type", type},
              {"f", f},
              {"value", std::move(value)}};
    if (!error.empty()) e["error"] = error;
    lines_.push_back(e.dump());
  }
  int fresh_process() {
    std::lock_guard lock(mutex_);
    return next_process_++;
  }
  // The clients' operations and the server's (its sweeps, from `server_history`), in time order;
  // how many sweeps completed.
  int write(const std::string& path, const std::string& server_history) const {
    std::vector<json> all;
    for (const auto& l : lines_) all.push_back(json::parse(l));
    std::ifstream in(server_history);
    int sweeps = 0;
    for (std::string l; std::getline(in, l);) {
      if (l.empty()) continue;
      all.push_back(json::parse(l));
      sweeps += all.back()["type"] == "ok" ? 1 : 0;
    }
    std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
      return a["time"].get<std::int64_t>() < b["time"].get<std::int64_t>();
    });
    std::ofstream out(path);
    for (std::size_t i = 0; i < all.size(); ++i) {
      all[i]["index"] = i;
      out << all[i].dump() << "\n";
    }
    return sweeps;
  }
  std::size_t size() const { return lines_.size(); }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
  int next_process_ = 0;
};

std::string origin_name(int origin, int epoch) {
  return "o" + std::to_string(origin) + "e" + std::to_string(epoch) + ":";
}

struct Counts {
  std::atomic<int> ok{0}, unknown{0};
};

// One request as one operation: ok with what the server answered, or info (unknown outcome)
// on a cut connection, a timeout or a 503. After an info the client continues as a new process.
void operate(httplib::Client& http, History& history, int& process, const json& request,
             Counts& counts) {
  const auto f = request["kind"].get<std::string>();
  history.add(process, "invoke", f, {{"request", request}});
  const auto res = http.Post("/", request.dump(), "application/json");
  if (res && res->status != 503 && res->has_header("X-Seer-Now")) {
    const json body = json::parse(res->body, nullptr, false);
    if (!body.is_discarded()) {
      history.add(process, "ok", f,
                  {{"status", res->status},
                   {"data", body["data"]},
                   {"now", std::stoll(res->get_header_value("X-Seer-Now"))}});
      ++counts.ok;
      return;
    }
  }
  history.add(process, "info", f, nullptr, res ? "unavailable" : "connection lost");
  ++counts.unknown;
  process = history.fresh_process();
  // Back off, as the SDK does: retrying at once while the server restarts would only add
  // operations of unknown outcome, each of which the checker must place or leave out.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

class LiveFaults : public ::testing::TestWithParam<Engine> {};

TEST_P(LiveFaults, HistoryUnderKillsAndCutsIsLinearizable) {
  if (GetParam() == Engine::kPostgres && !postgres_cluster()) {
    GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL); ctest starts one";
  }
  std::signal(SIGPIPE, SIG_IGN);  // a cut connection is a failed write, not the test's death
  const auto dir = std::filesystem::temp_directory_path() /
                   ("seer-live-faults-" + engine_name(GetParam()) + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = fresh_database(GetParam(), dir, "seer_faults_" + std::to_string(getpid()));
  // Sweeps on, recorded: the history has every change the server made.
  const std::string server_history = (dir / "server-history.jsonl").string();
  const std::vector<std::string> args{"--db",
                                      db,
                                      "--port",
                                      "0",
                                      "--sweep-every-ms",
                                      "100",
                                      "--history",
                                      server_history,
                                      "--request-timeout-ms",
                                      "1000"};
  FaultProxy proxy;
  auto server = std::make_unique<ServerProcess>(SEER_RESONATE_BINARY, args);
  proxy.forward_to(server->port());

  History history;
  Counts counts;
  const auto start = Clock::now();
  const auto epoch_of = [start](Clock::time_point t) {
    return static_cast<int>((t - start) / std::chrono::milliseconds(750));
  };
  std::atomic<bool> running{true};
  constexpr int kClients = 4;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", proxy.port());
      http.set_tcp_nodelay(true);
      http.set_connection_timeout(std::chrono::milliseconds(500));
      http.set_read_timeout(std::chrono::milliseconds(1500));
      // Two clients per origin, so they contend for the same promises and tasks; every epoch
      // moves them to a fresh origin, so creates and settles keep writing.
      const State none;
      int process = history.fresh_process();
      int epoch = -1;
      std::optional<testing::Generator> gen;
      while (running) {
        if (const int e = epoch_of(Clock::now()); e != epoch) {
          epoch = e;
          gen.emplace(1000 * static_cast<std::uint64_t>(e) + static_cast<std::uint64_t>(c),
                      origin_name(c % 2, e));
          gen->shorter_times(20);  // deadlines within 15 s, leases within 1 s: sweeps find work
        }
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const json r = gen->next(now, none);
        if (r["kind"].get<std::string>().rfind("debug.", 0) == 0) continue;
        operate(http, history, process, r, counts);
      }
    });
  }

  // The nemesis: a kill and restart or a cut every 150-450 ms, for 12 s and at least 6 of each (a
  // restart is slow on a loaded machine: CI once got 5 cuts in 12 s), but never beyond 60 s.
  std::mt19937_64 rng(7);
  int kills = 0, cuts = 0, cut_connections = 0;
  const auto faults_from = Clock::now();
  const auto enough = [&] {
    const auto elapsed = Clock::now() - faults_from;
    return elapsed >= std::chrono::seconds(60) ||
           (elapsed >= std::chrono::seconds(12) && kills > 5 && cuts > 5);
  };
  while (!enough()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 300));
    if (rng() % 2 == 0) {
      ASSERT_EQ(server->stop(SIGKILL), 128 + SIGKILL);
      server = std::make_unique<ServerProcess>(SEER_RESONATE_BINARY, args);
      proxy.forward_to(server->port());
      ++kills;
    } else {
      cut_connections += proxy.cut();
      ++cuts;
    }
  }
  running = false;
  for (auto& t : clients) t.join();

  // The faults healed, targeted promises of the test's own whose timeouts fall inside the quiet
  // period, so the liveness check below never depends on what the random workload left pending.
  const auto kQuietIds = {"q0", "q1", "q2", "q3"};
  {
    httplib::Client http("127.0.0.1", proxy.port());
    int process = history.fresh_process();
    std::int64_t offset_ms = 1000;
    for (const char* id : kQuietIds) {
      operate(http, history, process,
              testing::create(std::string("quiet:") + id, epoch_ms_now() + offset_ms,
                              testing::tags_of({{"resonate:target", "T1"}})),
              counts);
      offset_ms += 400;
    }
  }

  // The quiet period: no faults, no clients. The server's sweeps (every 100 ms) must settle every
  // targeted promise that falls due in the next 3 s within 2 s of its timeout (liveness, the
  // design's timeouts-settle; 2 s allows for a slow machine and sweeps that lose their
  // compare-and-set). Promises due later are not waited for.
  const std::int64_t due = epoch_ms_now() + 3000;
  const auto quiet_from = Clock::now();
  std::int64_t stuck = pending_past(GetParam(), db, due);
  const std::int64_t due_in_quiet = stuck;
  while (stuck > 0 && epoch_ms_now() < due + 2000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stuck = pending_past(GetParam(), db, due);
  }
  const auto settled_in =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - quiet_from);
  EXPECT_EQ(stuck, 0) << stuck << " targeted promise(s) due in the quiet period still pending 2 s "
                      << "after their timeout";
  EXPECT_GT(due_in_quiet, 0)
      << "no targeted promise fell due in the quiet period: it tests nothing";

  // Healed: read back every promise each origin could have, so a lost write shows.
  {
    httplib::Client http("127.0.0.1", proxy.port());
    int process = history.fresh_process();
    for (int e = 0; e <= epoch_of(Clock::now()); ++e) {
      for (int o = 0; o < 2; ++o) {
        for (const char* id : {"a", "b", "c", "d", "e", "f", "g"}) {
          operate(http, history, process, testing::by_id("promise.get", origin_name(o, e) + id),
                  counts);
        }
      }
    }
    for (const char* id : kQuietIds) {
      operate(http, history, process, testing::by_id("promise.get", std::string("quiet:") + id),
              counts);
    }
  }
  EXPECT_EQ(server->stop(SIGTERM), 0);

  const std::string path = (dir / "history.jsonl").string();
  const int sweeps = history.write(path, server_history);
  const std::string command = std::string(SEER_BINARY) + " check --model promises --json " + path +
                              " > " + (dir / "verdict.json").string();
  const int rc = std::system(command.c_str());
  std::ifstream verdict_file(dir / "verdict.json");
  const json verdict = json::parse(verdict_file, nullptr, false);
  std::cout << "live faults: " << counts.ok << " ok, " << counts.unknown << " unknown; " << kills
            << " kills, " << cuts << " cuts (" << cut_connections << " connections); " << sweeps
            << " sweeps that changed something; " << due_in_quiet
            << " targeted promise(s) due in the quiet period, all settled " << settled_in.count()
            << " ms into it; verdict "
            << (verdict.is_discarded() ? std::string("unreadable") : verdict.dump().substr(0, 300))
            << "\n";
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "seer check: history " << path << " is not linearizable";
  EXPECT_GT(kills, 5);
  // With several loops a sweep's compare-and-set competes with the clients' requests on the same
  // origin (it then fails, and the next sweep tries again), so on a fast store few sweeps land:
  // 3 or 4 a run on SQLite, 15 to 29 on PostgreSQL.
  EXPECT_GT(sweeps, 0) << "the server's sweeps found nothing due: the history does not test them";
  EXPECT_GT(cuts, 5);
  EXPECT_GT(counts.ok.load(), 200);
  // Kept after a failure, or when SEER_LIVE_KEEP is set, for `seer check` and `seer explain`.
  if (!HasFailure() && !std::getenv("SEER_LIVE_KEEP")) std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Stores, LiveFaults, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const auto& info) { return engine_name(info.param); });

}  // namespace
}  // namespace seer::promises::live
