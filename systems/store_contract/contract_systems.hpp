#pragma once

#include "seer/sim/system.hpp"

#include <memory>

namespace seer::systems::contract {

// The KV store's, the object store's and the SQL database's contracts as runnable systems
// (spec.md).
std::unique_ptr<sim::System> make_kv_contract_system();
std::unique_ptr<sim::System> make_object_contract_system();
std::unique_ptr<sim::System> make_sql_contract_system();

}  // namespace seer::systems::contract
