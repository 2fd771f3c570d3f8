#include "seer/runtime/node_config.hpp"

#include "seer/input_size.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <utility>

namespace seer::runtime {

const NodeAddress* NodeConfig::find(std::string_view name) const {
  for (const auto& p : processes) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const NodeAddress* NodeConfig::find(sim::ProcessId id) const {
  for (const auto& p : processes) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const NodeAddress& NodeConfig::at(std::string_view name) const {
  if (const auto* p = find(name)) return *p;
  throw ConfigError("no process named \"" + std::string(name) + "\" in the config");
}

NodeConfig NodeConfig::parse(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("processes") || !j["processes"].is_object()) {
    throw ConfigError("the config must be an object with a \"processes\" object");
  }
  NodeConfig config;
  std::set<sim::ProcessId> ids;
  for (const auto& [name, entry] : j["processes"].items()) {
    const auto where = "process \"" + name + "\": ";
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() ||
        !entry.contains("address") || !entry["address"].is_string()) {
      throw ConfigError(where + "needs an integer \"id\" and an \"address\" host:port");
    }
    const auto id = entry["id"].get<std::int64_t>();
    if (id < 0 || id > 1'000'000) throw ConfigError(where + "id must be in 0..1000000");
    if (!ids.insert(static_cast<sim::ProcessId>(id)).second) {
      throw ConfigError(where + "id " + std::to_string(id) + " is taken by another process");
    }
    const auto address = entry["address"].get<std::string>();
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      throw ConfigError(where + "address \"" + address + "\" is not host:port");
    }
    int port = 0;
    try {
      std::size_t used = 0;
      port = std::stoi(address.substr(colon + 1), &used);
      if (used != address.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw ConfigError(where + "address \"" + address + "\" has no port in 1..65535");
    }
    config.processes.push_back({name, static_cast<sim::ProcessId>(id), address.substr(0, colon),
                                static_cast<std::uint16_t>(port)});
  }
  return config;
}

NodeConfig NodeConfig::load(const std::string& path) {
  if (const auto why = input_refused(path)) throw ConfigError("config " + *why);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config " + path);
  std::string text;
  if (const auto why = read_bounded(in, path, text)) throw ConfigError("config " + *why);
  try {
    return parse(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError("config " + path + " is not JSON: " + e.what());
  } catch (const ConfigError& e) {
    throw ConfigError("config " + path + ": " + e.what());
  }
}

namespace {

// The kernel's range of ports for outgoing connections (ip_local_port_range). A port from it that
// is free now may be taken by any program's next connect before ours binds it (a test's flake on a
// busy machine: "cannot listen ... Address already in use"); ports below it are only ever taken by
// an explicit bind.
std::pair<int, int> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  if (in >> low >> high && 0 < low && low <= high && high < 65536) return {low, high};
  return {32768, 60999};  // Linux's default
}

// Binds a loopback socket to `port` (0: the kernel's choice) and closes it: the port it got, if
// it could.
std::optional<std::uint16_t> bind_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return std::nullopt;
  return ntohs(addr.sin_port);
}

// A loopback port free now, from below the ephemeral range where there is room (tried from a
// random start, so two programs rarely pick the same), else the kernel's choice.
std::uint16_t free_loopback_port() {
  constexpr int kFirst = 10000;
  const int last = ephemeral_range().first - 1;
  if (last - kFirst >= 1000) {
    static thread_local std::minstd_rand pick(std::random_device{}());
    const auto span = static_cast<unsigned>(last - kFirst + 1);
    for (int attempt = 0; attempt < 100; ++attempt) {
      const auto port = static_cast<std::uint16_t>(kFirst + static_cast<int>(pick() % span));
      if (const auto bound = bind_loopback(port)) return *bound;
    }
  }
  if (const auto bound = bind_loopback(0)) return *bound;
  throw ConfigError("no free loopback port");
}

}  // namespace

NodeConfig NodeConfig::loopback(const std::vector<std::string>& names) {
  nlohmann::json j = {{"processes", nlohmann::json::object()}};
  int id = 0;
  for (const auto& name : names) {
    j["processes"][name] = {{"id", id++},
                            {"address", "127.0.0.1:" + std::to_string(free_loopback_port())}};
  }
  return parse(j);
}

}  // namespace seer::runtime
