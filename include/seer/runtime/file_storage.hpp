// sim::Storage on a directory: the local disk of a real process. put/erase are buffered in memory
// (get and keys see them) until sync() makes them durable; a process that dies before its sync
// loses them, as a crash does in the simulator. LoopEnv's `co_await env.sync()` calls sync().
#pragma once

#include "seer/sim/storage.hpp"

#include <map>
#include <optional>
#include <string>

namespace seer::runtime {

// Storage that a LoopEnv can make durable: its park_sync calls sync().
class DurableStorage : public sim::Storage {
 public:
  // Makes every write so far durable, or throws std::runtime_error (a full disk, an I/O error).
  virtual void sync() = 0;
};

// The directory holds one append-only log, `storage.log`: each sync() appends one frame (length,
// checksum, the batch's puts and erases) and fsyncs it. A log rather than a file per key or a
// rewritten snapshot: a sync costs one write and one fsync whatever the store's size, and a frame
// either checks out whole or is ignored, so a batch survives a crash entirely or not at all
// (stronger than the simulator's torn writes, which a design must tolerate anyway). Opening
// replays the log, drops a torn tail, and compacts it (written to a temporary file, fsynced,
// renamed over the log, the directory fsynced) so the log stays proportional to the live data.
class FileStorage final : public DurableStorage {
 public:
  // Creates the directory if missing. Throws std::runtime_error if it cannot be used.
  explicit FileStorage(std::string dir);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  void sync() override;

 protected:
  // A real process's disk records no code sites.
  std::optional<std::string> read_at(sim::CodeSite at, const std::string& key) override;
  void write_at(sim::CodeSite at, const std::string& key, std::string value) override;
  void erase_at(sim::CodeSite at, const std::string& key) override;
  std::vector<std::string> keys_at(sim::CodeSite at, const std::string& prefix) override;

 private:
  void open_log();
  std::string dir_;
  int fd_ = -1;
  std::map<std::string, std::string> data_;  // what get() sees
  std::map<std::string, std::optional<std::string>>
      pending_;  // since the last sync; nullopt: erased
};

}  // namespace seer::runtime
