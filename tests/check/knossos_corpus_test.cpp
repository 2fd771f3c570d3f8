// Every Knossos history in shared/corpora/knossos must get the verdict Knossos' own tests expect.
#include "seer/check/linearizability.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace seer::check {
namespace {

struct Case {
  std::string file, model, initial, expected;
};

std::vector<Case> manifest() {
  std::vector<Case> cases;
  std::ifstream in(std::string(SEER_KNOSSOS_DIR) + "/MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    Case c;
    std::getline(row, c.file, '\t');
    std::getline(row, c.model, '\t');
    std::getline(row, c.initial, '\t');
    std::getline(row, c.expected, '\t');
    if (!c.file.empty()) cases.push_back(c);
  }
  return cases;
}

TEST(KnossosCorpus, EveryRegisterHistoryGetsItsKnownVerdict) {
  if (!std::filesystem::exists(SEER_KNOSSOS_DIR))
    GTEST_SKIP() << "no corpus at " << SEER_KNOSSOS_DIR;
  const auto cases = manifest();
  ASSERT_GT(cases.size(), 100u);
  int checked = 0;
  for (const auto& c : cases) {
    auto model = make_model(c.model);
    ASSERT_NE(model, nullptr) << c.model;
    model->set_init(c.initial);
    const auto ops = read_history_file(std::string(SEER_KNOSSOS_DIR) + "/" + c.file);
    CheckOptions options;
    options.timeout = std::chrono::milliseconds(60'000);
    const auto r = check_linearizable(ops, *model, options);
    EXPECT_EQ(verdict_name(r.verdict), c.expected) << c.file;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));  // every history in the corpus
}

// Knossos' tests pin the first operation that cannot be linearized for some histories.
TEST(KnossosCorpus, ViolationsNameTheOperationKnossosNames) {
  if (!std::filesystem::exists(SEER_KNOSSOS_DIR)) GTEST_SKIP() << "no corpus";
  struct Pin {
    const char* file;
    int process;
    int value;
  };
  for (const Pin& pin : {Pin{"cas-register/bad/bad-analysis.edn", 21, 2},
                         Pin{"cas-register/bad/cas-failure.edn", 70, 0},
                         Pin{"cas-register/bad/immediate-failure.edn", 1, 3},
                         Pin{"cas-register/bad/rethink-fail-smaller.edn", 12, 3}}) {
    auto model = make_model("cas-register");
    model->set_init("0");
    const auto ops = read_history_file(std::string(SEER_KNOSSOS_DIR) + "/" + pin.file);
    const auto r = check_linearizable(ops, *model);
    ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << pin.file;
    const auto& op = ops[static_cast<std::size_t>(r.failing_op)];
    EXPECT_EQ(op.process, pin.process) << pin.file << ": " << r.explanation;
    EXPECT_EQ(op.f, "read") << pin.file;
    EXPECT_EQ(op.output, pin.value) << pin.file;
  }
}

TEST(MultiRegister, TransactionsAreAtomicAcrossKeys) {
  auto model = make_model("multi-register");
  model->set_init("{:x 0 :y 0}");
  // A reader that sees the new x and the old y around a transaction that wrote both: not atomic.
  const std::string torn =
      R"([{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
 {:process 1, :type :ok, :f :txn, :value [[:read :x 1] [:read :y 0]]}])";
  const auto r = check_linearizable(read_history_text(torn, "t.edn"), *model);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.explanation.find("returned"), std::string::npos) << r.explanation;
  const std::string fine =
      R"([{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
 {:process 1, :type :ok, :f :txn, :value [[:read :x 0] [:read :y 0]]}
 {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}])";
  EXPECT_EQ(check_linearizable(read_history_text(fine, "f.edn"), *model).verdict,
            Verdict::kLinearizable);
  EXPECT_THROW(model->set_init("[1 2]"), std::invalid_argument);
}

TEST(EdnReader, ParsesJepsenMapsWithLinesAndNemesis) {
  const std::string text = R"([{:process 0, :type :invoke, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value "Cut off [:n3 #[:n4]]"}
 ; a comment
 {:process 0, :type :ok, :f :write, :value 1, :time 12N}
 #_{:ignored true}
 {:process 1, :type :invoke, :f :cas, :value [1 2]}
 {:process 1, :type :fail, :f :cas, :value [1 2], :error :timed-out}])";
  const auto ops = read_history_text(text, "h.edn");
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].f, "write");
  EXPECT_EQ(ops[0].input, 1);
  EXPECT_EQ(ops[1].f, "cas");
  EXPECT_TRUE(ops[1].unknown()) << "a timed-out failure may have happened";
}

TEST(JepsenLogReader, ReadsTabAndSpaceSeparatedLines) {
  const std::string text =
      "2017-01-01 12:00:00,000{GMT}\tINFO  [jepsen worker 3] jepsen.util - 3\t:invoke\t:cas\t[3 "
      "0]\n"
      "some other log line\n"
      "INFO  jepsen.util - :nemesis :info :start nil\n"
      "INFO  jepsen.util - 3   :ok     :cas    [3 0]\n"
      "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n"
      "INFO  jepsen.util - 5\t:invoke\t:write\t1\n"
      "INFO  jepsen.util - 5\t:info\t:write\t:timed-out\n";
  const auto ops = read_history_text(text, "jepsen.log");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].f, "cas");
  EXPECT_EQ(ops[0].input, nlohmann::json::array({3, 0}));
  EXPECT_FALSE(ops[0].unknown());
  EXPECT_TRUE(ops[1].unknown()) << "a timed-out read may have happened";
  EXPECT_TRUE(ops[2].unknown());
  EXPECT_THROW(read_history_text("INFO  jepsen.util - 3\n", "x"), HistoryError);
}

// Found by the fuzzer: invalid UTF-8 inside a string made JSON rendering throw a type_error.
TEST(EdnReader, InvalidUtf8IsAnInputErrorNotACrash) {
  const std::string text =
      "[{:process 0, :type :invoke, :f :write, :value \"\xF6\xA4\"}\n"
      " {:process 0, :type :ok, :f :write, :value 1}]";
  const auto ops = read_history_text(text, "h.edn");
  // Registers hold strings (issue 21), invalid UTF-8 or not: the verdict renders as JSON text.
  auto model = make_model("register");
  const auto result = check_linearizable(ops, *model);
  EXPECT_EQ(result.verdict, Verdict::kLinearizable);
  EXPECT_NO_THROW(to_text(result.to_json(ops)));
  auto broken = ops;
  broken.push_back(ops[0]);
  broken.back().id = 1;
  broken.back().f = "read";
  broken.back().output = "\xF6\xA5";
  broken.back().invoke = 10;
  broken.back().complete = 11;
  const auto violation = check_linearizable(broken, *model);
  EXPECT_EQ(violation.verdict, Verdict::kNotLinearizable);
  EXPECT_NO_THROW(to_text(violation.to_json(broken)));
  auto kv = make_model("kv");
  EXPECT_THROW(check_linearizable(ops, *kv), HistoryError);  // no key
}

TEST(EdnReader, MalformedEdnNamesTheLine) {
  const std::string text = "[{:process 0, :type :invoke, :f :read}\n {:process 0 :type}\n]";
  try {
    read_history_text(text, "h.edn");
    FAIL() << "expected an error";
  } catch (const HistoryError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("h.edn:2: ", 0), 0u) << e.what();
  }
  EXPECT_THROW(read_history_text("[{:process 0, :type :invoke", "x"), HistoryError);
  EXPECT_THROW(read_history_text("{:process \"unterminated}", "x"), HistoryError);
}

}  // namespace
}  // namespace seer::check
