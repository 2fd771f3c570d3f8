#include "storage_guard.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace seer::promises::server {

FileIdentity::FileIdentity(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) {
    throw std::runtime_error("cannot stat " + path_ + ": " + std::strerror(errno));
  }
  device_ = st.st_dev;
  inode_ = st.st_ino;
}

std::optional<std::string> FileIdentity::changed() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return "the database file " + path_ +
             " was deleted while the server ran; what it commits now would be lost";
    }
    return "cannot stat the database file " + path_ + ": " + std::strerror(errno);
  }
  if (st.st_dev != device_ || st.st_ino != inode_) {
    return "the database file " + path_ +
           " was replaced by another file while the server ran; its commits go to the old one";
  }
  return std::nullopt;
}

void lock_database_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) {
      throw std::runtime_error("the database " + path +
                               " is in use by another seer-resonate (one server per file)");
    }
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(e));
  }
  // Kept open on purpose (see the header).
}

LogLimiter::LogLimiter(std::function<void(const std::string&)> out, std::chrono::seconds every)
    : out_(std::move(out)), every_(every) {}

void LogLimiter::operator()(const std::string& line) {
  const auto colon = line.find(": ");
  const std::string cause = colon == std::string::npos ? line : line.substr(colon + 2);
  const auto now = std::chrono::steady_clock::now();
  std::string text;
  {
    std::lock_guard lock(mutex_);
    auto [it, first] = causes_.try_emplace(cause, Cause{now, 0});
    if (first) {
      text = line;
    } else if (now - it->second.logged < every_) {
      ++it->second.since;
      return;
    } else {
      const auto seconds =
          std::chrono::duration_cast<std::chrono::seconds>(now - it->second.logged).count();
      text = line + " (and " + std::to_string(it->second.since) + " more like it in " +
             std::to_string(seconds) + " s)";
      it->second = Cause{now, 0};
    }
    if (causes_.size() > 1000) causes_.erase(causes_.begin());  // bounded, whatever the causes
  }
  out_(text);
}

}  // namespace seer::promises::server
