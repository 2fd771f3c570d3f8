// seer's built-in example systems (register, the store contracts, counter, jobs, segments, bank and
// the promises flagship, with the `promises` history model) for a program that asks for them. A
// user's own seer has only the systems it registers; to add these, link seer::systems and either
// pass BUILTIN_SYSTEMS to seer_add_simulation or write SEER_USE_BUILTIN_SYSTEMS(); in one source.
#pragma once

namespace seer::sim {

// Registers every built-in system (and the history models systems contribute) once.
void register_builtin_systems();

}  // namespace seer::sim

// Registers the built-in systems when the program starts, like SEER_REGISTER_SYSTEM.
#define SEER_USE_BUILTIN_SYSTEMS()                                \
  [[maybe_unused]] static const bool seer_builtin_systems_used_ = \
      (::seer::sim::register_builtin_systems(), true)
