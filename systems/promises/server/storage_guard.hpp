// What keeps seer-resonate honest about its SQLite file (issue 20):
// - FileIdentity: the file it opened is still the file at its path (not deleted, not replaced by
//   another). A server that goes on committing to a deleted file acknowledges writes that vanish
//   at the next start; it must stop instead.
// - lock_database_file: one server per file. A second one would commit beside the first (SQLite
//   serialises them, but two servers' loops and sweeps on one file are a deployment nobody
//   checked); it is refused at start with a clear error.
// - LogLimiter: a store error logged once per cause, then counted: a corrupt page read on every
//   request used to write 655k lines in 3 minutes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace seer::promises::server {

class FileIdentity {
 public:
  // The identity (device and inode) of the file at `path` now. Throws std::runtime_error if there
  // is none.
  explicit FileIdentity(std::string path);
  // Why the file at the path is no longer the one opened ("... was deleted", "... was replaced"),
  // or nothing. A stat(2): cheap enough for every transaction.
  std::optional<std::string> changed() const;

 private:
  std::string path_;
  dev_t device_;
  ino_t inode_;
};

// Takes an exclusive flock(2) on the database file for the life of the process (flock locks are
// apart from SQLite's POSIX locks on Linux's local file systems). Throws std::runtime_error if
// another process holds it. The descriptor stays open until the process exits: closing any
// descriptor of the file would drop SQLite's own POSIX locks on it.
void lock_database_file(const std::string& path);

class LogLimiter {
 public:
  // `every`: how often a cause seen again may be logged again (with the count since).
  LogLimiter(std::function<void(const std::string&)> out, std::chrono::seconds every);
  // The cause of "context: cause" is what follows the first ": " (the error, not the origin).
  void operator()(const std::string& line);

 private:
  struct Cause {
    std::chrono::steady_clock::time_point logged;
    std::uint64_t since = 0;  // occurrences not logged since then
  };
  std::function<void(const std::string&)> out_;
  std::chrono::seconds every_;
  std::mutex mutex_;
  std::map<std::string, Cause> causes_;
};

}  // namespace seer::promises::server
