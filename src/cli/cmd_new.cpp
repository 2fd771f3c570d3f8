// `seer new NAME [DIR]`: a project that builds against the installed seer right away (its own
// seer binary over its design, a spec to fill in, tests that sweep it). Exit 2 if DIR exists and
// is not empty, or NAME is not a name.
#include "command.hpp"
#include "scaffold.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

namespace seer::cli {

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

Command add_new_command(CLI::App& root) {
  struct Options {
    std::string name;
    std::string dir;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "new",
      "Start a project of your own: a design, its spec and its own seer, built against the "
      "installed seer (find_package(seer))");
  app->add_option("name", o->name, "Project and system name (letters, digits, - and _)")
      ->required();
  app->add_option("dir", o->dir, "Directory to create (default: ./NAME)");
  app->add_flag("--json", o->json, "Machine-readable output");
  return {
      app, [o] {
        if (!std::regex_match(o->name, std::regex("[a-z][a-z0-9_-]{0,39}"))) {
          throw UsageError("'" + o->name +
                           "' is not a project name: start with a lowercase letter, then "
                           "lowercase letters, digits, - or _ (at most 40)");
        }
        namespace fs = std::filesystem;
        const fs::path dir = o->dir.empty() ? fs::path(o->name) : fs::path(o->dir);
        std::error_code ec;
        if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
          throw UsageError(dir.string() + " exists and is not empty");
        }
        auto id = o->name;
        for (auto& ch : id) {
          if (ch == '-') ch = '_';
        }
        nlohmann::json written = nlohmann::json::array();
        for (const auto& file : scaffold_files()) {
          auto path = replaced(file.path, "design/design.cpp.in", "design/" + o->name + ".cpp");
          const auto target = dir / path;
          fs::create_directories(target.parent_path(), ec);
          if (ec) throw UsageError("cannot create " + target.parent_path().string());
          std::ofstream out(target);
          out << replaced(replaced(file.content, "@NAME_ID@", id), "@NAME@", o->name);
          if (!out) throw UsageError("cannot write " + target.string());
          written.push_back(target.string());
        }
        if (o->json) {
          std::cout
              << nlohmann::json{{"name", o->name}, {"dir", dir.string()}, {"files", written}}.dump()
              << '\n';
        } else {
          std::cout << fmt::format("created {} ({} files): next\n", dir.string(), written.size())
                    << fmt::format(
                           "  cmake -S {0} -B {0}/build -DCMAKE_PREFIX_PATH=<seer's prefix> && "
                           "cmake --build {0}/build\n"
                           "  {0}/build/{1} sweep {1} --variant naive --seeds 1..300\n",
                           dir.string(), o->name);
        }
        return 0;
      }};
}

}  // namespace seer::cli
