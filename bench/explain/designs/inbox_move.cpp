// inbox_move: scanned documents moved from an inbox to an archive (copy, then delete) on notice.
//
// Spec. A scanner (`scanner`) uploads scanned documents to the object store (`inbox/d-1`, ...,
// body `{doc, version}`) and enqueues a notice `{doc}` on the at-least-once queue for each upload
// (an object store's event notification). One upload in three is a rescan of one of the last
// three documents (the page came out crooked): the same key again, the version one higher. A
// filer (`filer`) takes notices off the queue and moves the document: get `inbox/<doc>`, put its
// body to `archive/<doc>`, delete `inbox/<doc>`, ack; a notice whose document is gone from the
// inbox was already filed and is only acked. The object store has no rename: a move is a copy and
// a delete.
// Invariant `scans-kept`: the latest uploaded version of each document is in the inbox or the
// archive ("document d-7's scan version 2 is in neither the inbox nor the archive").
// Operations (history): `upload` per upload.
//
// Bug (variant `buggy`): the delete removes whatever the inbox key holds by then: a rescan that
// lands between the filer's get and its delete is deleted unread, and its own notice then finds
// the inbox empty. The archive keeps the older scan.
// Fix (variant `fixed`): each upload is its own key (`inbox/<doc>.v<version>`, the notice names
// it), so the filer deletes only the object it copied; it files a version only over an older one
// (it reads the archive first: it is the archive's only writer).
// Faults: delay, reorder.
//
// Label. `racing_delete`: the filer deleted `inbox/<doc>` on what its get had returned, and the
// rescan's put of the same key, taking effect after that get was served and before the delete,
// was what it deleted. Key events: the delivery of the filer's get of the key (the last before
// the delete), the rescan's put (the store's reply send), the delete (the store's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"
#include "seer/services/queue.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace inbox_move {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kTimeout = sim::milliseconds(50);

// The uploads the scanner was told were stored (doc -> latest version), the test's record for the
// invariant; design code never reads it.
struct Uploaded {
  std::map<std::string, int> versions;
  std::uint64_t changes = 0;
};

std::string inbox_key(const std::string& doc, int version, bool fixed) {
  return fixed ? "inbox/" + doc + ".v" + std::to_string(version) : "inbox/" + doc;
}

sim::Task<void> scanner(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId objects,
                        sim::ProcessId queue, int uploads, std::shared_ptr<Uploaded> uploaded,
                        bool fixed) {
  services::ObjectClient store(env, objects, kTimeout);
  services::QueueClient notices(env, queue, kTimeout);
  std::map<std::string, int> versions;  // doc -> latest version uploaded
  std::vector<std::string> docs;
  for (int n = 1; n <= uploads; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    std::string doc;
    if (!docs.empty() && env.random() % 3 == 0) {
      const std::size_t back = std::min<std::size_t>(docs.size(), 3);
      doc = docs[docs.size() - 1 - env.random() % back];  // a rescan of a recent document
    } else {
      doc = "d-" + std::to_string(docs.size() + 1);
      docs.push_back(doc);
    }
    const int version = ++versions[doc];
    const std::string key = inbox_key(doc, version, fixed);
    history.invoke(0, "upload", doc + " v" + std::to_string(version));
    const nlohmann::json scan = {{"doc", doc}, {"version", version}};
    const nlohmann::json notice = {{"doc", doc}, {"key", key}};
    bool ok = false;
    for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
      ok = (co_await store.put(key, scan)).ok();
    }
    if (ok) {
      uploaded->versions[doc] = version;
      ++uploaded->changes;
      for (int attempt = 0; attempt < 5; ++attempt) {
        if (!(co_await notices.enqueue(notice)).timed_out) break;
      }
    }
    history.complete(0, ok ? sim::OpType::kOk : sim::OpType::kInfo, "upload",
                     doc + " v" + std::to_string(version));
  }
  co_await env.sleep(sim::milliseconds(300));  // let the filer drain the queue
}

sim::Task<void> filer(sim::Env& env, sim::ProcessId objects, sim::ProcessId queue, bool fixed) {
  services::ObjectClient store(env, objects, kTimeout);
  services::QueueClient notices(env, queue, kTimeout);
  for (;;) {
    const auto got = co_await notices.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    const auto doc = got.body.at("doc").get<std::string>();
    const auto key = got.body.at("key").get<std::string>();
    const auto scan = co_await store.get(key);
    if (scan.timed_out) continue;  // not acked: the notice comes back
    if (scan.ok()) {
      bool file = true;
      if (fixed) {
        const auto filed = co_await store.get("archive/" + doc);
        if (filed.timed_out) continue;
        file = !filed.ok() || filed.body.value("version", 0) < scan.body.value("version", 0);
      }
      if (file && !(co_await store.put("archive/" + doc, scan.body)).ok()) continue;
      if (!(co_await store.remove(key)).ok()) continue;
    }
    co_await notices.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"inbox_move",
            "scans uploaded to an object-store inbox are moved to an archive on queue notices",
            {"buggy", "fixed"},
            {{"scans-kept", "the latest scan of each document is in the inbox or the archive"}},
            {{"object", {"strong"}}, {"queue", {"at-least-once"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto objects =
        services::add_object_store_service(sim, "objects", services::ObjectStoreConfig{});
    const auto queue = services::add_queue_service(sim, "queue");
    sim.add_process("filer",
                    [o = objects.process, q = queue.process, fixed](sim::Env& env) {
                      return filer(env, o, q, fixed);
                    },
                    {.crashable = false, .client = false});
    auto& history = sim.history();
    const int uploads = sim.config().ops;
    auto uploaded = std::make_shared<Uploaded>();
    sim.add_process(
        "scanner",
        [&history, o = objects.process, q = queue.process, uploads, uploaded,
         fixed](sim::Env& env) { return scanner(env, history, o, q, uploads, uploaded, fixed); },
        {.crashable = false, .client = true});
    const auto truth = objects.truth;
    sim.add_invariant("scans-kept",
                      sim::when_changed(
                          [truth, uploaded] {
                            return static_cast<std::uint64_t>(truth->revision()) +
                                   uploaded->changes;
                          },
                          [truth, uploaded]() -> std::optional<sim::Finding> {
                            // Per document: the latest version held now in the inbox or the
                            // archive.
                            std::map<std::string, int> held;
                            for (const std::string prefix : {"inbox/", "archive/"}) {
                              for (const auto& key : truth->keys_at(truth->revision(), prefix)) {
                                const auto& v = truth->latest(key);
                                if (!v.exists) continue;
                                const auto& body = v.encoded();
                                const auto doc = body.value("doc", "");
                                held[doc] = std::max(held[doc], body.value("version", 0));
                              }
                            }
                            for (const auto& [doc, version] : uploaded->versions) {
                              if (held[doc] < version) {
                                return sim::Finding{"document " + doc + "'s scan version " +
                                                        std::to_string(version) +
                                                        " is in neither the inbox nor the archive",
                                                    {doc}};
                              }
                            }
                            return std::nullopt;
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The object request a store reply answers, if it is `op` on `key`.
const TraceEvent* request_if(const Trace& trace, const TraceEvent& reply_send,
                             const std::string& op, const std::string& key) {
  const auto* req = request_send_for(trace, reply_send);
  if (!req || payload(*req).value("op", "") != op || payload(*req).value("key", "") != key) {
    return nullptr;
  }
  return req;
}

// From the message: the document D and the lost version V. The put of `inbox/D` with version V
// (the store's reply send); the filer's first delete of `inbox/D` after it (the store's reply
// send); the filer's last get of `inbox/D` served before that put whose delete it is (its
// delivery: the get of the move the delete belongs to).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string doc = between(msg, "document ", "'s scan version");
  const std::string version_text = between(msg, "'s scan version ", " is in neither");
  if (doc.empty() || version_text.empty()) return {};
  const int version = std::stoi(version_text);
  const std::string key = "inbox/" + doc;
  const auto* put = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "object_reply" ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* req = request_if(trace, e, "put", key);
    return req &&
           payload(*req).value("body", nlohmann::json::object()).value("version", 0) == version;
  });
  if (!put) return {};
  const auto* remove = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "object_reply" &&
               process_of(trace, e) == "objects" && request_if(trace, e, "delete", key);
      },
      put->seq);
  if (!remove) return {};
  const auto* get_reply = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "object_reply" &&
               process_of(trace, e) == "objects" && request_if(trace, e, "get", key);
      },
      put->seq);
  if (!get_reply) return {};
  const auto* get = delivery_of(trace, *get_reply);
  if (!get || get->seq > remove->seq) return {};
  return {get->seq, put->seq, remove->seq};
}

}  // namespace inbox_move

Design make_inbox_move() {
  Design d;
  d.name = "inbox_move";
  d.bug =
      "a move from an object-store inbox to an archive is a copy then a delete of the key: a "
      "rescan uploaded to the same key between the filer's get and its delete is deleted unread";
  d.system = std::make_unique<inbox_move::System>();
  d.invariant = "scans-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"racing_delete"};
  d.label.key_events = inbox_move::key_events;
  return d;
}

}  // namespace seer::bench::explain
