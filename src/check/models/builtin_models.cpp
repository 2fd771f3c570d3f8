#include "../builtin_models.hpp"

namespace seer::check {

std::vector<ModelEntry> builtin_models() {
  return {register_model_entry(false), register_model_entry(true),  kv_model_entry(),
          mutex_model_entry(),         counter_model_entry(),       set_model_entry(),
          queue_model_entry(),         multi_register_model_entry()};
}

}  // namespace seer::check
