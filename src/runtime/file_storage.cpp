#include "seer/runtime/file_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace seer::runtime {

namespace {

using Batch = std::map<std::string, std::optional<std::string>>;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  return h;
}

void put_u64(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::optional<std::uint64_t> get_u64(const std::string& in, std::size_t& at, int bytes) {
  if (in.size() - at < static_cast<std::size_t>(bytes)) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  at += bytes;
  return v;
}

std::optional<std::string> get_bytes(const std::string& in, std::size_t& at) {
  const auto n = get_u64(in, at, 4);
  if (!n || in.size() - at < *n) return std::nullopt;
  std::string s = in.substr(at, *n);
  at += *n;
  return s;
}

// A frame: payload length (4 bytes), its FNV-1a (8 bytes), then per record an op byte (1 put,
// 0 erase), the key and, for a put, the value, each length-prefixed (4 bytes, little-endian).
std::string frame(const Batch& batch) {
  std::string payload;
  for (const auto& [key, value] : batch) {
    payload.push_back(value ? 1 : 0);
    put_u64(payload, key.size(), 4);
    payload += key;
    if (value) {
      put_u64(payload, value->size(), 4);
      payload += *value;
    }
  }
  std::string out;
  put_u64(out, payload.size(), 4);
  put_u64(out, fnv1a(payload), 8);
  return out + payload;
}

// Applies the log's whole frames to `data`; stops at the first torn or corrupt one.
void replay(const std::string& log, std::map<std::string, std::string>& data) {
  std::size_t at = 0;
  for (;;) {
    const auto size = get_u64(log, at, 4);
    const auto sum = get_u64(log, at, 8);
    if (!size || !sum || log.size() - at < *size) return;
    const std::string payload = log.substr(at, *size);
    at += *size;
    if (fnv1a(payload) != *sum) return;
    Batch batch;
    std::size_t p = 0;
    while (p < payload.size()) {
      const bool is_put = payload[p++] == 1;
      auto key = get_bytes(payload, p);
      if (!key) return;
      std::optional<std::string> value;
      if (is_put && !(value = get_bytes(payload, p))) return;
      batch[*key] = std::move(value);
    }
    for (auto& [key, value] : batch) {
      if (value) {
        data[key] = std::move(*value);
      } else {
        data.erase(key);
      }
    }
  }
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("cannot fsync", path);
}

}  // namespace

FileStorage::FileStorage(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_ + ": " + ec.message());
  open_log();
}

FileStorage::~FileStorage() {
  if (fd_ >= 0) ::close(fd_);
}

void FileStorage::open_log() {
  const std::string log = dir_ + "/storage.log";
  const std::string tmp = log + ".tmp";
  {
    std::ifstream in(log, std::ios::binary);
    replay(std::string(std::istreambuf_iterator<char>(in), {}), data_);
  }
  // Compact: the live data as one frame, made durable before it replaces the log.
  Batch all;
  for (const auto& [key, value] : data_) all[key] = value;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", tmp);
  write_all(fd, all.empty() ? std::string() : frame(all), tmp);
  if (::fsync(fd) != 0) fail("cannot fsync", tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), log.c_str()) != 0) fail("cannot rename", tmp);
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  fd_ = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open", log);
}

std::optional<std::string> FileStorage::read_at(sim::CodeSite, const std::string& key) {
  const auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

void FileStorage::write_at(sim::CodeSite, const std::string& key, std::string value) {
  data_[key] = value;
  pending_[key] = std::move(value);
}

void FileStorage::erase_at(sim::CodeSite, const std::string& key) {
  data_.erase(key);
  pending_[key] = std::nullopt;
}

std::vector<std::string> FileStorage::keys_at(sim::CodeSite, const std::string& prefix) {
  std::vector<std::string> out;
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back(it->first);
  }
  return out;
}

void FileStorage::sync() {
  if (pending_.empty()) return;
  const std::string log = dir_ + "/storage.log";
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  try {
    write_all(fd_, frame(pending_), log);
    if (::fdatasync(fd_) != 0) fail("cannot fsync", log);
  } catch (...) {
    // Cut a partly written frame off, or every later frame would sit behind it, unreadable.
    if (end >= 0) (void)::ftruncate(fd_, end);
    throw;
  }
  pending_.clear();
}

}  // namespace seer::runtime
