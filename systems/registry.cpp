// The one place built-in systems are registered. Adding a system: add its factory here.
#include "counter/design/counter_system.hpp"
#include "jobs/design/jobs_system.hpp"
#include "kv_contract/kv_contract_system.hpp"
#include "register/design/register_system.hpp"
#include "seer/sim/system.hpp"

namespace seer::sim {

void register_builtin_systems() {
  static const bool once = [] {
    auto& registry = SystemRegistry::instance();
    registry.add(systems::reg::make_register_system());
    registry.add(systems::kvc::make_kv_contract_system());
    registry.add(systems::counter::make_counter_system());
    registry.add(systems::jobs::make_jobs_system());
    return true;
  }();
  (void)once;
}

}  // namespace seer::sim
