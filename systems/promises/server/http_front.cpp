#include "http_front.hpp"

#include "loop_route.hpp"

#include "promises/design/messages.hpp"
#include "promises/model/parse.hpp"
#include "seer/json_input.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace seer::promises::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using json = nlohmann::json;

// The tokens of --auth-token-file: each with the id prefixes it is limited to (none: any id).
struct Tokens {
  std::unordered_map<std::string, std::vector<std::string>> prefixes;
};

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;
// Bytes of events written to a poll stream's client and not yet taken by it, beyond which the
// stream is closed (the client stopped reading; it reconnects, and the sweep resends its tasks).
constexpr std::size_t kMaxUnsent = 1024 * 1024;

json error_envelope(int status, const std::string& why) {
  return {{"kind", "error"}, {"head", {{"status", status}}}, {"data", why}};
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The fields of a request's data that name a promise or task (spec §1: id, promiseId, and a
// registration's awaited and awaiter).
bool is_id_field(std::string_view key) {
  return key == "id" || key == "promiseId" || key == "awaited" || key == "awaiter";
}

// Why `request` is too large to serve (an id or a tag beyond the limits), or nothing. Ids are the
// values of the id fields anywhere in its data; tags the members of any "tags" object.
std::optional<std::string> oversized(const json& j, const HttpOptions& o, bool in_tags = false) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (in_tags) {
        if (key.size() > o.max_tag_bytes) {
          return "a tag key is longer than " + std::to_string(o.max_tag_bytes) + " bytes";
        }
        if (value.is_string() && value.get_ref<const std::string&>().size() > o.max_tag_bytes) {
          return "the value of tag '" + key.substr(0, 64) + "' is longer than " +
                 std::to_string(o.max_tag_bytes) + " bytes";
        }
        continue;
      }
      const bool id = is_id_field(key);
      if (id && value.is_string() && value.get_ref<const std::string&>().size() > o.max_id_bytes) {
        return "'" + key + "' is longer than " + std::to_string(o.max_id_bytes) + " bytes";
      }
      if (value.is_structured()) {
        if (auto why = oversized(value, o, key == "tags")) return why;
      }
    }
  } else if (j.is_array()) {
    for (const auto& value : j) {
      if (auto why = oversized(value, o)) return why;
    }
  }
  return std::nullopt;
}

// Every id a request's data names (is_id_field) and every poll group it addresses (a callback's
// address, a tag: "poll://uni@group/pid", "poll://any@group").
void named(const json& j, std::vector<std::string>& ids, std::vector<std::string>& groups) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (value.is_string()) {
        const auto& v = value.get_ref<const std::string&>();
        if (is_id_field(key)) ids.push_back(v);
        if (v.starts_with("poll://")) {
          const auto at = v.find('@');
          if (at != std::string::npos)
            groups.push_back(v.substr(at + 1, v.find('/', at + 1) - at - 1));
        }
      } else if (value.is_structured()) {
        named(value, ids, groups);
      }
    }
  } else if (j.is_array()) {
    for (const auto& value : j) named(value, ids, groups);
  }
}

// A request's JSON for the log: its token (head.auth) replaced.
std::string redacted(json request) {
  if (request.contains("head") && request["head"].is_object() && request["head"].contains("auth")) {
    request["head"]["auth"] = "<redacted>";
  }
  return request.dump();
}

// A 400 (or 403) the SDK reads as the answer to its request: its kind and head, that status.
json bad_request(const json& request, const std::string& why, int status = 400) {
  json head =
      request.contains("head") && request["head"].is_object() ? request["head"] : json::object();
  head.erase("auth");
  head["status"] = status;
  return {{"kind", request.contains("kind") ? request["kind"] : json("error")},
          {"head", std::move(head)},
          {"data", why}};
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size);
  out.append(data);
  out.append("\r\n");
  return out;
}

std::shared_ptr<const Tokens> read_tokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the token file " + path);
  auto tokens = std::make_shared<Tokens>();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string token;
    if (!(words >> token)) continue;
    for (const char c : token) {
      if (c < 0x21 || c > 0x7e) {  // never echo the token itself
        throw std::runtime_error(path + ":" + std::to_string(number) +
                                 ": a token must be printable ASCII");
      }
    }
    std::vector<std::string> prefixes;
    for (std::string prefix; words >> prefix;) prefixes.push_back(prefix);
    tokens->prefixes[token] = std::move(prefixes);
  }
  if (tokens->prefixes.empty()) throw std::runtime_error("no tokens in " + path);
  return tokens;
}

std::string summary(const Tokens& tokens) {
  std::size_t limited = 0;
  for (const auto& [token, prefixes] : tokens.prefixes) limited += prefixes.empty() ? 0 : 1;
  return std::to_string(tokens.prefixes.size()) + " tokens, " + std::to_string(limited) +
         " limited to id prefixes";
}

bool within(const std::string& name, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

}  // namespace

struct Answer {
  json response;
  std::int64_t now = 0;
};

// A request handed to a loop and not yet answered.
struct Pending {
  bool taken = false;  // the loop has started on it (under Impl::mutex)
  std::function<void(std::optional<Answer>)> deliver;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void shutdown() = 0;
};

struct HttpFront::Impl {
  Impl(std::vector<runtime::LoopEnv*> servers, sim::ProcessId self, Mailroom& mailroom,
       HttpOptions options)
      : servers(std::move(servers)),
        self(self),
        mailroom(mailroom),
        options(std::move(options)),
        io(std::max(1, this->options.io_threads)),
        acceptor(net::make_strand(io)),
        accept_retry(acceptor.get_executor()) {}
  ~Impl() {
    if (stopper.joinable()) stopper.join();
  }

  // Declared first, destroyed last: what a connection touches as it is destroyed (the session
  // registry, the waiting requests, the body budget, the TLS context) outlives `io`, whose
  // destruction destroys the connections still held by its handlers.
  mutable std::mutex sessions_mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_session = 1;
  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::shared_ptr<Pending>> waiting;
  bool closing = false;  // fail_waiting() was called
  std::vector<runtime::LoopEnv*> servers;
  sim::ProcessId self;
  Mailroom& mailroom;
  HttpOptions options;
  std::atomic<std::size_t> body_bytes{0};
  std::optional<ssl::context> tls;
  mutable std::mutex tokens_mutex;
  std::shared_ptr<const Tokens> tokens;  // null: no authentication
  net::io_context io;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  std::thread stopper;  // stop()'s watch for the last connection, joined on destruction
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> next_call{1};
  std::atomic<std::uint64_t> withdrawn{0};

  std::shared_ptr<const Tokens> current_tokens() const {
    std::lock_guard lock(tokens_mutex);
    return tokens;
  }

  bool reserve_body(std::size_t n) {
    auto used = body_bytes.load();
    do {
      if (used + n > options.body_budget) return false;
    } while (!body_bytes.compare_exchange_weak(used, used + n));
    return true;
  }
  void release_body(std::size_t n) { body_bytes -= n; }

  bool accept_failing = false;  // on the acceptor's strand

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }
  void warn(const std::string& line) const {
    if (options.warn) options.warn(line);
  }

  // Registers a request; false if the server is going away.
  bool enqueue(std::uint64_t call, std::shared_ptr<Pending> pending) {
    std::lock_guard lock(mutex);
    if (closing) return false;
    waiting.emplace(call, std::move(pending));
    return true;
  }

  // On a loop's thread, as it takes a message: whether it may start on it.
  bool admit(const sim::Message& m) {
    const auto* rq = dynamic_cast<const design::ProtocolRequest*>(m.body.get());
    if (!rq) return true;
    std::lock_guard lock(mutex);
    const auto it = waiting.find(rq->call);
    if (it == waiting.end()) return false;  // withdrawn: answered 503 already
    it->second->taken = true;
    return true;
  }

  enum class Expired { withdrawn, running, answered };
  // The request timeout passed for `call`: withdraw it if no loop has taken it.
  Expired expire(std::uint64_t call, bool give_up) {
    std::lock_guard lock(mutex);
    const auto it = waiting.find(call);
    if (it == waiting.end()) return Expired::answered;
    if (!it->second->taken) {
      waiting.erase(it);
      ++withdrawn;
      return Expired::withdrawn;
    }
    if (give_up) waiting.erase(it);
    return Expired::running;
  }

  std::uint64_t add_session(std::weak_ptr<SessionBase> s) {
    std::lock_guard lock(sessions_mutex);
    const auto id = next_session++;
    sessions.emplace(id, std::move(s));
    return id;
  }
  void remove_session(std::uint64_t id) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
  }
  std::size_t session_count() const {
    std::lock_guard lock(sessions_mutex);
    return sessions.size();
  }

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpFront::Impl& front, Stream stream) : front_(front), stream_(std::move(stream)) {}
  ~Session() override {
    front_.release_body(reserved_);
    if (poll_) front_.mailroom.close(poll_);
    front_.remove_session(id_);
  }

  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void start() {
    id_ = front_.add_session(this->weak_from_this());
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        // The handshake within the read timeout, like a request.
        self->lowest().expires_after(self->front_.options.read_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->close();
          self->wait_request();
        });
      } else {
        self->wait_request();
      }
    });
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      // Idle between requests: nothing to finish. Otherwise the answer (503 by now) is written
      // first, then the connection closes. Poll streams end when the mailroom closes them.
      if (self->idle_) self->close();
    });
  }

 private:
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    if (poll_) {
      front_.mailroom.close(poll_);
      poll_.reset();
    }
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  // Between requests: wait for the next one's first byte, up to the idle timeout. Bytes already
  // buffered (a pipelined request) are the next request at once.
  void wait_request() {
    if (closed_) return;
    if (closing_) return close();
    if (buffer_.size() > 0) return read_header();
    idle_ = true;
    buffer_.shrink_to_fit();  // an idle connection keeps no buffer
    lowest().expires_after(front_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(front_.options.max_body);
    // The whole request, from its first byte, within the read timeout.
    lowest().expires_after(front_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return respond(431, error_envelope(431, "request header too large").dump(), {}, true);
    }
    if (ec == http::error::body_limit) return too_large();  // its Content-Length says so
    if (ec) return close();                                 // timed out, reset, or not HTTP
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    if (front_.options.log) {  // the method and path: the query and headers may hold secrets
      const auto target = req.target();
      request_line_ =
          std::string(req.method_string()) + " " + std::string(target.substr(0, target.find('?')));
    }
    prefixes_.reset();
    if (auto tokens = front_.current_tokens()) {
      const auto authorization = req[http::field::authorization];
      const std::string_view given(authorization.data(), authorization.size());
      const auto it = given.starts_with("Bearer ")
                          ? tokens->prefixes.find(std::string(given.substr(7)))
                          : tokens->prefixes.end();
      if (it == tokens->prefixes.end()) {
        return respond(
            401,
            error_envelope(401, given.empty() ? "authentication required: send Authorization: "
                                                "Bearer <token> (RESONATE_TOKEN)"
                                              : "the bearer token is not valid")
                .dump(),
            {}, !parser_->is_done());
      }
      if (!it->second.empty()) prefixes_ = std::make_shared<std::vector<std::string>>(it->second);
    }
    std::string_view target(req.target().data(), req.target().size());
    if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (req.method() == http::verb::get && target.starts_with("/poll/")) {
      const auto rest = target.substr(6);
      const auto slash = rest.find('/');
      if (slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size() &&
          rest.find('/', slash + 1) == std::string_view::npos) {
        auto group = percent_decoded(rest.substr(0, slash));
        if (prefixes_ && !within(group, *prefixes_)) {
          return respond(
              403, error_envelope(403, "this token may not listen to group '" + group + "'").dump(),
              {});
        }
        return open_poll(std::move(group), percent_decoded(rest.substr(slash + 1)));
      }
    }
    if (req.method() != http::verb::post || target != "/") {
      // As before (cpp-httplib): an unknown route is a 404 without a JSON body.
      return respond(404, "", {}, !parser_->is_done());
    }
    const auto length = parser_->content_length();
    const std::size_t body = length               ? static_cast<std::size_t>(*length)
                             : parser_->is_done() ? 0
                                                  : front_.options.max_body;  // chunked
    if (body > 0 && !front_.reserve_body(body)) {
      return respond(503, error_envelope(503, "too many large requests at once; try again").dump(),
                     {}, true);
    }
    reserved_ = body;
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      return net::async_write(stream_, net::buffer(*continue_),
                              [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->close();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec == http::error::body_limit) return self->too_large();
                       if (ec) return self->close();
                       self->serve_post();
                     });
  }

  void too_large() {
    respond(413,
            error_envelope(413, "request body larger than " +
                                    std::to_string(front_.options.max_body) + " bytes")
                .dump(),
            {}, true);
  }

  void serve_post() {
    lowest().expires_never();
    std::string body = std::move(parser_->get().body());
    parser_.reset();
    // Bounded first: nlohmann parses any depth, but the checks below, dump() and comparisons
    // recurse, and a body 100,000 arrays deep overflowed the stack and killed the server.
    if (json_nesting_depth(body) > kMaxInputDepth) {
      return respond(400,
                     error_envelope(400, "the body is nested deeper than " +
                                             std::to_string(kMaxInputDepth) + " levels")
                         .dump(),
                     {});
    }
    json request = json::parse(body, nullptr, false);
    if (request.is_discarded()) {
      return respond(400, error_envelope(400, "the body is not JSON").dump(), {});
    }
    if (front_.options.log) log_body_ = redacted(request);
    body = {};
    static const json kNoData = json::object();
    const json& data = request.contains("data") ? request["data"] : kNoData;
    if (auto why = oversized(data, front_.options)) {
      return respond(400, bad_request(request, *why).dump(), {});
    }
    if (prefixes_) {  // the token's tenant: every id and addressed group within its prefixes
      std::vector<std::string> ids, groups;
      named(data, ids, groups);
      for (const auto& id : ids) {
        if (!within(id, *prefixes_)) {
          return respond(
              403, bad_request(request, "this token may not use id '" + id + "'", 403).dump(), {});
        }
      }
      for (const auto& group : groups) {
        if (!within(group, *prefixes_)) {
          return respond(
              403,
              bad_request(request, "this token may not address group '" + group + "'", 403).dump(),
              {});
        }
      }
    }
    // Parsed once: the route needs it, and the loop's server takes it along (no second parse).
    std::shared_ptr<const Request> parsed;
    if (auto p = parse_request(request); auto* named = std::get_if<Request>(&p)) {
      parsed = std::make_shared<const Request>(std::move(*named));
    }
    auto* loop = front_.servers[loop_for(parsed.get(), front_.servers.size())];
    call_ = front_.next_call++;
    auto pending = std::make_shared<Pending>();
    pending->deliver = [self = this->shared_from_this(), call = call_](std::optional<Answer> a) {
      net::post(self->stream_.get_executor(),
                [self, call, a = std::move(a)]() mutable { self->on_answer(call, std::move(a)); });
    };
    if (!front_.enqueue(call_, std::move(pending))) {
      // Nobody would answer it: say so now rather than after the request timeout.
      return respond(503, error_envelope(503, "the server is shutting down").dump(), {});
    }
    // Posted with no lock of the front held: the loop takes its own lock, then the front's (admit).
    loop->post(front_.self, std::make_shared<design::ProtocolRequest>(call_, std::move(request),
                                                                      std::move(parsed)));
    given_up_once_ = false;
    arm_request_timer();
  }

  void arm_request_timer() {
    timer_.expires_after(front_.options.request_timeout);
    timer_.async_wait([self = this->shared_from_this(), call = call_](beast::error_code ec) {
      if (ec || call != self->call_) return;
      self->on_request_timeout();
    });
  }

  void on_request_timeout() {
    switch (front_.expire(call_, given_up_once_)) {
      case HttpFront::Impl::Expired::answered:
        return;  // its answer is on the way to this strand
      case HttpFront::Impl::Expired::withdrawn:
        call_ = 0;
        return respond(503,
                       error_envelope(503,
                                      "the server could not start the request in time; it "
                                      "was not applied")
                           .dump(),
                       {});
      case HttpFront::Impl::Expired::running:
        if (!given_up_once_) {  // started on: give its commit one more timeout
          given_up_once_ = true;
          return arm_request_timer();
        }
        // Its store could not make it durable in time. It may still happen; the client retries,
        // as it does after any timeout.
        call_ = 0;
        return respond(
            503, error_envelope(503, "the server could not complete the request in time").dump(),
            {});
    }
  }

  void on_answer(std::uint64_t call, std::optional<Answer> answer) {
    if (call != call_ || closed_) return;
    call_ = 0;
    timer_.cancel();
    if (!answer) {
      return respond(503, error_envelope(503, "the server is shutting down").dump(), {});
    }
    const auto& head_status = answer->response["head"]["status"];
    const int status = head_status.is_number_integer() ? head_status.get<int>() : 500;
    respond(status, answer->response.dump(), std::to_string(answer->now));
  }

  void respond(int status, std::string body, std::string now, bool close_after = false) {
    if (closed_) return;
    if (front_.options.log) {
      front_.options.log(request_line_ + (log_body_.empty() ? "" : " " + log_body_) + " -> " +
                         std::to_string(status) + " " + body);
    }
    log_body_.clear();
    parser_.reset();
    front_.release_body(std::exchange(reserved_, 0));
    const bool keep = keep_alive_ && !close_after && !closing_;
    response_.emplace(static_cast<http::status>(status), 11);
    response_->set(http::field::server, "seer-resonate");
    if (status != 404 || !body.empty())
      response_->set(http::field::content_type, "application/json");
    if (!now.empty()) response_->set("X-Seer-Now", now);
    if (status == 401)
      response_->set(http::field::www_authenticate, "Bearer realm=\"seer-resonate\"");
    if (keep) {
      response_->set("Keep-Alive",
                     "timeout=" + std::to_string(front_.options.idle_timeout.count() / 1000));
    }
    response_->keep_alive(keep);
    response_->body() = std::move(body);
    response_->prepare_payload();
    lowest().expires_after(front_.options.read_timeout);
    http::async_write(stream_, *response_,
                      [self = this->shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->response_.reset();
                        if (ec) return self->close();
                        if (!keep) return self->linger_close();
                        self->wait_request();
                      });
  }

  // Closing after an answer the client may still be sending a body to (413, say): closing with
  // unread bytes would reset the connection, and the client could lose the answer. So: no more
  // writes, and what it sends is read and dropped until it hangs up (or the read timeout).
  void linger_close() {
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    lowest().expires_after(front_.options.read_timeout);
    if (!discard_) discard_ = std::make_unique<std::array<char, 65536>>();
    stream_.async_read_some(net::buffer(*discard_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->linger_close();
                            });
  }

  // --- poll streams: server-sent events, chunked --------------------------------------------

  void open_poll(std::string group, std::string pid) {
    lowest().expires_never();  // the hangup watch reads forever; writes set their own deadline
    parser_.reset();
    const std::string path = "/poll/" + group + "/" + pid;
    poll_ = front_.mailroom.open(group, pid);
    front_.log("poll stream opened: " + path);
    std::weak_ptr<Session> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    poll_->set_listener([weak, executor] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->pump();
      });
    });
    unsent_.push_back(
        "HTTP/1.1 200 OK\r\nServer: seer-resonate\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
    unsent_bytes_ = unsent_.back().size();
    watch_for_hangup();  // first: a write's deadline must not apply to it (basic_stream's timers)
    write_next();
    arm_idle_comment();
    pump();  // what was pushed between open() and set_listener()
  }

  // A poll stream's client sends nothing more; a read ends when it hangs up.
  void watch_for_hangup() {
    stream_.async_read_some(net::buffer(hangup_buffer_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->watch_for_hangup();  // ignore what it sent
                            });
  }

  void arm_idle_comment() {
    timer_.expires_after(front_.options.keep_alive_every);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      // An idle stream gets a comment now and then, which is how a gone client is noticed.
      if (self->unsent_.empty()) self->queue(": idle\n\n");
      self->arm_idle_comment();
    });
  }

  void queue(std::string_view event) {
    if (ending_ || closed_) return;
    unsent_.push_back(chunk(event));
    unsent_bytes_ += unsent_.back().size();
    if (unsent_bytes_ > kMaxUnsent) return close();
    write_next();
  }

  void pump() {
    if (closed_ || !poll_) return;
    for (auto& event : poll_->take()) {
      if (front_.options.log) front_.log("event to " + poll_->group() + "/" + poll_->pid());
      queue("data: " + event + "\n\n");
      if (closed_) return;
    }
    if (poll_->closed() && !ending_) {
      unsent_.push_back("0\r\n\r\n");  // the end of the chunked body: the client reconnects
      ending_ = true;
      write_next();
    }
  }

  void write_next() {
    if (writing_ || closed_) return;
    if (unsent_.empty()) {
      if (ending_) close();
      return;
    }
    writing_ = true;
    lowest().expires_after(front_.options.read_timeout);  // a client that does not read is cut
    net::async_write(stream_, net::buffer(unsent_.front()),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       if (ec) return self->close();
                       self->unsent_bytes_ -= self->unsent_.front().size();
                       self->unsent_.pop_front();
                       self->write_next();
                     });
  }

  HttpFront::Impl& front_;
  Stream stream_;
  std::uint64_t id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::shared_ptr<std::string> continue_;
  net::steady_timer timer_{stream_.get_executor()};
  std::uint64_t call_ = 0;    // the request waiting for its answer, 0 if none
  std::size_t reserved_ = 0;  // of the front's body budget
  std::shared_ptr<const std::vector<std::string>> prefixes_;  // the request's token's, if limited
  bool given_up_once_ = false;
  bool keep_alive_ = true;
  bool idle_ = false;
  bool closing_ = false;
  bool closed_ = false;
  std::string log_body_;
  std::string request_line_;
  // A poll stream's state.
  std::shared_ptr<PollStream> poll_;
  std::deque<std::string> unsent_;
  std::size_t unsent_bytes_ = 0;
  bool writing_ = false;
  bool ending_ = false;
  std::array<char, 256> hangup_buffer_{};
  std::unique_ptr<std::array<char, 65536>> discard_;  // only while lingering
};

}  // namespace

void HttpFront::Impl::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpFront::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors (EMFILE) or memory: say so once, wait a little, and try again; the
    // connections waiting in the backlog are taken when something closes.
    if (!accept_failing) warn("accepting connections: " + ec.message() + " (retrying)");
    accept_failing = true;
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e) accept();
    });
    return;
  }
  if (accept_failing) warn("accepting connections again");
  accept_failing = false;
  if (session_count() >= options.max_connections) {
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<TlsStream>>(*this, TlsStream(std::move(socket), *tls))->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))
          ->start();
    }
  }
  accept();
}

HttpFront::HttpFront(std::vector<runtime::LoopEnv*> servers, sim::ProcessId self,
                     Mailroom& mailroom, HttpOptions options)
    : impl_(std::make_unique<Impl>(std::move(servers), self, mailroom, std::move(options))) {
  for (auto* loop : impl_->servers) {
    loop->set_admit([impl = impl_.get()](const sim::Message& m) { return impl->admit(m); });
  }
  const auto& o = impl_->options;
  if (!o.auth_token_file.empty()) impl_->tokens = read_tokens(o.auth_token_file);
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    throw std::runtime_error("--tls-cert and --tls-key go together");
  }
  if (!o.tls_cert.empty()) {
    auto& tls = impl_->tls.emplace(ssl::context::tls_server);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    try {
      tls.use_certificate_chain_file(o.tls_cert);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot use the certificate " + o.tls_cert + ": " + e.what());
    }
    try {
      tls.use_private_key_file(o.tls_key, ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot use the private key " + o.tls_key + ": " + e.what());
    }
  }
}

std::string HttpFront::reload_tokens() {
  if (impl_->options.auth_token_file.empty()) return "no token file (--auth-token-file)";
  auto tokens = read_tokens(impl_->options.auth_token_file);
  auto text = summary(*tokens);
  std::lock_guard lock(impl_->tokens_mutex);
  impl_->tokens = std::move(tokens);
  return text;
}

HttpFront::~HttpFront() = default;

int HttpFront::bind() {
  auto& a = impl_->acceptor;
  const auto& o = impl_->options;
  try {
    tcp::resolver resolver(impl_->io);
    const auto endpoints = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive);
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    a.open(endpoint.protocol());
    // SO_REUSEADDR lets a restart reuse the port at once; no SO_REUSEPORT, with which a second
    // server on the same port would start silently beside the first.
    a.set_option(net::socket_base::reuse_address(true));
    a.bind(endpoint);
    a.listen(net::socket_base::max_listen_connections);
    return a.local_endpoint().port();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                             e.what());
  }
}

void HttpFront::listen() {
  impl_->accept();
  const int extra = std::max(1, impl_->options.io_threads) - 1;
  std::vector<std::thread> threads;
  for (int i = 0; i < extra; ++i) threads.emplace_back([this] { impl_->io.run(); });
  impl_->running = true;
  impl_->io.run();
  for (auto& t : threads) t.join();
}

void HttpFront::wait_until_listening() const {
  while (!impl_->running) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpFront::stop() {
  impl_->stopping = true;
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_retry.cancel();
  });
  impl_->mailroom.close_all();
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(impl_->sessions_mutex);
    for (auto& [id, weak] : impl_->sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->shutdown();
  open.clear();
  // listen() returns when the last connection has closed; one that does not finish its last
  // write within a second is cut.
  if (impl_->stopper.joinable()) return;  // stopped already
  impl_->stopper = std::thread([impl = impl_.get()] {
    for (int i = 0; i < 100 && !impl->io.stopped(); ++i) {
      if (impl->session_count() == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl->io.stop();
  });
}

void HttpFront::outbox(sim::ProcessId, const sim::PayloadPtr& body) {
  if (const auto* r = dynamic_cast<const design::ProtocolResponse*>(body.get())) {
    std::shared_ptr<Pending> pending;
    {
      std::lock_guard lock(impl_->mutex);
      const auto it = impl_->waiting.find(r->call);
      if (it == impl_->waiting.end()) return;
      pending = std::move(it->second);
      impl_->waiting.erase(it);
    }
    pending->deliver(Answer{r->response, r->now});
    return;
  }
  if (const auto* m = dynamic_cast<const design::AddressedMessage*>(body.get())) {
    const auto streams = impl_->mailroom.deliver(m->address, m->message);
    impl_->log("message to " + m->address + " (" + std::to_string(streams) +
               " streams): " + m->message.dump());
  }
}

void HttpFront::fail_waiting() {
  std::unordered_map<std::uint64_t, std::shared_ptr<Pending>> failing;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closing = true;
    failing.swap(impl_->waiting);
  }
  for (auto& [call, pending] : failing) pending->deliver(std::nullopt);
}

HttpStats HttpFront::stats() const {
  return {impl_->session_count(), impl_->mailroom.open_streams(), impl_->withdrawn.load(),
          impl_->body_bytes.load()};
}

}  // namespace seer::promises::server
