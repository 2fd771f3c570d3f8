#include "history_file.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace seer::promises::server {

HistoryFile::HistoryFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw std::runtime_error("history " + path + ": " + std::strerror(errno));
}

HistoryFile::~HistoryFile() {
  if (file_) std::fclose(file_);
}

void HistoryFile::invoke(int process, const std::string& f, nlohmann::json value) {
  write(process, "invoke", f, std::move(value), "");
}

void HistoryFile::complete(int process, sim::OpType type, const std::string& f,
                           nlohmann::json value, std::string error) {
  write(process, sim::op_type_name(type), f, std::move(value), error);
}

void HistoryFile::write(int process, const char* type, const std::string& f, nlohmann::json value,
                        const std::string& error) {
  const auto time = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  nlohmann::json line = {
      {"time", time}, {"process", process}, {"type", type}, {"f", f}, {"value", std::move(value)}};
  if (!error.empty()) line["error"] = error;
  const std::string text = line.dump() + "\n";
  // A failed write loses the record, not the operation: said once per failure, on stderr.
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    std::fprintf(stderr, "seer-resonate: history %s: %s\n", path_.c_str(), std::strerror(errno));
  }
}

}  // namespace seer::promises::server
