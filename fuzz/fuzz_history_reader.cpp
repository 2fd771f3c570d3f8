// libFuzzer target: every history reader, then the checker, on arbitrary bytes. Malformed input must end in
// HistoryError (exit 2 in the CLI), never in a crash, a hang or another exception.
#include "seer/check/linearizability.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer::check;
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const auto model = [] {
    auto m = make_model("kv");
    m->set_initial(0);
    return m;
  }();
  static const auto cas = [] {
    auto m = make_model("cas-register");
    m->set_initial(0);
    return m;
  }();
  for (auto format : {HistoryFormat::kAuto, HistoryFormat::kJsonl, HistoryFormat::kJson,
                      HistoryFormat::kEdn, HistoryFormat::kJepsenLog}) {
    try {
      const auto ops = read_history_text(text, "fuzz", format);
      CheckOptions options;
      options.timeout = std::chrono::milliseconds(200);
      try {
        check_linearizable(ops, *cas, options);
      } catch (const HistoryError&) {
      }
      try {
        check_linearizable(ops, *model, options);
      } catch (const HistoryError&) {
      }
    } catch (const HistoryError&) {
    }
  }
  return 0;
}
