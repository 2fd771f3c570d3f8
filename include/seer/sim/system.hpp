// A system: an algorithm with its variants, workload and invariants, as something seer can run by
// name. Systems register at one point (systems/registry.cpp); adding a system never edits the
// simulator.
#pragma once

#include "seer/sim/simulator.hpp"

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace seer::sim {

struct InvariantInfo {
  std::string name;
  std::string description;
};

// A simulated service a system's design depends on, and the implementations it can be run on
// (the first is the default). --service NAME=IMPL picks one; the choice is in RunConfig::services.
struct ServiceInfo {
  std::string name;
  std::vector<std::string> implementations;
};

struct SystemInfo {
  std::string name;
  std::string description;
  std::vector<std::string> variants;  // the first is the default
  std::vector<InvariantInfo> invariants;
  std::vector<ServiceInfo> services = {};
  // The checker model (and --init) its client history is checked with, if any: the default
  // check_history checks the history's linearizability with it, and the trace header records it
  // so `seer explain` can find the operation a linearizability violation is about.
  std::string history_model = {};
  std::string history_init = {};
  // Its liveness properties (Simulator::add_liveness): what must happen after the heal.
  std::vector<InvariantInfo> liveness = {};
};

class System {
 public:
  virtual ~System() = default;
  virtual SystemInfo info() const = 0;
  // Adds processes, invariants and annotators for `variant` to a fresh simulator.
  virtual void setup(Simulator& sim, const std::string& variant) const = 0;
  // Checks the finished run's client history; the violation (invariant and message) on failure.
  // By default: linearizability for info().history_model with info().history_init, if a model is
  // named (override it for another kind of check).
  virtual std::optional<Violation> check_history(const std::vector<HistoryEntry>& history) const;
  // check_history(history), for a caller that owns `history` and shares it with no other thread
  // while it runs (run_system): the default check borrows the entries' JSON values instead of
  // copying them, and puts them back before it returns, so the history is as it was (an override
  // of check_history, even one calling the default, sees it unchanged). After an exception the
  // entries' values are unspecified.
  std::optional<Violation> check_own_history(std::vector<HistoryEntry>& history) const;
};

// The history's linearizability for checker model `model` (`init`: --init's text), or the
// violation "linearizable" (also when the checker gives up after check::kSimulatedRunSteps, so a
// sweep never stalls on one history and the verdict is the same on every machine).
std::optional<Violation> check_linearizable_history(const std::vector<HistoryEntry>& history,
                                                    const std::string& model,
                                                    const std::string& init);

class SystemRegistry {
 public:
  static SystemRegistry& instance();
  // Adds a system; a second system of the same name is ignored (registering twice is harmless).
  void add(std::unique_ptr<System> system);
  const System* find(std::string_view name) const;
  std::vector<const System*> all() const;

 private:
  std::vector<std::unique_ptr<System>> systems_;
};

// Registers a system when the program starts, from the translation unit that defines it, the way
// GoogleTest registers tests:
//   SEER_REGISTER_SYSTEM(std::make_unique<MySystem>());
// The translation unit must be part of the program itself (a static library's unreferenced object
// files are left out by the linker): seer_add_simulation's SOURCES are.
struct SystemRegistrar {
  explicit SystemRegistrar(std::unique_ptr<System> system) {
    SystemRegistry::instance().add(std::move(system));
  }
};

#define SEER_SIM_CONCAT_(a, b) a##b
#define SEER_SIM_CONCAT(a, b) SEER_SIM_CONCAT_(a, b)
#define SEER_REGISTER_SYSTEM(...)                                                                  \
  static const ::seer::sim::SystemRegistrar SEER_SIM_CONCAT(seer_system_registrar_, __COUNTER__) { \
    __VA_ARGS__                                                                                    \
  }

// Runs one seed of `system`: sets it up, runs it, then checks its history.
RunResult run_system(const System& system, const std::string& variant, const RunConfig& config);

// The trace file: a header line, the events, a footer line with the hash (docs/trace-format.md).
nlohmann::json trace_header(const System& system, const std::string& variant,
                            const RunConfig& config, const RunResult& result);
nlohmann::json trace_footer(const RunResult& result);
// Writes the whole trace file: `header`, the recorded events (config.record_trace), the footer.
void write_trace(std::ostream& out, const nlohmann::json& header, const RunResult& result);
// The whole trace file as text, as `seer run --trace` writes it: for a test that reads a run back
// the way `seer explain` does (seer::explain::parse_trace).
std::string trace_text(const System& system, const std::string& variant, const RunConfig& config,
                       const RunResult& result);
nlohmann::json violation_json(const RunResult& result);

}  // namespace seer::sim
