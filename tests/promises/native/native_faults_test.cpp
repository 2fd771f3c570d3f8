// A live fault test of the native target, Jepsen style: clients call resonate.resonate_rpc over
// their own connections while a nemesis terminates their backends (pg_terminate_backend), so calls
// fail mid-flight with an unknown outcome. Each client records what it saw in seer's history
// format (an `info` for a lost call, and a fresh process after it); at the end, with the faults
// healed, each client reads back every promise it used. Two clients share each origin. `seer check
// --model promises` must find the history linearizable: no acknowledged create or settle lost, no
// settle applied twice. The promise-only fragment (no targets, so no tasks and no sweeps):
// untargeted promises time out when a request names them. Runs only with SEER_BINARY (the `seer`
// that checks the history).
#include "../random_requests.hpp"
#include "native_db.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace seer::promises::native::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace t = promises::testing;

// The history, shared by the clients: invocations and completions in the order they happened.
class FaultHistory {
 public:
  void add(int process, const char* type, const std::string& f, json value,
           const std::string& error = "", Clock::time_point at = Clock::now()) {
    std::lock_guard lock(mutex_);
    json e = {{"time",
               std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count()},
              {"process", process},
              {"type", type},
              {"f", f},
              {"value", std::move(value)}};
    if (!error.empty()) e["error"] = error;
    lines_.push_back(std::move(e));
  }
  int fresh_process() {
    std::lock_guard lock(mutex_);
    return next_process_++;
  }
  void write(const std::string& path) {
    std::lock_guard lock(mutex_);
    std::stable_sort(lines_.begin(), lines_.end(), [](const json& a, const json& b) {
      return a["time"].get<std::int64_t>() < b["time"].get<std::int64_t>();
    });
    std::ofstream out(path);
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      lines_[i]["index"] = i;
      out << lines_[i].dump() << "\n";
    }
  }

 private:
  std::mutex mutex_;
  std::vector<json> lines_;
  int next_process_ = 0;
};

struct Counts {
  std::atomic<int> ok{0}, unknown{0};
};

// One client: its own connection (reopened after a fault) and process id (fresh after an info).
class Client {
 public:
  Client(std::string url, FaultHistory& history, Counts& counts)
      : url_(std::move(url)),
        history_(history),
        counts_(counts),
        process_(history.fresh_process()) {}

  void operate(const json& request) {
    const auto f = request["kind"].get<std::string>();
    history_.add(process_, "invoke", f, {{"request", request}});
    try {
      if (!session_) session_ = std::make_unique<Session>(url_);
      const Rpc got = rpc(*session_, request);
      history_.add(process_, "ok", f,
                   {{"status", got.response["head"]["status"]},
                    {"data", got.response["data"]},
                    {"now", got.now}});
      ++counts_.ok;
    } catch (const std::exception& e) {
      // The backend was terminated (or could not be reached): the call may or may not have
      // committed. The client goes on as a new process on a new connection, after a pause.
      history_.add(process_, "info", f, nullptr, e.what());
      ++counts_.unknown;
      session_.reset();
      process_ = history_.fresh_process();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  std::string url_;
  FaultHistory& history_;
  Counts& counts_;
  int process_;
  std::unique_ptr<Session> session_;
};

TEST(NativeFaults, TerminatedBackendsLoseNothingAcknowledged) {
  const char* seer = std::getenv("SEER_BINARY");
  if (!cluster_url() || !seer || !*seer)
    GTEST_SKIP() << "needs SEER_POSTGRES_URL and SEER_BINARY (ctest's promises_native_faults)";
  const std::string name = "seer_native_faults_" + std::to_string(getpid());
  const std::string url = fresh_native_database(name);
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  FaultHistory history;
  Counts counts;
  std::atomic<bool> stop{false};
  std::atomic<int> terminated{0};
  constexpr int kClients = 6;
  const std::vector<std::string> ids{"a", "b", "c", "d"};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client client(url, history, counts);
      std::mt19937_64 rng(static_cast<std::uint64_t>(c) * 7919 + 1);
      const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
      // Two clients an origin: their calls on one promise race, and the origin lock orders them.
      const std::string origin = "c" + std::to_string(c % 3) + ":";
      while (!stop) {
        const std::string id = origin + ids[pick(ids.size())];
        const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        switch (pick(3)) {
          case 0:
            client.operate(t::create(id, wall + static_cast<std::int64_t>(pick(4000)) - 500));
            break;
          case 1:
            client.operate(
                t::settle(id, pick(2) ? "resolved" : "rejected", "v" + std::to_string(pick(1000))));
            break;
          default:
            client.operate(t::by_id("promise.get", id));
        }
      }
      // Healed: read back every promise this client used.
      for (const auto& id : ids) client.operate(t::by_id("promise.get", origin + id));
    });
  }
  // The nemesis: every 150 ms, terminate one of the clients' backends.
  {
    Session nemesis(url);
    std::mt19937_64 rng(42);
    const auto until = Clock::now() + std::chrono::seconds(8);
    while (Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      const auto pids = nemesis.rows(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
          "AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
      if (pids.empty()) continue;
      const auto& victim = *pids[rng() % pids.size()][0];
      if (nemesis.value("SELECT pg_terminate_backend($1::int)", {victim}) == "t") ++terminated;
    }
    stop = true;
  }
  for (auto& c : clients) c.join();

  const std::string path = (dir / "history.jsonl").string();
  history.write(path);
  const std::string command = std::string(seer) + " check --model promises --json " + path + " > " +
                              (dir / "verdict.json").string();
  const int rc = std::system(command.c_str());
  std::ifstream verdict_file(dir / "verdict.json");
  const json verdict = json::parse(verdict_file, nullptr, false);
  std::cout << "native faults: " << counts.ok << " ok, " << counts.unknown << " unknown; "
            << terminated << " backends terminated; verdict "
            << (verdict.is_discarded() ? std::string("unreadable") : verdict.dump().substr(0, 300))
            << "\n";
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "seer check: history " << path << " is not linearizable";
  EXPECT_GT(terminated, 10);
  EXPECT_GT(counts.unknown.load(), 5) << "the faults hit no call: the history does not test them";
  EXPECT_GT(counts.ok.load(), 200);
  if (!HasFailure() && !std::getenv("SEER_LIVE_KEEP")) std::filesystem::remove_all(dir);
}

// The same with the whole protocol: each client sends the random requests of
// random_requests.hpp (tasks, callbacks, listeners, fences, heartbeats; deadlines and leases 20
// times closer), two clients an origin, a fresh origin every 2 s; a sweeper node calls
// process_timeouts_swept every 100 ms and records each origin it swept as a debug.tick at the time
// it swept it. The nemesis terminates the clients' backends, not the sweeper's (a sweep whose
// outcome is unknown names no origin the history could record).
TEST(NativeFaults, TasksAndSweepsUnderTerminatedBackends) {
  const char* seer = std::getenv("SEER_BINARY");
  if (!cluster_url() || !seer || !*seer)
    GTEST_SKIP() << "needs SEER_POSTGRES_URL and SEER_BINARY (ctest's promises_native_faults)";
  const std::string name = "seer_native_faults2_" + std::to_string(getpid());
  const std::string url = fresh_native_database(name);
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  FaultHistory history;
  Counts counts;
  std::atomic<bool> stop{false};
  std::atomic<int> terminated{0}, sweeps{0};
  const auto start = Clock::now();
  const auto epoch_of = [&](Clock::time_point t) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(t - start).count() /
                            2);
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < 6; ++c) {
    threads.emplace_back([&, c] {
      Client client(url, history, counts);
      const State none;
      int epoch = -1;
      std::optional<promises::testing::Generator> gen;
      while (!stop) {
        if (const int e = epoch_of(Clock::now()); e != epoch) {
          epoch = e;
          gen.emplace(1000 * static_cast<std::uint64_t>(e) + static_cast<std::uint64_t>(c),
                      "o" + std::to_string(c % 3) + "e" + std::to_string(e) + ":");
          gen->shorter_times(20);
        }
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const json r = gen->next(now, none);
        if (r["kind"].get<std::string>().rfind("debug.", 0) == 0) continue;
        client.operate(r);
      }
    });
  }
  threads.emplace_back([&] {  // the sweeper
    Session node(url + "?application_name=sweeper");
    while (!stop) {
      const auto invoked = Clock::now();
      const auto swept =
          node.rows("SELECT swept_origin, swept_at FROM resonate.process_timeouts_swept()");
      const auto completed = Clock::now();
      for (const auto& row : swept) {
        const std::int64_t at = std::stoll(*row[1]);
        const int process = history.fresh_process();
        history.add(process, "invoke", "debug.tick",
                    {{"request", t::tick(at)}, {"origin", *row[0]}}, "", invoked);
        history.add(process, "ok", "debug.tick",
                    {{"status", 200}, {"data", json::array()}, {"now", at}}, "", completed);
        ++sweeps;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  {
    Session nemesis(url);
    std::mt19937_64 rng(43);
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      const auto pids = nemesis.rows(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
          "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
          "AND application_name <> 'sweeper'");
      if (pids.empty()) continue;
      const auto& victim = *pids[rng() % pids.size()][0];
      if (nemesis.value("SELECT pg_terminate_backend($1::int)", {victim}) == "t") ++terminated;
    }
    stop = true;
  }
  for (auto& th : threads) th.join();

  const std::string path = (dir / "history.jsonl").string();
  history.write(path);
  const std::string command = std::string(seer) + " check --model promises --json " + path + " > " +
                              (dir / "verdict.json").string();
  const int rc = std::system(command.c_str());
  std::ifstream verdict_file(dir / "verdict.json");
  const json verdict = json::parse(verdict_file, nullptr, false);
  std::cout << "native faults with tasks: " << counts.ok << " ok, " << counts.unknown
            << " unknown; " << terminated << " backends terminated; " << sweeps
            << " origin sweeps; verdict "
            << (verdict.is_discarded() ? std::string("unreadable") : verdict.dump().substr(0, 300))
            << "\n";
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "seer check: history " << path << " is not linearizable";
  EXPECT_GT(terminated, 10);
  EXPECT_GT(counts.unknown.load(), 5);
  EXPECT_GT(sweeps.load(), 0) << "the sweeps found nothing due: the history does not test them";
  EXPECT_GT(counts.ok.load(), 200);
  if (!HasFailure() && !std::getenv("SEER_LIVE_KEEP")) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seer::promises::native::testing
