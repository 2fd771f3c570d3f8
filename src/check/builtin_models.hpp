// The models built into the checker library, in the order `seer check --help` lists them.
#pragma once

#include "seer/check/model_registry.hpp"

#include <vector>

namespace seer::check {

std::vector<ModelEntry> builtin_models();
ModelEntry register_model_entry(bool cas);  // "register", "cas-register"
ModelEntry kv_model_entry();
ModelEntry mutex_model_entry();
ModelEntry counter_model_entry();
ModelEntry set_model_entry();
ModelEntry queue_model_entry();
ModelEntry multi_register_model_entry();

}  // namespace seer::check
