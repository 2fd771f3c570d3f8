// unlock_other: a lock release that deletes whoever's lock is there.
//
// Spec. Three workers (`worker1`..`worker3`) print pages on a shared printer (`printer`, the
// design's own process: it starts a page on `begin {page}`, prints `line {page, i}` into the page
// it has open, on its local disk, and closes it on `end {page}`; a `begin` while a page is open
// discards the unfinished one, a jam cleared). A page must not be mixed with another, so a worker
// prints only under a lock in the KV store, `lock/printer` = {holder, expires} with a 20 ms
// lease: it takes the lock if absent (`create`) or expired (`update` on the revision it read),
// else waits 1-2 ms and looks again. It then sends `begin`, three lines (1-2 ms apart, each sent
// only while its lease has more than 5 ms left, else the page is abandoned) and `end`, and
// releases the lock.
// Invariant `pages-unmixed`: the printer never receives a line of one page while another page is
// open ("printer page p-3-2 got a line of page p-2-4 (worker2)").
// Operations (history): `print` per page by a worker.
//
// Bug (variant `buggy`): the release is a plain delete of `lock/printer` (Redis's `DEL`). A
// worker paused past its lease finds it expired on resume, abandons its page and releases: but
// another worker took the expired lock meanwhile, and the delete removes that worker's lock. A
// third worker takes the lock at once and begins its page while the second still prints: the
// second worker's next line lands in the third's page.
// Fix (variant `fixed`): the release is conditional on the holder's own lock, an `update` to
// {holder: "", expires: 0} on the revision its acquisition wrote (a conflict: not ours any more).
// Faults: pause (the workers are pausable; nothing crashes).
//
// Label. `expired_lease` or `racing_delete` (why below): the deleting worker's acquisition (the
// store's reply send for its lock write), the lock write its delete removed (another worker's
// acquisition after the lease expired: the one that took it over, or a later holder when the lock
// changed hands more than once during the pause), the deleting worker's delete (its reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace unlock_other {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWorkers = 3;
constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kLease = sim::milliseconds(20);
constexpr sim::Duration kMargin = sim::milliseconds(5);
constexpr int kLines = 3;
const std::string kLock = "lock/printer";

struct Begin : sim::Payload {
  explicit Begin(std::string p) : page(std::move(p)) {}
  std::string page;
  std::string_view type() const override { return "begin"; }
  nlohmann::json to_json() const override { return {{"page", page}}; }
};

struct Line : sim::Payload {
  Line(std::string p, int n) : page(std::move(p)), i(n) {}
  std::string page;
  int i;
  std::string_view type() const override { return "line"; }
  nlohmann::json to_json() const override { return {{"page", page}, {"i", i}}; }
};

struct End : sim::Payload {
  explicit End(std::string p) : page(std::move(p)) {}
  std::string page;
  std::string_view type() const override { return "end"; }
  nlohmann::json to_json() const override { return {{"page", page}}; }
};

// What the printer saw that it should not have: the first mixed line.
struct Mixed {
  std::optional<std::string> message;
  std::string open_page;
  std::string line_page;
  std::uint64_t version = 0;
};

sim::Task<void> printer(sim::Env& env, std::shared_ptr<Mixed> mixed) {
  std::string open;  // the page being printed ("" if none)
  for (;;) {
    const auto m = co_await env.receive();
    const std::string from = env.name_of(m.from);
    if (const auto* b = m.as<Begin>()) {
      open = b->page;
      env.storage().put("page/" + open, from);
    } else if (const auto* l = m.as<Line>()) {
      if (!open.empty() && l->page != open && !mixed->message) {
        mixed->message =
            "printer page " + open + " got a line of page " + l->page + " (" + from + ")";
        mixed->open_page = open;
        mixed->line_page = l->page;
        ++mixed->version;
      }
      if (!open.empty()) {
        env.storage().put("page/" + open + "/" + std::to_string(l->i), l->page);
      }
    } else if (const auto* e = m.as<End>()) {
      if (e->page == open) open.clear();
    }
  }
}

sim::Task<void> worker(sim::Env& env, sim::HistoryRecorder& history, int client, sim::ProcessId kv,
                       sim::ProcessId printer_id, int pages, bool fixed) {
  services::KvClient store(env, kv, kKvTimeout, nullptr, env.random());
  const std::string me = env.name_of(env.self());
  for (int n = 1; n <= pages; ++n) {
    const std::string page = "p-" + std::to_string(client + 1) + "-" + std::to_string(n);
    history.invoke(client, "print", page);
    // Acquire.
    std::int64_t mine = 0;
    sim::Time expires = 0;
    for (int tries = 0; tries < 400 && mine == 0; ++tries) {
      const auto got = co_await store.get(kLock);
      if (!got.timed_out) {
        const sim::Time until = env.now() + kLease;
        const nlohmann::json value = {{"holder", me}, {"expires", until}};
        services::KvResult w;
        if (got.status == services::KvStatus::kNotFound) {
          w = co_await store.create(kLock, value);
        } else if (got.status == services::KvStatus::kOk &&
                   got.value.value("expires", sim::Time{0}) < env.now()) {
          w = co_await store.update(kLock, value, got.revision);
        }
        if (w.ok()) {
          mine = w.revision;
          expires = until;
          break;
        }
      }
      co_await env.sleep(sim::milliseconds(1) +
                         static_cast<sim::Duration>(env.random() % 1'000'000));
    }
    if (mine == 0) {
      history.complete(client, sim::OpType::kFail, "print", page);
      continue;
    }
    // Print under the lease.
    // Every send checks the lease first: a pause in the acquisition can outlast it too.
    bool printed = env.now() + kMargin < expires;
    if (printed) env.send(printer_id, sim::make_payload<Begin>(page));
    for (int i = 1; i <= kLines && printed; ++i) {
      co_await env.sleep(sim::milliseconds(1) +
                         static_cast<sim::Duration>(env.random() % 1'000'000));
      if (env.now() + kMargin >= expires) {
        printed = false;  // the lease is running out: abandon the page
        break;
      }
      env.send(printer_id, sim::make_payload<Line>(page, i));
    }
    if (printed) env.send(printer_id, sim::make_payload<End>(page));
    // Release.
    if (fixed) {
      const nlohmann::json free = {{"holder", ""}, {"expires", 0}};
      co_await store.update(kLock, free, mine);
    } else {
      co_await store.remove(kLock);
    }
    history.complete(client, printed ? sim::OpType::kOk : sim::OpType::kFail, "print", page);
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"unlock_other",
            "three workers print pages on one printer under a KV lock with a lease",
            {"buggy", "fixed"},
            {{"pages-unmixed", "the printer never gets a line of a page that is not open"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    auto mixed = std::make_shared<Mixed>();
    const auto printer_id =
        sim.add_process("printer", [mixed](sim::Env& env) { return printer(env, mixed); },
                        {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int pages = std::max(1, sim.config().ops / kWorkers);
    for (int w = 0; w < kWorkers; ++w) {
      sim.add_process("worker" + std::to_string(w + 1),
                      [&history, w, k = kv.process, printer_id, pages, fixed](sim::Env& env) {
                        return worker(env, history, w, k, printer_id, pages, fixed);
                      },
                      {.crashable = false, .client = true, .pausable = true});
    }
    sim.add_invariant(
        "pages-unmixed",
        sim::when_changed(
            [mixed] { return mixed->version; },
            [mixed]() -> std::optional<sim::Finding> {
              if (!mixed->message) return std::nullopt;
              return sim::Finding{*mixed->message, {mixed->open_page, mixed->line_page}};
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// A lock write that took effect: the store's reply send (status ok) to a create, update or
// delete of lock/printer; `op` is the request's op.
struct LockWrite {
  const TraceEvent* reply;
  const TraceEvent* request;
  std::string op;
};

std::vector<LockWrite> lock_writes(const Trace& trace) {
  std::vector<LockWrite> out;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" ||
        payload(e).value("status", "") != "ok") {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || payload(*req).value("key", "") != kLock) continue;
    const std::string op = payload(*req).value("op", "");
    if (op == "get" || op == "list") continue;
    out.push_back({&e, req, op});
  }
  return out;
}

// From the message: the open page (the third worker's) and the page whose line landed in it
// (the second's). The open page's worker C (from the page name p-<worker>-<n>); C's lock write
// that took effect last before its begin was sent; the last delete of the lock before that write
// (the deleter A, which is neither C nor the holder it removed); the last lock write by another
// worker before that delete (B's takeover); A's last lock acquisition before that takeover.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string open_page = between(msg, "printer page ", " got a line");
  if (open_page.size() < 5) return {};
  const std::string c_name = "worker" + between(open_page + "-", "p-", "-");
  const int c_lane = lane_of(trace, c_name);
  const auto* begin = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "begin" && e.lane == c_lane &&
           payload(e).value("page", "") == open_page;
  });
  if (!begin) return {};
  const auto writes = lock_writes(trace);
  const LockWrite* c_write = nullptr;
  for (const auto& w : writes) {
    if (w.request->lane == c_lane && w.reply->seq < begin->seq && w.op != "delete") c_write = &w;
  }
  if (!c_write) return {};
  const LockWrite* del = nullptr;
  for (const auto& w : writes) {
    if (w.reply->seq < c_write->reply->seq && w.op == "delete") del = &w;
  }
  if (!del) return {};
  const int a_lane = del->request->lane;
  const LockWrite* takeover = nullptr;
  for (const auto& w : writes) {
    if (w.reply->seq < del->reply->seq && w.op != "delete" && w.request->lane != a_lane) {
      takeover = &w;
    }
  }
  if (!takeover) return {};
  const LockWrite* acquired = nullptr;
  for (const auto& w : writes) {
    if (w.reply->seq < takeover->reply->seq && w.op != "delete" && w.request->lane == a_lane) {
      acquired = &w;
    }
  }
  if (!acquired) return {};
  return {acquired->reply->seq, takeover->reply->seq, del->reply->seq};
}

}  // namespace unlock_other

Design make_unlock_other() {
  Design d;
  d.name = "unlock_other";
  d.bug =
      "a worker paused past its lock's lease releases it with a plain delete, removing the lock "
      "another worker took over, and a third worker prints into the second's page";
  d.system = std::make_unique<unlock_other::System>();
  d.invariant = "pages-unmixed";
  d.faults = {sim::FaultKind::kPause};
  d.ops = 240;
  d.held_out = true;
  d.label.kinds = {"expired_lease", "racing_delete"};
  d.label.why_several =
      "the worker deleted the lock after its lease had expired and another worker had taken it "
      "over (an act past its lease), and the delete was decided on its own acquisition, which the "
      "takeover had made stale (a delete racing a concurrent write of the deleted key): one fact, "
      "named from the lease or from the delete";
  d.label.key_events = unlock_other::key_events;
  return d;
}

}  // namespace seer::bench::explain
