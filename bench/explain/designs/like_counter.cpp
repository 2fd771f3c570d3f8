// like_counter: a sharded like counter, totalled from its shards one read at a time.
//
// Spec. Each post's like count is sharded over two rows of a SQL table (`likes(post, shard, n)`)
// to spread write contention: a like inserts a line in `like_log` and increments the liker's
// shard (user id modulo 2), in one transaction. A compactor keeps the write-hot shard small: every
// 15-35 ms it moves one post's shard 0 count into shard 1 (one transaction: add it to shard 1,
// zero shard 0). A publisher refreshes the public counts: for a post, it reads shard 0, then
// shard 1 (each through the shard library's `get`, its own transaction), adds them, and records
// the total as a publication (`published(pub_id, post, total)`).
// Invariant `count-not-inflated`: a publication never shows more likes than the post has
// ("publication pub-12 shows 37 likes for post-1, but post-1 has 25"). (Likes only grow, so a
// total above today's count is above the count at any time it was read.)
// Operations (history): `like` per like (the publisher and the compactor record nothing).
//
// Bug (variant `buggy`): the total comes from two reads in two transactions. When the compactor's
// move commits between them, the first read saw the moved count in shard 0 and the second sees it
// again in shard 1: it is counted twice (read skew).
// Fix (variant `fixed`): both shards are read in one transaction (one snapshot).
// Faults: delay, reorder.
//
// Label: `outdated_read` or `stale_derived_write`. The shard-0 read was right when served, and the
// compactor's move changed what it returned before the publication based on it was written
// (`outdated_read`); the publication is a derived row written elsewhere from that overtaken read
// (`stale_derived_write`). Both kinds name the same events, and the fix (one snapshot) repairs
// exactly that read.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace like_counter {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kLikers = 2;
constexpr int kPosts = 2;
constexpr int kUsers = 20;
constexpr sim::Duration kTimeout = sim::milliseconds(200);

std::string post_name(std::uint64_t r) {
  return "post-" + std::to_string(r % kPosts + 1);
}

sim::Task<void> liker(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db, int id,
                      int likes) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (int n = 1; n <= likes; ++n) {
    co_await env.sleep(sim::milliseconds(5) +
                       static_cast<sim::Duration>(env.random() % 10'000'000));
    const std::string post = post_name(env.random());
    const auto user = static_cast<std::int64_t>(env.random() % kUsers + 1);
    const std::string who = "u" + std::to_string(user);
    history.invoke(id, "like", nlohmann::json::array({post, who}));
    const std::vector<services::SqlStatement> like = {
        {"INSERT INTO like_log (post, user) VALUES (?1, ?2)", {post, who}, 1},
        {"UPDATE likes SET n = n + 1 WHERE post = ?1 AND shard = ?2", {post, user % 2}, 1}};
    const auto r = co_await sql.transact(like, "like " + post + " by " + who);
    history.complete(
        id,
        r.timed_out ? sim::OpType::kInfo : (r.committed ? sim::OpType::kOk : sim::OpType::kFail),
        "like", nlohmann::json::array({post, who}));
  }
}

sim::Task<void> compactor(sim::Env& env, sim::ProcessId db) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (;;) {
    co_await env.sleep(sim::milliseconds(15) +
                       static_cast<sim::Duration>(env.random() % 20'000'000));
    const std::string post = post_name(env.random());
    const std::vector<services::SqlStatement> move = {
        {"UPDATE likes SET n = n + (SELECT n FROM likes WHERE post = ?1 AND shard = 0) "
         "WHERE post = ?1 AND shard = 1",
         {post},
         1},
        {"UPDATE likes SET n = 0 WHERE post = ?1 AND shard = 0", {post}, 1}};
    co_await sql.transact(move, "move " + post + " shard 0 to 1");
  }
}

sim::Task<void> publisher(sim::Env& env, sim::ProcessId db, bool fixed) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (int n = 1;; ++n) {
    co_await env.sleep(sim::milliseconds(10) +
                       static_cast<sim::Duration>(env.random() % 15'000'000));
    const std::string post = post_name(env.random());
    std::int64_t total = 0;
    bool ok = true;
    if (fixed) {
      const std::vector<services::SqlStatement> both = {
          {"SELECT n FROM likes WHERE post = ?1 AND shard = 0", {post}, std::nullopt},
          {"SELECT n FROM likes WHERE post = ?1 AND shard = 1", {post}, std::nullopt}};
      const auto r = co_await sql.transact(both, "read " + post + " shards");
      ok = !r.timed_out && r.committed;
      if (ok)
        total = r.results[0][0][0].get<std::int64_t>() + r.results[1][0][0].get<std::int64_t>();
    } else {
      for (int shard = 0; shard < 2 && ok; ++shard) {
        const std::vector<services::SqlStatement> one = {
            {"SELECT n FROM likes WHERE post = ?1 AND shard = ?2", {post, shard}, std::nullopt}};
        const auto r =
            co_await sql.transact(one, "read " + post + " shard " + std::to_string(shard));
        ok = !r.timed_out && r.committed;
        if (ok) total += r.results[0][0][0].get<std::int64_t>();
      }
    }
    if (!ok) continue;
    const std::string pub = "pub-" + std::to_string(n);
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO published (pub_id, post, total) VALUES (?1, ?2, ?3)", {pub, post, total}, 1}};
    co_await sql.transact(record, "publish " + pub + " " + post);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"like_counter",
            "a like counter sharded over two SQL rows, totalled by a publisher",
            {"buggy", "fixed"},
            {{"count-not-inflated", "a publication never shows more likes than the post has"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE likes (post TEXT NOT NULL, shard INTEGER NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY (post, shard))",
        "CREATE TABLE like_log (id INTEGER PRIMARY KEY AUTOINCREMENT, post TEXT NOT NULL, "
        "user TEXT NOT NULL)",
        "CREATE TABLE published (id INTEGER PRIMARY KEY AUTOINCREMENT, pub_id TEXT NOT NULL, "
        "post TEXT NOT NULL, total INTEGER NOT NULL)"};
    for (int p = 1; p <= kPosts; ++p) {
      for (int s = 0; s < 2; ++s) {
        config.schema.push_back("INSERT INTO likes VALUES ('post-" + std::to_string(p) + "', " +
                                std::to_string(s) + ", 0)");
      }
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int likers = sim.config().clients_or(kLikers);
    for (int l = 1; l <= likers; ++l) {
      const int likes = sim.config().ops / likers + (l <= sim.config().ops % likers ? 1 : 0);
      sim.add_process("liker" + std::to_string(l),
                      [&history, d = db.process, l, likes](sim::Env& env) {
                        return liker(env, history, d, l, likes);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_process("compactor", [d = db.process](sim::Env& env) { return compactor(env, d); },
                    {.crashable = false, .client = false});
    sim.add_process("publisher",
                    [d = db.process, fixed](sim::Env& env) { return publisher(env, d, fixed); },
                    {.crashable = false, .client = false});
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "count-not-inflated",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth, checked]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(services::SqlStatement{
                                "SELECT p.id, p.pub_id, p.post, p.total, "
                                "(SELECT count(*) FROM like_log l WHERE l.post = p.post) "
                                "FROM published p WHERE p.id > ?1 ORDER BY p.id",
                                {*checked},
                                std::nullopt});
                            for (const auto& row : rows) {
                              *checked = row[0].get<std::int64_t>();
                              if (row[3].get<std::int64_t>() > row[4].get<std::int64_t>()) {
                                const auto post = row[2].get<std::string>();
                                return "publication " + row[1].get<std::string>() + " shows " +
                                       row[3].dump() + " likes for " + post + ", but " + post +
                                       " has " + row[4].dump();
                              }
                            }
                            return std::nullopt;
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

const TraceEvent* delivery_of(const Trace& trace, const TraceEvent& send) {
  for (std::uint64_t s = send.seq + 1; s <= trace.events.size(); ++s) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kDeliver && e.message == send.message) return &e;
  }
  return nullptr;
}

std::string label_of(const Trace& trace, const TraceEvent& reply) {
  const auto* req = request_send_for(trace, reply);
  return req ? payload(*req).value("label", "") : "";
}

// From the message: the publication P of post Q. The cause: the publisher's shard-0 read of Q that
// P was computed from (its delivery), the compactor's move of Q committed after that read was
// served and before the shard-1 read was (the write that outdated it), the shard-1 read (its
// delivery: where the moved count was seen a second time), and P's commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string head = "publication ";
  const auto shows = msg.find(" shows ");
  const auto likes_for = msg.find(" likes for ");
  const auto comma = msg.find(", but ");
  if (msg.rfind(head, 0) != 0 || shows == std::string::npos || likes_for == std::string::npos ||
      comma == std::string::npos) {
    return {};
  }
  const std::string pub = msg.substr(head.size(), shows - head.size());
  const std::string post = msg.substr(likes_for + 11, comma - likes_for - 11);
  const TraceEvent* commit = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.type == "sql_reply" &&
        payload(e).value("committed", false) &&
        label_of(trace, e) == "publish " + pub + " " + post) {
      commit = &e;
      break;
    }
  }
  if (!commit) return {};
  // The publisher's two reads of Q before P: the latest committed replies of each.
  const TraceEvent* served[2] = {nullptr, nullptr};
  for (std::uint64_t s = commit->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || e.type != "sql_reply" || e.peer != commit->peer) continue;
    for (int shard = 0; shard < 2; ++shard) {
      if (!served[shard] &&
          label_of(trace, e) == "read " + post + " shard " + std::to_string(shard)) {
        served[shard] = &e;
      }
    }
    if (served[0] && served[1]) break;
  }
  if (!served[0] || !served[1]) return {};
  const TraceEvent* move = nullptr;
  for (std::uint64_t s = served[0]->seq + 1; s < served[1]->seq; ++s) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kSend && e.type == "sql_reply" &&
        payload(e).value("committed", false) &&
        label_of(trace, e) == "move " + post + " shard 0 to 1") {
      move = &e;
    }
  }
  const auto* read0 = delivery_of(trace, *served[0]);
  const auto* read1 = delivery_of(trace, *served[1]);
  if (!move || !read0 || !read1) return {};
  return {read0->seq, move->seq, read1->seq, commit->seq};
}

}  // namespace like_counter

Design make_like_counter() {
  Design d;
  d.name = "like_counter";
  d.bug =
      "a publisher totals a sharded counter from two reads in two transactions, and a move "
      "between the shards committed between them is counted twice";
  d.system = std::make_unique<like_counter::System>();
  d.invariant = "count-not-inflated";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read", "stale_derived_write"};
  d.label.why_several =
      "the shard-0 read was outdated by the move before the publication based on it was written "
      "(outdated_read), and the publication is a derived row written elsewhere from that "
      "overtaken read (stale_derived_write); both name the same events, and the fix (one "
      "snapshot) repairs exactly that read";
  d.label.key_events = like_counter::key_events;
  return d;
}

}  // namespace seer::bench::explain
