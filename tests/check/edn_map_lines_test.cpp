// The line reader for flat EDN op maps (Porcupine's kv histories): whatever it reads must become
// the operations the EDN reader's maps become, and whatever it does not take must go to the EDN
// reader (same operations, same errors).
#include "edn_map_lines.hpp"
#include "edn_reader.hpp"
#include "seer/check/history.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace seer::check {
namespace {

// The general path: every form through the EDN reader, then the maps paired.
std::vector<Operation> through_edn_reader(const std::string& text) {
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> lines;
  for (auto& [form, line] : read_edn_forms(text, "h.edn")) {
    events.push_back(std::move(form));
    lines.push_back(line);
  }
  auto ops = pair_operations(events, lines, "h.edn");
  // As read_history_text: content without a single event is the wrong file, not a history.
  if (events.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos) {
    throw HistoryError("h.edn: no history events found (read as edn)");
  }
  return ops;
}

void expect_same(const std::vector<Operation>& a, const std::vector<Operation>& b,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id) << what << " op " << i;
    EXPECT_EQ(a[i].process, b[i].process) << what << " op " << i;
    EXPECT_EQ(a[i].f, b[i].f) << what << " op " << i;
    EXPECT_EQ(a[i].input, b[i].input) << what << " op " << i;
    EXPECT_EQ(a[i].input.type(), b[i].input.type()) << what << " op " << i;
    EXPECT_EQ(a[i].output, b[i].output) << what << " op " << i;
    EXPECT_EQ(a[i].output.type(), b[i].output.type()) << what << " op " << i;
    EXPECT_EQ(a[i].key, b[i].key) << what << " op " << i;
    EXPECT_EQ(a[i].invoke, b[i].invoke) << what << " op " << i;
    EXPECT_EQ(a[i].complete, b[i].complete) << what << " op " << i;
    EXPECT_EQ(a[i].line, b[i].line) << what << " op " << i;
  }
}

// Reads `text` both ways; `direct`: whether the line reader must take it.
void expect_read_alike(const std::string& text, bool direct) {
  EXPECT_EQ(read_edn_map_lines(text).has_value(), direct) << text;
  std::string fast_error;
  std::string general_error;
  std::vector<Operation> fast;
  std::vector<Operation> general;
  try {
    fast = read_history_text(text, "h.edn", HistoryFormat::kEdn);
  } catch (const HistoryError& e) {
    fast_error = e.what();
  }
  try {
    general = through_edn_reader(text);
  } catch (const HistoryError& e) {
    general_error = e.what();
  }
  EXPECT_EQ(fast_error, general_error) << text;
  expect_same(fast, general, text);
}

std::string pair(const std::string& invoke, const std::string& ok) {
  return "{:process 0, :type :invoke, " + invoke + "}\n{:process 0, :type :ok, " + ok + "}\n";
}

TEST(EdnMapLines, ReadsWhatTheEdnReaderReads) {
  const std::string put = R"(:f :put, :key "k", :value "x 0 0 y")";
  expect_read_alike(pair(put, put), true);
  expect_read_alike(pair(R"(:f :get, :key "k", :value nil)", R"(:f :get, :key "k", :value "")"),
                    true);
  // Spacing, commas, CRLF, blank lines, field order, values of every kind read directly.
  expect_read_alike(
      "  {:process 3 :type :invoke :f :w :value 1}\r\n\r\n"
      "{:value -2, :f :w, :type :ok, :process 3,}  ,\r\n",
      true);
  expect_read_alike(pair(R"(:f :a, :key 7, :value :kw)", R"(:f :a, :key 7, :value "a}b;c, d")"),
                    true);
  expect_read_alike(
      pair(R"(:f :a, :value "", :time 10, :index 0)", R"(:f :a, :value -0, :time 25, :index 1)"),
      true);
  expect_read_alike(pair(R"(:f :a, :time nil)", R"(:f :a, :time :x)"), true);
  // A nemesis between the two: skipped when paired, but it counts for the events' indices.
  expect_read_alike(
      "{:process 0, :type :invoke, :f :r, :value nil}\n"
      "{:process :nemesis, :type :info, :f :start, :value nil}\n"
      "{:process 0, :type :ok, :f :r, :value 3}\n",
      true);
  // An info and a fail completion, and an invocation never completed.
  expect_read_alike(
      "{:process 0, :type :invoke, :f :r}\n{:process 0, :type :info, :f :r}\n"
      "{:process 1, :type :invoke, :f :w}\n{:process 1, :type :fail, :f :w}\n"
      "{:process 2, :type :invoke, :f :w}\n",
      true);
}

TEST(EdnMapLines, LeavesAnythingElseToTheEdnReader) {
  for (const std::string value : {R"("a\"b")", "[1 2]", "{:a 1}", "007", "+1", "1N", "1.5", "true",
                                  "#{1}", ":a/b", "99999999999999999999", R"("s"x)"}) {
    expect_read_alike(pair(":f :w, :value " + value, ":f :w, :value " + value), false);
  }
  expect_read_alike(pair(":f :r, :error :timed-out", ":f :r"), false);
  expect_read_alike(pair(":f :r, :f :w", ":f :r"), false);     // a repeated key
  expect_read_alike(pair(":f :r", ":f :r, :extra 1"), false);  // another field
  expect_read_alike("{:process 0, :type :invoke, :f :r} {:process 0, :type :ok, :f :r}\n", false);
  expect_read_alike("{:process 0, :type :invoke,\n :f :r}\n{:process 0, :type :ok, :f :r}\n",
                    false);
  expect_read_alike("; a comment\n" + pair(":f :r", ":f :r"), false);
  expect_read_alike("[" + pair(":f :r", ":f :r") + "]", false);
  expect_read_alike("{:process 99999999999, :type :invoke, :f :r}\n", false);  // not an int
  expect_read_alike(pair(":f \"r\"", ":f :r"), false);
  expect_read_alike("{:process 0, :f :r}\n", false);  // no type: the EDN reader's error
  expect_read_alike(" , \n", false);
}

TEST(EdnMapLines, ErrorsAreTheEdnReadersErrors) {
  expect_read_alike("{:process 0, :type :begin, :f :r}\n", true);  // unknown type
  expect_read_alike("{:process 0, :type :ok, :f :r}\n", true);     // completion with no invocation
  expect_read_alike("{:process 0, :type :invoke, :f :r}\n{:process 0, :type :invoke, :f :r}\n",
                    true);
  expect_read_alike(pair(":f :r, :time 5", ":f :r, :time 4"), true);  // completion before it
}

#ifdef SEER_PORCUPINE_DIR
TEST(EdnMapLines, PorcupineKvCorpusReadsDirectlyAndAlike) {
  const std::filesystem::path dir = SEER_PORCUPINE_DIR;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    expect_read_alike(text.str(), true);
    ++files;
  }
  EXPECT_GE(files, 3);
}
#endif

}  // namespace
}  // namespace seer::check
