#include "http_front.hpp"

#include "loop_route.hpp"

#include "promises/design/messages.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>
#include <thread>

namespace seer::promises::server {

namespace {

using json = nlohmann::json;

// cpp-httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, fixed when Debian built
// the library): 32 clients connecting at once overflowed it, and connections stalled a second or
// failed. Calling listen() again on the bound socket raises the backlog (Linux allows it); the
// socket is found as the listening one on our port.
void raise_listen_backlog(int port) {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage address{};
    socklen_t address_len = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0) continue;
    const int bound = address.ss_family == AF_INET6
                          ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                          : ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

json error_envelope(int status, const std::string& why) {
  return {{"kind", "error"}, {"head", {{"status", status}}}, {"data", why}};
}

}  // namespace

HttpFront::HttpFront(std::vector<runtime::LoopEnv*> servers, sim::ProcessId self,
                     Mailroom& mailroom, HttpOptions options)
    : servers_(std::move(servers)),
      self_(self),
      mailroom_(mailroom),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Headers and body leave in separate writes: without NODELAY, Nagle holds the body until the
  // client's delayed ACK (~40 ms a response).
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(10000);
  // httplib's default also sets SO_REUSEPORT, with which a second server on the same port starts
  // silently beside the first. SO_REUSEADDR alone still lets a restart reuse the port at once.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http_->Post("/", [this](const httplib::Request& rq, httplib::Response& res) {
    int status = 500;
    std::string body, now;
    serve_post(rq.body, status, body, now);
    if (options_.log) {
      options_.log("POST " + rq.body + " -> " + std::to_string(status) + " " + body);
    }
    res.status = status;
    if (!now.empty()) res.set_header("X-Seer-Now", now);
    res.set_content(body, "application/json");
  });
  http_->Get(R"(/poll/([^/]+)/([^/]+))", [this](const httplib::Request& rq,
                                                httplib::Response& res) {
    auto stream = mailroom_.open(rq.matches[1], rq.matches[2]);
    if (options_.log) options_.log("poll stream opened: " + rq.path);
    const auto every = options_.keep_alive_every;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream, every](std::size_t, httplib::DataSink& sink) {
          if (stream->closed()) {
            sink.done();
            return true;
          }
          // An idle stream gets a comment now and then, which is how a gone client is noticed.
          const auto event = stream->next(every);
          const std::string chunk = event ? "data: " + *event + "\n\n" : std::string(": idle\n\n");
          if (stream->closed()) {
            sink.done();
            return true;
          }
          return sink.write(chunk.data(), chunk.size());
        },
        [this, stream](bool) { mailroom_.close(stream); });
  });
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
        std::string why = "internal error";
        try {
          std::rethrow_exception(std::move(e));
        } catch (const std::exception& ex) {
          why = ex.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(error_envelope(500, why).dump(), "application/json");
      });
}

HttpFront::~HttpFront() = default;

int HttpFront::bind() {
  const int port = options_.port == 0
                       ? http_->bind_to_any_port(options_.host)
                       : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) {
    throw std::runtime_error("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port));
  }
  raise_listen_backlog(port);
  return port;
}

void HttpFront::listen() {
  http_->listen_after_bind();
}

void HttpFront::wait_until_listening() const {
  // httplib's stop() does nothing before listen has started; nobody may stop us before then.
  while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpFront::stop() {
  mailroom_.close_all();
  http_->stop();
}

void HttpFront::serve_post(const std::string& body, int& status, std::string& out,
                           std::string& now) {
  json request = json::parse(body, nullptr, false);
  if (request.is_discarded()) {
    status = 400;
    out = error_envelope(400, "the body is not JSON").dump();
    return;
  }
  auto* loop = servers_[loop_for(request, servers_.size())];
  const std::uint64_t call = next_call_++;
  std::future<std::optional<Answer>> answer;
  {
    std::lock_guard lock(mutex_);
    if (closing_) {  // nobody would answer it: say so now rather than after the request timeout
      status = 503;
      out = error_envelope(503, "the server is shutting down").dump();
      return;
    }
    answer = waiting_[call].get_future();
  }
  loop->post(self_, std::make_shared<design::ProtocolRequest>(call, std::move(request)));
  std::optional<Answer> got;
  if (answer.wait_for(options_.request_timeout) == std::future_status::ready) got = answer.get();
  {
    std::lock_guard lock(mutex_);
    waiting_.erase(call);
  }
  if (!got) {
    // Not answered: the server could not make the effect durable in time (or is shutting down).
    // It may still happen; the client retries, as it does after any timeout.
    status = 503;
    out = error_envelope(503, "the server could not complete the request in time").dump();
    return;
  }
  const auto& head_status = got->response["head"]["status"];
  status = head_status.is_number_integer() ? head_status.get<int>() : 500;
  out = got->response.dump();
  now = std::to_string(got->now);
}

void HttpFront::outbox(sim::ProcessId, const sim::PayloadPtr& body) {
  if (const auto* r = dynamic_cast<const design::ProtocolResponse*>(body.get())) {
    std::lock_guard lock(mutex_);
    const auto it = waiting_.find(r->call);
    if (it != waiting_.end()) {
      it->second.set_value(Answer{r->response, r->now});
      waiting_.erase(it);
    }
    return;
  }
  if (const auto* m = dynamic_cast<const design::AddressedMessage*>(body.get())) {
    const auto streams = mailroom_.deliver(m->address, m->message);
    if (options_.log) {
      options_.log("message to " + m->address + " (" + std::to_string(streams) +
                   " streams): " + m->message.dump());
    }
  }
}

void HttpFront::fail_waiting() {
  std::lock_guard lock(mutex_);
  closing_ = true;
  for (auto& [call, promise] : waiting_) promise.set_value(std::nullopt);
  waiting_.clear();
}

}  // namespace seer::promises::server
