#include "install.hpp"

#include "promises/concrete/native_sql.hpp"

namespace seer::promises::native {

namespace {
// A digest of everything the file defines: the tables' columns, the indices and every function's
// definition. Equal before and after running the file means it changed nothing.
constexpr const char* kDigest = R"sql(
SELECT md5(
  coalesce((SELECT string_agg(pg_get_functiondef(p.oid), '' ORDER BY p.oid::regprocedure::text)
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'resonate'), '')
  || coalesce((SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ','
                                 ORDER BY table_name, ordinal_position)
                 FROM information_schema.columns WHERE table_schema = 'resonate'), '')
  || coalesce((SELECT string_agg(indexdef, ',' ORDER BY indexname)
                 FROM pg_indexes WHERE schemaname = 'resonate'), ''))
)sql";
}  // namespace

const char* native_sql() {
  return kNativeSql;
}

int installed_version(Session& session) {
  if (!session.value("SELECT to_regclass('resonate.schema_version')")) return 0;
  const auto v = session.value("SELECT max(version) FROM resonate.schema_version");
  return v ? std::stoi(*v) : 0;
}

Installed install(Session& session) {
  session.exec("BEGIN");
  try {
    // One installer at a time; the key is hashtext('resonate.install').
    session.exec("SELECT pg_advisory_xact_lock(hashtext('resonate.install'))");
    Installed out;
    out.from = installed_version(session);
    const auto before = session.value(kDigest);
    session.exec(kNativeSql);
    out.to = installed_version(session);
    out.changed = session.value(kDigest) != before || out.to != out.from;
    session.exec(out.changed ? "COMMIT" : "ROLLBACK");
    return out;
  } catch (...) {
    try {
      session.exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

}  // namespace seer::promises::native
