#include "seer/check/linearizability.hpp"
#include "operation_builders.hpp"
#include "seer/check/html_report.hpp"
#include "seer/sim/prng.hpp"

#include "sweep_scale.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace seer::check {
namespace {

using testing::numbered;
using testing::op;

Verdict check(const std::vector<Operation>& ops, const char* model = "register",
              const std::string& init = "0") {
  auto m = make_model(model);
  m->set_init(init);
  return check_linearizable(ops, *m).verdict;
}

TEST(Linearizability, SequentialHistoryHasAWitness) {
  auto ops = numbered({op(1, "write", 1, nullptr, 0, 10), op(2, "read", nullptr, 1, 20, 30)});
  auto m = make_model("register");
  m->set_init("0");
  auto r = check_linearizable(ops, *m);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.witness, (std::vector<int>{0, 1}));
}

TEST(Linearizability, StaleReadAfterCompletedWriteIsAViolation) {
  // Herlihy & Wing: a read that begins after a write completed must not return the older value.
  auto ops = numbered({op(1, "write", 4, nullptr, 0, 10), op(1, "write", 1, nullptr, 20, 30),
                       op(3, "read", nullptr, 4, 40, 50)});
  auto m = make_model("register");
  m->set_init("0");
  auto r = check_linearizable(ops, *m);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.failing_op, 2);
  EXPECT_NE(r.explanation.find("overwritten by write 1"), std::string::npos) << r.explanation;
  EXPECT_EQ(r.witness, (std::vector<int>{0, 1}));  // longest linearizable prefix
}

TEST(Linearizability, ConcurrentReadMaySeeOldOrNew) {
  for (int seen : {0, 7}) {
    auto ops = numbered({op(1, "write", 7, nullptr, 0, 100), op(2, "read", nullptr, seen, 10, 20)});
    EXPECT_EQ(check(ops), Verdict::kLinearizable) << seen;
  }
  auto bad = numbered({op(1, "write", 7, nullptr, 0, 100), op(2, "read", nullptr, 8, 10, 20)});
  EXPECT_EQ(check(bad), Verdict::kNotLinearizable);
}

TEST(Linearizability, ReadsMustNotGoBackInTime) {
  // Two sequential reads during one long write: new then old is impossible.
  auto ops = numbered({op(1, "write", 1, nullptr, 0, 100), op(2, "read", nullptr, 1, 10, 20),
                       op(2, "read", nullptr, 0, 30, 40)});
  EXPECT_EQ(check(ops), Verdict::kNotLinearizable);
}

TEST(Linearizability, InfoWriteMustBeAssumedWhenObserved) {
  auto ops = numbered({op(1, "write", 2, nullptr, 0, kNever), op(2, "read", nullptr, 2, 50, 60)});
  EXPECT_EQ(check(ops), Verdict::kLinearizable);
}

TEST(Linearizability, InfoWriteNeedNotHappen) {
  auto ops = numbered({op(1, "write", 2, nullptr, 0, kNever), op(2, "read", nullptr, 0, 50, 60),
                       op(2, "read", nullptr, 0, 70, 80)});
  EXPECT_EQ(check(ops), Verdict::kLinearizable);
}

TEST(Linearizability, InfoWriteCannotTakeEffectBeforeItsInvocation) {
  auto ops = numbered({op(2, "read", nullptr, 2, 0, 10), op(1, "write", 2, nullptr, 20, kNever)});
  EXPECT_EQ(check(ops), Verdict::kNotLinearizable);
}

// Identical writes of unknown outcome are twins, tried in invocation order; a witness may still
// need both.
TEST(Linearizability, TwinInfoWritesMayBothTakeEffect) {
  auto ops = numbered({op(1, "write", 1, nullptr, 0, kNever), op(2, "write", 1, nullptr, 1, kNever),
                       op(3, "read", nullptr, 1, 2, 3), op(3, "write", 2, nullptr, 4, 5),
                       op(3, "read", nullptr, 1, 6, 7)});
  EXPECT_EQ(check(ops), Verdict::kLinearizable);
  ops.push_back(op(3, "write", 2, nullptr, 8, 9));
  ops.push_back(op(3, "read", nullptr, 1, 10, 11));  // a third write of 1 would be needed
  EXPECT_EQ(check(numbered(ops)), Verdict::kNotLinearizable);
}

// Without twin ordering, proving this history broken visits every subset of the 40 unknown writes
// (2^40); with it, a prefix of each value's chain (21 x 21).
TEST(Linearizability, ManyTwinInfoWritesAreDecidedQuickly) {
  std::vector<Operation> ops;
  for (int i = 0; i < 20; ++i) {
    ops.push_back(op(i, "write", 1, nullptr, i, kNever));
    ops.push_back(op(20 + i, "write", 2, nullptr, i, kNever));
  }
  ops.push_back(op(50, "read", nullptr, 1, 100, 101));
  ops.push_back(op(50, "read", nullptr, 2, 102, 103));
  ops.push_back(op(50, "read", nullptr, 3, 104, 105));  // nothing wrote 3
  auto m = make_model("register");
  m->set_init("0");
  CheckOptions options;
  options.max_steps = 200'000;
  EXPECT_EQ(check_linearizable(numbered(ops), *m, options).verdict, Verdict::kNotLinearizable);
}

TEST(Linearizability, CasRegister) {
  auto ok = numbered({op(1, "cas", nlohmann::json::array({0, 5}), nullptr, 0, 10),
                      op(2, "read", nullptr, 5, 20, 30)});
  EXPECT_EQ(check(ok, "cas-register"), Verdict::kLinearizable);
  auto bad = numbered({op(1, "cas", nlohmann::json::array({3, 5}), nullptr, 0, 10)});
  EXPECT_EQ(check(bad, "cas-register"), Verdict::kNotLinearizable);
  auto unknown_cas = numbered({op(1, "cas", nlohmann::json::array({3, 5}), nullptr, 0, kNever)});
  EXPECT_EQ(check(unknown_cas, "cas-register"), Verdict::kLinearizable);
}

TEST(Linearizability, MutexAllowsOneHolderAtATime) {
  auto m = make_model("mutex");
  auto ok = numbered({op(1, "acquire", nullptr, nullptr, 0, 10),
                      op(1, "release", nullptr, nullptr, 20, 30),
                      op(2, "acquire", nullptr, nullptr, 25, 40)});
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kLinearizable);
  auto twice = numbered(
      {op(1, "acquire", nullptr, nullptr, 0, 10), op(2, "acquire", nullptr, nullptr, 20, 30)});
  EXPECT_EQ(check_linearizable(twice, *m).verdict, Verdict::kNotLinearizable);
  EXPECT_THROW(m->set_init("maybe"), std::invalid_argument);
  m->set_init("held");  // then the first acquire must wait for a release
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kNotLinearizable);
  auto held = numbered({op(1, "release", nullptr, nullptr, 0, 10)});
  EXPECT_EQ(check_linearizable(held, *m).verdict, Verdict::kLinearizable);
}

TEST(Linearizability, CounterReadsMustMatchSomeOrderOfAdds) {
  auto m = make_model("counter");
  auto ok = numbered({op(1, "add", 2, nullptr, 0, 10), op(2, "add", 3, nullptr, 0, 10),
                      op(3, "read", nullptr, 2, 5, 8), op(3, "read", nullptr, 5, 20, 30)});
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kLinearizable);
  auto lost = numbered({op(1, "add", 2, nullptr, 0, 10), op(3, "read", nullptr, 0, 20, 30)});
  EXPECT_EQ(check_linearizable(lost, *m).verdict, Verdict::kNotLinearizable);
  auto maybe = numbered({op(1, "add", 2, nullptr, 0, kNever), op(3, "read", nullptr, 2, 20, 30),
                         op(3, "read", nullptr, 2, 40, 50)});
  EXPECT_EQ(check_linearizable(maybe, *m).verdict, Verdict::kLinearizable);
}

TEST(HtmlReport, IsSelfContainedAndMarksTheFailingOperation) {
  auto ops = numbered({op(1, "write", 4, nullptr, 0, 10), op(1, "write", 1, nullptr, 20, 30),
                       op(3, "read", nullptr, 4, 40, 50)});
  auto m = make_model("register");
  m->set_init("0");
  const auto r = check_linearizable(ops, *m);
  const auto html = render_html_report("h.jsonl </script>", ops, r, *m);
  EXPECT_EQ(html.find("http://"),
            html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  const auto start = html.find("<script type=\"application/json\" id=\"data\">");
  ASSERT_NE(start, std::string::npos);
  const auto body = start + std::string("<script type=\"application/json\" id=\"data\">").size();
  const auto data = nlohmann::json::parse(html.substr(body, html.find("</script>", body) - body));
  EXPECT_EQ(data["verdict"], "not-linearizable");
  ASSERT_EQ(data["ops"].size(), 3u);
  EXPECT_TRUE(data["ops"][2]["failing"].get<bool>());
  EXPECT_EQ(data["ops"][1]["order"], 2);
  EXPECT_EQ(data["ops"][1]["before"], "4");  // state before and after, from replaying the prefix
  EXPECT_EQ(data["ops"][1]["after"], "1");
  EXPECT_EQ(html.find("h.jsonl </script>"), std::string::npos) << "the title must be escaped";
}

// ---- brute force and properties ----

// Tries every order of every subset of the unknown ops (all known ops included) respecting real
// time.
bool brute_force(const std::vector<Operation>& ops, const AnyModel& model) {
  std::vector<int> unknown;
  for (const auto& o : ops) {
    if (o.unknown()) unknown.push_back(o.id);
  }
  for (std::uint32_t mask = 0; mask < (1u << unknown.size()); ++mask) {
    std::vector<int> chosen;
    for (const auto& o : ops) {
      if (!o.unknown()) chosen.push_back(o.id);
    }
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (mask & (1u << i)) chosen.push_back(unknown[i]);
    }
    std::sort(chosen.begin(), chosen.end());
    do {
      bool valid = true;
      for (std::size_t i = 0; i < chosen.size() && valid; ++i) {
        for (std::size_t j = i + 1; j < chosen.size() && valid; ++j) {
          // j after i is impossible if j completed before i was invoked.
          if (ops[chosen[j]].complete < ops[chosen[i]].invoke) valid = false;
        }
      }
      if (!valid) continue;
      if (model.replay(ops, chosen)) return true;
    } while (std::next_permutation(chosen.begin(), chosen.end()));
  }
  return false;
}

std::vector<Operation> random_history(sim::Prng& rnd, bool cas,
                                      std::uint32_t unknown_ppm = 150'000) {
  const int n = static_cast<int>(rnd.between(1, 7));
  std::vector<Operation> ops;
  for (int i = 0; i < n; ++i) {
    const std::int64_t start = rnd.between(0, 20);
    std::int64_t end = start + rnd.between(0, 10);
    if (rnd.chance(unknown_ppm)) end = kNever;
    const auto kind = rnd.below(cas ? 3 : 2);
    if (kind == 0) {
      ops.push_back(op(i, "read", nullptr,
                       end == kNever ? nlohmann::json() : nlohmann::json(rnd.between(0, 2)), start,
                       end));
    } else if (kind == 1) {
      ops.push_back(op(i, "write", rnd.between(0, 2), nullptr, start, end));
    } else {
      ops.push_back(op(i, "cas", nlohmann::json::array({rnd.between(0, 2), rnd.between(0, 2)}),
                       nullptr, start, end));
    }
  }
  return numbered(ops);
}

TEST(Linearizability, AgreesWithBruteForceOnThousandsOfSmallHistories) {
  sim::Prng rnd(2024);
  int violations = 0;
  const int histories = static_cast<int>(seer::testing::sweep_seeds(4000));
  for (int i = 0; i < histories; ++i) {
    const bool cas = i % 2 == 1;
    auto ops = random_history(rnd, cas);
    auto m = make_model(cas ? "cas-register" : "register");
    m->set_init("0");
    const bool expected = brute_force(ops, *m);
    const auto got = check_linearizable(ops, *m).verdict;
    ASSERT_EQ(got == Verdict::kLinearizable, expected) << "history " << i;
    violations += expected ? 0 : 1;
  }
  EXPECT_GT(violations, histories / 8) << "the generator should produce broken histories too";
}

// Mostly outcome-unknown operations over few values: many twins, whose ordering must not change
// a verdict.
TEST(Linearizability, AgreesWithBruteForceWhenMostOutcomesAreUnknown) {
  sim::Prng rnd(77);
  int violations = 0;
  const int histories = static_cast<int>(seer::testing::sweep_seeds(4000));
  for (int i = 0; i < histories; ++i) {
    const bool cas = i % 2 == 1;
    auto ops = random_history(rnd, cas, 600'000);
    auto m = make_model(cas ? "cas-register" : "register");
    m->set_init("0");
    const bool expected = brute_force(ops, *m);
    ASSERT_EQ(check_linearizable(ops, *m).verdict == Verdict::kLinearizable, expected)
        << "history " << i;
    violations += expected ? 0 : 1;
  }
  EXPECT_GT(violations, histories / 40);
}

TEST(Linearizability, HistoriesFromARealSequentialRunAreLinearizable) {
  sim::Prng rnd(7);
  for (int h = 0; h < 300; ++h) {
    // Run ops sequentially at instants t_i, then widen each into a random interval containing t_i.
    std::vector<Operation> ops;
    std::int64_t value = 0;
    for (int i = 0; i < 60; ++i) {
      const std::int64_t t = i * 10;
      const std::int64_t start = t - rnd.between(0, 40);
      std::int64_t end = t + rnd.between(0, 40);
      if (rnd.chance(500'000)) {
        value = rnd.between(0, 5);
        if (rnd.chance(100'000)) end = kNever;
        ops.push_back(op(i % 5, "write", value, nullptr, start, end));
      } else {
        ops.push_back(op(i % 5, "read", nullptr, value, start, end));
      }
    }
    std::sort(ops.begin(), ops.end(), [](auto& a, auto& b) { return a.invoke < b.invoke; });
    ASSERT_EQ(check(numbered(ops)), Verdict::kLinearizable) << "history " << h;
  }
}

TEST(Linearizability, SetReadsMustShowEveryCompletedAdd) {
  auto m = make_model("set");
  auto ok = numbered({op(1, "add", 1, nullptr, 0, 10), op(2, "add", 2, nullptr, 5, 30),
                      op(3, "read", nullptr, nlohmann::json::array({1}), 12, 20),
                      op(3, "read", nullptr, nlohmann::json::array({2, 1}), 40, 50)});
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kLinearizable);
  auto lost = numbered(
      {op(1, "add", 1, nullptr, 0, 10), op(3, "read", nullptr, nlohmann::json::array(), 20, 30)});
  EXPECT_EQ(check_linearizable(lost, *m).verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(m->replay(ok, {0}).value(), std::vector<std::string>{"[1]"});
}

TEST(Linearizability, QueueIsFirstInFirstOut) {
  auto m = make_model("queue");
  auto ok = numbered({op(1, "enqueue", 1, nullptr, 0, 10), op(1, "enqueue", 2, nullptr, 20, 30),
                      op(2, "dequeue", nullptr, 1, 40, 50), op(2, "dequeue", nullptr, 2, 60, 70),
                      op(2, "dequeue", nullptr, nullptr, 80, 90)});
  EXPECT_EQ(check_linearizable(ok, *m).verdict, Verdict::kLinearizable);
  auto lifo = numbered({op(1, "enqueue", 1, nullptr, 0, 10), op(1, "enqueue", 2, nullptr, 20, 30),
                        op(2, "dequeue", nullptr, 2, 40, 50)});
  EXPECT_EQ(check_linearizable(lifo, *m).verdict, Verdict::kNotLinearizable);
}

TEST(Linearizability, SetAndQueueAgreeWithBruteForce) {
  sim::Prng rnd(77);
  int broken = 0;
  for (int h = 0; h < 3000; ++h) {
    const bool queue = h % 2 == 1;
    auto m = make_model(queue ? "queue" : "set");
    std::vector<Operation> ops;
    const int n = static_cast<int>(rnd.between(1, 6));
    for (int i = 0; i < n; ++i) {
      const std::int64_t start = rnd.between(0, 20);
      std::int64_t end = start + rnd.between(0, 10);
      if (rnd.chance(150'000)) end = kNever;
      const bool update = rnd.chance(500'000);
      const std::int64_t v = rnd.between(1, 3);
      if (queue) {
        if (update) {
          ops.push_back(op(i, "enqueue", v, nullptr, start, end));
        } else {
          ops.push_back(
              op(i, "dequeue", nullptr,
                 end == kNever || rnd.chance(200'000) ? nlohmann::json() : nlohmann::json(v), start,
                 end));
        }
      } else if (update) {
        ops.push_back(op(i, "add", v, nullptr, start, end));
      } else {
        nlohmann::json seen = nlohmann::json::array();
        for (std::int64_t x = 1; x <= 3; ++x) {
          if (rnd.chance(400'000)) seen.push_back(x);
        }
        ops.push_back(op(i, "read", nullptr, end == kNever ? nlohmann::json() : seen, start, end));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force(ops, *m);
    ASSERT_EQ(check_linearizable(ops, *m).verdict == Verdict::kLinearizable, expected)
        << (queue ? "queue" : "set") << " history " << h;
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, 300);
}

TEST(HistoryReader, PairsSeerJsonlAndDropsFailedOps) {
  const std::string text =
      R"({"process":1,"type":"invoke","f":"write","value":3,"time":1}
{"process":2,"type":"invoke","f":"read","value":null,"time":2}
{"process":1,"type":"fail","f":"write","value":3,"time":3}
{"process":2,"type":"ok","f":"read","value":0,"time":4}
{"process":"nemesis","type":"info","f":"start","value":null}
{"process":3,"type":"invoke","f":"write","value":9,"time":5}
{"process":3,"type":"info","f":"write","value":9,"time":6}
)";
  auto ops = read_history_text(text, "h.jsonl");
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].f, "read");
  EXPECT_EQ(ops[0].output, 0);
  EXPECT_TRUE(ops[1].unknown());
}

TEST(HistoryReader, ReadsJepsenJsonArrays) {
  const std::string text =
      R"([{"process":0,"type":"invoke","f":":write","value":1},
          {"process":0,"type":"ok","f":":write","value":1}])";
  auto ops = read_history_text(text, "h.json");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].f, "write");
}

TEST(HistoryReader, MalformedInputNamesTheLine) {
  const std::string text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{not json\n";
  try {
    read_history_text(text, "h.jsonl");
    FAIL() << "expected an error";
  } catch (const HistoryError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("h.jsonl:2: ", 0), 0u) << e.what();
  }
  EXPECT_THROW(read_history_text("{\"process\":1,\"type\":\"bogus\",\"f\":\"read\"}\n", "x"),
               HistoryError);
  EXPECT_THROW(read_history_text("{\"process\":1,\"type\":\"ok\",\"f\":\"read\"}\n", "x"),
               HistoryError);
  // Found by the fuzzer: a number too large for a double is out_of_range, not a parse error.
  EXPECT_THROW(read_history_text("{\"process\":1e999}\n", "x"), HistoryError);
  EXPECT_THROW(read_history_text("[{\"process\":1e999}]", "x", HistoryFormat::kJson), HistoryError);
}

}  // namespace
}  // namespace seer::check
