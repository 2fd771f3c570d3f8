// `seer list`: the systems, their variants and invariants, the fault kinds and the checker models.
#include "run_options.hpp"
#include "seer/check/model_registry.hpp"

#include <iostream>

namespace seer::cli {

Command add_list_command(CLI::App& root) {
  auto json = std::make_shared<bool>(false);
  auto* app = root.add_subcommand(
      "list", "List systems, variants, invariants, fault kinds and checker models");
  app->add_flag("--json", *json, "Machine-readable output");
  return {
      app, [json] {
        nlohmann::json systems = nlohmann::json::array();
        for (const auto* s : sim::SystemRegistry::instance().all()) {
          const auto info = s->info();
          nlohmann::json invariants = nlohmann::json::array();
          for (const auto& inv : info.invariants) {
            invariants.push_back({{"name", inv.name}, {"description", inv.description}});
          }
          nlohmann::json liveness = nlohmann::json::array();
          for (const auto& l : info.liveness) {
            liveness.push_back({{"name", l.name}, {"description", l.description}});
          }
          nlohmann::json services = nlohmann::json::object();
          for (const auto& svc : info.services) services[svc.name] = svc.implementations;
          systems.push_back({{"name", info.name},
                             {"description", info.description},
                             {"variants", info.variants},
                             {"invariants", invariants},
                             {"liveness", liveness},
                             {"services", services}});
        }
        nlohmann::json faults = nlohmann::json::array();
        for (auto kind : sim::kAllFaultKinds) {
          faults.push_back(
              {{"name", sim::fault_name(kind)}, {"description", sim::fault_description(kind)}});
        }
        nlohmann::json models = nlohmann::json::array();
        for (const auto& m : check::registered_models()) {
          models.push_back({{"name", m.name}, {"description", m.summary}});
        }
        if (*json) {
          std::cout
              << nlohmann::json{{"systems", systems}, {"faults", faults}, {"models", models}}.dump()
              << '\n';
          return 0;
        }
        std::cout << "systems:\n";
        for (const auto& s : systems) {
          std::cout << "  " << s["name"].get<std::string>() << ": "
                    << s["description"].get<std::string>() << "\n    variants:";
          for (const auto& v : s["variants"]) std::cout << ' ' << v.get<std::string>();
          for (const auto& [name, impls] : s["services"].items()) {
            std::cout << "\n    service " << name << " (--service " << name << "=IMPL):";
            for (const auto& i : impls) std::cout << ' ' << i.get<std::string>();
          }
          std::cout << "\n    invariants:\n";
          for (const auto& inv : s["invariants"]) {
            std::cout << "      " << inv["name"].get<std::string>() << ": "
                      << inv["description"].get<std::string>() << '\n';
          }
          if (!s["liveness"].empty())
            std::cout << "    liveness (after the heal; --no-heal: off):\n";
          for (const auto& l : s["liveness"]) {
            std::cout << "      " << l["name"].get<std::string>() << ": "
                      << l["description"].get<std::string>() << '\n';
          }
        }
        std::cout << "fault kinds (--faults a,b,c | none | all; default: swarm):\n";
        for (const auto& f : faults) {
          std::cout << "  " << f["name"].get<std::string>() << ": "
                    << f["description"].get<std::string>() << '\n';
        }
        std::cout << "checker models (seer check --model NAME):\n";
        for (const auto& m : models) {
          std::cout << "  " << m["name"].get<std::string>() << ": "
                    << m["description"].get<std::string>() << '\n';
        }
        return 0;
      }};
}

}  // namespace seer::cli
