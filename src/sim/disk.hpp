// A simulated local disk: durable contents plus writes buffered until sync. Crash semantics live
// here.
#pragma once

#include "seer/sim/prng.hpp"
#include "seer/sim/storage.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seer::sim {

// Which buffered writes a torn crash keeps: the first `keep`, the last of them cut to `cut` bytes.
struct TornChoice {
  std::uint64_t keep = 0;
  std::uint64_t cut = 0;
};

class Disk {
 public:
  std::optional<std::string> read(const std::string& key, bool* from_buffer) const;
  void write(const std::string& key, std::optional<std::string> value);
  std::vector<std::string> keys(const std::string& prefix) const;
  // Makes every buffered write durable; returns how many there were.
  std::size_t sync();
  // A crash: buffered writes are lost, or with `torn`, a random prefix of them persists and the
  // last one that persists may be truncated. Returns what was lost, for the oracle. With `replay`
  // the torn prefix is `choice` (clamped to what is buffered); otherwise it is drawn from `prng`
  // and written to `choice`.
  nlohmann::json crash(Prng& prng, bool torn, TornChoice& choice, bool replay);

  const std::map<std::string, std::string>& durable() const { return durable_; }
  const std::vector<std::pair<std::string, std::optional<std::string>>>& pending() const {
    return pending_;
  }

 private:
  std::map<std::string, std::string> durable_;
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;
};

}  // namespace seer::sim
