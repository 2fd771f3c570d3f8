// One fenced-lock client as a real process: the design's run_client coroutine, unchanged, on a
// TcpNode, against `seer serve-kv` (locks) and `seer serve-sql` (db) at the config's addresses.
//   fenced-lock-client --config deploy.json --name client1 --variant fenced --increments 20
//                      --history client1.jsonl
// The history is written a line at a time, flushed, with the time of each event on the machine's
// monotonic clock, so the histories of several clients on one machine merge into one by time, and
// a client killed mid-run leaves every event it recorded (its last increment then stays
// unfinished: unknown, to the checker).
#include "../design/fenced_lock.hpp"
#include "seer/runtime/tcp_node.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

namespace {

using namespace seer;

class FileHistory final : public sim::HistoryRecorder {
 public:
  explicit FileHistory(const std::string& path) : out_(path, std::ios::trunc) {}
  bool ok() const { return static_cast<bool>(out_); }
  void invoke(int process, const std::string& f, nlohmann::json value) override {
    write({{"type", "invoke"}, {"process", process}, {"f", f}, {"value", std::move(value)}});
  }
  void complete(int process, sim::OpType type, const std::string& f, nlohmann::json value,
                std::string error) override {
    nlohmann::json j = {
        {"type", sim::op_type_name(type)}, {"process", process}, {"f", f}, {"value", value}};
    if (!error.empty()) j["error"] = error;
    ++counts_[sim::op_type_name(type)];
    write(std::move(j));
  }
  int count(const std::string& type) const {
    const auto it = counts_.find(type);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  void write(nlohmann::json j) {
    j["time"] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
    out_ << j.dump() << std::endl;  // flushed: a SIGKILL keeps what was recorded
  }
  std::ofstream out_;
  std::map<std::string, int> counts_;
};

constexpr const char* kUsage =
    "usage: fenced-lock-client --config FILE --name NAME --variant lease-only|fenced-writes|fenced "
    "--increments N --history FILE";

int usage(const std::string& why) {
  std::cerr << "fenced-lock-client: error: " << why << " (" << kUsage << ")\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--help") {
      std::cout << kUsage << "\n";
      return 0;
    }
    if (i + 1 >= argc || !key.starts_with("--")) return usage("bad argument " + key);
    args[key.substr(2)] = argv[i + 1];
  }
  for (const char* required : {"config", "name", "variant", "increments", "history"}) {
    if (!args.count(required)) return usage(std::string("--") + required + " is required");
  }
  const auto& variant = args["variant"];
  if (variant != "lease-only" && variant != "fenced-writes" && variant != "fenced") {
    return usage("unknown variant " + variant);
  }
  int increments = 0;
  try {
    increments = std::stoi(args["increments"]);
  } catch (const std::exception&) {
    increments = -1;
  }
  if (increments < 0) return usage("--increments must be a number >= 0");
  try {
    runtime::TcpNode node(runtime::NodeConfig::load(args["config"]), args["name"]);
    // Every client counts time from the machine's boot, so leases written by one are read on the
    // same clock by the others (as NTP-synchronised machines would, without the skew).
    node.env().set_clock_start(std::chrono::steady_clock::time_point{});
    FileHistory history(args["history"]);
    if (!history.ok()) return usage("cannot write " + args["history"]);
    fenced_lock::ClientConfig config;
    config.id = node.id_of(args["name"]);
    config.increments = increments;
    config.fencing = fenced_lock::fencing_of(variant);
    config.locks = node.id_of("locks");
    config.db = node.id_of("db");
    std::cout << args["name"] << ": started" << std::endl;
    node.run(fenced_lock::run_client(node.env(), history, config));
    std::cout << args["name"] << ": done: " << history.count("ok") << " ok, "
              << history.count("fail") << " failed, " << history.count("info") << " unknown"
              << std::endl;
  } catch (const runtime::ConfigError& e) {
    return usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "fenced-lock-client: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
