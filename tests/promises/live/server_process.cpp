#include "server_process.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <stdexcept>

namespace seer::promises::live {

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<std::string> all{binary};
  all.insert(all.end(), args.begin(), args.end());
  all.emplace_back("--json");
  process_ = std::make_unique<runtime::ChildProcess>(all);
  const std::string line = process_->read_line(std::chrono::seconds(10)).value_or("");
  process_->close_output();  // later output goes nowhere: the server ignores SIGPIPE
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.contains("port")) {
    stop(SIGKILL);
    throw std::runtime_error("seer-resonate did not start: '" + line + "'");
  }
  port_ = j["port"].get<int>();
}

int ServerProcess::stop(int signal) {
  const int status = process_->stop(signal);
  return status == runtime::ChildProcess::kHung ? kHung : status;
}

}  // namespace seer::promises::live
