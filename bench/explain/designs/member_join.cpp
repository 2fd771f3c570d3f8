// member_join: workers that split jobs by a membership list each of them refreshes on its own.
//
// Spec. A producer (`producer`) adds mail jobs to the KV store (`jobs/j-<n>`). Worker nodes
// (`node1`..`node3`, the design's own processes) split the jobs among the members listed in the
// KV key `members` (a JSON array of node names): job j-n belongs to the member at position
// n mod (number of members). An autoscaler (`scaler`) adds node3 to the list and takes it out
// again every 10-20 ms. A node refreshes its copy of the list every 4 ms; every 1-2 ms, if it is
// a member, it lists `jobs/` and `done/` and runs each job it owns that is not done: it asks the
// mailer (`mailer`, own process) to send the job's mail (`send_mail {req, job, node}`, answered
// `mailed`), then marks it done (`done/<job>`).
// Invariant `job-mailed-once`: no job's mail is sent twice ("job j-12 was mailed 2 times (node1,
// node3)").
// Operations (history): `add` per job by the producer.
//
// Bug (variant `buggy`): ownership is decided on each node's own copy of the list. After a
// membership change, one node acts on the new list while another still acts on the old one, up
// to 4 ms (more when a refresh is slow): the two lists give some jobs different owners, and a job
// both take for theirs is mailed twice.
// Fix (variant `fixed`): a node claims a job before running it (`create claim/<job>`, which only
// one node can do); the membership list only spreads the work.
// Faults: delay, reorder.
//
// Label: `outdated_read`: the stale node's last read of `members` before it ran the job was
// right when served; the scaler's write of `members` changed it before the node's decision (its
// `send_mail` for the job) took effect, made on the outdated list. Key events: that read (its
// delivery to the node), the scaler's write that changed it (the store's reply send), the stale
// node's `send_mail` for the job. When both lists were current as each node acted (the change
// moved the job while its first owner's `done/` mark was still on its way), the check that
// missed the mark: the second node's `done/` listing, the first node's `done/<job>` write (its
// `send_mail` when it had not sent the mark yet), the second node's `send_mail`.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <map>
#include <memory>
#include <set>

namespace seer::bench::explain {

namespace member_join {

using seer::explain::EventKind;

constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kMailTimeout = sim::milliseconds(20);
constexpr sim::Duration kRefreshEvery = sim::milliseconds(4);

struct SendMail : sim::Payload {
  SendMail(std::uint64_t r, std::string j, std::string n)
      : req(r), job(std::move(j)), node(std::move(n)) {}
  std::uint64_t req;
  std::string job;
  std::string node;
  std::string_view type() const override { return "send_mail"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"job", job}, {"node", node}}; }
};

struct Mailed : sim::Payload {
  Mailed(std::uint64_t r, std::string j) : req(r), job(std::move(j)) {}
  std::uint64_t req;
  std::string job;
  std::string_view type() const override { return "mailed"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"job", job}}; }
};

// Ghost state for the invariant: the mails sent, per job, and by whom.
struct Outbox {
  std::map<std::string, std::vector<std::string>> sent;
  std::uint64_t version = 0;
  std::string twice;
};

sim::Duration between_ms(sim::Env& env, int lo, int hi) {
  return sim::milliseconds(lo) +
         static_cast<sim::Duration>(env.random() %
                                    static_cast<std::uint64_t>((hi - lo) * 1'000'000));
}

sim::Task<void> producer(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv,
                         int jobs) {
  services::KvClient store(env, kv, kKvTimeout);
  for (int n = 1; n <= jobs; ++n) {
    co_await env.sleep(between_ms(env, 1, 3));
    const std::string job = "j-" + std::to_string(n);
    history.invoke(0, "add", job);
    const nlohmann::json value = {{"job", job}, {"n", n}};
    const auto r = co_await store.put("jobs/" + job, value);
    history.complete(0, r.ok() ? sim::OpType::kOk : sim::OpType::kInfo, "add", job);
  }
  co_await env.sleep(sim::milliseconds(200));  // let the nodes finish the last jobs
}

sim::Task<void> scaler(sim::Env& env, sim::ProcessId kv) {
  services::KvClient store(env, kv, kKvTimeout);
  const nlohmann::json two = {"node1", "node2"};
  const nlohmann::json three = {"node1", "node2", "node3"};
  co_await store.put("members", two);
  for (bool grown = false;;) {
    co_await env.sleep(between_ms(env, 10, 20));
    grown = !grown;
    co_await store.put("members", grown ? three : two);
  }
}

sim::Task<void> node(sim::Env& env, sim::ProcessId kv, sim::ProcessId mailer, bool fixed) {
  services::KvClient store(env, kv, kKvTimeout);
  const std::string me = env.name_of(env.self());
  std::vector<std::string> members;
  sim::Time refreshed = 0;
  bool have_list = false;
  std::uint64_t req = 0;
  for (;;) {
    co_await env.sleep(between_ms(env, 1, 2));
    if (!have_list || env.now() - refreshed >= kRefreshEvery) {
      const auto m = co_await store.get("members");
      if (m.ok() && m.value.is_array()) {
        members = m.value.get<std::vector<std::string>>();
        refreshed = env.now();
        have_list = true;
      }
    }
    std::size_t position = members.size();
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (members[i] == me) position = i;
    }
    if (position == members.size()) continue;  // not a member
    const auto jobs = co_await store.list("jobs/");
    const auto done = co_await store.list("done/");
    if (!jobs.ok() || !done.ok()) continue;
    std::set<std::string> finished;
    for (const auto& k : done.value) finished.insert(k.get<std::string>().substr(5));
    for (const auto& k : jobs.value) {
      const std::string job = k.get<std::string>().substr(5);
      if (finished.count(job) != 0) continue;
      const int n = std::stoi(job.substr(2));
      if (static_cast<std::size_t>(n) % members.size() != position) continue;  // not mine
      if (fixed && !(co_await store.create("claim/" + job, me)).ok()) continue;
      const std::uint64_t r = ++req;
      env.send(mailer, sim::make_payload<SendMail>(r, job, me));
      const sim::Time deadline = env.now() + kMailTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto got = co_await env.receive_for(left);
        if (!got) break;
        if (const auto* a = got->as<Mailed>(); a && a->req == r) break;
      }
      co_await store.put("done/" + job, me);
    }
  }
}

sim::Task<void> mailer(sim::Env& env, std::shared_ptr<Outbox> outbox) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* s = m.as<SendMail>();
    if (!s) continue;
    const std::uint64_t req = s->req;
    const std::string job = s->job;
    const std::string by = s->node;
    const sim::ProcessId from = m.from;
    auto& senders = outbox->sent[job];
    senders.push_back(by);
    ++outbox->version;
    if (senders.size() > 1 && outbox->twice.empty()) outbox->twice = job;
    co_await env.sleep(between_ms(env, 1, 3));  // hand it to the mail provider
    env.send(from, sim::make_payload<Mailed>(req, job));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"member_join",
            "worker nodes split mail jobs by a membership list in the KV store that each node "
            "refreshes on its own",
            {"buggy", "fixed"},
            {{"job-mailed-once", "no job's mail is sent twice"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto outbox = std::make_shared<Outbox>();
    const auto mailer_id =
        sim.add_process("mailer", [outbox](sim::Env& env) { return mailer(env, outbox); },
                        {.crashable = false, .client = false});
    for (int i = 1; i <= 3; ++i) {
      sim.add_process("node" + std::to_string(i),
                      [k = kv.process, mailer_id, fixed](sim::Env& env) {
                        return node(env, k, mailer_id, fixed);
                      },
                      {.crashable = false, .client = false});
    }
    sim.add_process("scaler", [k = kv.process](sim::Env& env) { return scaler(env, k); },
                    {.crashable = false, .client = false});
    auto& history = sim.history();
    const int jobs = sim.config().ops;
    sim.add_process(
        "producer",
        [&history, k = kv.process, jobs](sim::Env& env) { return producer(env, history, k, jobs); },
        {.crashable = false, .client = true});
    sim.add_invariant("job-mailed-once",
                      sim::when_changed([outbox] { return outbox->version; },
                                        [outbox]() -> std::optional<sim::Finding> {
                                          if (outbox->twice.empty()) return std::nullopt;
                                          const auto& by = outbox->sent.at(outbox->twice);
                                          return sim::Finding{"job " + outbox->twice +
                                                                  " was mailed 2 times (" + by[0] +
                                                                  ", " + by[1] + ")",
                                                              {outbox->twice}};
                                        }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The request a KV reply (send or delivery) answers, or nullptr.
const TraceEvent* kv_request_of(const Trace& trace, const TraceEvent& reply) {
  const TraceEvent* send = reply.kind == EventKind::kSend ? &reply : send_of(trace, reply);
  return send ? request_send_for(trace, *send) : nullptr;
}

// From the message: the job J and its two senders. For each sender's `send_mail` of J (in trace
// order): its last `members` read delivered before it, and the first `members` write after that
// read was served that changed the value. The stale sender is the first whose read such a write
// outdated before its decision took effect (the mailer's delivery of the `send_mail`). Keys: its
// read's delivery, that write (the store's reply send), its `send_mail`.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string job = between(msg, "job ", " was mailed");
  if (job.empty()) return {};
  const auto mails = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "send_mail" &&
           payload(e).value("job", "") == job;
  });
  const auto is_members_write = [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv") {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && process_of(trace, *req) == "scaler" &&
           payload(*req).value("key", "") == "members";
  };
  for (const auto* mail : mails) {
    const std::string node = process_of(trace, *mail);
    const auto* read = find_last(
        trace,
        [&](const TraceEvent& e) {
          if (e.kind != EventKind::kDeliver || e.type != "kv_reply" ||
              process_of(trace, e) != node) {
            return false;
          }
          const auto* req = kv_request_of(trace, e);
          return req && payload(*req).value("op", "") == "get" &&
                 payload(*req).value("key", "") == "members";
        },
        mail->seq);
    if (!read) continue;
    const auto* served = send_of(trace, *read);
    if (!served) continue;
    const auto seen = payload(*read).value("value", nlohmann::json());
    const auto* changed = find_first(
        trace,
        [&](const TraceEvent& e) {
          if (!is_members_write(e)) return false;
          const auto* req = request_send_for(trace, e);
          return req && payload(*req).value("value", nlohmann::json()) != seen;
        },
        served->seq);
    // The decision took effect when the mailer received it: a change up to then outdated it.
    const auto* effect = delivery_of(trace, *mail);
    if (!changed || !effect || changed->seq > effect->seq) continue;
    return {read->seq, changed->seq, mail->seq};
  }
  // No sender's list was outdated: both lists were current when each acted, and the change moved
  // the job to the second sender while the first one's `done/J` mark was still on its way. Keys:
  // the second sender's last `done/` listing before its `send_mail` (which missed the mark), the
  // first sender's write of `done/J` (the store's reply send, else its request send: in flight;
  // its `send_mail` when it had not sent the mark yet), the second sender's `send_mail`.
  if (mails.size() < 2) return {};
  const auto* first = mails[0];
  const auto* second = mails[1];
  const std::string late = process_of(trace, *second);
  const std::string early = process_of(trace, *first);
  const auto* listing = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.type != "kv_reply" || process_of(trace, e) != late) {
          return false;
        }
        const auto* req = kv_request_of(trace, e);
        return req && payload(*req).value("op", "") == "list" &&
               payload(*req).value("key", "") == "done/";
      },
      second->seq);
  const auto* mark = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "kv_request" &&
               process_of(trace, e) == early && payload(e).value("key", "") == "done/" + job;
      },
      first->seq);
  if (!listing) return {};
  if (!mark) return {listing->seq, first->seq, second->seq};  // the first run not even marked yet
  const auto* applied = reply_send_for(trace, *mark);
  return {listing->seq, (applied ? applied : mark)->seq, second->seq};
}

}  // namespace member_join

Design make_member_join() {
  Design d;
  d.name = "member_join";
  d.bug =
      "worker nodes split jobs by a membership list each refreshes on its own; after a change one "
      "node acts on the new list and another on the old, and both mail a job";
  d.system = std::make_unique<member_join::System>();
  d.invariant = "job-mailed-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = member_join::key_events;
  return d;
}

}  // namespace seer::bench::explain
