// A seer-resonate process for live tests: started on a database file, stopped with any signal
// (SIGTERM for a clean stop, SIGKILL for a crash), restarted on the same file and port.
#pragma once

#include "seer/runtime/child_process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace seer::promises::live {

class ServerProcess {
 public:
  // Starts `binary` with `args` plus --json, and waits (up to 10 s) for its listening line.
  // Throws std::runtime_error if it exits or prints nothing.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args);
  // SIGKILL if still running (ChildProcess's destructor).
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  int pid() const { return process_->pid(); }
  // Sends `signal` and waits for the exit; the exit status (128 + signal if killed by it), or
  // kHung if it had not exited 10 s later (it is then killed).
  static constexpr int kHung = -2;
  int stop(int signal);

 private:
  std::unique_ptr<runtime::ChildProcess> process_;
  int port_ = 0;
};

}  // namespace seer::promises::live
