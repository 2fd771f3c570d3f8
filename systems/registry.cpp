// The one place built-in systems are registered. Adding a system: add its factory here.
#include "bank/design/bank_system.hpp"
#include "counter/design/counter_system.hpp"
#include "jobs/design/jobs_system.hpp"
#include "promises/checker/history_model.hpp"
#include "promises/design/promises_system.hpp"
#include "register/design/register_system.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "segments/design/segments_system.hpp"
#include "store_contract/contract_systems.hpp"

namespace seer::sim {

void register_builtin_systems() {
  static const bool once = [] {
    auto& registry = SystemRegistry::instance();
    registry.add(systems::reg::make_register_system());
    registry.add(systems::contract::make_kv_contract_system());
    registry.add(systems::contract::make_object_contract_system());
    registry.add(systems::contract::make_sql_contract_system());
    registry.add(systems::counter::make_counter_system());
    registry.add(systems::jobs::make_jobs_system());
    registry.add(systems::segments::make_segments_system());
    registry.add(systems::bank::make_bank_system());
    registry.add(promises::design::make_promises_system());
    // History models that systems contribute to the checker (seer check --model NAME).
    promises::register_history_model();
    return true;
  }();
  (void)once;
}

}  // namespace seer::sim
