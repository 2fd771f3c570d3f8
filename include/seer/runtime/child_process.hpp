// A child process whose standard output (and, if asked, standard error) comes to us on a pipe:
// how the live tests and the load generator start seer-resonate and read its listening line, and
// how the benchmarks run pgbench and read its report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace seer::runtime {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`. Throws std::runtime_error if it cannot be started.
  explicit ChildProcess(std::vector<std::string> argv, bool with_stderr = false);
  ~ChildProcess();  // killed (SIGKILL) and reaped if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of its output within `timeout`; nullopt on a timeout or the end of its output.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // All its output, until it closes it.
  std::string read_all();
  // Stop reading: what it writes later goes nowhere (a write fails with EPIPE or SIGPIPE).
  void close_output();

  // Sends `signal` (0: none) and waits up to `timeout` for the exit. The exit status, 128 + the
  // signal that ended it, or kHung if it had not exited by then (it is then killed).
  static constexpr int kHung = -2;
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int output_ = -1;
};

}  // namespace seer::runtime
