// A system of the built-in registry by name, for the tests that run one (registering them first).
#pragma once

#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <string>

namespace seer::testing {

inline const sim::System& builtin_system(const std::string& name) {
  sim::register_builtin_systems();
  return *sim::SystemRegistry::instance().find(name);
}

}  // namespace seer::testing
