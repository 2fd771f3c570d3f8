// libFuzzer target: run files (and trace headers), as `seer replay --run` and `seer shrink --from`
// read them: the JSON, the run fields, the fault schedule, then the run itself with what was
// accepted (capped at 20 operations so an input stays fast). Malformed input must end in
// std::invalid_argument (exit 2 in the CLI), never in a crash, a hang (a latency of 2^63-1 ns
// hung replay) or another exception.
#include "seer/json_input.hpp"
#include "seer/sim/run_file.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer;
  static const bool registered = [] {
    sim::register_builtin_systems();
    return true;
  }();
  (void)registered;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto j = parse_json_bounded_or_discarded(text);
  if (j.is_discarded()) return 0;
  sim::RunDescription d;
  try {
    d = sim::parse_run_fields(j);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const auto* system = sim::SystemRegistry::instance().find(d.system);
  if (!system) return 0;
  const auto variants = system->info().variants;
  if (std::find(variants.begin(), variants.end(), d.variant) == variants.end()) return 0;
  d.config.ops = std::min(d.config.ops, 20);
  d.config.max_events = 200'000;
  try {
    (void)sim::run_system(*system, d.variant, d.config);
  } catch (const std::invalid_argument&) {  // a schedule naming processes the system lacks
  }
  return 0;
}
