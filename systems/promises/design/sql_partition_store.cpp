// The concrete SQL (../concrete/README.md) on the simulated SQL service: an origin is read with
// its SELECTs in one transaction and written with the guard and the row differences in
// another, exactly the statements the production server runs.
#include "partition_store.hpp"

#include "promises/concrete/sql_rows.hpp"
#include "seer/services/sql.hpp"

#include <stdexcept>

namespace seer::promises::design {

namespace {

class SqlPartitionStore final : public PartitionStore {
 public:
  SqlPartitionStore(sim::Env& env, const Deployment& deployment, std::deque<sim::Message>* stash,
                    std::uint64_t first_request)
      : sql_(env, deployment.sql, kStoreTimeout, stash, first_request) {}

  // Every read is of the latest commit (one database), so `fresh` asks for nothing more. With a
  // footprint, only its rows are read (concrete::read_rows).
  sim::Task<std::optional<Partition>> read(std::string origin, bool,
                                           std::optional<Footprint> footprint) override {
    auto steps =
        footprint ? concrete::read_rows(origin, *footprint) : concrete::read_origin(origin);
    const auto r = co_await sql_.transact(std::move(steps), "read " + origin);
    if (r.timed_out) co_return std::nullopt;
    if (!r.committed) throw std::runtime_error("promises sql: reading " + origin + ": " + r.error);
    const auto stored =
        footprint ? concrete::parse_rows(r.results) : concrete::parse_origin(r.results);
    co_return Partition{stored.state, stored.clock, stored.revision, stored.next_timeout_position};
  }

  sim::Task<std::optional<Partition>> read_due(std::string origin, std::int64_t now) override {
    const auto r = co_await sql_.transact(concrete::read_due(origin, now), "read due " + origin);
    if (r.timed_out) co_return std::nullopt;
    if (!r.committed) throw std::runtime_error("promises sql: reading " + origin + ": " + r.error);
    const auto stored = concrete::parse_rows(r.results);
    co_return Partition{stored.state, stored.clock, stored.revision, stored.next_timeout_position,
                        true};
  }

  sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                std::int64_t clock) override {
    const concrete::StoredOrigin stored{before.revision, before.clock, std::move(before.state),
                                        before.timeout_positions};
    auto steps = concrete::write_origin(origin, stored, after, clock);
    const auto r = co_await sql_.transact(std::move(steps), "write " + origin);
    if (r.timed_out) co_return WriteOutcome::kUnknown;
    if (r.committed) co_return WriteOutcome::kWritten;
    // The guard failed: another request wrote the origin first. Any other error is a bug in the
    // SQL, which must be loud.
    if (r.error.rfind("expected 1 changed rows", 0) != 0) {
      throw std::runtime_error("promises sql: writing " + origin + ": " + r.error);
    }
    co_return WriteOutcome::kConflict;
  }

  sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t now) override {
    std::vector<services::SqlStatement> query{concrete::due_origins(now)};
    const auto r = co_await sql_.transact(std::move(query), "sweep");
    if (r.timed_out || !r.committed) co_return std::nullopt;
    co_return concrete::parse_due_origins(r.results[0]);
  }

 private:
  services::SqlClient sql_;
};

}  // namespace

std::unique_ptr<PartitionStore> make_sql_partition_store(sim::Env& env,
                                                         const Deployment& deployment,
                                                         std::deque<sim::Message>* stash,
                                                         std::uint64_t first_request) {
  return std::make_unique<SqlPartitionStore>(env, deployment, stash, first_request);
}

}  // namespace seer::promises::design
