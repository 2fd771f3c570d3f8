// The inverse of KvRequest/KvReply/SqlRequest/SqlReply::to_json (src/services/*_client.cpp).
#include "service_payloads.hpp"

#include "seer/services/kv_client.hpp"
#include "seer/services/sql_client.hpp"

namespace seer::runtime {

namespace {

using nlohmann::json;
using namespace seer::services;

KvOp kv_op(const std::string& name) {
  for (const KvOp op :
       {KvOp::kGet, KvOp::kPut, KvOp::kCreate, KvOp::kUpdate, KvOp::kDelete, KvOp::kList}) {
    if (name == kv_op_name(op)) return op;
  }
  throw DecodeError("unknown kv op \"" + name + "\"");
}

KvStatus kv_status(const std::string& name) {
  for (const KvStatus s : {KvStatus::kOk, KvStatus::kNotFound, KvStatus::kConflict}) {
    if (name == kv_status_name(s)) return s;
  }
  throw DecodeError("unknown kv status \"" + name + "\"");
}

sim::PayloadPtr kv_request(const json& j) {
  const KvRead read =
      j.value("read", std::string()) == "linearizable" ? KvRead::kLinearizable : KvRead::kAny;
  return std::make_shared<const KvRequest>(j.at("req").get<std::uint64_t>(),
                                           kv_op(j.at("op").get<std::string>()),
                                           j.at("key").get<std::string>(), j.value("value", json()),
                                           j.value("expected", std::int64_t{0}), read);
}

sim::PayloadPtr kv_reply(const json& j) {
  return std::make_shared<const KvReply>(
      j.at("req").get<std::uint64_t>(), kv_status(j.at("status").get<std::string>()), j.at("value"),
      j.at("revision").get<std::int64_t>(), j.at("serial").get<std::uint64_t>());
}

sim::PayloadPtr sql_request(const json& j) {
  std::vector<SqlStatement> statements;
  for (const auto& s : j.at("statements")) {
    SqlStatement statement{s.at("sql").get<std::string>(), s.at("params")};
    if (s.contains("expect_changes"))
      statement.expect_changes = s["expect_changes"].get<std::int64_t>();
    statements.push_back(std::move(statement));
  }
  return std::make_shared<const SqlRequest>(j.at("req").get<std::uint64_t>(), std::move(statements),
                                            j.at("label").get<std::string>());
}

sim::PayloadPtr sql_reply(const json& j) {
  sql::Outcome outcome;
  outcome.committed = j.at("committed").get<bool>();
  outcome.error = j.value("error", std::string());
  outcome.results = j.at("results");
  outcome.changes = j.at("changes").get<std::vector<std::int64_t>>();
  if (j.contains("failed_statement")) {
    outcome.failed_statement = j["failed_statement"].get<std::size_t>();
  }
  return std::make_shared<const SqlReply>(j.at("req").get<std::uint64_t>(), outcome,
                                          j.at("serial").get<std::uint64_t>());
}

}  // namespace

std::map<std::string, PayloadDecoder, std::less<>> service_payload_decoders() {
  return {{"kv_request", kv_request},
          {"kv_reply", kv_reply},
          {"sql_request", sql_request},
          {"sql_reply", sql_reply}};
}

}  // namespace seer::runtime
