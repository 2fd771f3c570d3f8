// Load generator for seer-resonate: `clients` clients, each creating a promise and settling it,
// over HTTP keep-alive connections, all on one event loop (client_load.hpp); reports operations per
// second and latency percentiles per kind. The server runs on a SQLite file, or with --postgres on
// a fresh database of that server. With --ceiling it also measures the store alone on the same
// machine, at the server's durability (SQLite: WAL, synchronous=FULL; PostgreSQL:
// synchronous_commit on): commits per second of a one-row transaction, and the server's own SQL for
// a create and a settle (concrete/sql_rows) without HTTP.
//
//   resonate_load --server build/release/systems/promises/seer-resonate [--clients 8]
//                 [--seconds 10] [--postgres postgres://user@host:port/postgres] [--ceiling]
//                 [--json]
#include "client_load.hpp"
#include "load_requests.hpp"
#include "pgbench_ceiling.hpp"

#include "promises/concrete/sql_rows.hpp"
#include "promises/model/model.hpp"
#include "seer/postgres/connection.hpp"
#include "seer/runtime/child_process.hpp"
#include "seer/sqlite/connection.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include <unistd.h>

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

using seer::bench::create_request;
using seer::bench::settle_request;
using seer::bench::wall_ms;

// The server, started on a fresh database, and its port.
struct Server {
  std::unique_ptr<seer::runtime::ChildProcess> process;
  int port = 0;
};

Server start_server(const std::string& binary, const std::string& db, int connections) {
  Server server;
  server.process = std::make_unique<seer::runtime::ChildProcess>(std::vector<std::string>{
      binary, "--db", db, "--port", "0", "--connections", std::to_string(connections), "--json"});
  const auto line = server.process->read_line(std::chrono::seconds(10)).value_or("");
  server.process->close_output();
  const auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.contains("port")) {
    throw std::runtime_error("the server did not start: " + line);
  }
  server.port = j["port"].get<int>();
  return server;
}

// How a ceiling runs a transaction on its store; `write` asks for the server's write transaction.
using Transact = std::function<seer::sql::Outcome(const std::vector<seer::sql::Statement>&, bool)>;

// The store alone: commits per second of a one-row transaction at the server's durability, from
// one connection each (each on its own thread, all at once: PostgreSQL flushes concurrent commits
// together).
json commit_ceiling(const std::vector<Transact>& connections, double seconds) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  std::atomic<long> n{0};
  std::mutex failure_mutex;
  std::string failure;
  std::vector<std::thread> threads;
  for (const auto& transact : connections) {
    threads.emplace_back([&] {
      while (Clock::now() < until) {
        const auto r = transact({{"INSERT INTO t (v) VALUES (?1)", json::array({"x"})}}, true);
        if (!r.committed) {
          std::lock_guard lock(failure_mutex);
          failure = r.error;
          return;
        }
        ++n;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!failure.empty()) throw std::runtime_error("commit ceiling: " + failure);
  return {{"connections", connections.size()},
          {"transactions_per_sec", static_cast<double>(n.load()) / seconds}};
}

// The server's SQL for create + settle (read the origin, apply, write the rows), no HTTP.
json protocol_ceiling(const Transact& transact, double seconds) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  long ops = 0;
  for (long i = 0; Clock::now() < until; ++i) {
    const std::string id = "ceiling-" + std::to_string(i);
    for (int step = 0; step < 2; ++step) {
      const json rq = step == 0 ? create_request(id) : settle_request(id);
      const auto read = transact(seer::promises::concrete::read_origin(id), false);
      const auto before = seer::promises::concrete::parse_origin(read.results);
      seer::promises::State state = before.state;
      const std::int64_t now = wall_ms();
      seer::promises::apply(state, rq, now);
      const auto w = transact(seer::promises::concrete::write_origin(id, before, state, now), true);
      if (!w.committed) throw std::runtime_error("protocol ceiling: " + w.error);
      ++ops;
    }
  }
  return {{"ops_per_sec", static_cast<double>(ops) / seconds}};
}

// SQLite at the server's durability (WAL, synchronous=FULL) and settings, with `schema`.
std::unique_ptr<seer::sqlite::Connection> sqlite_at(const std::string& path,
                                                    const std::string& schema) {
  auto db = std::make_unique<seer::sqlite::Connection>(path);
  seer::promises::concrete::use_server_settings(*db, path);  // its store as the server runs it
  db->exec(schema);
  return db;
}

Transact sqlite_transact(seer::sqlite::Connection& db) {
  return [&db](const std::vector<seer::sql::Statement>& statements, bool write) {
    return db.transact(statements,
                       write ? seer::sqlite::Begin::kImmediate : seer::sqlite::Begin::kDeferred);
  };
}

// A new, empty database on the PostgreSQL server `cluster` names (its URL ends in /dbname).
std::string fresh_postgres_database(const std::string& cluster, const std::string& name) {
  seer::postgres::Connection admin(cluster);
  admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  admin.exec("CREATE DATABASE " + name);
  return cluster.substr(0, cluster.rfind('/') + 1) + name;
}

// Such a database connected at the server's durability (synchronous_commit on), with `schema`.
std::unique_ptr<seer::postgres::Connection> postgres_at(const std::string& cluster,
                                                        const std::string& name,
                                                        const std::string& schema) {
  auto db = std::make_unique<seer::postgres::Connection>(fresh_postgres_database(cluster, name),
                                                         "SET synchronous_commit = on");
  db->exec(schema);
  return db;
}

Transact postgres_transact(seer::postgres::Connection& db) {
  return [&db](const std::vector<seer::sql::Statement>& statements, bool write) {
    return db.transact(statements,
                       write ? seer::postgres::Access::kWrite : seer::postgres::Access::kRead);
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "resonate_load: create + settle load against seer-resonate, beside its store's ceiling"};
  std::string server;
  std::vector<int> clients{1, 8, 32};
  double seconds = 10;
  bool ceiling = false, json_output = false;
  // Per process: the directory is emptied at the start and removed at the end, so two loads at
  // once (ctest -j2) must not share it.
  std::string dir =
      std::filesystem::temp_directory_path() / ("seer-resonate-load-" + std::to_string(::getpid()));
  app.add_option("--server", server, "the seer-resonate binary")->required();
  app.add_option("--clients", clients, "client counts to run, one load each")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "seconds per measurement")->capture_default_str();
  app.add_option("--dir", dir, "where the databases go")->capture_default_str();
  std::string postgres;
  app.add_option("--postgres", postgres,
                 "a PostgreSQL server's URL (postgres://user@host:port/postgres): run the server "
                 "on a fresh database there instead of a SQLite file");
  int connections = 16;  // the server's default
  app.add_option("--connections", connections, "the server's database connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  std::string pgbench;
  app.add_option("--pgbench", pgbench,
                 "with --postgres: also run this pgbench (TPC-B-like, prepared) at each client "
                 "count, on a fresh database of the same server");
  app.add_flag("--ceiling", ceiling, "also measure the store alone at the same durability");
  app.add_flag("--json", json_output, "one JSON object");
  bool client_threads = false;
  app.add_flag("--client-threads", client_threads,
               "a thread per client blocking on cpp-httplib (the generator before 2026-12-05) "
               "instead of every client on one event loop");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "resonate_load: error: " << e.what() << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  json report = {{"loads", json::array()}};
  try {
    for (int n : clients) {
      const auto db = postgres.empty()
                          ? dir + "/server-" + std::to_string(n) + ".db"
                          : fresh_postgres_database(postgres, "seer_load_" + std::to_string(n));
      auto running = start_server(server, db, connections);
      auto load = client_threads ? seer::bench::run_thread_load(running.port, n, seconds)
                                 : seer::bench::run_event_load(running.port, n, seconds);
      load["driver"] = client_threads ? "threads" : "event loop";
      running.process->stop(SIGTERM);
      if (!pgbench.empty() && !postgres.empty()) {
        load["pgbench_tps"] = seer::bench::pgbench_tps(
            pgbench, fresh_postgres_database(postgres, "seer_load_pgbench"), n, seconds);
      }
      if (!json_output) {
        std::cout << "seer-resonate, " << n
                  << " clients: " << static_cast<long>(load["ops_per_sec"].get<double>())
                  << " ops/s; create p50 " << load["create"].value("p50_ms", 0.0) << " ms, p99 "
                  << load["create"].value("p99_ms", 0.0) << " ms; settle p50 "
                  << load["settle"].value("p50_ms", 0.0) << " ms, p99 "
                  << load["settle"].value("p99_ms", 0.0) << " ms; errors " << load["errors"];
        if (load.contains("pgbench_tps")) {
          std::cout << "; pgbench TPC-B-like at " << n
                    << " clients: " << static_cast<long>(load["pgbench_tps"].get<double>())
                    << " tps";
        }
        std::cout << "\n";
      }
      report["loads"].push_back(std::move(load));
    }
    if (ceiling && postgres.empty()) {
      const auto one_row =
          sqlite_at(dir + "/commit.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      report["sqlite_commit"] = commit_ceiling({sqlite_transact(*one_row)}, seconds);
      const auto server_sql =
          sqlite_at(dir + "/protocol.db", seer::promises::concrete::sqlite_schema());
      report["sqlite_protocol"] = protocol_ceiling(sqlite_transact(*server_sql), seconds);
    } else if (ceiling) {
      const auto one_row = postgres_at(postgres, "seer_load_commit",
                                       "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v TEXT)");
      report["postgres_commit"] = commit_ceiling({postgres_transact(*one_row)}, seconds);
      // As many connections as the server has, committing at once.
      std::vector<std::unique_ptr<seer::postgres::Connection>> more;
      std::vector<Transact> parallel;
      for (int i = 0; i < connections; ++i) {
        const std::string url = postgres.substr(0, postgres.rfind('/') + 1) + "seer_load_commit";
        more.push_back(
            std::make_unique<seer::postgres::Connection>(url, "SET synchronous_commit = on"));
        parallel.push_back(postgres_transact(*more.back()));
      }
      report["postgres_commit_parallel"] = commit_ceiling(parallel, seconds);
      const auto server_sql =
          postgres_at(postgres, "seer_load_protocol", seer::promises::concrete::postgres_schema());
      report["postgres_protocol"] = protocol_ceiling(postgres_transact(*server_sql), seconds);
    }
    if (ceiling && !json_output) {
      const std::string store = postgres.empty() ? "sqlite" : "postgres";
      std::cout << store << " alone, one-row transactions ("
                << (postgres.empty() ? "WAL, synchronous=FULL" : "synchronous_commit=on") << "): "
                << static_cast<long>(
                       report[store + "_commit"]["transactions_per_sec"].get<double>())
                << " tx/s\n";
      if (report.contains(store + "_commit_parallel")) {
        std::cout << "the same from " << connections << " connections at once: "
                  << static_cast<long>(
                         report[store + "_commit_parallel"]["transactions_per_sec"].get<double>())
                  << " tx/s\n";
      }
      std::cout << "the server's SQL for create + settle, no HTTP: "
                << static_cast<long>(report[store + "_protocol"]["ops_per_sec"].get<double>())
                << " ops/s\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "resonate_load: error: " << e.what() << "\n";
    return 2;
  }
  if (json_output) std::cout << report.dump(2) << "\n";
  std::filesystem::remove_all(dir);
  return 0;
}
