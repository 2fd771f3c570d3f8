// Durable key-value storage as a process sees it: its local disk.
//
// Writes are buffered until sync() makes them durable. Reads see the process's own latest writes. A
// crash drops every unsynced write (and, with the torn-write fault, may persist a prefix of the
// buffered writes, the last of them possibly truncated). Keys are ordered, so listing is
// deterministic.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace seer::sim {

class Storage {
 public:
  virtual ~Storage() = default;
  virtual std::optional<std::string> get(const std::string& key) = 0;
  virtual void put(const std::string& key, std::string value) = 0;
  virtual void erase(const std::string& key) = 0;
  // Keys starting with `prefix`, in ascending order.
  virtual std::vector<std::string> keys(const std::string& prefix) = 0;
};

}  // namespace seer::sim
