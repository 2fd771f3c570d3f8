// The native target's outbox and concurrency: dequeue order, SKIP LOCKED and at-least-once,
// NOTIFY at commit on the address's channel, concurrent sweeps and concurrent requests on one
// origin (systems/promises/concrete/postgres-native/README.md).
#include "../random_requests.hpp"
#include "native_db.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace seer::promises::native::testing {
namespace {

using json = nlohmann::json;
namespace t = promises::testing;

json targeted(const std::string& id, const std::string& target, std::int64_t timeout_at = kFar) {
  return t::create(id, timeout_at, t::tags_of({{"resonate:target", target.c_str()}}));
}

std::vector<std::string> dequeued(Session& db, const std::string& address, int limit) {
  std::vector<std::string> out;
  for (const auto& row : db.rows("SELECT task_id, version FROM resonate.dequeue_execute($1, $2)",
                                 {address, std::to_string(limit)}))
    out.push_back(*row[0] + "@" + *row[1]);
  return out;
}

class NativeOutbox : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cluster_url()) GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL)";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    url_ = fresh_native_database("seer_native_" + std::to_string(getpid()) + "_" +
                                 std::to_string(std::hash<std::string>{}(info->name()) % 100000));
  }
  std::string url_;
};

TEST_F(NativeOutbox, DequeueTakesAnAddresssRowsOldestFirstAndOnce) {
  Session db(url_);
  for (const char* id : {"o:1", "o:2", "o:3"}) rpc(db, targeted(id, "poll://any@a"));
  rpc(db, targeted("o:4", "poll://any@b"));
  EXPECT_EQ(dequeued(db, "poll://any@a", 2), (std::vector<std::string>{"o:1@0", "o:2@0"}));
  EXPECT_EQ(dequeued(db, "poll://any@a", 10), (std::vector<std::string>{"o:3@0"}));
  EXPECT_TRUE(dequeued(db, "poll://any@a", 10).empty());
  EXPECT_EQ(dequeued(db, "poll://any@b", 10), (std::vector<std::string>{"o:4@0"}));
  // An unblock row, taken once, carries the settled record.
  rpc(db, t::listener("o:1", "poll://uni@a/p"));
  rpc(db, t::settle("o:1", "resolved", "done"));
  const auto rows = db.rows("SELECT promise FROM resonate.dequeue_unblock('poll://uni@a/p', 10)");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(json::parse(*rows[0][0])["value"]["data"], "done");
  EXPECT_TRUE(db.rows("SELECT * FROM resonate.dequeue_unblock('poll://uni@a/p', 10)").empty());
  // The version column is an int4: node-postgres hands it to the SDK as a number.
  EXPECT_EQ(db.value("SELECT format_type(t, NULL) FROM unnest((SELECT proallargtypes FROM pg_proc "
                     "WHERE proname = 'dequeue_execute')) WITH ORDINALITY x(t, n) WHERE n = 4"),
            "integer");
}

TEST_F(NativeOutbox, ALockedRowIsSkippedAndComesBackIfItsConsumerRollsBack) {
  Session db(url_), other(url_);
  for (const char* id : {"o:1", "o:2", "o:3"}) rpc(db, targeted(id, "poll://any@a"));
  other.exec("BEGIN");
  EXPECT_EQ(dequeued(other, "poll://any@a", 1), (std::vector<std::string>{"o:1@0"}));
  // o:1 is locked by the open transaction: skipped, not waited for.
  EXPECT_EQ(dequeued(db, "poll://any@a", 10), (std::vector<std::string>{"o:2@0", "o:3@0"}));
  other.exec("ROLLBACK");  // the consumer died before committing: the row is there again
  EXPECT_EQ(dequeued(db, "poll://any@a", 10), (std::vector<std::string>{"o:1@0"}));
}

TEST_F(NativeOutbox, ANotifyArrivesOnTheAddresssChannelAtCommit) {
  Session db(url_), listener(url_);
  const auto channel = *db.value("SELECT resonate.outbox_channel('poll://any@a')");
  EXPECT_EQ(channel.size(), 41u);  // 'resonate_' and an md5: any address fits an identifier
  EXPECT_EQ(db.value("SELECT resonate.outbox_channel(repeat('x', 500)) <> "
                     "resonate.outbox_channel(repeat('x', 499) || 'y')"),
            "t");
  listener.exec("LISTEN \"" + channel + "\"");
  db.exec("BEGIN");
  rpc(db, targeted("o:1", "poll://any@a"));
  EXPECT_TRUE(listener.notifications(200).empty()) << "notified before the commit";
  db.exec("COMMIT");
  EXPECT_EQ(listener.notifications(2000), std::vector<std::string>{channel});
  rpc(db, targeted("o:2", "poll://any@b"));  // another address, another channel
  EXPECT_TRUE(listener.notifications(200).empty());
}

// Several nodes call process_timeouts at once (the SDK does, every 250 ms): each due promise
// times out once, its listener gets one unblock, and no call fails.
TEST_F(NativeOutbox, ConcurrentSweepsTimeOutEachPromiseOnce) {
  Session db(url_);
  // The deadline leaves room for the setup on a loaded machine: three times what 40 pairs of
  // requests take at the rate of a first pair, and at least 3 s.
  const auto wall = [&] { return std::stoll(*db.value("SELECT resonate._wall_ms()")); };
  const auto start = wall();
  rpc(db, t::create("warm:0", kFar, t::tags_of({{"resonate:scope", "global"}})));
  rpc(db, t::listener("warm:0", "poll://uni@other/l"));
  const auto deadline = wall() + std::max<std::int64_t>(3000, 120 * (wall() - start));
  std::set<std::string> ids;
  for (int o = 0; o < 8; ++o) {
    for (int i = 0; i < 5; ++i) {
      const std::string id = "o" + std::to_string(o) + ":" + std::to_string(i);
      rpc(db, targeted(id, "poll://any@w", deadline));
      rpc(db, t::listener(id, "poll://uni@w/l"));
      ids.insert(id);
    }
  }
  // All created pending, then wait until all are due.
  const auto after = wall();
  ASSERT_LT(after, deadline) << "the setup took longer than the deadline";
  std::this_thread::sleep_for(std::chrono::milliseconds(deadline + 100 - after));
  std::atomic<int> failures{0}, swept{0};
  std::vector<std::thread> nodes;
  for (int n = 0; n < 4; ++n) {
    nodes.emplace_back([&] {
      try {
        Session node(url_);
        for (int k = 0; k < 10; ++k)
          swept += std::stoi(*node.value("SELECT resonate.process_timeouts()"));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& n : nodes) n.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(swept, 8) << "each origin swept once";
  std::multiset<std::string> unblocked;
  for (const auto& row :
       db.rows("SELECT promise FROM resonate.dequeue_unblock('poll://uni@w/l', 1000)")) {
    const json p = json::parse(*row[0]);
    EXPECT_EQ(p["state"], "rejected_timedout");
    unblocked.insert(p["id"].get<std::string>());
  }
  EXPECT_EQ(unblocked, std::multiset<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(db.value("SELECT count(*) FROM resonate.tasks WHERE state <> 'fulfilled'"), "0");
}

// Requests of one origin from many sessions apply one at a time: creation order (seq) has no
// gaps or repeats and `now` never goes back along it (I14), and one version is granted once (H6).
TEST_F(NativeOutbox, ConcurrentRequestsOnOneOriginApplyOneAtATime) {
  rpc(*std::make_unique<Session>(url_), targeted("hot:task", "poll://any@a"));
  std::atomic<int> granted{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      try {
        Session s(url_);
        for (int i = 0; i < 25; ++i)
          rpc(s, t::create("hot:" + std::to_string(c) + "." + std::to_string(i), kFar));
        if (rpc(s, t::acquire("hot:task", 0, 1000, "p" + std::to_string(c)))
                .response["head"]["status"] == 200)
          ++granted;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(granted, 1);
  Session db(url_);
  EXPECT_EQ(db.value("SELECT count(*) = 201 AND min(seq) = 1 AND max(seq) = 201 AND "
                     "count(DISTINCT seq) = 201 FROM resonate.promises WHERE origin = 'hot'"),
            "t");
  EXPECT_EQ(db.value("SELECT bool_and(created_at >= prev) FROM (SELECT created_at, "
                     "lag(created_at, 1, 0::bigint) OVER (ORDER BY seq) AS prev "
                     "FROM resonate.promises WHERE origin = 'hot') x"),
            "t");
}

// A heartbeat may name tasks of several origins (its entries are independent, spec §10): it
// locks them all, extends each lease from one `now`, and that `now` becomes each origin's clock.
TEST_F(NativeOutbox, AHeartbeatExtendsLeasesInEveryOriginItNames) {
  Session db(url_);
  const auto target = t::tags_of({{"resonate:target", "poll://any@a"}});
  rpc(db, t::task_create("p:1", kFar, 1000, "w", target));
  rpc(db, t::task_create("q:1", kFar, 2000, "w", target));
  rpc(db, t::task_create("r:1", kFar, 3000, "other", target));  // another pid: not extended
  const auto r_before = db.value("SELECT at FROM resonate.task_timeouts WHERE id = 'r:1'");
  json beat = t::heartbeat("w", "q:1", 1);
  beat["data"]["tasks"].push_back({{"id", "p:1"}, {"version", 1}});
  beat["data"]["tasks"].push_back({{"id", "r:1"}, {"version", 1}});
  const Rpc got = rpc(db, beat);
  EXPECT_EQ(got.response["head"]["status"], 200);
  EXPECT_EQ(got.response["data"], json::object());
  const auto n = std::to_string(got.now);
  EXPECT_EQ(db.value("SELECT string_agg(id || '=' || (at - " + n +
                     ")::text, ',' ORDER BY id) FROM resonate.task_timeouts WHERE id <> 'r:1'"),
            "p:1=1000,q:1=2000");
  EXPECT_EQ(db.value("SELECT at FROM resonate.task_timeouts WHERE id = 'r:1'"), r_before);
  EXPECT_EQ(db.value("SELECT count(*) FROM resonate.origins WHERE origin IN ('p', 'q') AND "
                     "clock = " +
                     n),
            "2");
}

TEST_F(NativeOutbox, AnotherIsolationLevelIsRefused) {
  Session db(url_);
  db.exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
  EXPECT_THROW(rpc(db, t::by_id("promise.get", "o:1")), std::runtime_error);
  db.exec("ROLLBACK");
}

}  // namespace
}  // namespace seer::promises::native::testing
