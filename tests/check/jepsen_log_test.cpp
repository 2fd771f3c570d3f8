// The Jepsen log reader (`--format jepsen-log`): its fast path for the values register tests log
// must give what the EDN reader gives, and Porcupine's etcd corpus (not in the tree: fetched beside
// the checkout into ../porcupine-etcd, BENCHMARKS.md) gets the verdicts Porcupine's tests expect.
#include "edn_reader.hpp"
#include "seer/check/history.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/check/model_registry.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>

namespace seer::check {
namespace {

TEST(JepsenLogReader, EveryValueReadsAsTheEdnReaderReadsIt) {
  const std::vector<std::string> values = {"nil",
                                           "3",
                                           "-2",
                                           "0",
                                           "-0",
                                           "007",
                                           "[3 0]",
                                           "[3  0]",
                                           "[-1 2]",
                                           "[0 07]",
                                           "[1 2 3]",
                                           "[]",
                                           ":timed-out",
                                           ":x",
                                           ":a/b",
                                           "\"s\"",
                                           "{:a 1}",
                                           "1.5",
                                           "12N",
                                           "3\r",
                                           "nil\r",
                                           "[3 0]\r",
                                           "true",
                                           "99999999999999999999",
                                           "-9223372036854775808",
                                           "(1 2)",
                                           "#{1}"};
  for (const auto& v : values) {
    const std::string text = "INFO  jepsen.util - 1\t:invoke\t:write\t" + v + "\n" +
                             "INFO  jepsen.util - 1\t:ok\t:write\t" + v + "\n";
    const auto ops = read_history_text(text, "log", HistoryFormat::kJepsenLog);
    ASSERT_EQ(ops.size(), 1u) << v;
    auto expected = read_edn_value(v, "v");
    if (expected.is_string() && expected.get<std::string>() == ":timed-out") expected = nullptr;
    EXPECT_EQ(ops[0].input, expected) << v;
    EXPECT_EQ(ops[0].output, expected) << v;
    EXPECT_EQ(ops[0].input.type(), expected.type()) << v;
  }
}

TEST(JepsenLogReader, ProcessesAsBefore) {
  // Leading digits make a client process (as std::stoll read them); anything else is skipped.
  const std::string text =
      "INFO  jepsen.util - 12x\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 12\t:ok\t:read\t1\n"
      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
      "INFO  jepsen.util - 99999999999999999999999\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - -3\t:invoke\t:write\t2\n"
      "INFO  jepsen.util - -3\t:ok\t:write\t2\n"
      "INFO  jepsen.util - +4\t:invoke\t:write\t2\n"
      "INFO  jepsen.util - 4\t:ok\t:write\t2";  // no newline at the end
  const auto ops = read_history_text(text, "log");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].process, 12);
  EXPECT_EQ(ops[0].output, 1);
  EXPECT_EQ(ops[1].process, -3);
  EXPECT_EQ(ops[2].process, 4);
  EXPECT_FALSE(ops[2].unknown());
  EXPECT_EQ(ops[2].line, 7u);
}

TEST(PorcupineEtcdCorpus, EveryHistoryGetsPorcupinesVerdict) {
  const std::filesystem::path dir = SEER_PORCUPINE_ETCD_DIR;
  if (!std::filesystem::exists(dir / "etcd_000.log")) GTEST_SKIP() << "no corpus at " << dir;
  // Porcupine's porcupine_test.go: TestEtcdJepsenNNN expects these linearizable, the rest not
  // (and there is no 095: "etcd cluster failed to start up in test 95").
  const std::set<int> linearizable = {2,  5,  7,  18, 25, 31, 38, 45, 48,  49,  51, 53,
                                      56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102};
  const auto model = make_model("cas-register");
  int checked = 0;
  for (int n = 0; n <= 102; ++n) {
    if (n == 95) continue;
    char name[32];
    std::snprintf(name, sizeof name, "etcd_%03d.log", n);
    const auto ops = read_history_file((dir / name).string());
    const auto result = check_linearizable(ops, *model);
    EXPECT_EQ(result.verdict,
              linearizable.count(n) ? Verdict::kLinearizable : Verdict::kNotLinearizable)
        << name;
    ++checked;
  }
  EXPECT_EQ(checked, 102);
}

}  // namespace
}  // namespace seer::check
