#include "seer/services/kv.hpp"

namespace seer::services {

sim::Task<KvResult> KvClient::call(KvOp op, std::string key, nlohmann::json value,
                                   std::int64_t expected, KvRead read) {
  const std::uint64_t req = next_req_++;
  env_.send(server_,
            std::make_shared<KvRequest>(req, op, std::move(key), std::move(value), expected, read));
  const sim::Time deadline = env_.now() + timeout_;
  for (;;) {
    const sim::Duration left = deadline - env_.now();
    if (left <= 0) break;
    auto m = co_await env_.receive_for(left);
    if (!m) break;
    const auto* reply = m->as<KvReply>();
    if (!reply) {
      if (stash_) stash_->push_back(std::move(*m));
      continue;
    }
    if (m->from != server_ || reply->req != req) continue;  // stale or duplicate reply
    co_return KvResult{false, reply->status, reply->value, reply->revision};
  }
  KvResult timed_out;
  timed_out.timed_out = true;
  co_return timed_out;
}

sim::Task<KvResult> KvClient::get(std::string key, KvRead read) {
  return call(KvOp::kGet, std::move(key), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::list(std::string prefix, KvRead read) {
  return call(KvOp::kList, std::move(prefix), nullptr, 0, read);
}
sim::Task<KvResult> KvClient::put(std::string key, nlohmann::json value) {
  return call(KvOp::kPut, std::move(key), std::move(value), 0);
}
sim::Task<KvResult> KvClient::create(std::string key, nlohmann::json value) {
  return call(KvOp::kCreate, std::move(key), std::move(value), 0);
}
sim::Task<KvResult> KvClient::update(std::string key, nlohmann::json value, std::int64_t expected) {
  return call(KvOp::kUpdate, std::move(key), std::move(value), expected);
}
sim::Task<KvResult> KvClient::remove(std::string key) {
  return call(KvOp::kDelete, std::move(key), nullptr, 0);
}

}  // namespace seer::services
