// A sweep's result stream (src/cli/sweep_record.hpp, sweep_file.hpp): its lines read back as
// written, malformed input is an error naming the file and line, a torn last line is left out, and
// a resume refuses another sweep's file without touching it.
#include "sweep_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace seer::cli {
namespace {

SweepHeader example_header() {
  RunOptions o;
  o.ops = 20;
  o.faults = "crash,drop:3";
  o.services = {"kv=stale", "kv=linearizable"};  // the last for a name wins, as in a run
  return sweep_header(o, "counter", "cas", {1, 1000}, {1, 4, "--shard"});
}

SweepRecord failing_record(std::uint64_t seed) {
  sim::RunResult result;
  result.seed = seed;
  result.events = 1234;
  result.violation = sim::Violation{"acked-write-durable", "lost \"x\"\nacross a crash"};
  return sweep_record(result, 0.0123456789, "seer run counter --variant cas --seed 7");
}

SweepRecord passing_record(std::uint64_t seed) {
  sim::RunResult result;
  result.seed = seed;
  result.events = 99;
  return sweep_record(result, 0.5, "seer run counter --seed " + std::to_string(seed));
}

std::string without_newline(std::string line) {
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  return line;
}

TEST(SweepRecord, HeaderReadsBackAsWritten) {
  const auto h = example_header();
  EXPECT_EQ(h.services.at("kv"), "linearizable");
  EXPECT_EQ(h.seer_version, seer_version());
  EXPECT_EQ(h.seer_commit, seer_commit());
  const auto line = sweep_header_line(h);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto back = parse_sweep_header(without_newline(line));
  EXPECT_FALSE(sweep_header_difference(h, back, true));
  EXPECT_EQ(back.ops, 20);
  EXPECT_EQ(back.faults, "crash,drop:3");
  EXPECT_EQ(back.shard.index, 1u);
  EXPECT_EQ(back.shard.count, 4u);
  EXPECT_EQ(back.seeds.last, 1000u);
}

TEST(SweepRecord, HeaderWithoutACommitIsAnUnknownCommit) {
  auto h = example_header();
  h.seer_commit = "";
  auto line = without_newline(sweep_header_line(h));
  const std::string field = "\"seer_commit\":\"\",";
  ASSERT_NE(line.find(field), std::string::npos) << line;
  line.erase(line.find(field), field.size());
  EXPECT_EQ(parse_sweep_header(line).seer_commit, "");
}

TEST(SweepRecord, RecordsReadBackAsWritten) {
  const auto f = failing_record(7);
  EXPECT_DOUBLE_EQ(f.wall_s, 0.012346);  // microseconds
  const auto line = sweep_record_line(f);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "the message's newline is escaped";
  EXPECT_EQ(line.rfind("{\"seed\":7,\"verdict\":\"fail\"", 0), 0u) << line;
  const auto back = parse_sweep_record(without_newline(line));
  EXPECT_FALSE(sweep_record_difference(f, back));
  EXPECT_EQ(back.message, f.message);
  EXPECT_EQ(back.reproduce, f.reproduce);
  EXPECT_FALSE(back.liveness);

  auto live = f;
  live.liveness = true;
  EXPECT_TRUE(parse_sweep_record(without_newline(sweep_record_line(live))).liveness);

  const auto p = passing_record(8);
  const auto pline = sweep_record_line(p);
  EXPECT_EQ(pline.find("invariant"), std::string::npos);
  const auto pback = parse_sweep_record(without_newline(pline));
  EXPECT_TRUE(pback.ok);
  EXPECT_EQ(pback.events, 99u);
}

TEST(SweepRecord, BadUtf8AndLongMessagesStillReadBack) {
  auto f = failing_record(3);
  f.message = std::string("bad \xff\xfe bytes");
  EXPECT_NO_THROW(parse_sweep_record(without_newline(sweep_record_line(f))));
  sim::RunResult result;
  result.seed = 4;
  result.violation = sim::Violation{"inv", std::string(kMaxRecordMessage * 3, 'm')};
  const auto cut = sweep_record(result, 0, "r");
  EXPECT_LE(cut.message.size(), kMaxRecordMessage + 3);
  EXPECT_LT(sweep_record_line(cut).size(), kMaxSweepLine);
}

TEST(SweepRecord, RefusesMalformedLines) {
  const auto header = without_newline(sweep_header_line(example_header()));
  for (
      const char* line :
      {"", "{", "[]", "7", "{}",
       R"({"seed":-1,"verdict":"ok","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":1.5,"verdict":"ok","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":18446744073709551616,"verdict":"ok","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":1,"verdict":"maybe","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":1,"verdict":"fail","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":1,"verdict":"fail","invariant":"i","kind":"odd","message":"m","events":1,"wall_s":0,"reproduce":""})",
       R"({"seed":1,"verdict":"ok","events":-5,"wall_s":0,"reproduce":""})",
       R"({"seed":1,"verdict":"ok","events":1,"wall_s":-1,"reproduce":""})",
       R"({"seed":1,"verdict":"ok","events":1,"wall_s":"fast","reproduce":""})",
       R"({"seed":1,"verdict":"ok","events":1,"wall_s":0})"}) {
    EXPECT_THROW(parse_sweep_record(line), std::invalid_argument) << line;
  }
  EXPECT_THROW(parse_sweep_record(header), std::invalid_argument) << "a header is not a record";
  // Deep nesting is refused before nlohmann's recursion can overflow the stack.
  EXPECT_THROW(parse_sweep_record(std::string(100000, '[') + std::string(100000, ']')),
               std::invalid_argument);
}

TEST(SweepRecord, RefusesMalformedHeaders) {
  const auto good = without_newline(sweep_header_line(example_header()));
  const auto replaced = [&](const std::string& from, const std::string& to) {
    auto text = good;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  for (const auto& line :
       {std::string("{\"seer_trace\":1}"), std::string("not json"),
        replaced("\"seer_sweep\":1", "\"seer_sweep\":2"),
        replaced("\"seer_sweep\":1", "\"seer_sweep\":\"1\""),
        replaced("\"count\":4", "\"count\":0"), replaced("\"index\":1", "\"index\":4"),
        replaced("\"count\":4", "\"count\":1000000001"),
        replaced("\"first\":1,", "\"first\":1001,"),
        replaced("\"last\":1000", "\"last\":5000000000"), replaced("\"ops\":20", "\"ops\":0"),
        replaced("\"clients\":0", "\"clients\":-1"),
        replaced("\"kv\":\"linearizable\"", "\"kv\":1"),
        replaced("\"no_heal\":false", "\"no_heal\":0"), replaced("\"system\":\"counter\",", "")}) {
    EXPECT_THROW(parse_sweep_header(line), std::invalid_argument) << line;
  }
  try {
    parse_sweep_header(replaced("\"seer_sweep\":1", "\"seer_sweep\":2"));
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("format version 2"), std::string::npos) << e.what();
  }
}

TEST(SweepRecord, DifferencesNameTheFirstField) {
  const auto a = example_header();
  auto b = a;
  b.shard.index = 2;
  EXPECT_FALSE(sweep_header_difference(a, b, false)) << "shards of one sweep";
  EXPECT_EQ(sweep_header_difference(a, b, true)->field, "shard");
  b.ops = 50;
  b.seer_version = "9.9.9";
  const auto d = sweep_header_difference(a, b, false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->field, "seer_version");
  EXPECT_EQ(d->second, "9.9.9");
  // Two builds of one release: told apart by their commits, an unknown one named so.
  b = a;
  b.seer_commit = "0123abc";
  const auto commit = sweep_header_difference(a, b, false);
  ASSERT_TRUE(commit);
  EXPECT_EQ(commit->field, "seer_commit");
  EXPECT_EQ(commit->second, "0123abc");
  EXPECT_EQ(commit->first, a.seer_commit.empty() ? "unknown" : a.seer_commit);
  b = a;
  b.system = "a\nb";
  EXPECT_EQ(sweep_header_difference(a, b, false)->second.find('\n'), std::string::npos)
      << "an error stays on one line";
  b = a;
  b.services["kv"] = "stale";
  EXPECT_EQ(sweep_header_difference(a, b, false)->field, "services");

  auto r = failing_record(7);
  auto s = r;
  s.wall_s = 99;
  s.reproduce = "elsewhere";
  EXPECT_FALSE(sweep_record_difference(r, s)) << "wall time and the program's name may differ";
  s.events += 1;
  EXPECT_EQ(sweep_record_difference(r, s)->field, "events");
  EXPECT_EQ(sweep_record_difference(r, passing_record(7))->field, "verdict");
}

// A file in a fresh directory, removed with it.
class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("seer-sweep-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The error of reading `path`, or "" if it reads.
  static std::string read_error(const std::string& path) {
    try {
      read_sweep_file(
          path, [](const SweepHeader&) {}, [](const SweepRecord&, std::uint64_t) {});
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(SweepFile, ReadsRecordsAndLeavesOutATornLastLine) {
  const auto file = path("out.jsonl");
  const auto whole = sweep_header_line(example_header()) + sweep_record_line(failing_record(300)) +
                     sweep_record_line(passing_record(251));
  const auto torn = sweep_record_line(passing_record(252)).substr(0, 20);
  write(file, whole + torn);
  std::vector<std::uint64_t> seeds;
  const auto read = read_sweep_file(
      file, [](const SweepHeader& h) { EXPECT_EQ(h.system, "counter"); },
      [&](const SweepRecord& r, std::uint64_t line) {
        seeds.push_back(r.seed);
        EXPECT_EQ(line, seeds.size() + 1);
      });
  EXPECT_EQ(seeds, (std::vector<std::uint64_t>{300, 251}));
  EXPECT_EQ(read.records, 2u);
  EXPECT_TRUE(read.torn);
  EXPECT_EQ(read.complete_bytes, whole.size());
}

TEST_F(SweepFile, BadInputNamesTheFileAndLine) {
  const auto header = sweep_header_line(example_header());
  const auto record = sweep_record_line(passing_record(260));
  const auto cases = std::vector<std::pair<std::string, std::string>>{
      {"", "empty, not a seer sweep output"},
      {"{\"seer_trace\":1}\n{\"seq\":1}\n", ":1: not a seer sweep output (no \"seer_sweep\""},
      {std::string("\x7f"
                   "ELF\x01\x02\n",
                   7),
       ":1: not a seer sweep output (not JSON)"},
      {header.substr(0, 30), ":1: an unfinished header line"},
      {header + record + "{\"seed\":\n" + record, ":3: not a sweep record (not JSON)"},
      {header + record + "\n" + record, ":3: not a sweep record"},
      {header + sweep_record_line(passing_record(7)),
       ":2: seed 7 is not in the header's shard 1/4 "
       "(seeds 251..500)"},
      {header + header, ":2: a second sweep header"},
      {header + std::string(kMaxSweepLine + 1, 'x') + "\n", ":2: a line longer than"},
      {std::string(kMaxSweepLine + 1, 'x'), ":1: not a seer sweep output (a line longer than"},
  };
  for (const auto& [text, expected] : cases) {
    const auto file = path("bad.jsonl");
    write(file, text);
    const auto error = read_error(file);
    EXPECT_NE(error.find(file), std::string::npos) << error;
    EXPECT_NE(error.find(expected), std::string::npos)
        << "got: " << error << "\nexpected: " << expected;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_NE(read_error(path("missing.jsonl")).find("cannot read"), std::string::npos);
  EXPECT_NE(read_error(dir_.string()).find("cannot read"), std::string::npos);
}

TEST_F(SweepFile, OutputStartsWithTheHeaderAndResumes) {
  const auto file = path("out.jsonl");
  const auto header = example_header();
  const auto none = [](const SweepRecord&, std::uint64_t) {
    FAIL() << "a new file has no records";
  };
  {
    SweepOutput out(file, header, none);
    out.append(sweep_record_line(passing_record(251)));
    out.append(sweep_record_line(failing_record(252)));
    out.close();
  }
  EXPECT_EQ(read(file).rfind(sweep_header_line(header), 0), 0u);
  // A sweep killed mid-line: the resume reads what is whole and cuts the rest off.
  const auto whole = read(file);
  std::ofstream(file, std::ios::app) << sweep_record_line(passing_record(253)).substr(0, 10);
  std::vector<std::uint64_t> seeds;
  {
    SweepOutput out(file, header,
                    [&](const SweepRecord& r, std::uint64_t) { seeds.push_back(r.seed); });
    EXPECT_EQ(read(file), whole) << "the torn line is cut off";
    out.append(sweep_record_line(passing_record(253)));
    out.close();
  }
  EXPECT_EQ(seeds, (std::vector<std::uint64_t>{251, 252}));
  EXPECT_EQ(read(file), whole + sweep_record_line(passing_record(253)));
}

TEST_F(SweepFile, ResumeRefusesAnotherSweepAndLeavesItAlone) {
  const auto file = path("out.jsonl");
  const auto none = [](const SweepRecord&, std::uint64_t) {};
  { SweepOutput(file, example_header(), none).close(); }
  const auto before = read(file);
  auto other = example_header();
  other.ops = 21;
  try {
    SweepOutput out(file, other, none);
    FAIL() << "resumed another sweep's file";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("ops 20 in the file, 21 here"), std::string::npos)
        << e.what();
  }
  other = example_header();
  other.shard.index = 2;
  EXPECT_THROW(SweepOutput(file, other, none), UsageError);
  EXPECT_EQ(read(file), before);
  // Another format is refused, never overwritten.
  const auto trace = path("trace.jsonl");
  write(trace, "{\"seer_trace\":1}\n");
  EXPECT_THROW(SweepOutput(trace, example_header(), none), UsageError);
  EXPECT_EQ(read(trace), "{\"seer_trace\":1}\n");
  write(trace, "no newline");
  EXPECT_THROW(SweepOutput(trace, example_header(), none), UsageError);
  EXPECT_EQ(read(trace), "no newline");
  EXPECT_THROW(SweepOutput(dir_.string(), example_header(), none), UsageError);
}

TEST_F(SweepFile, ATornHeaderStartsAfresh) {
  const auto file = path("out.jsonl");
  const auto line = sweep_header_line(example_header());
  write(file, line.substr(0, line.size() / 2));
  {
    SweepOutput(file, example_header(), [](const SweepRecord&, std::uint64_t) {}).close();
  }
  EXPECT_EQ(read(file), line);
}

TEST_F(SweepFile, OneWriterAtATime) {
  const auto file = path("out.jsonl");
  const auto none = [](const SweepRecord&, std::uint64_t) {};
  SweepOutput first(file, example_header(), none);
  try {
    SweepOutput second(file, example_header(), none);
    FAIL() << "two sweeps writing one file";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("another seer sweep is writing it"), std::string::npos)
        << e.what();
  }
  first.close();
  EXPECT_NO_THROW(SweepOutput(file, example_header(), none));
}

}  // namespace
}  // namespace seer::cli
