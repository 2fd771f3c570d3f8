// String registers and Porcupine's kv model (put sets a string, append concatenates, get returns
// the whole string), checked per key and without partitioning; bounded readers (issue 21).
#include "operation_builders.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace seer::check::string_kv_test {
namespace {

using testing::keyed;
using testing::numbered;

std::unique_ptr<AnyModel> string_kv() {
  auto m = make_model("kv");
  m->set_init("\"\"");
  return m;
}

CheckResult check(const std::vector<Operation>& ops, bool partition = true, unsigned jobs = 1) {
  const auto m = string_kv();
  CheckOptions o;
  o.jobs = jobs;
  o.partition = partition;
  return check_linearizable(ops, *m, o);
}

TEST(StringKv, AppendConcatenatesAndGetReturnsTheWholeString) {
  // Two concurrent appends land in either order; every later get agrees on one.
  auto ops = numbered({keyed(0, "get", "k", nullptr, "", 0, 1),
                       keyed(1, "append", "k", "x1y", "x1y", 2, 10),
                       keyed(2, "append", "k", "x2y", "x2y", 2, 10),
                       keyed(3, "get", "k", nullptr, "x2yx1y", 20, 30),
                       keyed(3, "get", "k", nullptr, "x2yx1y", 40, 50)});
  for (const bool partition : {true, false}) {
    EXPECT_EQ(check(ops, partition).verdict, Verdict::kLinearizable);
  }
  ops[4].output = "x1yx2y";  // the order changed between the two gets
  for (const bool partition : {true, false}) {
    const auto r = check(ops, partition);
    ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
    EXPECT_EQ(r.failing_op, 4);
  }
  // A put replaces the string; an append to a key never written starts from "".
  ops = numbered({keyed(0, "append", "a", "p", "p", 0, 1), keyed(0, "put", "a", "q", "q", 2, 3),
                  keyed(0, "append", "a", "r", "r", 4, 5),
                  keyed(0, "get", "a", nullptr, "qr", 6, 7)});
  EXPECT_EQ(check(ops).verdict, Verdict::kLinearizable);
  // States read as strings in reports.
  const auto m = string_kv();
  const auto after = m->replay(numbered({keyed(1, "append", "z", "a\"b", nullptr, 0, 1)}), {0});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->front(), R"("a\"b")");
}

TEST(StringKv, WithoutInitAKeyNeverWrittenIsNilNotTheEmptyString) {
  auto m = make_model("kv");
  const auto ops = numbered({keyed(0, "get", "k", nullptr, "", 0, 1)});
  EXPECT_EQ(check_linearizable(ops, *m).verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(check(ops).verdict, Verdict::kLinearizable);
}

TEST(StringKv, IntegersAndStringAppendsOnOneKeyAreAnInputError) {
  const auto ops =
      numbered({keyed(0, "put", "k", 1, 1, 0, 1), keyed(0, "append", "k", "x", "x", 2, 3)});
  EXPECT_THROW(check(ops), HistoryError);
  // A list append (an integer) and a string append on one key.
  const auto lists =
      numbered({keyed(0, "append", "k", 1, 1, 0, 1), keyed(0, "append", "k", "x", "x", 2, 3)});
  EXPECT_THROW(check(lists), HistoryError);
}

// Every order of every subset of the unknown operations, a map of strings as the state ("" for a
// key never written): Porcupine's kv model, over the whole history.
std::string dump(const std::vector<Operation>& ops) {
  std::string out;
  for (const auto& o : ops) {
    out += "\n  " + std::to_string(o.id) + " p" + std::to_string(o.process) + " " + o.f + " " +
           to_text(o.key) + " " + to_text(o.input) + " -> " + to_text(o.output) + " [" +
           std::to_string(o.invoke) + ", " + (o.unknown() ? "?" : std::to_string(o.complete)) + "]";
  }
  return out;
}

bool brute_force_strings(const std::vector<Operation>& ops) {
  std::vector<int> unknown;
  for (const auto& o : ops) {
    if (o.unknown()) unknown.push_back(o.id);
  }
  for (std::uint32_t mask = 0; mask < (1u << unknown.size()); ++mask) {
    std::vector<int> order;
    for (const auto& o : ops) {
      if (!o.unknown()) order.push_back(o.id);
    }
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (mask & (1u << i)) order.push_back(unknown[i]);
    }
    std::sort(order.begin(), order.end());
    do {
      bool valid = true;
      for (std::size_t i = 0; i < order.size() && valid; ++i) {
        for (std::size_t j = i + 1; j < order.size() && valid; ++j) {
          if (ops[order[j]].complete < ops[order[i]].invoke) valid = false;
        }
      }
      std::map<std::string, std::string> state;
      for (std::size_t i = 0; i < order.size() && valid; ++i) {
        const auto& op = ops[order[i]];
        auto& value = state[op.key.get<std::string>()];
        if (op.f == "put") {
          value = op.input.get<std::string>();
        } else if (op.f == "append") {
          value += op.input.get<std::string>();
        } else {
          valid = value == op.output.get<std::string>();
        }
      }
      if (valid) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

TEST(StringKv, AgreesWithBruteForcePartitionedOrNotAndAcrossJobs) {
  sim::Prng rnd(21);
  int broken = 0;
  const char* pieces[] = {"a", "b", "ab"};
  for (int h = 0; h < 2000; ++h) {
    std::vector<Operation> ops;
    const int n = static_cast<int>(rnd.between(1, 6));
    for (int i = 0; i < n; ++i) {
      const std::int64_t start = rnd.between(0, 20);
      const std::string key = rnd.chance(600'000) ? "x" : "y";
      const std::string piece = pieces[rnd.below(3)];
      const auto kind = rnd.below(3);
      if (kind < 2) {
        const std::int64_t end = rnd.chance(150'000) ? kNever : start + rnd.between(0, 10);
        ops.push_back(keyed(i, kind == 0 ? "put" : "append", key, piece, nullptr, start, end));
      } else {
        std::string seen;
        for (auto j = rnd.below(3); j > 0; --j) seen += pieces[rnd.below(2)];
        ops.push_back(keyed(i, "get", key, nullptr, seen, start, start + rnd.between(0, 10)));
      }
    }
    ops = numbered(ops);
    const bool expected = brute_force_strings(ops);
    const auto one = check(ops, true, 1);
    const auto two = check(ops, true, 2);
    const auto whole = check(ops, false);
    ASSERT_EQ(one.verdict == Verdict::kLinearizable, expected) << "history " << h << dump(ops);
    ASSERT_EQ(two.verdict, one.verdict) << "history " << h;
    ASSERT_EQ(two.failing_op, one.failing_op) << "history " << h;
    ASSERT_EQ(whole.verdict, one.verdict) << "history " << h;
    broken += expected ? 0 : 1;
  }
  EXPECT_GT(broken, 300);
  EXPECT_LT(broken, 1900);
}

TEST(StringRegister, InitAcceptsAQuotedStringAndReadsCompareStrings) {
  auto m = make_model("cas-register");
  EXPECT_THROW(m->set_init("\"unterminated"), std::invalid_argument);
  EXPECT_THROW(m->set_init("abc"), std::invalid_argument);
  m->set_init("\"start\"");
  auto ops = numbered({testing::op(1, "read", nullptr, "start", 0, 1),
                       testing::op(1, "write", "a b", "a b", 2, 3),
                       testing::op(2, "cas", nlohmann::json::array({"a b", "c"}), nullptr, 4, 5),
                       testing::op(1, "read", nullptr, "c", 6, 7)});
  EXPECT_EQ(check_linearizable(ops, *m).verdict, Verdict::kLinearizable);
  ops[3].output = "a b";  // the cas took effect before this read
  EXPECT_EQ(check_linearizable(ops, *m).verdict, Verdict::kNotLinearizable);
  // Every 64-bit integer is a value of its own, apart from nil and from every string.
  const std::int64_t least = std::numeric_limits<std::int64_t>::min();
  const auto low = numbered(
      {testing::op(1, "write", least, nullptr, 0, 1), testing::op(1, "read", nullptr, least, 2, 3),
       testing::op(1, "write", "x", nullptr, 4, 5), testing::op(1, "read", nullptr, "x", 6, 7)});
  EXPECT_EQ(check_linearizable(low, *m).verdict, Verdict::kLinearizable);
  auto nil_read = low;
  nil_read[1].output = nullptr;  // nil is not the least integer
  m->set_init("nil");
  EXPECT_EQ(check_linearizable(nil_read, *m).verdict, Verdict::kNotLinearizable);
}

TEST(StaleRead, OfTheInitialValueIsNamedAsSuch) {
  auto m = make_model("register");
  m->set_init("0");
  const auto ops =
      numbered({testing::op(1, "write", 1, 1, 0, 1), testing::op(2, "read", nullptr, 0, 2, 3)});
  const auto r = check_linearizable(ops, *m);
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.explanation.find("that is the initial value, and write 1 (process 1, [0, 1]) had "
                               "replaced it before the read began"),
            std::string::npos)
      << r.explanation;
  EXPECT_EQ(r.explanation.find("ever wrote"), std::string::npos) << r.explanation;
}

TEST(WorkerThreads, AnExceptionReachesTheCallerWithAnyNumberOfJobs) {
  std::vector<Operation> ops;
  for (const char* key : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
    ops.push_back(keyed(static_cast<int>(ops.size()), "put", key, 1.5, nullptr, 0, 1));
  }
  ops = numbered(ops);
  for (const unsigned jobs : {1u, 2u, 8u}) {
    auto m = make_model("kv");
    CheckOptions o;
    o.jobs = jobs;
    try {
      check_linearizable(ops, *m, o);
      ADD_FAILURE() << "no error with " << jobs << " jobs";
    } catch (const HistoryError& e) {
      // The first key's error, whatever the thread timing.
      EXPECT_NE(std::string(e.what()).find("operation 0 "), std::string::npos) << e.what();
    }
  }
}

TEST(BoundedReaders, DeepNestingIsAnInputErrorNamingTheLine) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string invoke = R"({"process":1,"type":"invoke","f":"write","value":1})";
  try {
    read_history_text(
        invoke + "\n" + R"({"process":1,"type":"ok","f":"write","value":)" + deep + "}\n",
        "h.jsonl");
    ADD_FAILURE() << "a value 100,000 deep was read";
  } catch (const HistoryError& e) {
    EXPECT_EQ(std::string(e.what()), "h.jsonl:2: nested deeper than 512 levels");
  }
  EXPECT_THROW(read_history_text("[" + invoke + "," + deep + "]", "h.json"), HistoryError);
  EXPECT_THROW(read_history_text("{:process 1 :type :invoke :f :write :value " +
                                     std::string(100'000, '[') + std::string(100'000, ']') + "}",
                                 "h.edn"),
               HistoryError);
  // 512 levels is the bound, and within it input is read.
  const std::string within = std::string(511, '[') + std::string(511, ']');
  EXPECT_EQ(read_history_text(invoke + "\n" + R"({"process":1,"type":"ok","f":"write","value":1,)" +
                                  R"("meta":)" + within + "}\n",
                              "h.jsonl")
                .size(),
            1u);
}

TEST(BoundedReaders, AMillionEdnDiscardsDoNotRecurse) {
  std::string text;
  for (int i = 0; i < 1'000'000; ++i) text += "#_ 1 ";
  text += "{:process 1 :type :invoke :f :read}\n{:process 1 :type :ok :f :read :value nil} #_ x";
  const auto ops = read_history_text(text, "h.edn");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].line, 1u);
  // Stacked discards drop one form each; a discard with nothing after it is malformed.
  EXPECT_EQ(read_history_text("[#_ #_ 1 2 {:process 1 :type :invoke :f :read}]", "h.edn").size(),
            1u);
  EXPECT_THROW(read_history_text("{:process 1 :type :invoke :f :read :value [#_]}", "h.edn"),
               HistoryError);
}

TEST(BoundedReaders, ANonEmptyFileWithNoOperationIsAnInputError) {
  EXPECT_THROW(read_history_text("hello\nworld\n", "x.log", HistoryFormat::kJepsenLog),
               HistoryError);
  EXPECT_THROW(read_history_text("; a comment, no form\n", "x.edn", HistoryFormat::kEdn),
               HistoryError);
  EXPECT_TRUE(
      read_history_text(R"({"process":"nemesis","type":"info","f":"start"})", "x.jsonl").empty());
  // Invocations that all failed are a history (of operations that did not happen).
  EXPECT_TRUE(read_history_text("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n"
                                "{\"process\":1,\"type\":\"fail\",\"f\":\"read\"}\n",
                                "failed.jsonl")
                  .empty());
  EXPECT_TRUE(read_history_text("", "empty.jsonl").empty());
  EXPECT_TRUE(read_history_text(" \n\n", "blank.jsonl").empty());
}

#ifdef SEER_PORCUPINE_DIR
// Porcupine's published kv histories (test_data/kv/, shared/corpora/porcupine-kv) get the verdicts
// Porcupine's own tests expect, per key and over the whole map.
TEST(PorcupineKv, PublishedHistoriesGetTheirExpectedVerdicts) {
  const std::filesystem::path dir = SEER_PORCUPINE_DIR;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  const std::map<std::string, Verdict> expected = {{"c01-ok.txt", Verdict::kLinearizable},
                                                   {"c01-bad.txt", Verdict::kNotLinearizable},
                                                   {"c10-ok.txt", Verdict::kLinearizable}};
  for (const auto& [name, verdict] : expected) {
    const auto ops = read_history_file((dir / name).string());
    for (const bool partition : {true, false}) {
      EXPECT_EQ(check(ops, partition, 2).verdict, verdict)
          << name << (partition ? "" : " without partitioning");
    }
  }
  // c01-bad: key "7" read "x 0 0 y" after "x 0 3 y" was appended to it.
  const auto bad = check(read_history_file((dir / "c01-bad.txt").string()));
  EXPECT_EQ(bad.partition, "7");
}
#endif

}  // namespace
}  // namespace seer::check::string_kv_test
