// The simulated KV store's server process and its oracle.
#include "fault_draw.hpp"
#include "reply_facts.hpp"
#include "seen_messages.hpp"
#include "seer/services/kv.hpp"
#include "seer/services/kv_write_rules.hpp"
#include "seer/services/versioned_store.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

namespace seer::services {

namespace {

// Facts about each response, filed by reply serial when tracing, attached to the reply's delivery
// (or drop) event by the annotator.
struct KvOracle {
  ReplyFacts facts;
};

nlohmann::json version_json(const VersionedStore::Version& v) {
  return v.exists ? v.encoded() : nlohmann::json();
}

// A reply's null value (not found, or a write's), one for every reply.
std::shared_ptr<const nlohmann::json> no_value() {
  static const auto null = std::make_shared<const nlohmann::json>();
  return null;
}

// The version's value shared with the reply, not copied: a version never changes, and the pointer
// keeps the store (and so the version) alive as long as the reply. (A deferred version's value is
// null until encoded: its reply says so, KvReply::deferred.)
std::shared_ptr<const nlohmann::json> shared_version(
    const std::shared_ptr<const VersionedStore>& store, const VersionedStore::Version& v) {
  if (!v.exists) return no_value();
  return {store, &v.value};
}

// The store revision a read is served at: the latest, or for a read any replica may answer on a
// stale-reading store, sometimes a follower's older one.
std::int64_t served_view(sim::Env& env, sim::Simulator& sim, const KvConfig& config,
                         const VersionedStore& store, const KvRequest& rq,
                         const std::string& fault) {
  std::int64_t view = store.revision();
  if (config.stale_reads && rq.read == KvRead::kAny &&
      sim.service_fault(fault, fault_drawn(env, config.follower_ppm))) {
    const std::int64_t bound = config.max_lag > 0 ? config.max_lag : store.revision();
    view -= static_cast<std::int64_t>(env.random() % static_cast<std::uint64_t>(bound + 1));
    view = std::max<std::int64_t>(view, 0);
  }
  return view;
}

// The faults' names, built once: every request names one or two (service_fault takes a string).
const std::string kStaleRead = "stale_read";
const std::string kStaleList = "stale_list";
const std::string kLostResponse = "lost_response";

// apply_kv_write's store: writes the request's value with its decoded form, moving the value out
// of the request when this delivery holds the only reference to it (no network copy in flight, no
// trace to render it later) instead of copying it; a partition's value is the largest thing a run
// copies. (Only the simulation's speed: the stored value is the same.)
struct RequestWriter {
  VersionedStore& store;
  const KvRequest& rq;
  KvRequest* owned;  // the request, when nothing else can read it; else null

  std::int64_t write(const std::string& key, const nlohmann::json& value) {
    if (rq.deferred) {
      return store.write_deferred(key, std::static_pointer_cast<const EncodableValue>(rq.decoded));
    }
    if (owned) return store.write(key, std::move(owned->value), rq.decoded);
    return store.write(key, value, rq.decoded);
  }
  std::int64_t erase(const std::string& key) { return store.erase(key); }
};

sim::Task<void> serve(sim::Env& env, sim::Simulator& sim, std::string name, KvConfig config,
                      std::shared_ptr<VersionedStore> store, std::shared_ptr<KvOracle> oracle) {
  std::uint64_t serial = 0;
  // Real clients reach the store over TCP or gRPC, which never hand the server one request twice:
  // the network's duplicates (copies of one message) are dropped here. A client's retry is a new
  // request and is applied, as is a restarted client's, whatever request number it reuses.
  SeenMessages seen;
  for (;;) {
    const auto m = co_await env.receive(sim::CodeSite::none());
    const auto* rq = m.as<KvRequest>();
    if (!rq || !seen.take(m.id)) continue;
    // The key searched once: its latest version (a write's precondition) and the one a read
    // is served are both looked up on its versions.
    const auto& versions = store->versions(rq->key);
    const auto& latest = VersionedStore::latest_of(versions);
    KvStatus status = KvStatus::kOk;
    std::shared_ptr<const nlohmann::json> value;
    std::shared_ptr<const DecodedValue> decoded;  // a get's: the version's, if it has one
    bool deferred = false;                        // a get's: its value is not encoded yet
    std::int64_t revision = 0;
    // The facts are read only from a recorded trace: an unrecorded run does not build them.
    const bool tracing = sim.tracing();
    nlohmann::json facts;
    if (tracing) facts = {{"name", name}, {"op", kv_op_name(rq->op)}, {"key", rq->key}};
    bool applied = false;
    switch (rq->op) {
      case KvOp::kGet: {
        const std::int64_t view = served_view(env, sim, config, *store, *rq, kStaleRead);
        const auto& served = VersionedStore::version_at(versions, view);
        status = served.exists ? KvStatus::kOk : KvStatus::kNotFound;
        value = shared_version(store, served);
        if (served.exists) decoded = served.decoded;
        deferred = served.exists && served.deferred;
        revision = served.revision;
        if (!tracing) break;
        const auto behind = store->changes_after(rq->key, view);
        facts["served_revision"] = view;
        facts["store_revision"] = store->revision();
        facts["latest_value"] = version_json(latest);
        facts["latest_revision"] = latest.revision;
        facts["stale"] = behind > 0;
        facts["versions_behind"] = behind;
        if (rq->read == KvRead::kLinearizable) facts["linearizable"] = true;
        break;
      }
      case KvOp::kList: {
        const std::int64_t view = served_view(env, sim, config, *store, *rq, kStaleList);
        auto keys = store->keys_at(view, rq->key);
        revision = view;
        if (tracing) {
          const auto now = store->keys_at(store->revision(), rq->key);
          nlohmann::json missing = nlohmann::json::array();
          for (const auto& k : now) {
            if (!std::binary_search(keys.begin(), keys.end(), k)) missing.push_back(k);
          }
          facts["served_revision"] = view;
          facts["store_revision"] = store->revision();
          facts["stale"] = keys != now;
          facts["missing"] = std::move(missing);
          if (rq->read == KvRead::kLinearizable) facts["linearizable"] = true;
        }
        // The keys moved into the array, not copied (the sweeps list every interval).
        nlohmann::json listed = nlohmann::json::array();
        auto& array = listed.get_ref<nlohmann::json::array_t&>();
        array.reserve(keys.size());
        for (auto& k : keys) array.emplace_back(std::move(k));
        value = std::make_shared<const nlohmann::json>(std::move(listed));
        break;
      }
      default: {
        // Requests are created non-const (RequestClient does; docs/services.md asks it of
        // every sender), so moving out of the only reference is defined; one referenced
        // elsewhere too (a duplicate in flight, a recorded trace) is copied.
        KvRequest* owned =
            !tracing && m.body.use_count() == 1 ? const_cast<KvRequest*>(rq) : nullptr;
        RequestWriter writer{*store, *rq, owned};
        const auto outcome = apply_kv_write(writer, *rq, latest.exists, latest.revision);
        status = outcome.status;
        revision = outcome.revision;
        applied = outcome.applied;
        value = no_value();
        break;
      }
    }
    if (tracing && rq->op != KvOp::kGet && rq->op != KvOp::kList) {
      facts["applied"] = applied;
      facts["revision"] = revision;
    }
    const auto reply_serial = ++serial;
    if (tracing) facts["reply_serial"] = reply_serial;
    // The fault that matters most in practice: the write happened, the client never hears of it.
    if (sim.service_fault(kLostResponse, fault_drawn(env, sim.faults().lost_response_ppm))) {
      if (tracing) facts["req"] = rq->req;
      sim.note("lost_response", std::move(facts));
      continue;
    }
    if (tracing) oracle->facts.emplace(reply_serial, std::move(facts));
    auto reply = std::make_shared<KvReply>(rq->req, status, std::move(value), revision,
                                           reply_serial, std::move(decoded));
    reply->deferred = deferred;
    env.send(m.from, std::move(reply), sim::CodeSite::none());
  }
}

}  // namespace

std::vector<std::string> kv_implementations() {
  return {"linearizable", "stale-bounded", "stale"};
}

KvConfig kv_config(const std::string& implementation) {
  KvConfig c;
  if (implementation == "linearizable" || implementation.empty()) return c;
  c.stale_reads = true;
  if (implementation == "stale-bounded") {
    c.max_lag = 3;
    return c;
  }
  if (implementation == "stale") return c;
  throw std::invalid_argument("unknown kv implementation '" + implementation + "'");
}

KvService add_kv_service(sim::Simulator& sim, const std::string& name, const KvConfig& config) {
  auto store = std::make_shared<VersionedStore>();
  auto oracle = std::make_shared<KvOracle>();
  const auto id = sim.add_process(name,
                                  [&sim, name, config, store, oracle](sim::Env& env) {
                                    return serve(env, sim, name, config, store, oracle);
                                  },
                                  {.crashable = false});
  annotate_replies<KvReply>(sim, id, std::shared_ptr<const ReplyFacts>(oracle, &oracle->facts));
  return {id, store};
}

}  // namespace seer::services
