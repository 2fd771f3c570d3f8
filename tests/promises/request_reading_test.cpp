// The recording client's parse of a request (RequestReading) as the promises checker takes it:
// used for a recorded request identical to the one parsed, never for another, and not needed at
// all (a history read from a file has none).
#include "promises/checker/request_reading.hpp"
#include "promises/checker/history_model.hpp"
#include "promises/model/parse.hpp"
#include "seer/check/history.hpp"
#include "seer/check/linearizability.hpp"
#include "seer/sim/history.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

// Named, not anonymous: the CI build puts this target's files in one TU.
namespace request_reading_test {

using json = nlohmann::json;
using seer::check::Operation;
using seer::check::Verdict;
using seer::promises::Request;
using seer::promises::RequestReading;

json envelope(const std::string& kind, json data) {
  return {{"kind", kind}, {"head", {{"corrId", "c"}, {"version", "v"}}}, {"data", std::move(data)}};
}

json pending(const std::string& id) {
  return {{"id", id},
          {"state", "pending"},
          {"param", json::object()},
          {"value", json::object()},
          {"tags", json::object()},
          {"timeoutAt", 1000},
          {"createdAt", 10}};
}

// p is created, then read: a linearizable history of two operations.
std::vector<Operation> create_then_get() {
  Operation create;
  create.id = 0;
  create.f = "promise.create";
  create.input = {{"request", envelope("promise.create", {{"id", "p"},
                                                          {"timeoutAt", 1000},
                                                          {"param", json::object()},
                                                          {"tags", json::object()}})},
                  {"now", 10}};
  create.output = {{"status", 200}, {"data", {{"promise", pending("p")}}}};
  create.invoke = 5;
  create.complete = 15;
  Operation get;
  get.id = 1;
  get.process = 1;
  get.f = "promise.get";
  get.input = {{"request", envelope("promise.get", {{"id", "p"}})}, {"now", 20}};
  get.output = {{"status", 200}, {"data", {{"promise", pending("p")}}}};
  get.invoke = 16;
  get.complete = 25;
  return {create, get};
}

// A reading of `source` whose parse is `parsed_from`'s (a forged one when they differ).
std::shared_ptr<const RequestReading> reading(const json& source, const json& parsed_from) {
  auto parsed = seer::promises::parse_request(parsed_from);
  return std::make_shared<const RequestReading>(
      std::make_shared<const json>(source),
      std::make_shared<const Request>(std::get<Request>(parsed)));
}

Verdict verdict(const std::vector<Operation>& ops) {
  seer::promises::register_history_model();
  const auto model = seer::check::make_model("promises");
  return seer::check::check_linearizable(ops, *model).verdict;
}

const json kGetQ = envelope("promise.get", {{"id", "q"}});

TEST(RequestReading, IsUsedForTheRequestItWasMadeFrom) {
  // The get's reading is of its very request, but its parse is forged (a get of q, which does not
  // exist): the verdict changing shows the checker read the request with it, not parsing it.
  auto ops = create_then_get();
  ASSERT_EQ(verdict(ops), Verdict::kLinearizable);
  ops[1].reading = reading(ops[1].input["request"], kGetQ);
  EXPECT_EQ(verdict(ops), Verdict::kNotLinearizable);
}

TEST(RequestReading, IsNotUsedForAnotherRequest) {
  // A reading of a get of q, attached to the get of p: the checker parses the get of p.
  auto ops = create_then_get();
  ops[1].reading = reading(kGetQ, kGetQ);
  EXPECT_EQ(verdict(ops), Verdict::kLinearizable);
}

TEST(RequestReading, IsNotUsedOnceTheRecordedRequestChanged) {
  // Recorded as a get of q and read so, then changed in place to a get of p.
  auto ops = create_then_get();
  ops[1].input["request"] = kGetQ;
  ops[1].reading = reading(ops[1].input["request"], kGetQ);
  ops[1].input["request"]["data"]["id"] = "p";
  EXPECT_EQ(verdict(ops), Verdict::kLinearizable);
}

TEST(RequestReading, IsNotUsedForARequestEqualOnlyAsNumbers) {
  // nlohmann's == takes 1000 and 1000.0 for equal; a parse may not (spec A4: integers).
  auto ops = create_then_get();
  json as_float = ops[0].input["request"];
  as_float["data"]["timeoutAt"] = 1000.0;
  ASSERT_EQ(as_float, ops[0].input["request"]);
  EXPECT_FALSE(seer::check::identical_json(as_float, ops[0].input["request"]));
  EXPECT_TRUE(seer::check::identical_json(ops[0].input["request"], ops[0].input["request"]));
  // Its parse (a create of q) is not used: the history stays linearizable.
  ops[0].reading = reading(as_float, envelope("promise.create", {{"id", "q"},
                                                                 {"timeoutAt", 1000},
                                                                 {"param", json::object()},
                                                                 {"tags", json::object()}}));
  EXPECT_EQ(verdict(ops), Verdict::kLinearizable);
}

TEST(RequestReading, ReachesTheOperationsFromAHistoryInMemoryButNotFromItsFile) {
  // A simulated run's entries, recorded with forged readings of their very requests.
  const auto ops = create_then_get();
  std::vector<seer::sim::HistoryEntry> entries;
  for (const auto& o : ops) {
    seer::sim::HistoryEntry invoke;
    invoke.index = static_cast<std::int64_t>(entries.size());
    invoke.time = o.invoke;
    invoke.process = o.process;
    invoke.f = o.f;
    invoke.value = o.input;
    invoke.reading = reading(o.input["request"], o.id == 1 ? kGetQ : o.input["request"]);
    entries.push_back(invoke);
    seer::sim::HistoryEntry ok;
    ok.index = static_cast<std::int64_t>(entries.size());
    ok.time = o.complete;
    ok.process = o.process;
    ok.type = seer::sim::OpType::kOk;
    ok.f = o.f;
    ok.value = o.output;
    entries.push_back(ok);
  }
  std::vector<seer::check::ClientEvent> events;
  for (const auto& e : entries) {
    seer::check::ClientEvent c;
    c.process = e.process;
    c.type = seer::sim::op_type_name(e.type);
    c.f = e.f;
    c.value = &e.value;
    c.time = e.time;
    c.line = static_cast<std::size_t>(e.index) + 1;
    c.reading = e.reading;
    events.push_back(c);
  }
  const auto paired = seer::check::pair_client_events(events, "memory");
  ASSERT_EQ(paired.size(), 2u);
  EXPECT_EQ(paired[1].reading, entries[2].reading);
  EXPECT_EQ(verdict(paired), Verdict::kNotLinearizable);  // the forged parse, used
  // The file has the JSON alone: the checker parses it, as ever.
  const auto read = seer::check::read_history_text(seer::sim::history_to_jsonl(entries), "file");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].reading, nullptr);
  EXPECT_EQ(verdict(read), Verdict::kLinearizable);
}

// A recorder that keeps no readings still records the invocation (HistoryRecorder::invoke_read).
TEST(RequestReading, ARecorderWithoutReadingsRecordsTheInvocation) {
  struct Plain final : seer::sim::HistoryRecorder {
    std::vector<json> invoked;
    void invoke(int, const std::string&, json value) override {
      invoked.push_back(std::move(value));
    }
    void complete(int, seer::sim::OpType, const std::string&, json, std::string) override {}
  } plain;
  seer::sim::HistoryRecorder& recorder = plain;
  recorder.invoke_read(0, "promise.get", {{"request", kGetQ}}, reading(kGetQ, kGetQ));
  ASSERT_EQ(plain.invoked.size(), 1u);
  EXPECT_EQ(plain.invoked[0]["request"], kGetQ);
}

}  // namespace request_reading_test
