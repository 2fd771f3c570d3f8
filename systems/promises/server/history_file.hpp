// The server's own operations (its sweeps: debug.tick, spec §9) appended to a history file in
// seer's JSONL format (docs/history-format.md), so a live run's history is complete: a test merges
// it with its clients' histories and checks the whole. Times are the machine's monotonic clock in
// nanoseconds (steady_clock since its epoch), which every process on the machine shares. Each line
// is flushed before the operation it records goes on, so a SIGKILL loses no invocation.
#pragma once

#include "seer/sim/history.hpp"

#include <cstdio>
#include <string>

namespace seer::promises::server {

class HistoryFile final : public sim::HistoryRecorder {
 public:
  // Opens `path` for appending (several lives of the server share it). Throws std::runtime_error.
  explicit HistoryFile(const std::string& path);
  ~HistoryFile() override;
  HistoryFile(const HistoryFile&) = delete;
  HistoryFile& operator=(const HistoryFile&) = delete;

  void invoke(int process, const std::string& f, nlohmann::json value) override;
  void complete(int process, sim::OpType type, const std::string& f, nlohmann::json value,
                std::string error) override;

 private:
  void write(int process, const char* type, const std::string& f, nlohmann::json value,
             const std::string& error);
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace seer::promises::server
