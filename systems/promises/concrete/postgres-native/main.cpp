// seer-resonate-pg: installs or upgrades the native target (resonate.sql: Resonate as SQL
// functions, for @resonatehq/sdk's PostgresNetwork) in a PostgreSQL database.
#include "install.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{
      "seer-resonate-pg: install or upgrade Resonate's functions (schema `resonate`) in a "
      "PostgreSQL database, for @resonatehq/sdk's PostgresNetwork"};
  std::string db;
  bool json_output = false;
  bool print_sql = false;
  app.add_option("--db", db, "the database: a libpq URI (postgres://...) or connection string");
  app.add_flag("--json", json_output, "print the outcome as one JSON line");
  app.add_flag("--print-sql", print_sql, "print the SQL it installs (for psql -1 -f) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "seer-resonate-pg: error: " << e.what() << " (see seer-resonate-pg --help)\n";
    return 2;
  }
  if (print_sql) {
    std::cout << seer::promises::native::native_sql();
    return 0;
  }
  if (db.empty()) {
    std::cerr << "seer-resonate-pg: error: --db is required (see seer-resonate-pg --help)\n";
    return 2;
  }
  try {
    seer::promises::native::Session session(db);
    const auto done = seer::promises::native::install(session);
    if (json_output) {
      std::cout << nlohmann::json{{"from", done.from}, {"to", done.to}, {"changed", done.changed}}
                << "\n";
    } else if (done.changed) {
      std::cout << "resonate schema " << (done.from == 0 ? "installed" : "upgraded") << ": version "
                << done.from << " -> " << done.to << "\n";
    } else {
      std::cout << "resonate schema up to date: version " << done.to << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "seer-resonate-pg: error: " << e.what() << "\n";
    return 2;
  }
}
