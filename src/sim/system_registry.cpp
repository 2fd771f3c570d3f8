#include "seer/sim/system.hpp"

namespace seer::sim {

SystemRegistry& SystemRegistry::instance() {
  static SystemRegistry registry;
  return registry;
}

void SystemRegistry::add(std::unique_ptr<System> system) {
  if (find(system->info().name)) return;
  systems_.push_back(std::move(system));
}

const System* SystemRegistry::find(std::string_view name) const {
  for (const auto& s : systems_) {
    if (s->info().name == name) return s.get();
  }
  return nullptr;
}

std::vector<const System*> SystemRegistry::all() const {
  std::vector<const System*> out;
  for (const auto& s : systems_) out.push_back(s.get());
  return out;
}

}  // namespace seer::sim
