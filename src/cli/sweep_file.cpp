#include "sweep_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace seer::cli {

namespace {

std::string sweep_file_errno() {
  return std::strerror(errno);
}

// Parses one complete line (line 1 is the header) and hands it on.
class SweepLineTaker {
 public:
  SweepLineTaker(const std::string& path, const SweepHeaderSink& on_header,
                 const SweepRecordSink& on_record, SweepFileRead& out)
      : path_(path), on_header_(on_header), on_record_(on_record), out_(out) {}

  void take(std::string_view text, std::uint64_t line) {
    const auto where = path_ + ":" + std::to_string(line) + ": ";
    if (line == 1) {
      try {
        out_.header = parse_sweep_header(text);
      } catch (const std::invalid_argument& e) {
        throw UsageError(where + e.what());
      }
      const auto block = shard_seeds(out_.header.seeds, out_.header.shard);
      has_block_ = block.has_value();
      if (block) block_ = *block;
      on_header_(out_.header);
      return;
    }
    SweepRecord record;
    try {
      record = parse_sweep_record(text);
    } catch (const std::invalid_argument& e) {
      throw UsageError(where + e.what());
    }
    if (!has_block_ || record.seed < block_.first || record.seed > block_.last) {
      const auto& shard = out_.header.shard;
      throw UsageError(
          where + "seed " + std::to_string(record.seed) + " is not in the header's shard " +
          std::to_string(shard.index) + "/" + std::to_string(shard.count) + " (" +
          (has_block_ ? "seeds " + std::to_string(block_.first) + ".." + std::to_string(block_.last)
                      : std::string("no seeds")) +
          ")");
    }
    ++out_.records;
    on_record_(record, line);
  }

 private:
  const std::string& path_;
  const SweepHeaderSink& on_header_;
  const SweepRecordSink& on_record_;
  SweepFileRead& out_;
  // The header's shard's seeds (not an optional: GCC 12 warns it may be read uninitialized).
  SeedRange block_;
  bool has_block_ = false;
};

// True when the file holds only a prefix of `header_line` without its '\n': the header a sweep
// was writing when it was killed, which a resume may overwrite (nothing else it may).
bool torn_header(int fd, std::uint64_t size, const std::string& header_line) {
  if (size >= header_line.size()) return false;
  std::string text(size, '\0');
  return ::pread(fd, text.data(), size, 0) == static_cast<ssize_t>(size) &&
         header_line.compare(0, size, text) == 0;
}

}  // namespace

SweepFileRead read_sweep_file(const std::string& path, const SweepHeaderSink& on_header,
                              const SweepRecordSink& on_record) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) throw UsageError("cannot read '" + path + "': " + sweep_file_errno());
  SweepFileRead out;
  SweepLineTaker taker(path, on_header, on_record, out);
  std::vector<char> buffer(std::size_t{1} << 16);
  std::string line;
  std::uint64_t lines = 0;
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0;) {
    for (std::size_t start = 0; start < n;) {
      const auto* newline = static_cast<const char*>(std::memchr(&buffer[start], '\n', n - start));
      const std::size_t end = newline ? static_cast<std::size_t>(newline - buffer.data()) : n;
      if (line.size() + (end - start) > kMaxSweepLine) {
        throw UsageError(path + ":" + std::to_string(lines + 1) + ": " +
                         (lines == 0 ? "not a seer sweep output (a " : "a ") + "line longer than " +
                         std::to_string(kMaxSweepLine) + " bytes" + (lines == 0 ? ")" : ""));
      }
      line.append(&buffer[start], end - start);
      if (!newline) break;
      taker.take(line, ++lines);
      out.complete_bytes += line.size() + 1;
      line.clear();
      start = end + 1;
    }
  }
  if (std::ferror(file.get())) {
    throw UsageError("cannot read '" + path + "': " + sweep_file_errno());
  }
  if (lines == 0) {
    if (line.empty()) throw UsageError(path + ": empty, not a seer sweep output");
    throw UsageError(path + ":1: " +
                     (line.front() == '{' ? "an unfinished header line (the sweep writing it was "
                                            "killed as it started?)"
                                          : "not a seer sweep output (no complete line)"));
  }
  out.torn = !line.empty();
  return out;
}

SweepOutput::SweepOutput(const std::string& path, const SweepHeader& header,
                         const SweepRecordSink& on_record)
    : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError("cannot write '" + path + "': " + sweep_file_errno());
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      throw UsageError(path + ": not a regular file (--out appends to one and resumes from it)");
    }
    // A file system without locks (ENOLCK, some network mounts) leaves the file unlocked: that
    // only loses the protection against a second sweep on the same file.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
      throw UsageError(path + ": another seer sweep is writing it");
    }
    const auto header_line = sweep_header_line(header);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0 || torn_header(fd_, size, header_line)) {
      if (::ftruncate(fd_, 0) != 0) {
        throw UsageError("cannot write '" + path + "': " + sweep_file_errno());
      }
      append(header_line);
      return;
    }
    const auto read = read_sweep_file(
        path,
        [&](const SweepHeader& found) {
          if (const auto d = sweep_header_difference(found, header, true)) {
            throw UsageError(path + ": the results of another sweep (" + d->field + " " + d->first +
                             " in the file, " + d->second +
                             " here): resume with the same options, or use another --out");
          }
        },
        on_record);
    // The line a killed sweep was writing: its seed is run again.
    if (read.torn && ::ftruncate(fd_, static_cast<off_t>(read.complete_bytes)) != 0) {
      throw UsageError("cannot write '" + path + "': " + sweep_file_errno());
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

SweepOutput::~SweepOutput() {
  if (fd_ >= 0) ::close(fd_);
}

void SweepOutput::append(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) throw UsageError("'" + path_ + "' is closed");
  for (std::size_t done = 0; done < line.size();) {
    const auto n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw UsageError("failed writing '" + path_ + "': " + sweep_file_errno());
    done += static_cast<std::size_t>(n);
  }
}

void SweepOutput::close() {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  const bool synced = ::fsync(fd_) == 0 || errno == EINVAL;
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!synced || !closed) throw UsageError("failed writing '" + path_ + "': " + sweep_file_errno());
}

}  // namespace seer::cli
