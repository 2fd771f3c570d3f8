// seer-resonate's latency against the size of one origin (issue 20): for each size N, a SQLite file
// holding N promises under the origin "o" (written with the concrete SQL, as the server would have
// written them), then seer-resonate on it, and R creates of new promises in "o" and R gets of
// existing ones and R task.creates (each the root of its own branch), one at a time over one
// keep-alive connection. Reports p50 and p90 per size. A
// server whose requests read only the rows they touch is flat; one that reads the whole origin
// grows with N. With --postgres, the origin is written into a fresh database on that PostgreSQL
// cluster instead (created and dropped for each size) and the server runs on it.
//
//   origin_bench --server build/release/systems/promises/seer-resonate
//                [--sizes 1 100 1000 10000 100000] [--requests 20] [--json]
//                [--postgres postgres://user@host:port/postgres]
#include "promises/concrete/sql_rows.hpp"
#include "promises/model/model.hpp"
#include "seer/postgres/connection.hpp"
#include "seer/runtime/child_process.hpp"
#include "seer/sqlite/connection.hpp"

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json create_request(const std::string& id) {
  return {{"kind", "promise.create"},
          {"head", {{"corrId", id}, {"version", "bench"}}},
          {"data",
           {{"id", id},
            {"timeoutAt", 4'000'000'000'000},
            {"param", {{"headers", json::object()}, {"data", "eA=="}}},
            {"tags", json::object()}}}};
}

// A task.create of a targeted promise that is the root of its own branch: its preload reads that
// branch (nothing else), never the rest of the origin.
json task_create_request(const std::string& id) {
  json create = create_request(id);
  create["data"]["tags"] = {{"resonate:target", "poll://any@bench"}, {"resonate:branch", id}};
  return {{"kind", "task.create"},
          {"head", {{"corrId", id}, {"version", "bench"}}},
          {"data", {{"pid", "bench"}, {"ttl", 60'000}, {"action", create}}}};
}

json get_request(const std::string& id) {
  return {{"kind", "promise.get"},
          {"head", {{"corrId", id}, {"version", "bench"}}},
          {"data", {{"id", id}}}};
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The origin "o" with `n` promises ("o", "o:2", ... "o:n"; the first is the root), as the
// concrete SQL writes it.
std::vector<seer::sql::Statement> origin_rows(int n) {
  seer::promises::State state;
  const std::int64_t now = wall_ms();
  for (int i = 1; i <= n; ++i) {
    seer::promises::apply(state, create_request(i == 1 ? "o" : "o:" + std::to_string(i)), now);
  }
  return seer::promises::concrete::write_origin("o", seer::promises::concrete::StoredOrigin{},
                                                state, now);
}

// A SQLite file holding the origin; returns the server's --db.
std::string fill_sqlite(const std::string& dir, int n) {
  const std::string path = dir + "/origin-" + std::to_string(n) + ".db";
  for (const auto* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  seer::sqlite::Connection db(path);
  db.query({"PRAGMA journal_mode=WAL"});
  db.exec("PRAGMA synchronous=OFF");
  db.exec(seer::promises::concrete::sqlite_schema());
  const auto out = db.transact(origin_rows(n), seer::sqlite::Begin::kImmediate);
  if (!out.committed) throw std::runtime_error("filling the origin: " + out.error);
  return path;
}

// A fresh database on the cluster holding the origin; returns the server's --db.
std::string fill_postgres(const std::string& cluster) {
  const std::string name = "seer_origin_bench";
  seer::postgres::Connection admin(cluster);
  admin.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  admin.exec("CREATE DATABASE " + name);
  const std::string url = cluster.substr(0, cluster.rfind('/') + 1) + name;
  seer::postgres::Connection db(url);
  db.exec(seer::promises::concrete::postgres_schema());
  db.exec(seer::promises::concrete::schema_upgrades());
  return url;
}

void fill_postgres_rows(const std::string& url, int n) {
  seer::postgres::Connection db(url);
  const auto out = db.transact(origin_rows(n), seer::postgres::Access::kWrite);
  if (!out.committed) throw std::runtime_error("filling the origin: " + out.error);
}

json percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  return {{"p50_ms", at(0.5)}, {"p90_ms", at(0.9)}};
}

json measure(const std::string& server, const std::string& dir, const std::string& cluster, int n,
             int requests) {
  const auto fill_start = Clock::now();
  std::string db;
  if (cluster.empty()) {
    db = fill_sqlite(dir, n);
  } else {
    db = fill_postgres(cluster);
    fill_postgres_rows(db, n);
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  seer::runtime::ChildProcess process({server, "--db", db, "--port", "0", "--json",
                                       "--sweep-every-ms", "0", "--request-timeout-ms", "600000",
                                       "--connections", "1"});
  const auto line = process.read_line(std::chrono::seconds(30)).value_or("");
  const auto listening = json::parse(line, nullptr, false);
  if (listening.is_discarded()) throw std::runtime_error("the server did not start: " + line);
  httplib::Client http("127.0.0.1", listening["port"].get<int>());
  http.set_read_timeout(std::chrono::seconds(600));
  std::vector<double> create_ms, get_ms, task_ms;
  const auto timed = [&](const json& request, std::vector<double>& into) {
    const auto start = Clock::now();
    const auto res = http.Post("/", request.dump(), "application/json");
    if (!res || res->status != 200) {
      throw std::runtime_error("a request failed: " + (res ? res->body : std::string("no answer")));
    }
    into.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  };
  for (int r = 0; r < requests; ++r) {
    timed(create_request("o:new" + std::to_string(r)), create_ms);
    const int k = 1 + (r * 7919) % n;  // an existing promise, spread over the origin
    timed(get_request(k == 1 ? "o" : "o:" + std::to_string(k)), get_ms);
    timed(task_create_request("o:task" + std::to_string(r)), task_ms);
  }
  process.stop(SIGTERM);
  if (cluster.empty()) std::filesystem::remove(db);
  return {{"promises", n},
          {"fill_s", fill_s},
          {"create", percentiles(create_ms)},
          {"get", percentiles(get_ms)},
          {"task_create", percentiles(task_ms)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"origin_bench: seer-resonate's create and get latency against one origin's size"};
  std::string server, dir = "/tmp/seer-origin-bench", cluster;
  std::vector<int> sizes{1, 100, 1000, 10000, 100000};
  int requests = 20;
  bool as_json = false;
  app.add_option("--server", server, "the seer-resonate binary")->required();
  app.add_option("--sizes", sizes, "promises in the origin, one measurement each")
      ->capture_default_str();
  app.add_option("--requests", requests, "creates and gets per size")->capture_default_str();
  app.add_option("--dir", dir, "where the databases go")->capture_default_str();
  app.add_option(
      "--postgres", cluster,
      "a PostgreSQL cluster (postgres://user@host:port/postgres): the origin goes into a "
      "fresh database seer_origin_bench on it, made anew for each size");
  app.add_flag("--json", as_json, "one JSON object");
  CLI11_PARSE(app, argc, argv);
  try {
    std::filesystem::create_directories(dir);
    json rows = json::array();
    for (const int n : sizes) {
      const auto row = measure(server, dir, cluster, n, requests);
      rows.push_back(row);
      if (!as_json) {
        std::cout << n << " promises in the origin: create p50 " << row["create"]["p50_ms"]
                  << " ms, p90 " << row["create"]["p90_ms"] << " ms; get p50 "
                  << row["get"]["p50_ms"] << " ms, p90 " << row["get"]["p90_ms"]
                  << " ms; task.create p50 " << row["task_create"]["p50_ms"] << " ms, p90 "
                  << row["task_create"]["p90_ms"] << " ms (filled in " << row["fill_s"] << " s)"
                  << std::endl;
      }
    }
    if (as_json) std::cout << json{{"rows", rows}}.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "origin_bench: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
