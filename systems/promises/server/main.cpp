// seer-resonate: the final design's server (../design/server.cpp, unchanged) on the real runtime,
// with the concrete SQL on SQLite as its store and HTTP as the SDK speaks it. docs/resonate.md.
#include "history_file.hpp"
#include "http_front.hpp"
#include "mailroom.hpp"
#include "postgres_store.hpp"
#include "sqlite_store.hpp"
#include "storage_guard.hpp"

#include "promises/design/server.hpp"
#include "seer/runtime/loop_env.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

namespace {

using namespace seer;
using namespace seer::promises;

constexpr sim::ProcessId kHttp = 1;
constexpr sim::ProcessId kMailroom = 2;
constexpr sim::ProcessId kFirstServer = 10;  // the loops are servers 10, 11, ...

std::mutex log_mutex;
void log_line(const std::string& line) {
  std::lock_guard lock(log_mutex);
  std::cerr << "seer-resonate: " << line << std::endl;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_postgres_url(const std::string& db) {
  return db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0;
}

// The database named by --db, open on one connection, and how a loop makes its store on it.
struct OpenStore {
  // A loop's reads, on one or the other; the writes go through `writes`.
  std::unique_ptr<sqlite::Connection> sqlite;
  std::unique_ptr<postgres::Connection> postgres;
  server::GroupCommit* writes = nullptr;

  std::unique_ptr<design::PartitionStore> make(
      const server::ErrorLog& log, const server::FileIdentity* identity,
      const std::function<void(const std::string&)>& fatal) {
    if (postgres) return server::make_postgres_partition_store(*postgres, *writes, log);
    return server::make_sqlite_partition_store(*sqlite, *writes, log, identity, fatal);
  }
};

OpenStore open_store(const std::string& db, server::GroupCommit* writes) {
  OpenStore store;
  if (is_postgres_url(db)) {
    store.postgres = server::open_postgres_database(db);
    store.postgres->read_implicitly();  // a loop's session only reads: no BEGIN and COMMIT
  } else {
    store.sqlite = server::open_sqlite_database(db);
  }
  store.writes = writes;
  return store;
}

// For the listening line: the file, or the URL without its credentials.
std::string shown_db(const std::string& db) {
  if (!is_postgres_url(db)) return db;
  const auto scheme = db.find("://") + 3;
  const auto at = db.find('@', scheme);
  return at == std::string::npos ? db : db.substr(0, scheme) + db.substr(at + 1);
}

// One of the server's loops: the design's server process on its own thread and connection.
struct Loop {
  std::unique_ptr<runtime::LoopEnv> env;
  OpenStore store;
  std::thread thread;
};

struct ServeOptions {
  std::string db = "seer-resonate.db";
  server::HttpOptions http;
  // Loops, each with its own database connection: the requests in flight. 16, not 8: on PostgreSQL
  // a loop waits for a round trip and a commit per request, and at 8 the 2-core machine idled 5-9 %
  // under 64 clients (BENCHMARKS.md, "Sixteen loops").
  int connections = 16;
  // PostgreSQL: connections the groups of writes commit on; 0: one.
  int write_connections = 0;
  int sweep_every_ms = 1000;
  std::string history;  // where the sweeps are recorded, if anywhere
  bool json_output = false;
};

// Signals are taken by sigwait on the main thread; every thread started after this inherits the
// mask. Also: a client that hangs up is a failed write, not our death; and every connection is a
// descriptor, so take all the system lets us (10,000 poll streams and more).
sigset_t take_process_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // reload the tokens
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return signals;
}

// Why the server stops, if not by a signal: the first reason given is the stopping line's.
class StopReason {
 public:
  // Records `why` (if it is the first) and wakes the main thread, which shuts the rest down.
  void fail(const std::string& why) {
    if (record(why)) kill(getpid(), SIGTERM);
  }
  // False if a reason was given before (the main thread is already woken or stopping).
  bool record(const std::string& why) {
    std::lock_guard lock(mutex_);
    if (!reason_.empty()) return false;
    reason_ = why;
    return true;
  }
  std::string reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  mutable std::mutex mutex_;
  std::string reason_;
};

// Everything a running server holds, in the order it is built.
struct Server {
  server::Mailroom mailroom;
  // One connection writes for every loop, in groups; each loop reads on its own.
  std::unique_ptr<server::GroupCommit> writes;
  std::unique_ptr<server::FileIdentity> identity;  // SQLite: is the file still the one opened?
  std::vector<Loop> loops;
  std::vector<runtime::LoopEnv*> envs;
  std::unique_ptr<server::HttpFront> front;
  std::unique_ptr<server::HistoryFile> history;
  std::thread http;
};

// The database, the loops' environments and the HTTP front, bound but not yet listening.
int open_server(const ServeOptions& options, Server& s) {
  if (is_postgres_url(options.db)) {
    std::vector<std::unique_ptr<postgres::Connection>> sessions;
    // By default one: the fewer sessions commit, the larger each group and the fewer commits
    // (each a round trip, BEGIN, COMMIT and a WAL flush of PostgreSQL's CPU). At 16 loops and 64
    // clients one session ran 4,576-5,272 ops/s and two 4,421-5,040, in nine pairs in turn
    // (BENCHMARKS.md, "One statement for the footprint"); with one session per loop none waits.
    const int writers = options.write_connections > 0 ? options.write_connections : 1;
    for (int i = 0; i < writers; ++i) {
      sessions.push_back(server::open_postgres_database(options.db));
    }
    s.writes = std::make_unique<server::GroupCommit>(std::move(sessions));
  } else {
    s.writes = std::make_unique<server::GroupCommit>(server::open_sqlite_database(options.db));
    server::lock_database_file(options.db);  // one server per file
    s.identity = std::make_unique<server::FileIdentity>(options.db);
  }
  s.loops.resize(static_cast<std::size_t>(options.connections));
  for (std::size_t i = 0; i < s.loops.size(); ++i) {
    s.loops[i].store = open_store(options.db, s.writes.get());
    s.loops[i].env = std::make_unique<runtime::LoopEnv>(
        kFirstServer + static_cast<sim::ProcessId>(i), "seer-resonate",
        [&s](sim::ProcessId to, const sim::PayloadPtr& body) { s.front->outbox(to, body); });
    s.envs.push_back(s.loops[i].env.get());
  }
  server::HttpOptions front_options = options.http;
  front_options.warn = log_line;
  s.front = std::make_unique<server::HttpFront>(s.envs, kHttp, s.mailroom, front_options);
  if (!options.http.auth_token_file.empty()) {
    log_line("authentication: " + s.front->reload_tokens());
  }
  if (!options.history.empty()) s.history = std::make_unique<server::HistoryFile>(options.history);
  return s.front->bind();
}

// Each loop runs the design's server on its own thread; a loop that throws stops the server.
void start_loops(const ServeOptions& options, Server& s, const server::ErrorLog& store_log,
                 StopReason& stop) {
  auto deployment = std::make_shared<design::Deployment>();
  for (auto* env : s.envs) deployment->servers.push_back(env->self());
  deployment->mailroom = kMailroom;
  // One clock for every loop (an answer's now must not go back when the next request of the same
  // client goes to another loop), started with the wall clock it is counted from: opening the
  // connections may take a while, and must not put model time ahead of the wall clock.
  const auto clock_start = std::chrono::steady_clock::now();
  const std::int64_t epoch_ms = wall_clock_ms();
  for (auto* env : s.envs) env->set_clock_start(clock_start);

  for (std::size_t i = 0; i < s.loops.size(); ++i) {
    design::ServerConfig config;
    config.variant = design::variant_named("final-sql");
    config.deployment = deployment;
    config.epoch_ms = epoch_ms;  // with the shared Env clock: one model clock for every loop
    // One loop sweeps (every origin, whichever loop serves it): more would repeat its reads.
    config.sweep_every = i == 0 ? sim::milliseconds(options.sweep_every_ms) : sim::Duration{0};
    if (s.history && i == 0) {
      config.history = s.history.get();
      // Process numbers of this life's sweeps, apart from the clients' and other lives'.
      config.ids = std::make_shared<design::HistoryIds>(
          1'000'000 + static_cast<int>(std::random_device()() % 1'000'000) * 1000);
    }
    Loop& loop = s.loops[i];
    server::FileIdentity* identity = s.identity.get();
    config.make_store = [&loop, &store_log, identity, &stop](sim::Env&, std::deque<sim::Message>*) {
      return loop.store.make(store_log, identity,
                             [&stop](const std::string& why) { stop.fail(why); });
    };
    loop.thread = std::thread([&loop, &stop, config = std::move(config)]() mutable {
      try {
        loop.env->run(design::run_server(*loop.env, std::move(config)));
      } catch (const std::exception& e) {
        stop.fail(e.what());
      }
    });
  }
}

void print_listening(const ServeOptions& options, const Server& s, int port) {
  const std::string url = (options.http.tls_cert.empty() ? "http://" : "https://") +
                          options.http.host + ":" + std::to_string(port);
  if (options.json_output) {
    std::cout << nlohmann::json{{"listening", url},
                                {"port", port},
                                {"db", shown_db(options.db)},
                                {"connections", s.loops.size()}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "seer-resonate listening on " << url << " ("
              << (is_postgres_url(options.db) ? "postgres " : "sqlite ") << shown_db(options.db)
              << ", " << s.loops.size() << " connections)" << std::endl;
  }
}

// Until SIGINT or SIGTERM (or the database file is replaced); SIGHUP rereads the tokens.
void wait_for_stop(const sigset_t& signals, Server& s, StopReason& stop) {
  for (;;) {
    // Each second without a signal: is the database file still the one opened? (A server with
    // no traffic notices within a second too; with traffic, every transaction checks.)
    const timespec second{1, 0};
    const int signal = sigtimedwait(&signals, nullptr, &second);
    if (signal < 0) {
      if (s.identity) {
        if (auto why = s.identity->changed()) {
          stop.record(*why);
          return;
        }
      }
      continue;
    }
    if (signal != SIGHUP) return;
    try {
      log_line("reloaded the tokens: " + s.front->reload_tokens());
    } catch (const std::exception& e) {
      log_line("reloading the tokens failed, the old ones stay: " + std::string(e.what()));
    }
  }
}

// Stop taking requests at the loops: each finishes the one it is in (its commit and answer)
// first. Requests still queued get 503 and were never applied.
void shut_down(Server& s) {
  for (auto& loop : s.loops) loop.env->stop();
  for (auto& loop : s.loops) loop.thread.join();
  s.front->fail_waiting();
  s.front->stop();
  s.http.join();
  s.loops.clear();
  if (s.writes) {
    log_line(std::to_string(s.writes->writes()) + " writes in " +
             std::to_string(s.writes->groups()) + " commits");
  }
  s.writes.reset();  // closing the last SQLite connection checkpoints the WAL
}

int serve(const ServeOptions& options) {
  const sigset_t signals = take_process_signals();
  StopReason stop;
  // Store errors: once per cause, then a count at most every 10 s.
  server::LogLimiter store_errors(log_line, std::chrono::seconds(10));
  const server::ErrorLog store_log = [&](const std::string& line) { store_errors(line); };

  Server s;
  const int port = open_server(options, s);
  start_loops(options, s, store_log, stop);
  s.http = std::thread([&s] { s.front->listen(); });
  s.front->wait_until_listening();
  print_listening(options, s, port);
  wait_for_stop(signals, s, stop);
  shut_down(s);
  if (const std::string reason = stop.reason(); !reason.empty()) {
    log_line("stopped: " + reason);
    return 1;
  }
  log_line("stopped");
  return 0;
}

// The command line's milliseconds, made durations once parsed.
struct TimeoutsMs {
  int request;
  int read;
  int idle;
};

void add_storage_options(CLI::App& app, ServeOptions& o) {
  app.add_option("--db", o.db,
                 "SQLite database file (created if missing), or postgres://user@host:port/dbname "
                 "(the schema is created if missing)");
  app.add_option("--connections", o.connections,
                 "database connections, each serving requests on its own thread (the requests of "
                 "one origin always on the same one)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option(
         "--write-connections", o.write_connections,
         "PostgreSQL: connections that commit the loops' writes, in groups of those that wait "
         "for one (0: one; SQLite has one)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option(
         "--sweep-every-ms", o.sweep_every_ms,
         "how often to time out what is due (0: never, for tests that must see every change)")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--history", o.history,
                 "append the sweeps to this file as operations of a history (seer's JSONL), to "
                 "check a live run with its clients' operations");
}

void add_http_options(CLI::App& app, server::HttpOptions& http, TimeoutsMs& ms) {
  app.add_option("--host", http.host, "address to listen on")->capture_default_str();
  app.add_option("--port", http.port, "port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--io-threads", http.io_threads,
                 "threads serving the HTTP connections (every connection, not one each)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--read-timeout-ms", ms.read,
                 "a request must arrive whole within this from its first byte, and a client must "
                 "take an answer within it, or its connection is closed")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_option("--idle-timeout-ms", ms.idle,
                 "close a keep-alive connection with no request for this long")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();
  app.add_option("--max-body", http.max_body, "request bodies larger than this get 413")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-id-bytes", http.max_id_bytes,
                 "a promise or task id longer than this gets 400")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-tag-bytes", http.max_tag_bytes,
                 "a tag key or value longer than this gets 400")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--body-budget", http.body_budget,
                 "bytes of request bodies read or served at once; a request beyond gets 503")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-connections", http.max_connections,
                 "open connections (poll streams too) beyond which new ones are closed at once")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--request-timeout-ms", ms.request,
                 "answer 503 to a request not completed within this")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_option("--auth-token-file", http.auth_token_file,
                 "require Authorization: Bearer <token>, a token from this file (one a line, "
                 "optionally followed by the id prefixes it is limited to); reread on SIGHUP");
  app.add_option("--tls-cert", http.tls_cert, "serve HTTPS with this certificate chain (PEM)");
  app.add_option("--tls-key", http.tls_key, "the private key of --tls-cert (PEM)");
}

int run(int argc, char** argv) {
  CLI::App app{
      "seer-resonate: a Resonate server (the promises protocol of @resonatehq/sdk 0.11.5)"};
  ServeOptions o;
  server::HttpOptions& http = o.http;
  TimeoutsMs ms{static_cast<int>(http.request_timeout.count()),
                static_cast<int>(http.read_timeout.count()),
                static_cast<int>(http.idle_timeout.count())};
  bool verbose = false;
  add_storage_options(app, o);
  add_http_options(app, http, ms);
  app.add_flag("--verbose", verbose, "log every request, poll stream and message to stderr");
  app.add_flag("--json", o.json_output, "print the listening address as one JSON line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "seer-resonate: error: " << e.what() << " (see seer-resonate --help)\n";
    return 2;
  }
  http.request_timeout = std::chrono::milliseconds(ms.request);
  http.read_timeout = std::chrono::milliseconds(ms.read);
  http.idle_timeout = std::chrono::milliseconds(ms.idle);
  if (http.body_budget < http.max_body) {
    std::cerr << "seer-resonate: error: --body-budget (" << http.body_budget
              << ") is below --max-body (" << http.max_body << ")\n";
    return 2;
  }
  if (verbose) http.log = log_line;
  try {
    return serve(o);
  } catch (const std::exception& e) {
    std::cerr << "seer-resonate: error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

// SQLite maps its -shm file; if a page of it cannot be read or written (a full disk, the file
// made immutable or truncated under us) the kernel sends SIGBUS. Say so before dying, in one
// line (write(2) only: async-signal-safe), with exit status 1.
extern "C" void on_bus_error(int) {
  static const char line[] =
      "seer-resonate: fatal: SIGBUS: a memory-mapped file could not be accessed (SQLite's -shm "
      "file: a full disk, or the file made immutable or truncated); stopping, nothing more is "
      "answered\n";
  [[maybe_unused]] const auto n = write(2, line, sizeof line - 1);
  _exit(1);
}

int main(int argc, char** argv) {
  struct sigaction bus {};
  bus.sa_handler = on_bus_error;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
  // Under glibc's malloc (-DSEER_ALLOCATOR=system; by default the server links mimalloc, which
  // ignores these, src/allocator/mimalloc_give_back.cpp): blocks of 1 MiB and more (large request
  // bodies, their JSON, their rows) are mapped and given back when freed. glibc's default threshold
  // rises to 32 MiB after the first large free, and the heap then kept what eight concurrent 7 MB
  // creates had used (291 MiB, growing each round).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Fixing the mmap threshold also freezes the trim threshold at glibc's 128 KiB, and each loop's
  // arena then gave its top back (madvise) after every request and faulted it in again at the
  // next: SQLite's temporary b-trees for the footprint reads' UNIONs are allocated per statement.
  // That cost 40-60 % of the throughput (1,698 against 3,925 ops/s at 64 clients on SQLite).
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  try {
    return run(argc, argv);
  } catch (...) {  // what serve() does not catch: setting up the options
    std::cerr << "seer-resonate: error: unexpected failure\n";
    return 2;
  }
}
