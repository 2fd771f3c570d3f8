// sms_retry: a timed-out send retried through a delayed queue message texts the customer twice.
//
// Spec. An app (`app`) enqueues one notification per event on the at-least-once queue
// ({notification, phone, attempt}). Two notifiers (`notifier1`, `notifier2`) take them and ask an
// SMS provider (`sms`, the design's own process and messages: `send_sms` -> `sms_accepted`) to
// text the customer. The provider hands each text to the carrier one at a time (1-4 ms, now and
// then 8-14 ms) and records it on its disk (`sent/<notification>/<n>`) before it answers. A
// notifier waits 8 ms for the answer; on a timeout it schedules a retry the usual way for a queue
// worker, by enqueueing the notification again with a 20 ms delay (attempt + 1, at most 3), and
// acks the message it holds.
// Invariant `texted-once`: no notification is texted twice ("notification n-7 was texted 2
// times").
// Operations (history): `notify` (the app's enqueue of a notification).
//
// Bug (variant `buggy`): the timeout says nothing about whether the text went out. When the
// provider is slow (a long carrier hand-off, or requests queued behind one), it texts the
// customer after the notifier gave up, and the delayed retry, taken by either notifier, texts
// them again.
// Fix (variant `fixed`): the notifier passes the notification id as an idempotency key and the
// provider remembers the keys it texted (`key/<notification>`), answering a repeated key without
// texting again.
// Faults: delay.
//
// Label. `lost_response`: the first text took effect (the provider's answer to it, sent after
// the notifier had given up), the notifier's receive timeout on it, the retry it scheduled (the
// enqueue of attempt 2), and the second send_sms (the retry reaching the provider).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"

#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace sms_retry {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kSmsTimeout = sim::milliseconds(8);
constexpr sim::Duration kQueueTimeout = sim::milliseconds(50);
constexpr sim::Duration kRetryDelay = sim::milliseconds(20);
constexpr int kMaxAttempts = 3;
constexpr int kNotifiers = 2;

struct SendSms : sim::Payload {
  SendSms(std::uint64_t r, std::string n, std::string p, std::string k)
      : req(r), notification(std::move(n)), phone(std::move(p)), key(std::move(k)) {}
  std::uint64_t req;
  std::string notification;
  std::string phone;
  std::string key;  // idempotency key ("" in the buggy variant)
  std::string_view type() const override { return "send_sms"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"notification", notification}, {"phone", phone}, {"key", key}};
  }
};

struct SmsAccepted : sim::Payload {
  SmsAccepted(std::uint64_t r, std::string n) : req(r), notification(std::move(n)) {}
  std::uint64_t req;
  std::string notification;
  std::string_view type() const override { return "sms_accepted"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"notification", notification}}; }
};

sim::Task<void> provider(sim::Env& env) {
  auto& disk = env.storage();
  for (;;) {
    const auto m = co_await env.receive();
    const auto* s = m.as<SendSms>();
    if (!s) continue;
    const std::string key = s->key;
    const std::string notification = s->notification;
    const std::uint64_t req = s->req;
    if (key.empty() || !disk.get("key/" + key)) {
      // The carrier hand-off: usually quick, now and then slow.
      const bool slow = env.random() % 5 == 0;
      co_await env.sleep(
          slow ? sim::milliseconds(8) + static_cast<sim::Duration>(env.random() % 6'000'000)
               : sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
      std::size_t n = disk.keys("sent/" + notification + "/").size();
      disk.put("sent/" + notification + "/" + std::to_string(n + 1), "1");
      if (!key.empty()) disk.put("key/" + key, "1");
    }
    env.send(m.from, sim::make_payload<SmsAccepted>(req, notification));
  }
}

sim::Task<void> notifier(sim::Env& env, sim::ProcessId queue, sim::ProcessId sms, bool fixed) {
  services::QueueClient q(env, queue, kQueueTimeout);
  std::uint64_t req = 0;
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    auto body = got.body;
    const auto notification = body.at("notification").get<std::string>();
    const std::uint64_t r = ++req;
    env.send(sms, sim::make_payload<SendSms>(r, notification, body.at("phone").get<std::string>(),
                                             fixed ? notification : std::string()));
    bool accepted = false;
    const sim::Time deadline = env.now() + kSmsTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* a = m->as<SmsAccepted>(); a && a->req == r) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      const int attempt = body.value("attempt", 1);
      if (attempt < kMaxAttempts) {
        body["attempt"] = attempt + 1;
        const auto e = co_await q.enqueue(body, kRetryDelay);
        if (e.timed_out) continue;  // not acked: the queue delivers it again
      }
    }
    co_await q.ack(got.message_id);
  }
}

sim::Task<void> app(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue, int count) {
  services::QueueClient q(env, queue, kQueueTimeout);
  for (int n = 1; n <= count; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string id = "n-" + std::to_string(n);
    nlohmann::json body = {{"notification", id},
                           {"phone", "+1555000" + std::to_string(100 + env.random() % 900)},
                           {"attempt", 1}};
    history.invoke(0, "notify", id);
    const auto r = co_await q.enqueue(body);
    history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "notify", id);
  }
  co_await env.sleep(sim::milliseconds(300));  // let the notifiers drain the queue and retries
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"sms_retry",
            "notifiers text customers through an SMS provider and retry a timed-out send through "
            "a delayed queue message",
            {"buggy", "fixed"},
            {{"texted-once", "no notification is texted twice"}},
            {{"queue", {"at-least-once"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    const auto sms = sim.add_process("sms", [](sim::Env& env) { return provider(env); },
                                     {.crashable = false, .client = false, .pausable = false});
    for (int i = 1; i <= kNotifiers; ++i) {
      sim.add_process(
          "notifier" + std::to_string(i),
          [q = queue.process, sms, fixed](sim::Env& env) { return notifier(env, q, sms, fixed); },
          {.crashable = false, .client = false, .pausable = false});
    }
    auto& history = sim.history();
    const int count = sim.config().ops;
    sim.add_process(
        "app",
        [&history, q = queue.process, count](sim::Env& env) { return app(env, history, q, count); },
        {.crashable = false, .client = true});
    sim.add_invariant("texted-once", [&sim, sms]() -> std::optional<sim::Finding> {
      const auto disk = sim.disk(sms);
      // Only the provider's latest write can be a second text.
      if (disk.pending->empty()) return std::nullopt;
      const auto& [key, value] = disk.pending->back();
      if (!value || key.rfind("sent/", 0) != 0 || key.size() < 2 ||
          key.substr(key.size() - 2) == "/1") {
        return std::nullopt;
      }
      const auto slash = key.find('/', 5);
      const std::string notification = key.substr(5, slash - 5);
      const std::string times = key.substr(slash + 1);
      return sim::Finding{"notification " + notification + " was texted " + times + " times",
                          {notification}};
    });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the notification N. The provider's answers to a send_sms of N, in order; the
// first is the first text. Its request (a notifier's send) was given up: the notifier's receive
// timeout after that send, then the notifier's enqueue of N's next attempt (the retry). The
// second text's request: the send_sms of N answered by the provider's second answer.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string notification = between(violation_message(trace), "notification ", " was ");
  if (notification.empty()) return {};
  const int sms = lane_of(trace, "sms");
  const auto answers = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.lane == sms && e.type == "sms_accepted" &&
           payload(e).value("notification", "") == notification;
  });
  if (answers.size() < 2) return {};
  const auto* first_req = request_send_for(trace, *answers[0]);
  const auto* second_req = request_send_for(trace, *answers[1]);
  if (!first_req || !second_req) return {};
  const auto* timeout = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && e.lane == first_req->lane &&
               e.line.value("timer", "") == "receive_timeout";
      },
      first_req->seq);
  if (!timeout) return {};
  const auto* retry = find_first(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.lane != first_req->lane || e.type != "queue_request") {
          return false;
        }
        const auto& p = payload(e);
        const auto& body = p.value("body", nlohmann::json());
        return p.value("op", "") == "enqueue" && body.is_object() &&
               body.value("notification", "") == notification;
      },
      timeout->seq);
  if (!retry || retry->seq > second_req->seq) return {};
  return {answers[0]->seq, timeout->seq, retry->seq, second_req->seq};
}

}  // namespace sms_retry

Design make_sms_retry() {
  Design d;
  d.name = "sms_retry";
  d.bug =
      "a notifier retries a timed-out SMS send by re-enqueueing it with a delay; the provider had "
      "texted the customer, only late, and the retry texts them again";
  d.system = std::make_unique<sms_retry::System>();
  d.invariant = "texted-once";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = sms_retry::key_events;
  return d;
}

}  // namespace seer::bench::explain
