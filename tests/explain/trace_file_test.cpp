// Reading traces back: a recorded run round-trips; every kind of damage is one clear TraceError.
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

namespace seer::explain {
namespace {

using testing::parse;
using testing::record;

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const TraceError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceFile, ReadsARecordedRun) {
  const auto t = testing::recorded("counter", "naive", 1);
  ASSERT_FALSE(t.events.empty());
  EXPECT_EQ(t.header["system"], "counter");
  for (std::size_t i = 0; i < t.events.size(); ++i) EXPECT_EQ(t.events[i].seq, i + 1);
  EXPECT_EQ(t.events.size(), t.event_lines.size());
  ASSERT_TRUE(t.violation().is_object());
  EXPECT_EQ(t.violation()["invariant"], "increments-counted-once");
  // Processes resolve to lanes; the network is the sim lane.
  bool saw_client = false;
  for (const auto& e : t.events) {
    if (t.lane_name(e.lane) == "client2") saw_client = true;
    if (e.kind == EventKind::kViolation) {
      EXPECT_EQ(e.lane, kSimLane);
    }
  }
  EXPECT_TRUE(saw_client);
}

TEST(TraceFile, RejectsDamageWithTheLineNumber) {
  const auto good = record("counter", "naive", 1);
  const auto first_break = good.find('\n');
  const auto header = good.substr(0, first_break + 1);
  // Truncated: no footer.
  const auto cut = good.substr(0, good.find('\n', first_break + 1) + 1);
  EXPECT_NE(error_of(cut).find("test.jsonl:2: truncated trace"), std::string::npos)
      << error_of(cut);
  // A line that is not JSON.
  EXPECT_NE(error_of(header + "{\"seq\":1,\n").find("test.jsonl:2: corrupt trace"),
            std::string::npos);
  // Not a seer trace at all.
  EXPECT_NE(error_of("{\"a\":1}\n").find("not a seer trace"), std::string::npos);
  EXPECT_NE(error_of("").find("empty trace"), std::string::npos);
  // Events out of order, a parent from the future, an unknown process, a missing field.
  const std::string ev = R"({"seq":1,"time":0,"process":"kv","kind":"start","parents":[]})";
  EXPECT_NE(
      error_of(header + R"({"seq":2,"time":0,"process":"kv","kind":"start","parents":[]})" + "\n")
          .find("event 2 where 1 was expected"),
      std::string::npos);
  EXPECT_NE(
      error_of(header + R"({"seq":1,"time":0,"process":"kv","kind":"start","parents":[4]})" + "\n")
          .find("does not precede"),
      std::string::npos);
  EXPECT_NE(
      error_of(header + R"({"seq":1,"time":0,"process":"zz","kind":"start","parents":[]})" + "\n")
          .find("unknown process 'zz'"),
      std::string::npos);
  EXPECT_NE(error_of(header + R"({"seq":1,"process":"kv","kind":"start","parents":[]})" + "\n")
                .find("test.jsonl:2:"),
            std::string::npos);
  // A footer that miscounts, and content after the footer.
  EXPECT_NE(
      error_of(header + ev + "\n" + R"({"end":true,"events":5})" + "\n").find("footer counts"),
      std::string::npos);
  EXPECT_NE(error_of(header + ev + "\n" + R"({"end":true,"events":1})" + "\n" + ev + "\n")
                .find("after the footer"),
            std::string::npos);
  EXPECT_EQ(error_of(header + ev + "\n" + R"({"end":true,"events":1})" + "\n"), "");
}

}  // namespace
}  // namespace seer::explain
