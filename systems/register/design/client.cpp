#include "client.hpp"

#include <algorithm>
#include <optional>

namespace seer::systems::reg {

namespace {

constexpr sim::Duration kRetransmit = sim::milliseconds(50);
constexpr sim::Duration kOpTimeout = sim::milliseconds(500);
constexpr sim::Duration kThinkTime = sim::milliseconds(2);

struct Quorum {
  sim::Env& env;
  const std::vector<sim::ProcessId>& replicas;
  std::uint64_t next_req = 1;

  std::size_t majority() const { return replicas.size() / 2 + 1; }

  // Sends `make()` to every replica that has not answered request `req`, until a majority answered
  // or the deadline passes. Returns the replies, or nullopt on timeout.
  template <class Reply, class Make>
  sim::Task<std::optional<std::vector<Reply>>> gather(Make make, sim::Time deadline) {
    const std::uint64_t req = next_req++;
    std::vector<bool> answered(replicas.size(), false);
    std::vector<Reply> replies;
    while (replies.size() < majority()) {
      for (std::size_t i = 0; i < replicas.size(); ++i) {
        if (!answered[i]) env.send(replicas[i], make(req));
      }
      const sim::Time resend_at = std::min(env.now() + kRetransmit, deadline);
      while (replies.size() < majority()) {
        const sim::Duration left = resend_at - env.now();
        if (left <= 0) break;
        auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* reply = m->template as<Reply>();
        if (!reply || reply->req != req) continue;  // a late answer to an earlier request
        auto it = std::find(replicas.begin(), replicas.end(), m->from);
        const auto index = static_cast<std::size_t>(it - replicas.begin());
        if (it == replicas.end() || answered[index]) continue;  // duplicate delivery
        answered[index] = true;
        replies.push_back(*reply);
      }
      if (replies.size() < majority() && env.now() >= deadline) co_return std::nullopt;
    }
    co_return replies;
  }

  sim::Task<std::optional<QueryReply>> newest(sim::Time deadline) {
    auto replies = co_await gather<QueryReply>(
        [](std::uint64_t req) { return sim::make_payload<Query>(req); }, deadline);
    if (!replies) co_return std::nullopt;
    QueryReply best = replies->front();
    for (const auto& r : *replies) {
      if (r.tag > best.tag) best = r;
    }
    co_return best;
  }

  sim::Task<bool> store(Tag tag, std::int64_t value, sim::Time deadline) {
    auto acks = co_await gather<StoreAck>(
        [&](std::uint64_t req) { return sim::make_payload<Store>(req, tag, value); }, deadline);
    co_return acks.has_value();
  }
};

// A read: the newest value of a majority, written back to a majority before it is returned;
// nullopt if either phase missed the deadline.
sim::Task<std::optional<std::int64_t>> read(Quorum& quorum, sim::Time deadline) {
  auto newest = co_await quorum.newest(deadline);
  // Write-back: without it, a later read could see an older value than this one returned.
  if (newest && co_await quorum.store(newest->tag, newest->value, deadline)) {
    co_return newest->value;
  }
  co_return std::nullopt;
}

}  // namespace

sim::Task<void> run_client(sim::Env& env, sim::HistoryRecorder& history, ClientConfig config) {
  Quorum quorum{env, config.replicas};
  int process = config.id;
  // The highest tag sequence this client has used. A write that timed out may still have stored its
  // tag on some replicas; reusing that sequence for another value would give two values one tag
  // (seed 2165).
  std::int64_t last_seq = 0;
  for (const auto& op : config.ops) {
    co_await env.sleep(kThinkTime + static_cast<sim::Duration>(env.random() % 1'000'000));
    const sim::Time deadline = env.now() + kOpTimeout;
    if (op.write) {
      history.invoke(process, "write", op.value);
      bool done = false;
      Tag tag;
      if (auto newest = co_await quorum.newest(deadline)) {
        tag = Tag{std::max(newest->tag.seq, last_seq) + 1, config.id};
        last_seq = tag.seq;
        done = co_await quorum.store(tag, op.value, deadline);
      }
      if (done) {
        history.complete(process, sim::OpType::kOk, "write", op.value);
        if (config.on_write_acked) config.on_write_acked(tag, op.value);
      } else {
        history.complete(process, sim::OpType::kInfo, "write", op.value, "timeout");
        process += config.clients;  // outcome unknown: this process is done (Jepsen convention)
      }
    } else {
      history.invoke(process, "read", nullptr);
      const auto result = co_await read(quorum, deadline);
      if (result) {
        history.complete(process, sim::OpType::kOk, "read", *result);
      } else {
        history.complete(process, sim::OpType::kInfo, "read", nullptr, "timeout");
        process += config.clients;
      }
    }
  }
}

sim::Task<void> run_final_reader(sim::Env& env, sim::HistoryRecorder& history,
                                 FinalReaderConfig config) {
  Quorum quorum{env, config.replicas};
  int process = config.first_process;
  for (;;) {
    history.invoke(process, "read", nullptr);
    if (const auto value = co_await read(quorum, env.now() + kOpTimeout)) {
      history.complete(process, sim::OpType::kOk, "read", *value);
      if (config.on_read) config.on_read(*value);
      co_return;
    }
    history.complete(process, sim::OpType::kInfo, "read", nullptr, "timeout");
    ++process;  // outcome unknown: the next try is another history process
  }
}

}  // namespace seer::systems::reg
