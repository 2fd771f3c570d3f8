// A KV write's decoded value (decoded_value.hpp): the simulated store keeps it beside the version
// it wrote, and stores the value intact whether it moves it out of the request (an unrecorded run)
// or copies it (a recorded one, whose trace renders the request later); a get's reply carries the
// version's.
#include "seer/services/kv.hpp"
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace seer::services {
namespace {

struct DecodedNumber final : DecodedValue {
  explicit DecodedNumber(int n) : n(n) {}
  int n;
};

// The i-th write's value (built outside the coroutine: g++ 12 rejects an initializer list there).
nlohmann::json written_value(int i) {
  return {{"n", i}, {"pad", std::string(64, 'x')}};
}
nlohmann::json last_value() {
  return {{"n", -1}};
}

// Writes k = written_value(i) for i = 0..writes-1 (create, then updates), each with its decoded
// DecodedNumber, then one put without a decoded value.
sim::Task<void> decoded_writer(sim::Env& env, sim::ProcessId kv, int writes, int& acknowledged) {
  KvClient client(env, kv, sim::milliseconds(50));
  std::int64_t revision = 0;
  for (int i = 0; i < writes; ++i) {
    auto decoded = std::make_shared<const DecodedNumber>(i);
    KvResult w;
    if (i == 0) {
      w = co_await client.create("k", written_value(i), decoded);
    } else {
      w = co_await client.update("k", written_value(i), revision, decoded);
    }
    if (!w.ok()) co_return;
    revision = w.revision;
    ++acknowledged;
  }
  const auto put = co_await client.put("k", last_value());
  if (put.ok()) ++acknowledged;
}

void check_decoded_writes(bool trace) {
  sim::RunConfig config;
  config.seed = 7;
  config.faults = std::vector<sim::FaultKind>{};
  config.record_trace = trace;
  sim::Simulator sim(config);
  const auto kv = add_kv_service(sim, "kv", kv_config("linearizable"));
  int acknowledged = 0;
  constexpr int kWrites = 5;
  sim.add_process(
      "client",
      [&](sim::Env& env) { return decoded_writer(env, kv.process, kWrites, acknowledged); },
      {.crashable = false, .client = true});
  ASSERT_TRUE(sim.run().ok());
  ASSERT_EQ(acknowledged, kWrites + 1);
  const auto& versions = kv.truth->versions("k");
  ASSERT_EQ(versions.size(), static_cast<std::size_t>(kWrites + 1));
  for (int i = 0; i < kWrites; ++i) {
    const auto& v = versions[static_cast<std::size_t>(i)];
    EXPECT_EQ(v.value, written_value(i)) << i;
    const auto* decoded = dynamic_cast<const DecodedNumber*>(v.decoded.get());
    ASSERT_NE(decoded, nullptr) << i;
    EXPECT_EQ(decoded->n, i);
  }
  EXPECT_EQ(versions.back().value, last_value());
  EXPECT_EQ(versions.back().decoded, nullptr);  // a write without one keeps none
}

TEST(KvDecoded, AnUnrecordedRunKeepsTheDecodedValueAndTheValueIntact) {
  check_decoded_writes(false);
}

TEST(KvDecoded, ARecordedRunKeepsTheDecodedValueAndTheValueIntact) {
  check_decoded_writes(true);
}

// What a reader's get_shared and list_shared saw (kv_client.hpp).
struct SharedReads {
  std::optional<int> decoded_after_create;  // the version's DecodedNumber, if the reply had one
  nlohmann::json value_after_create;
  bool decoded_after_put = true;  // whether the reply to the read after a plain put had one
  nlohmann::json listed;
};

sim::Task<void> shared_reader(sim::Env& env, sim::ProcessId kv, SharedReads& out) {
  KvClient client(env, kv, sim::milliseconds(50));
  const auto created =
      co_await client.create("k", written_value(0), std::make_shared<const DecodedNumber>(7));
  if (!created.ok()) co_return;
  const auto read = co_await client.get_shared("k", KvRead::kLinearizable);
  if (!read.ok()) co_return;
  if (const auto* d = dynamic_cast<const DecodedNumber*>(read.decoded.get())) {
    out.decoded_after_create = d->n;
  }
  out.value_after_create = *read.value;
  if (!(co_await client.put("k", last_value())).ok()) co_return;
  const auto again = co_await client.get_shared("k", KvRead::kLinearizable);
  if (!again.ok()) co_return;
  out.decoded_after_put = again.decoded != nullptr;
  const auto listed = co_await client.list_shared("", KvRead::kLinearizable);
  if (listed.ok()) out.listed = *listed.value;
}

TEST(KvDecoded, AReadSharesTheVersionsDecodedValueAndAListSharesItsKeys) {
  sim::RunConfig config;
  config.seed = 7;
  config.faults = std::vector<sim::FaultKind>{};
  sim::Simulator sim(config);
  const auto kv = add_kv_service(sim, "kv", kv_config("linearizable"));
  SharedReads reads;
  sim.add_process("client", [&](sim::Env& env) { return shared_reader(env, kv.process, reads); },
                  {.crashable = false, .client = true});
  ASSERT_TRUE(sim.run().ok());
  EXPECT_EQ(reads.decoded_after_create, 7);
  EXPECT_EQ(reads.value_after_create, written_value(0));
  EXPECT_FALSE(reads.decoded_after_put);  // the version a plain put wrote has none
  EXPECT_EQ(reads.listed, nlohmann::json::array({"k"}));
}

TEST(KvDecoded, TheDecodedValueIsNotPartOfTheWireMessage) {
  const KvRequest rq(1, KvOp::kPut, "k", 3, 0, KvRead::kAny,
                     std::make_shared<const DecodedNumber>(3));
  EXPECT_EQ(rq.to_json(), (nlohmann::json{{"req", 1}, {"op", "put"}, {"key", "k"}, {"value", 3}}));
  const KvReply with(2, KvStatus::kOk, std::make_shared<const nlohmann::json>(3), 4, 5,
                     std::make_shared<const DecodedNumber>(3));
  const KvReply without(2, KvStatus::kOk, nlohmann::json(3), 4, 5);
  EXPECT_EQ(with.to_json(), without.to_json());
}

// A value whose encoding is deferred (EncodableValue): counts how often it was encoded.
struct EncodableNumber final : EncodableValue {
  explicit EncodableNumber(int n) : n(n) {}
  int n;
  mutable int encodings = 0;
  nlohmann::json encode() const override {
    ++encodings;
    return written_value(n);
  }
};

// What a deferred writer and its reader saw.
struct DeferredReads {
  bool decoded_read_unencoded = false;  // get_decoded: value null, decoded the writer's
  nlohmann::json shared_value;          // get_shared: the encoding
  nlohmann::json got_value;             // get: the encoding
};

sim::Task<void> deferred_writer(sim::Env& env, sim::ProcessId kv,
                                std::shared_ptr<const EncodableNumber> value, DeferredReads& out) {
  KvClient client(env, kv, sim::milliseconds(50));
  const auto created = co_await client.create_deferred("k", value);
  if (!created.ok()) co_return;
  const auto updated = co_await client.update_deferred("k", value, created.revision);
  if (!updated.ok()) co_return;
  const auto conflict = co_await client.update_deferred("k", value, created.revision);
  if (conflict.ok() || conflict.status != KvStatus::kConflict) co_return;
  const auto decoded = co_await client.get_decoded("k", KvRead::kLinearizable);
  if (!decoded.ok()) co_return;
  out.decoded_read_unencoded = !decoded.value && decoded.decoded == value;
  const auto shared = co_await client.get_shared("k", KvRead::kLinearizable);
  if (shared.ok()) out.shared_value = *shared.value;
  const auto got = co_await client.get("k", KvRead::kLinearizable);
  if (got.ok()) out.got_value = got.value;
  if (!(co_await client.put_deferred("j", value)).ok()) out.got_value = nullptr;
}

void check_deferred_writes(bool trace) {
  sim::RunConfig config;
  config.seed = 7;
  config.faults = std::vector<sim::FaultKind>{};
  config.record_trace = trace;
  sim::Simulator sim(config);
  const auto kv = add_kv_service(sim, "kv", kv_config("linearizable"));
  const auto value = std::make_shared<const EncodableNumber>(3);
  DeferredReads reads;
  sim.add_process("client",
                  [&](sim::Env& env) { return deferred_writer(env, kv.process, value, reads); },
                  {.crashable = false, .client = true});
  ASSERT_TRUE(sim.run().ok());
  EXPECT_TRUE(reads.decoded_read_unencoded);
  EXPECT_EQ(reads.shared_value, written_value(3));
  EXPECT_EQ(reads.got_value, written_value(3));
  const auto& versions = kv.truth->versions("k");
  ASSERT_EQ(versions.size(), 2u);  // the conflicting update wrote nothing
  const int before = value->encodings;
  for (const auto& v : versions) {
    EXPECT_EQ(v.encoded(), written_value(3));
    EXPECT_EQ(v.value, written_value(3));  // encoded() filled it in
    EXPECT_FALSE(v.deferred);
    EXPECT_EQ(v.decoded, value);
  }
  EXPECT_EQ(kv.truth->latest("j").encoded(), written_value(3));
  // A version is encoded at most once: reading it again takes the bytes made the first time.
  const int after = value->encodings;
  for (const auto& v : versions) EXPECT_EQ(v.encoded(), written_value(3));
  EXPECT_EQ(value->encodings, after);
  // Unrecorded, nothing encoded the stored versions during the run (the two encoded reads were
  // the readers' own copies): this loop was first.
  if (!trace) {
    EXPECT_EQ(after - before, 3);
  }
}

TEST(KvDecoded, ADeferredWriteStoresTheEncodingAndEncodesOnlyWhenRead) {
  check_deferred_writes(false);
}

TEST(KvDecoded, ARecordedRunRendersADeferredWritesEncoding) {
  check_deferred_writes(true);
}

TEST(KvDecoded, ADeferredRequestAndReplyRenderTheEncodingOnTheWire) {
  const auto value = std::make_shared<const EncodableNumber>(4);
  const KvRequest deferred(1, KvOp::kUpdate, "k", KvDeferred{value}, 9);
  const KvRequest plain(1, KvOp::kUpdate, "k", written_value(4), 9);
  EXPECT_TRUE(deferred.value.is_null());
  EXPECT_EQ(deferred.to_json(), plain.to_json());
  KvReply reply(2, KvStatus::kOk, std::make_shared<const nlohmann::json>(), 4, 5, value);
  reply.deferred = true;
  const KvReply encoded(2, KvStatus::kOk, written_value(4), 4, 5);
  EXPECT_EQ(reply.to_json(), encoded.to_json());
}

}  // namespace
}  // namespace seer::services
