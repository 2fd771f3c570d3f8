// Durable key-value storage as a process sees it: its local disk.
//
// Writes are buffered until sync() makes them durable. Reads see the process's own latest writes. A
// crash drops every unsynced write (and, with the torn-write fault, may persist a prefix of the
// buffered writes, the last of them possibly truncated). Keys are ordered, so listing is
// deterministic.
#pragma once

#include "seer/sim/code_site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace seer::sim {

class Storage {
 public:
  virtual ~Storage() = default;
  // `at` is left to its default: the caller's line (code_site.hpp), recorded in a traced run.
  std::optional<std::string> get(const std::string& key, CodeSite at = CodeSite::here()) {
    return read_at(at, key);
  }
  void put(const std::string& key, std::string value, CodeSite at = CodeSite::here()) {
    write_at(at, key, std::move(value));
  }
  void erase(const std::string& key, CodeSite at = CodeSite::here()) { erase_at(at, key); }
  // Keys starting with `prefix`, in ascending order.
  std::vector<std::string> keys(const std::string& prefix, CodeSite at = CodeSite::here()) {
    return keys_at(at, prefix);
  }

 protected:
  virtual std::optional<std::string> read_at(CodeSite at, const std::string& key) = 0;
  virtual void write_at(CodeSite at, const std::string& key, std::string value) = 0;
  virtual void erase_at(CodeSite at, const std::string& key) = 0;
  virtual std::vector<std::string> keys_at(CodeSite at, const std::string& prefix) = 0;
};

}  // namespace seer::sim
