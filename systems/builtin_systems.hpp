// The built-in systems (registry.cpp): the systems library, not the simulator, knows them.
#pragma once

namespace seer::sim {

// Registers every built-in system (and the history models systems contribute) once.
void register_builtin_systems();

}  // namespace seer::sim
