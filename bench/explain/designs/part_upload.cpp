// part_upload: an editor that saves a document as parts in the object store and retries a save
// that times out.
//
// Spec. Two editors (`editor1`, `editor2`, clients) each autosave one document (`d-1`, `d-2`)
// after every few edits. A save uploads the document's text in two parts to the object store
// (`uploads/d-1/part-1`, `uploads/d-1/part-2`: each part carries the document's version), then
// completes the upload the way the store's own multipart completion would: it reads the parts
// back and writes the document (`docs/d-1`: its version and the version of each part it was
// assembled from). Each request waits 4 ms for the store's answer; a save whose request goes
// unanswered is abandoned and saved again at once, with the text as it is by then (a newer
// version: the user kept typing).
// Invariant `document-assembled-from-its-version`: a document is assembled from parts of its
// own version ("document d-1 (version 6) was assembled from part-2 of version 5").
// Operations (history): `save` per save by each editor.
//
// Bug (variant `buggy`): every attempt uploads to the same part keys. An abandoned attempt's
// part put is not cancelled by the timeout: it was still on its way (a latency spike), takes
// effect after the next attempt's put of the same part, and the next attempt reads it back and
// assembles the document from an older part.
// Fix (variant `fixed`): each attempt uploads under its own upload id (`uploads/d-1/u-7/part-1`),
// as S3's multipart uploads do: a late part of an abandoned attempt lands in an upload nobody
// completes.
// Faults: delay, reorder.
//
// Label. `lost_response`: a request that took effect after its requester gave up. The keys: the
// abandoned attempt's put of the part the document was assembled from (the editor's send), the
// editor's give-up on it (its receive timeout), where it took effect (the store's reply send),
// and the document's write (the store's reply send for the put of `docs/d-N`).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace part_upload {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kEditors = 2;
constexpr int kParts = 2;
constexpr sim::Duration kStoreTimeout = sim::milliseconds(4);

// JSON values built outside the coroutine (g++ and braced JSON initializers in a coroutine).
nlohmann::json part_body(const std::string& doc, int version, int part) {
  nlohmann::json v;
  v["doc"] = doc;
  v["version"] = version;
  v["part"] = part;
  v["text"] = "text of " + doc + " v" + std::to_string(version) + " part " + std::to_string(part);
  return v;
}

nlohmann::json part_entry(int part, int version) {
  nlohmann::json v;
  v["part"] = "part-" + std::to_string(part);
  v["version"] = version;
  return v;
}

nlohmann::json doc_body(const std::string& doc, int version, const nlohmann::json& parts) {
  nlohmann::json v;
  v["doc"] = doc;
  v["version"] = version;
  v["parts"] = parts;
  return v;
}

sim::Task<void> editor(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId store, int saves, bool fixed) {
  services::ObjectClient objects(env, store, kStoreTimeout);
  const std::string doc = "d-" + std::to_string(index);
  int version = 0;
  int upload = 0;
  for (int n = 0; n < saves; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    bool saved = false;
    for (int attempt = 0; attempt < 20 && !saved; ++attempt) {
      ++version;  // the text as it is now: the user kept typing
      ++upload;
      const std::string prefix =
          fixed ? "uploads/" + doc + "/u-" + std::to_string(upload) + "/" : "uploads/" + doc + "/";
      history.invoke(index, "save", doc + " v" + std::to_string(version));
      bool ok = true;
      for (int p = 1; p <= kParts && ok; ++p) {
        const nlohmann::json body = part_body(doc, version, p);
        const auto put = co_await objects.put(prefix + "part-" + std::to_string(p), body);
        ok = put.ok();
      }
      nlohmann::json parts = nlohmann::json::array();
      for (int p = 1; p <= kParts && ok; ++p) {
        const auto got = co_await objects.get(prefix + "part-" + std::to_string(p));
        ok = got.ok();
        if (ok) {
          parts.push_back(part_entry(p, got.body.value("version", 0)));
        }
      }
      if (ok) {
        const auto put = co_await objects.put("docs/" + doc, doc_body(doc, version, parts));
        ok = put.ok();
      }
      saved = ok;
      history.complete(index, ok ? sim::OpType::kOk : sim::OpType::kInfo, "save",
                       doc + " v" + std::to_string(version),
                       ok ? std::string() : std::string("timed out: saving again"));
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"part_upload",
            "editors autosave documents as two parts in an object store, read them back to "
            "assemble the document, and save again when a request times out",
            {"buggy", "fixed"},
            {{"document-assembled-from-its-version",
              "a document is assembled from parts of its own version"}},
            {{"object-store", {"strong"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto store =
        services::add_object_store_service(sim, "objects", services::object_store_config("strong"));
    auto& history = sim.history();
    const int saves = std::max(1, sim.config().ops / kEditors);
    for (int e = 1; e <= kEditors; ++e) {
      sim.add_process("editor" + std::to_string(e),
                      [&history, e, s = store.process, saves, fixed](sim::Env& env) {
                        return editor(env, history, e, s, saves, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "document-assembled-from-its-version",
        [truth = store.truth, checked]() -> std::optional<sim::Finding> {
          for (; *checked < truth->revision();) {
            ++*checked;
            const auto change = truth->change_at(*checked);
            if (change.key.substr(0, 5) != "docs/") continue;
            const auto& latest = services::VersionedStore::latest_of(*change.versions);
            if (!latest.exists) continue;
            const auto& body = latest.encoded();
            const int version = body.value("version", 0);
            for (const auto& part : body.value("parts", nlohmann::json::array())) {
              const int pv = part.value("version", 0);
              if (pv != version) {
                const auto doc = body.value("doc", "");
                return sim::Finding{"document " + doc + " (version " + std::to_string(version) +
                                        ") was assembled from " + part.value("part", "") +
                                        " of version " + std::to_string(pv),
                                    {doc}};
              }
            }
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the document D, its version V, the part P and the older version W. The
// document's write: the editor's put of `docs/D` carrying V (the latest before the violation).
// The put of the part key with W in its body that the document was read from: the latest put of
// `uploads/D/P` with version W before the document's write (the editor's send). The editor's
// receive timeout after that send (it gave up), the store's reply send for it (where it took
// effect: after the give-up), and the store's reply send for the document's put (the write of
// `docs/D` carrying the mix).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string doc = between(msg, "document ", " (version ");
  const std::string part = between(msg, "assembled from ", " of version ");
  const std::string older = between(msg, " of version ", "");
  if (doc.empty() || part.empty() || older.empty()) return {};
  const std::string assembled = between(msg, " (version ", ")");
  if (assembled.empty()) return {};
  const int w = std::stoi(older);
  const int v = std::stoi(assembled);
  // The document's write that the invariant caught: the last put of docs/D carrying version V
  // before the violation (it may itself have landed late, after newer saves).
  const auto vio = violation_event(trace);
  const auto* doc_put = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.type != "object_request" ||
            payload(e).value("op", "") != "put" || payload(e).value("key", "") != "docs/" + doc) {
          return false;
        }
        const auto& body = payload(e).value("body", nlohmann::json::object());
        return body.is_object() && body.value("version", 0) == v;
      },
      vio);
  if (!doc_put) return {};
  const auto* doc_effect = reply_send_for(trace, *doc_put);
  const auto* late = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kSend || e.type != "object_request" ||
            payload(e).value("op", "") != "put" ||
            payload(e).value("key", "") != "uploads/" + doc + "/" + part) {
          return false;
        }
        const auto& body = payload(e).value("body", nlohmann::json::object());
        return body.is_object() && body.value("version", 0) == w;
      },
      doc_put->seq);
  if (!late) return {};
  std::vector<std::uint64_t> keys = {late->seq};
  const auto* next_send = find_first(
      trace,
      [&](const TraceEvent& e) { return e.kind == EventKind::kSend && e.lane == late->lane; },
      late->seq);
  const auto* gave_up = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && e.lane == late->lane &&
               e.line.value("timer", "") == "receive_timeout" &&
               (!next_send || e.seq < next_send->seq);
      },
      late->seq);
  if (gave_up) keys.push_back(gave_up->seq);
  if (const auto* effect = reply_send_for(trace, *late)) keys.push_back(effect->seq);
  if (doc_effect) keys.push_back(doc_effect->seq);
  return keys;
}

}  // namespace part_upload

Design make_part_upload() {
  Design d;
  d.name = "part_upload";
  d.bug =
      "a save retried after a timeout reuses the part keys: the abandoned attempt's late part "
      "lands over the retry's and the document is assembled from an older part";
  d.system = std::make_unique<part_upload::System>();
  d.invariant = "document-assembled-from-its-version";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = part_upload::key_events;
  return d;
}

}  // namespace seer::bench::explain
