// The simulated object store's server process and its oracle.
#include "fault_draw.hpp"
#include "reply_facts.hpp"
#include "seen_messages.hpp"
#include "seer/services/object_store.hpp"

#include <map>
#include <stdexcept>

namespace seer::services {

namespace {

struct ObjectOracle {
  ReplyFacts facts;
};

// The revision a lagging index or replica answers from.
std::int64_t lagging_view(sim::Env& env, sim::Simulator& sim, const ObjectStoreConfig& config,
                          const char* kind, std::int64_t latest) {
  if (!sim.service_fault(kind, fault_drawn(env, config.lagging_ppm))) return latest;
  const auto lag =
      static_cast<std::int64_t>(env.random() % static_cast<std::uint64_t>(config.max_lag + 1));
  return std::max<std::int64_t>(latest - lag, 0);
}

sim::Task<void> serve(sim::Env& env, sim::Simulator& sim, std::string name,
                      ObjectStoreConfig config, std::shared_ptr<VersionedStore> store,
                      std::shared_ptr<ObjectOracle> oracle) {
  std::uint64_t serial = 0;
  SeenMessages seen;  // see kv_service.cpp
  for (;;) {
    const auto m = co_await env.receive(sim::CodeSite::none());
    const auto* rq = m.as<ObjectRequest>();
    if (!rq || !seen.take(m.id)) continue;
    const auto latest = store->latest(rq->key);
    nlohmann::json facts = {{"name", name}, {"op", object_op_name(rq->op)}, {"key", rq->key}};
    ObjectStatus status = ObjectStatus::kOk;
    nlohmann::json body;
    std::int64_t etag = 0;
    std::vector<std::string> keys;
    switch (rq->op) {
      case ObjectOp::kGet: {
        const auto view = config.stale_reads
                              ? lagging_view(env, sim, config, "stale_read", store->revision())
                              : store->revision();
        const auto seen_version = store->at(rq->key, view);
        status = seen_version.exists ? ObjectStatus::kOk : ObjectStatus::kNotFound;
        body = seen_version.exists ? seen_version.value : nlohmann::json();
        etag = seen_version.revision;
        const auto behind = store->changes_after(rq->key, view);
        facts["stale"] = behind > 0;
        facts["versions_behind"] = behind;
        facts["latest_etag"] = latest.revision;
        facts["latest_exists"] = latest.exists;
        break;
      }
      case ObjectOp::kPut: {
        const bool pass = rq->precondition == Precondition::kNone ||
                          (rq->precondition == Precondition::kIfMatch && latest.exists &&
                           latest.revision == rq->etag) ||
                          (rq->precondition == Precondition::kIfNoneMatch && !latest.exists);
        if (pass) {
          etag = store->write(rq->key, rq->body);
        } else {
          status = ObjectStatus::kPreconditionFailed;
          etag = latest.revision;
        }
        facts["applied"] = pass;
        facts["etag"] = etag;
        break;
      }
      case ObjectOp::kDelete:
        if (latest.exists) {
          store->erase(rq->key);
        } else {
          status = ObjectStatus::kNotFound;
        }
        facts["applied"] = latest.exists;
        break;
      case ObjectOp::kList: {
        const auto view = config.stale_lists
                              ? lagging_view(env, sim, config, "stale_list", store->revision())
                              : store->revision();
        keys = store->keys_at(view, rq->key);
        // A listing of the latest revision is the truth: listing it again to compare (and
        // searching one in the other) doubled a listing's cost, which grows with the objects.
        std::vector<std::string> missing;  // objects that exist but the listing left out
        bool stale = false;
        if (view != store->revision()) {
          const auto truth = store->keys_at(store->revision(), rq->key);
          stale = keys != truth;
          for (const auto& k : truth) {
            if (!std::binary_search(keys.begin(), keys.end(), k)) missing.push_back(k);
          }
        }
        facts["stale"] = stale;
        facts["missing"] = std::move(missing);
        break;
      }
    }
    const auto reply_serial = ++serial;
    if (sim.service_fault("lost_response", fault_drawn(env, sim.faults().lost_response_ppm))) {
      facts["req"] = rq->req;
      sim.note("lost_response", std::move(facts));
      continue;
    }
    if (sim.tracing()) oracle->facts.emplace(reply_serial, std::move(facts));
    env.send(m.from,
             std::make_shared<ObjectReply>(rq->req, status, std::move(body), etag, std::move(keys),
                                           reply_serial),
             sim::CodeSite::none());
  }
}

}  // namespace

std::vector<std::string> object_store_implementations() {
  return {"strong", "stale-list", "eventual"};
}

ObjectStoreConfig object_store_config(const std::string& implementation) {
  ObjectStoreConfig c;
  if (implementation == "strong" || implementation.empty()) return c;
  if (implementation == "stale-list") {
    c.stale_lists = true;
    return c;
  }
  if (implementation == "eventual") {
    c.stale_lists = true;
    c.stale_reads = true;
    return c;
  }
  throw std::invalid_argument("unknown object store implementation '" + implementation + "'");
}

ObjectStoreService add_object_store_service(sim::Simulator& sim, const std::string& name,
                                            const ObjectStoreConfig& config) {
  auto store = std::make_shared<VersionedStore>();
  auto oracle = std::make_shared<ObjectOracle>();
  const auto id = sim.add_process(name,
                                  [&sim, name, config, store, oracle](sim::Env& env) {
                                    return serve(env, sim, name, config, store, oracle);
                                  },
                                  {.crashable = false});
  annotate_replies<ObjectReply>(sim, id, std::shared_ptr<const ReplyFacts>(oracle, &oracle->facts));
  return {id, store};
}

}  // namespace seer::services
