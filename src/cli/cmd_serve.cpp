// `seer serve-kv` and `seer serve-sql`: the KV store and the SQL database as real processes
// (docs/runtime.md), speaking the simulated services' protocol over TCP, so a design's processes
// run on TcpNodes against them unchanged. Each prints one line once it listens (a readiness line
// for scripts to await), serves until SIGINT or SIGTERM, then prints how much it served.
#include "command.hpp"
#include "seer/input_size.hpp"
#include "seer/runtime/file_storage.hpp"
#include "seer/runtime/servers.hpp"
#include "seer/runtime/signals.hpp"
#include "seer/runtime/tcp_node.hpp"
#include "seer/sqlite/connection.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace seer::cli {

namespace {

struct ServeOptions {
  std::string config;
  std::string name;
  bool json = false;
};

void add_common(CLI::App* app, ServeOptions& o) {
  app->add_option("--config", o.config, "The deployment's config (docs/runtime.md)")->required();
  app->add_option("--name", o.name, "This process's name in the config")->required();
  app->add_flag("--json", o.json, "Machine-readable lines");
}

runtime::NodeConfig load_config(const ServeOptions& o) {
  try {
    auto config = runtime::NodeConfig::load(o.config);
    config.at(o.name);
    return config;
  } catch (const runtime::ConfigError& e) {
    throw UsageError(e.what());
  }
}

// Says it is ready, serves until a signal, says what it served.
int serve(const ServeOptions& o, const runtime::NodeConfig& config, sim::Storage* storage,
          const std::string& service, const std::string& where,
          const std::function<sim::Task<void>(sim::Env&)>& process) {
  runtime::block_stop_signals();
  std::unique_ptr<runtime::TcpNode> node;
  try {
    node = std::make_unique<runtime::TcpNode>(config, o.name, storage);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  const auto& self = config.at(o.name);
  const auto address = self.host + ":" + std::to_string(self.port);
  if (o.json) {
    std::cout << nlohmann::json{{"ready", true},      {"name", o.name},     {"id", self.id},
                                {"service", service}, {"address", address}, {"data", where}}
                     .dump()
              << std::endl;
  } else {
    std::cout << o.name << ": " << service << " ready on " << address << " (id " << self.id
              << ", data " << where << ")" << std::endl;
  }
  runtime::run_until_signalled(*node, process(node->env()));
  const auto stats = node->stats();
  if (o.json) {
    std::cout << nlohmann::json{{"stopped", true},
                                {"name", o.name},
                                {"received", stats.received},
                                {"sent", stats.sent},
                                {"dropped", stats.dropped},
                                {"undecodable", stats.undecodable}}
                     .dump()
              << std::endl;
  } else {
    std::cout << o.name << ": stopped after " << stats.received << " request(s), " << stats.dropped
              << " reply(ies) dropped" << std::endl;
  }
  return 0;
}

}  // namespace

Command add_serve_kv_command(CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  auto dir = std::make_shared<std::string>();
  auto* app = root.add_subcommand(
      "serve-kv", "Serve the KV store as a real process (linearizable, one node, fsynced files)");
  add_common(app, *o);
  app->add_option("--dir", *dir, "Its data directory (created if missing)")->required();
  return {app, [o, dir] {
            const auto config = load_config(*o);
            std::unique_ptr<runtime::FileStorage> storage;
            try {
              storage = std::make_unique<runtime::FileStorage>(*dir);
            } catch (const std::runtime_error& e) {
              throw UsageError(e.what());
            }
            return serve(*o, config, storage.get(), "kv", *dir,
                         [](sim::Env& env) { return runtime::serve_kv(env); });
          }};
}

Command add_serve_sql_command(CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  auto db_path = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>();
  auto* app =
      root.add_subcommand("serve-sql", "Serve the SQL database as a real process (a SQLite file)");
  add_common(app, *o);
  app->add_option("--db", *db_path, "Its SQLite file (created if missing)")->required();
  app->add_option("--schema", *schema, "SQL run once, when the file is created")
      ->check(CLI::ExistingFile);
  return {app, [o, db_path, schema] {
            const auto config = load_config(*o);
            const bool fresh = !std::filesystem::exists(*db_path);
            std::unique_ptr<sqlite::Connection> db;
            try {
              db = std::make_unique<sqlite::Connection>(*db_path);
              db->exec("PRAGMA journal_mode=WAL");
              db->exec("PRAGMA synchronous=FULL");  // a commit answered is on disk
              if (fresh && !schema->empty()) {
                std::ifstream in(*schema, std::ios::binary);
                if (!in) throw std::runtime_error("cannot read " + *schema);
                std::string text;
                if (const auto why = read_bounded(in, *schema, text))
                  throw std::runtime_error(*why);
                db->exec("BEGIN; " + text + "; COMMIT;");
              }
            } catch (const std::runtime_error& e) {
              if (fresh) std::filesystem::remove(*db_path);
              throw UsageError(e.what());
            }
            return serve(*o, config, nullptr, "sql", *db_path,
                         [&db](sim::Env& env) { return runtime::serve_sql(env, *db); });
          }};
}

}  // namespace seer::cli
