#include "caller.hpp"

#include "messages.hpp"
#include "promises/checker/request_reading.hpp"
#include "promises/model/parse.hpp"

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

// {"request": request}, the history's record of an invocation, built without the pair arrays of
// nlohmann's initializer lists (a call records one for every request of a run).
json invocation(const json& request) {
  json record = json::object();
  record.get_ref<json::object_t&>().emplace("request", request);
  return record;
}

// {"status", "data", "now"}: the history's record of an answer.
json answered(const Answer& answer) {
  json record = json::object();
  auto& fields = record.get_ref<json::object_t&>();
  fields.emplace("data", answer.data());
  fields.emplace("now", answer.now);
  fields.emplace("status", answer.status());
  return record;
}

}  // namespace

Caller::Caller(sim::Env& env, std::shared_ptr<const Deployment> deployment,
               sim::HistoryRecorder& history, std::shared_ptr<HistoryIds> ids,
               ResponseObserver observer, std::deque<sim::Message>& inbox)
    : env_(env),
      deployment_(std::move(deployment)),
      history_(history),
      ids_(std::move(ids)),
      observer_(std::move(observer)),
      inbox_(inbox),
      process_(ids_->fresh()),
      next_call_(env.random()) {}

sim::Task<std::optional<Answer>> Caller::call(nlohmann::json request,
                                              std::shared_ptr<const nlohmann::json>* sent_request) {
  const std::uint64_t call = next_call_++;
  const std::string kind = request.value("kind", std::string());
  request["head"]["corrId"] = env_.name_of(env_.self()) + "-" + std::to_string(call);
  const auto& servers = deployment_->servers;
  const auto server = servers[env_.random() % servers.size()];
  // Parsed once, here, as it is sent: the server serves it with this parse, and the history check
  // reads the recorded request with it (while the recording is identical to what was parsed). A
  // malformed request goes without one: the server rejects it as it arrives, as ever.
  auto message = std::make_shared<ProtocolRequest>(call, std::move(request), std::uint64_t{0});
  std::shared_ptr<const check::InputReading> reading;
  if (auto parsed = parse_request(message->request); std::holds_alternative<Request>(parsed)) {
    message->parsed = std::make_shared<const Request>(std::move(std::get<Request>(parsed)));
    // The reading keeps the message's request (never changed once sent) as its source.
    reading = std::make_shared<const RequestReading>(
        std::shared_ptr<const nlohmann::json>(message, &message->request), message->parsed);
  }
  history_.invoke_read(process_, kind, invocation(message->request), std::move(reading));
  if (sent_request) {
    *sent_request = std::shared_ptr<const nlohmann::json>(message, &message->request);
  }
  const sim::Time deadline = env_.now() + kRequestTimeout;
  std::uint64_t life = 0;
  if (deployment_->fenced_connections) {
    if (!lives_.count(server)) {
      env_.send(server, std::make_shared<ConnectRequest>(call));
      while (!lives_.count(server)) {
        const sim::Duration left = deadline - env_.now();
        std::optional<sim::Message> m;
        if (left > 0) m = co_await env_.receive_for(left);  // GCC 12: no co_await in a ?:
        if (!m) {  // never sent: the request certainly had no effect
          history_.complete(process_, sim::OpType::kFail, kind, nullptr, "no connection");
          co_return std::nullopt;
        }
        if (const auto* c = m->as<ConnectReply>()) {
          if (c->call == call && m->from == server) lives_[server] = c->life;
        } else if (!m->as<ProtocolResponse>() && !m->as<ConnectionReset>()) {
          inbox_.push_back(std::move(*m));  // late answers to earlier calls are dropped
        }
      }
    }
    life = lives_[server];
  }
  // The rest of the call reads the request from the message, unchanged from here on.
  message->life = life;
  const std::shared_ptr<const ProtocolRequest> sent = std::move(message);
  env_.send(server, sent);
  const nlohmann::json& corr_id = sent->request["head"]["corrId"];
  for (;;) {
    const sim::Duration left = deadline - env_.now();
    if (left <= 0) break;
    auto m = co_await env_.receive_for(left);
    if (!m) break;
    if (const auto* reset = m->as<ConnectionReset>()) {
      if (reset->call == call) co_return unknown(kind, "connection reset", server);
      continue;
    }
    const auto* reply = m->as<ProtocolResponse>();
    if (!reply) {
      if (!m->as<ConnectReply>()) inbox_.push_back(std::move(*m));
      continue;
    }
    // The late answer to an earlier call; like the SDK, also check the echoed corrId.
    if (reply->call != call || reply->response["head"].value("corrId", "") != corr_id) {
      continue;
    }
    Answer answer{std::shared_ptr<const nlohmann::json>(m->body, &reply->response), reply->now};
    history_.complete(process_, sim::OpType::kOk, kind, answered(answer));
    if (observer_) observer_(sent->request, *answer.response);
    co_return answer;
  }
  co_return unknown(kind, "timeout", server);
}

std::optional<Answer> Caller::unknown(const std::string& kind, const char* why,
                                      sim::ProcessId server) {
  history_.complete(process_, sim::OpType::kInfo, kind, nullptr, why);
  process_ = ids_->fresh();
  lives_.erase(server);  // connect again next time: the server may have restarted
  return std::nullopt;
}

}  // namespace seer::promises::design
