// counter_recount: a reconciliation job that overwrites a live counter with a stale recount.
//
// Spec. A blog keeps each post's comment count denormalized in SQL (`posts(id, comment_count)`,
// posts `p-1`..`p-3`). Two web servers (`web1`, `web2`) add comments: one transaction inserts the
// comment (`comments(id, post, author)`) and increments the post's count. A moderator
// (`moderator`) removes spam with a plain `DELETE` that does not touch the count (an old code
// path), so counts drift; a reconciliation job (`recount`, every 4 ms) therefore recounts each
// post and writes the count back.
// Invariant `recount-exact`: right after a recount of a post commits, its count is the number of
// its comments ("post p-2 shows 4 comments after its recount, but has 5").
// Operations (history): `comment` per comment by the web servers.
//
// Bug (variant `buggy`): the recount reads `count(*)` in one transaction and writes it in a
// second. A comment added (or removed) between the two is lost from (or kept in) the count it
// writes: the job overwrites a live counter with a value read before a concurrent change.
// Fix (variant `fixed`): one statement, `UPDATE posts SET comment_count = (SELECT count(*) FROM
// comments WHERE post = ?1) WHERE id = ?1`.
// Faults: delay, reorder.
//
// Label. `stale_derived_write` or `outdated_read` (why_several below): the recount's count read
// (the delivery of its answer), the comment commits on the post that took effect between that
// read being served and the recount's write (which changed what the read returned), and the
// recount's write (its commit).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace counter_recount {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kPosts = 3;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);
constexpr sim::Duration kRecountEvery = sim::milliseconds(4);

std::string post_name(std::uint64_t r) {
  return "p-" + std::to_string(r % kPosts + 1);
}

sim::Task<void> web(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                    int comments) {
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  for (int n = 1; n <= comments; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string post = post_name(env.random());
    const std::string what = me + "-c" + std::to_string(n);
    history.invoke(index, "comment", what);
    const std::vector<services::SqlStatement> add = {
        {"INSERT INTO comments (post, author) VALUES (?1, ?2)", {post, me}, 1},
        {"UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?1", {post}, 1}};
    const auto r = co_await sql.transact(add, "comment " + post + " " + what);
    history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "comment", what);
  }
}

sim::Task<void> moderator(sim::Env& env, sim::ProcessId db) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (;;) {
    co_await env.sleep(sim::milliseconds(6) + static_cast<sim::Duration>(env.random() % 6'000'000));
    const std::string post = post_name(env.random());
    // The oldest comment of the post is taken for spam (deleted without adjusting the count).
    const std::vector<services::SqlStatement> remove = {
        {"DELETE FROM comments WHERE id = (SELECT min(id) FROM comments WHERE post = ?1)",
         {post},
         std::nullopt}};
    co_await sql.transact(remove, "remove spam " + post);
  }
}

sim::Task<void> recount(sim::Env& env, sim::ProcessId db, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (std::uint64_t round = 0;; ++round) {
    co_await env.sleep(kRecountEvery);
    const std::string post = post_name(round);
    if (fixed) {
      const std::vector<services::SqlStatement> recount_in_place = {
          {"UPDATE posts SET comment_count = (SELECT count(*) FROM comments WHERE post = ?1) "
           "WHERE id = ?1",
           {post},
           1}};
      co_await sql.transact(recount_in_place, "recount " + post);
      continue;
    }
    const std::vector<services::SqlStatement> count_comments = {
        {"SELECT count(*) FROM comments WHERE post = ?1", {post}, std::nullopt}};
    const auto read = co_await sql.transact(count_comments, "count " + post);
    if (read.timed_out || !read.committed) continue;
    const auto count = read.results[0][0][0].get<std::int64_t>();
    const std::vector<services::SqlStatement> write_count = {
        {"UPDATE posts SET comment_count = ?1 WHERE id = ?2", {count, post}, 1}};
    co_await sql.transact(write_count, "recount " + post);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"counter_recount",
            "a reconciliation job recounts posts' denormalized comment counts",
            {"buggy", "fixed"},
            {{"recount-exact", "right after a recount, a post's count is its number of comments"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE posts (id TEXT PRIMARY KEY, comment_count INTEGER NOT NULL)",
        "CREATE TABLE comments (id INTEGER PRIMARY KEY AUTOINCREMENT, post TEXT NOT NULL, "
        "author TEXT NOT NULL)"};
    for (int p = 1; p <= kPosts; ++p) {
      config.schema.push_back("INSERT INTO posts VALUES ('p-" + std::to_string(p) + "', 0)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process("recount",
                    [d = db.process, fixed](sim::Env& env) { return recount(env, d, fixed); },
                    {.crashable = false, .client = false, .pausable = false});
    sim.add_process("moderator", [d = db.process](sim::Env& env) { return moderator(env, d); },
                    {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int per_web = sim.config().ops / 2;
    for (int i = 0; i < 2; ++i) {
      sim.add_process("web" + std::to_string(i + 1),
                      [&history, i, d = db.process, per_web](sim::Env& env) {
                        return web(env, history, i, d, per_web);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "recount-exact",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth]() -> std::optional<sim::Finding> {
              const auto& labels = truth->committed();
              if (labels.empty() || labels.back().rfind("recount ", 0) != 0) return std::nullopt;
              const std::string post = labels.back().substr(8);
              const auto rows = truth->query(services::SqlStatement{
                  "SELECT comment_count, (SELECT count(*) FROM comments WHERE post = ?1) FROM "
                  "posts WHERE id = ?1",
                  {post},
                  std::nullopt});
              const auto shown = rows[0][0].get<std::int64_t>();
              const auto has = rows[0][1].get<std::int64_t>();
              if (shown == has) return std::nullopt;
              return sim::Finding{"post " + post + " shows " + std::to_string(shown) +
                                      " comments after its recount, but has " + std::to_string(has),
                                  {post}};
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The label of the request a sql_reply send answers ("" if none).
std::string request_label(const Trace& trace, const TraceEvent& reply) {
  const auto* req = request_send_for(trace, reply);
  return req ? payload(*req).value("label", "") : std::string();
}

// From the message: the post P. The recount's write of P is the last committed "recount P"
// before the violation; its read is the last "count P" answer delivered to the recount before
// the write was sent. The commits in between that changed P's comments ("comment P ...",
// "remove spam P" that deleted a row) are the writes that overtook the read.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string post = between(violation_message(trace), "post ", " shows ");
  if (post.empty()) return {};
  const auto* write = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "sql_reply" &&
               payload(e).value("committed", false) && request_label(trace, e) == "recount " + post;
      },
      violation_event(trace) + 1);
  if (!write) return {};
  const auto* write_req = request_send_for(trace, *write);
  const int rc = lane_of(trace, "recount");
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.lane != rc || e.type != "sql_reply") return false;
        const auto* s = send_of(trace, e);
        return s && request_label(trace, *s) == "count " + post;
      },
      write_req ? write_req->seq : write->seq);
  if (!read) return {};
  const auto* read_served = send_of(trace, *read);
  if (!read_served) return {};
  std::vector<std::uint64_t> keys = {read->seq};
  for (std::uint64_t s = read_served->seq + 1; s < write->seq; ++s) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto label = request_label(trace, e);
    const bool comment = label.rfind("comment " + post + " ", 0) == 0;
    const auto& changes = payload(e).value("changes", nlohmann::json::array());
    const bool removed = label == "remove spam " + post && changes.is_array() && !changes.empty() &&
                         changes[0].get<std::int64_t>() > 0;
    if (comment || removed) keys.push_back(e.seq);
  }
  if (keys.size() < 2) return {};
  keys.push_back(write->seq);
  return keys;
}

}  // namespace counter_recount

Design make_counter_recount() {
  Design d;
  d.name = "counter_recount";
  d.bug =
      "a reconciliation job recounts a post's comments in one transaction and writes the count in "
      "the next, overwriting the live counter with a count a concurrent comment outdated";
  d.system = std::make_unique<counter_recount::System>();
  d.invariant = "recount-exact";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write", "outdated_read"};
  d.label.why_several =
      "the recount writes into another table (the post's counter) a value derived from its read "
      "of the comments after a comment's commit changed what that read returned "
      "(stale_derived_write), and the same write is a lost update decided on a read that the "
      "comment outdated before the write took effect (outdated_read); both name the same events "
      "and the fix (one statement) repairs exactly that read";
  d.label.key_events = counter_recount::key_events;
  return d;
}

}  // namespace seer::bench::explain
