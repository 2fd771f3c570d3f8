// The real KV store (servers.hpp). Layout in storage: "rev" holds the store revision, "k/<key>"
// holds {"value": ..., "revision": <mod revision>} as JSON.
#include "seer/runtime/servers.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/kv_write_rules.hpp"

#include <nlohmann/json.hpp>

namespace seer::runtime {

namespace {

using services::KvOp;
using services::KvReply;
using services::KvRequest;
using services::KvStatus;

struct Version {
  bool exists = false;
  nlohmann::json value;
  std::int64_t revision = 0;
};

class Store {
 public:
  explicit Store(sim::Storage& s) : s_(s) {
    const auto rev = s_.get("rev");
    revision_ = rev ? std::stoll(*rev) : 0;
  }
  std::int64_t revision() const { return revision_; }
  Version latest(const std::string& key) const {
    const auto stored = s_.get("k/" + key);
    if (!stored) return {};
    const auto j = nlohmann::json::parse(*stored);
    return {true, j["value"], j["revision"].get<std::int64_t>()};
  }
  std::int64_t write(const std::string& key, const nlohmann::json& value) {
    s_.put("k/" + key, nlohmann::json{{"value", value}, {"revision", ++revision_}}.dump());
    s_.put("rev", std::to_string(revision_));
    return revision_;
  }
  std::int64_t erase(const std::string& key) {
    s_.erase("k/" + key);
    s_.put("rev", std::to_string(++revision_));
    return revision_;
  }
  nlohmann::json keys(const std::string& prefix) const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : s_.keys("k/" + prefix)) out.push_back(k.substr(2));
    return out;
  }

 private:
  sim::Storage& s_;
  std::int64_t revision_ = 0;
};

}  // namespace

sim::Task<void> serve_kv(sim::Env& env) {
  Store store(env.storage());
  std::uint64_t serial = 0;
  for (;;) {
    const auto m = co_await env.receive();
    const auto* rq = m.as<KvRequest>();
    if (!rq) continue;
    const auto latest = store.latest(rq->key);
    KvStatus status = KvStatus::kOk;
    nlohmann::json value;
    std::int64_t revision = 0;
    bool wrote = false;
    switch (rq->op) {
      case KvOp::kGet:  // every read is linearizable here: there is one copy
        status = latest.exists ? KvStatus::kOk : KvStatus::kNotFound;
        value = latest.value;
        revision = latest.revision;
        break;
      case KvOp::kList:
        value = store.keys(rq->key);
        revision = store.revision();
        break;
      default: {
        const auto outcome = services::apply_kv_write(store, *rq, latest.exists, latest.revision);
        status = outcome.status;
        revision = outcome.revision;
        wrote = outcome.applied;
        break;
      }
    }
    if (wrote) co_await env.sync();  // durable before anyone hears of it
    env.send(m.from,
             std::make_shared<KvReply>(rq->req, status, std::move(value), revision, ++serial));
  }
}

}  // namespace seer::runtime
