// The payload codec: the services' requests and replies come back typed and equal from their
// to_json(); a program's own payload registers with SEER_REGISTER_PAYLOAD; an unknown type or a
// malformed body is a DecodeError, never a crash.
#include "seer/runtime/codec.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql_client.hpp"

#include <gtest/gtest.h>

namespace seer::runtime {
namespace {

struct Ping final : sim::Payload {
  explicit Ping(int n) : n(n) {}
  std::string_view type() const override { return "codec_test_ping"; }
  nlohmann::json to_json() const override { return {{"n", n}}; }
  static sim::PayloadPtr from_json(const nlohmann::json& j) {
    return std::make_shared<const Ping>(j.at("n").get<int>());
  }
  int n;
};
SEER_REGISTER_PAYLOAD("codec_test_ping", Ping);

// Encodes and decodes, as the transport does; the typed payload back, or null.
template <class T>
std::shared_ptr<const T> round_trip(const T& p) {
  const auto wire = nlohmann::json::parse(p.to_json().dump());
  auto back = decode_payload(p.type(), wire);
  EXPECT_EQ(back->type(), p.type());
  EXPECT_EQ(back->to_json(), p.to_json());
  return std::dynamic_pointer_cast<const T>(back);
}

TEST(Codec, KvRequestsAndRepliesComeBackTyped) {
  using namespace services;
  const KvRequest update(7, KvOp::kUpdate, "lock", {{"token", 3}}, 12);
  const auto u = round_trip(update);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->op, KvOp::kUpdate);
  EXPECT_EQ(u->expected, 12);
  const KvRequest get(8, KvOp::kGet, "lock", nullptr, 0, KvRead::kLinearizable);
  const auto g = round_trip(get);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->read, KvRead::kLinearizable);
  const KvReply reply(8, KvStatus::kConflict, "v", 4, 99);
  const auto r = round_trip(reply);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, KvStatus::kConflict);
  EXPECT_EQ(r->revision, 4);
}

TEST(Codec, SqlRequestsAndRepliesComeBackTyped) {
  using namespace services;
  const SqlRequest request(
      3, {{"UPDATE t SET v = ?1 WHERE id = 1", nlohmann::json::array({5}), 1}, {"SELECT v FROM t"}},
      "c1-0-write");
  const auto q = round_trip(request);
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->statements.size(), 2U);
  EXPECT_EQ(q->statements[0].expect_changes, 1);
  EXPECT_EQ(q->statements[1].expect_changes, std::nullopt);
  sql::Outcome rolled_back;
  rolled_back.error = "expect_changes";
  rolled_back.changes = {0};
  rolled_back.failed_statement = 0;
  const auto r = round_trip(SqlReply(3, rolled_back, 1));
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->committed);
  EXPECT_EQ(r->failed_statement, 0U);
}

TEST(Codec, AProgramsOwnPayloadRegistersWithTheMacro) {
  EXPECT_TRUE(payload_registered("codec_test_ping"));
  const auto p = round_trip(Ping(41));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->n, 41);
}

TEST(Codec, UnknownTypesAndMalformedBodiesAreDecodeErrors) {
  EXPECT_FALSE(payload_registered("no_such_type"));
  EXPECT_THROW(decode_payload("no_such_type", nlohmann::json::object()), DecodeError);
  EXPECT_THROW(decode_payload("kv_request", {{"req", "x"}}), DecodeError);
  EXPECT_THROW(decode_payload("kv_request", {{"req", 1}, {"op", "frobnicate"}, {"key", "k"}}),
               DecodeError);
  EXPECT_THROW(decode_payload("codec_test_ping", nlohmann::json::array()), DecodeError);
}

}  // namespace
}  // namespace seer::runtime
