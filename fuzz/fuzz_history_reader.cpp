// libFuzzer target: every history reader, then the checker, on arbitrary bytes. Malformed input
// must end in HistoryError (exit 2 in the CLI), never in a crash, a hang or another exception.
#include "seer/check/linearizability.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer::check;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (auto format : {HistoryFormat::kAuto, HistoryFormat::kJsonl, HistoryFormat::kJson,
                      HistoryFormat::kEdn, HistoryFormat::kJepsenLog}) {
    try {
      const auto ops = read_history_text(text, "fuzz", format);
      // Fresh models per input, as `seer check` makes per file: models intern values and learn
      // how each key is used.
      auto cas = make_model("cas-register");
      cas->set_init("0");
      auto kv = make_model("kv");
      kv->set_init("0");
      auto strings = make_model("kv");  // Porcupine's kv: string values, append concatenates
      strings->set_init("\"\"");
      CheckOptions options;
      options.timeout = std::chrono::milliseconds(200);
      options.jobs = 2;  // an exception in a worker thread must reach this thread
      for (const auto* model : {cas.get(), kv.get(), strings.get()}) {
        try {
          check_linearizable(ops, *model, options);
        } catch (const HistoryError&) {
        }
      }
    } catch (const HistoryError&) {
    }
  }
  return 0;
}
