// Installs or upgrades the native target's schema (resonate.sql, embedded at build time) in one
// transaction under an advisory lock, so concurrent installers queue and each sees the other's
// result. If the file changes nothing (same tables, indices and function definitions), the
// transaction is rolled back: installing twice is a no-op.
#pragma once

#include "session.hpp"

namespace seer::promises::native {

struct Installed {
  int from = 0;  // resonate.schema_version before (0: none)
  int to = 0;    // and after
  bool changed = false;
};

// The SQL file seer-resonate-pg installs.
const char* native_sql();

// The latest version recorded in resonate.schema_version, 0 if there is none.
int installed_version(Session& session);

// Throws std::runtime_error (the statement's error) and leaves the database as it was.
Installed install(Session& session);

}  // namespace seer::promises::native
