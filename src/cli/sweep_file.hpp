// A sweep's result stream on disk (sweep_record.hpp is the line schema): reading one back, for a
// resumed sweep and for `seer merge`, and appending to one while a sweep runs.
#pragma once

#include "sweep_record.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace seer::cli {

// The longest line a reader accepts: records are a few hundred bytes (messages are cut at
// kMaxRecordMessage when written), so a longer line is not one of ours, and holding it could
// exhaust memory.
inline constexpr std::size_t kMaxSweepLine = std::size_t{1} << 20;

struct SweepFileRead {
  SweepHeader header;
  std::uint64_t records = 0;         // complete record lines read
  std::uint64_t complete_bytes = 0;  // up to the end of the last complete line
  bool torn = false;                 // a last line without its '\n' was left out
};

using SweepHeaderSink = std::function<void(const SweepHeader&)>;
// A record and its line number.
using SweepRecordSink = std::function<void(const SweepRecord&, std::uint64_t)>;

// Reads a sweep output line by line (never whole: it can hold a billion seeds): the header to
// `on_header`, then each record to `on_record`. A last line without its '\n' is the one a killed
// sweep was writing: it is left out (`torn`). Everything else that is wrong is a UsageError of one
// line naming the file and line: a missing or unreadable file, an empty one, one of another format,
// a malformed line, a record whose seed is not in the header's shard. The sinks may throw
// UsageError too.
SweepFileRead read_sweep_file(const std::string& path, const SweepHeaderSink& on_header,
                              const SweepRecordSink& on_record);

// The output file of a running sweep (`--out`). Opening it creates it with the sweep's header, or
// resumes it: its header must be this sweep's (system, variant, options, version, seeds, shard;
// else a UsageError naming the first field that differs), its records go to `on_record`, and a
// torn last line is cut off. The file is locked (flock) while open, so a second sweep on the same
// file is refused rather than interleaved with the first.
class SweepOutput {
 public:
  SweepOutput(const std::string& path, const SweepHeader& header, const SweepRecordSink& on_record);
  ~SweepOutput();
  SweepOutput(const SweepOutput&) = delete;
  SweepOutput& operator=(const SweepOutput&) = delete;

  // Appends a line with one write(2), from any thread: a sweep killed at any moment leaves at most
  // its last line torn. The page cache has the line when this returns (a killed process loses
  // nothing more); it is not fsynced per line, which would cost more than many runs.
  void append(const std::string& line);
  // fsyncs and closes: the finished shard survives a machine crash too.
  void close();

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace seer::cli
