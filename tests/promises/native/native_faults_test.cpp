// A live fault test of the native target, Jepsen style: clients call resonate.resonate_rpc over
// their own connections while a nemesis terminates their backends (pg_terminate_backend), so calls
// fail mid-flight with an unknown outcome. Each client records what it saw in seer's history
// format (an `info` for a lost call, and a fresh process after it); at the end, with the faults
// healed, each client reads back every promise it used. Two clients share each origin. `seer check
// --model promises` must find the history linearizable: no acknowledged create or settle lost, no
// settle applied twice. A third test crashes PostgreSQL itself (an immediate shutdown) on a
// cluster of its own. Runs only with SEER_BINARY (the `seer` that checks the history).
#include "../random_requests.hpp"
#include "native_db.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
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
    // A request is only recorded once there is a connection to send it on: one that could not be
    // sent did not happen, and an `info` for it would only widen the checker's search.
    if (!session_) {
      try {
        session_ = std::make_unique<Session>(url_);
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return;
      }
    }
    const auto f = request["kind"].get<std::string>();
    history_.add(process_, "invoke", f, {{"request", request}});
    try {
      const Rpc got = rpc(*session_, request);
      history_.add(process_, "ok", f,
                   {{"status", got.response["head"]["status"]},
                    {"data", got.response["data"]},
                    {"now", got.now}});
      ++counts_.ok;
    } catch (const std::exception& e) {
      // The backend was terminated (or the server went down): the call may or may not have
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

// Client `c` of the promise-only fragment (no targets, so no tasks and no sweeps: untargeted
// promises time out when a request names them) until `stop`; then, healed, it reads back every
// promise it used. Two clients an origin: their calls on one promise race, and the origin lock
// orders them.
void promise_fragment_client(int c, const std::string& url, FaultHistory& history, Counts& counts,
                             const std::atomic<bool>& stop) {
  Client client(url, history, counts);
  std::mt19937_64 rng(static_cast<std::uint64_t>(c) * 7919 + 1);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> ids{"a", "b", "c", "d"};
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
  for (const auto& id : ids) client.operate(t::by_id("promise.get", origin + id));
}

// Six clients of the promise-only fragment while `nemesis` runs (it returns how many faults it
// caused), then stopped and joined: the faults' count.
int with_fragment_clients(const std::string& url, FaultHistory& history, Counts& counts,
                          const std::function<int()>& nemesis) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] { promise_fragment_client(c, url, history, counts, stop); });
  }
  const int faults = nemesis();
  stop = true;
  for (auto& c : clients) c.join();
  return faults;
}

// The nemesis of the first two tests: every 150 ms for `seconds`, terminate one client backend of
// the database (`spare`: an SQL condition on pg_stat_activity naming backends to leave alone).
int terminate_backends(const std::string& url, int seconds, std::uint64_t seed,
                       const std::string& spare = "false") {
  Session nemesis(url);
  std::mt19937_64 rng(seed);
  int terminated = 0;
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const auto pids = nemesis.rows(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND NOT (" +
        spare + ")");
    if (pids.empty()) continue;
    const auto& victim = *pids[rng() % pids.size()][0];
    if (nemesis.value("SELECT pg_terminate_backend($1::int)", {victim}) == "t") ++terminated;
  }
  return terminated;
}

// A test's scratch directory (its history and verdict), removed when the test passes.
std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The history written to DIR/history.jsonl and checked by `seer check --model promises`: whether
// it is linearizable, with the verdict's start printed after `summary`.
bool history_checks(const char* seer, FaultHistory& history, const std::filesystem::path& dir,
                    const std::string& summary) {
  const std::string path = (dir / "history.jsonl").string();
  history.write(path);
  const std::string command = std::string(seer) + " check --model promises --json " + path + " > " +
                              (dir / "verdict.json").string();
  const int rc = std::system(command.c_str());
  std::ifstream verdict_file(dir / "verdict.json");
  const json verdict = json::parse(verdict_file, nullptr, false);
  std::cout << summary << "; verdict "
            << (verdict.is_discarded() ? std::string("unreadable") : verdict.dump().substr(0, 300))
            << "\n";
  return WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

TEST(NativeFaults, TerminatedBackendsLoseNothingAcknowledged) {
  const char* seer = std::getenv("SEER_BINARY");
  if (!cluster_url() || !seer || !*seer)
    GTEST_SKIP() << "needs SEER_POSTGRES_URL and SEER_BINARY (ctest's promises_native_faults)";
  const std::string name = "seer_native_faults_" + std::to_string(getpid());
  const std::string url = fresh_native_database(name);
  const auto dir = scratch_dir(name);

  FaultHistory history;
  Counts counts;
  const int terminated =
      with_fragment_clients(url, history, counts, [&] { return terminate_backends(url, 8, 42); });

  EXPECT_TRUE(history_checks(seer, history, dir,
                             "native faults: " + std::to_string(counts.ok) + " ok, " +
                                 std::to_string(counts.unknown) + " unknown; " +
                                 std::to_string(terminated) + " backends terminated"))
      << "seer check: history " << (dir / "history.jsonl") << " is not linearizable";
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
  const auto dir = scratch_dir(name);

  FaultHistory history;
  Counts counts;
  std::atomic<bool> stop{false};
  std::atomic<int> sweeps{0};
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
  const int terminated = terminate_backends(url, 10, 43, "application_name = 'sweeper'");
  stop = true;
  for (auto& th : threads) th.join();

  EXPECT_TRUE(history_checks(seer, history, dir,
                             "native faults with tasks: " + std::to_string(counts.ok) + " ok, " +
                                 std::to_string(counts.unknown) + " unknown; " +
                                 std::to_string(terminated) + " backends terminated; " +
                                 std::to_string(sweeps) + " origin sweeps"))
      << "seer check: history " << (dir / "history.jsonl") << " is not linearizable";
  EXPECT_GT(terminated, 10);
  EXPECT_GT(counts.unknown.load(), 5);
  EXPECT_GT(sweeps.load(), 0) << "the sweeps found nothing due: the history does not test them";
  EXPECT_GT(counts.ok.load(), 200);
  if (!HasFailure() && !std::getenv("SEER_LIVE_KEEP")) std::filesystem::remove_all(dir);
}

// PostgreSQL itself crashing: an immediate shutdown (no checkpoint; what was committed comes back
// from the WAL at the next start) under the clients, three times, on a cluster of the test's own
// (the shared one serves other tests meanwhile). Every acknowledged call must survive: resonate_rpc
// returns only after its transaction committed, and with fsync and synchronous_commit on, a
// commit is on disk when it returns. Calls in flight at the crash become `info`.
TEST(NativeFaults, ImmediateRestartsLoseNothingAcknowledged) {
  const char* seer = std::getenv("SEER_BINARY");
  const char* script = std::getenv("SEER_POSTGRES_CLUSTER_SCRIPT");
  const char* port = std::getenv("SEER_RESTART_PORT");
  if (!seer || !*seer || !script || !*script || !port || !*port)
    GTEST_SKIP() << "needs SEER_BINARY, SEER_POSTGRES_CLUSTER_SCRIPT and SEER_RESTART_PORT "
                    "(ctest's promises_native_restarts)";
  const std::string name = "seer_native_restarts_" + std::to_string(getpid());
  const auto dir = scratch_dir(name);
  // The cluster's state beside, named by its port: a cluster left by an interrupted run is
  // stopped by the next start.
  const std::string state = (std::filesystem::temp_directory_path() /
                             ("seer_native_restarts_cluster_" + std::string(port)))
                                .string();
  const std::string cluster = std::string("bash ") + script + " ";
  ASSERT_EQ(std::system((cluster + "start " + state + " " + port + " >/dev/null").c_str()), 0);
  struct StopCluster {
    std::string command;
    std::string state;
    ~StopCluster() {
      (void)std::system(command.c_str());
      std::filesystem::remove_all(state);
    }
  } stop_cluster{cluster + "stop " + state, state};
  const std::string url = fresh_native_database(
      "restarts", "postgres://seer@127.0.0.1:" + std::string(port) + "/postgres");

  FaultHistory history;
  Counts counts;
  const int restarts = with_fragment_clients(url, history, counts, [&] {
    int done = 0;
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2000));
      if (std::system((cluster + "restart " + state).c_str()) == 0) ++done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    return done;
  });

  EXPECT_TRUE(history_checks(seer, history, dir,
                             "native restarts: " + std::to_string(counts.ok) + " ok, " +
                                 std::to_string(counts.unknown) + " unknown; " +
                                 std::to_string(restarts) + " immediate restarts"))
      << "seer check: history " << (dir / "history.jsonl") << " is not linearizable";
  EXPECT_EQ(restarts, 3);
  EXPECT_GT(counts.unknown.load(), 0) << "no call was in flight at a crash";
  EXPECT_GT(counts.ok.load(), 200);
  if (!HasFailure() && !std::getenv("SEER_LIVE_KEEP")) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seer::promises::native::testing
