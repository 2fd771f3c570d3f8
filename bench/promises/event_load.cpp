#include "client_load.hpp"
#include "load_requests.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <iostream>
#include <memory>

namespace seer::bench {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct Totals {
  long errors = 0;
  bool connection_failed = false;
};

// One client: connect, then a create and a settle of a fresh promise after another until the
// time is up, one request in flight. A non-200 answer counts as an error and the client goes on;
// a broken connection ends the client (and marks the run: `connection_failed`).
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(asio::io_context& io, const tcp::endpoint& server, int index, LoadClock::time_point until,
         Latencies& latencies, Totals& totals)
      : socket_(io),
        server_(server),
        index_(index),
        until_(until),
        latencies_(latencies),
        totals_(totals) {}

  void start() {
    socket_.async_connect(server_, [self = shared_from_this()](error_code ec) {
      if (ec) return self->fail("connect", ec);
      self->socket_.set_option(tcp::no_delay(true), ec);
      self->send();
    });
  }

 private:
  void send() {
    if (step_ == 0) {
      if (LoadClock::now() >= until_) return;
      id_ = load_promise_id(index_, promise_++);
    }
    request_ = {http::verb::post, "/", 11};
    request_.set(http::field::host, "127.0.0.1");
    request_.set(http::field::content_type, "application/json");
    request_.keep_alive(true);
    request_.body() = (step_ == 0 ? create_request(id_) : settle_request(id_)).dump();
    request_.prepare_payload();
    sent_at_ = LoadClock::now();
    http::async_write(socket_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->fail("write", ec);
      self->receive();
    });
  }

  void receive() {
    response_ = {};
    http::async_read(socket_, buffer_, response_,
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return self->fail("read", ec);
                       self->answered();
                     });
  }

  void answered() {
    const double ms =
        std::chrono::duration<double, std::milli>(LoadClock::now() - sent_at_).count();
    if (response_.result_int() == 200) {
      (step_ == 0 ? latencies_.create_ms : latencies_.settle_ms).push_back(ms);
    } else if (++totals_.errors < 4) {
      std::cerr << "resonate_load: " << response_.result_int() << " " << response_.body() << "\n";
    }
    if (!response_.keep_alive()) return fail("read", asio::error::connection_reset);
    step_ ^= 1;
    send();
  }

  void fail(const char* what, error_code ec) {
    totals_.connection_failed = true;
    if (++totals_.errors < 4) {
      std::cerr << "resonate_load: " << what << ": " << ec.message() << "\n";
    }
  }

  tcp::socket socket_;
  tcp::endpoint server_;
  int index_;
  LoadClock::time_point until_;
  Latencies& latencies_;
  Totals& totals_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::string id_;
  long promise_ = 0;
  int step_ = 0;  // 0: the create is next, 1: the settle
  LoadClock::time_point sent_at_;
};

}  // namespace

nlohmann::json run_event_load(int port, int clients, double seconds) {
  asio::io_context io(1);
  const tcp::endpoint server(asio::ip::make_address_v4("127.0.0.1"),
                             static_cast<unsigned short>(port));
  std::vector<Latencies> per_client(static_cast<std::size_t>(clients));
  Totals totals;
  const auto until = LoadClock::now() + std::chrono::duration_cast<LoadClock::duration>(
                                            std::chrono::duration<double>(seconds));
  for (int c = 0; c < clients; ++c) {
    std::make_shared<Client>(io, server, c, until, per_client[static_cast<std::size_t>(c)], totals)
        ->start();
  }
  io.run();
  return load_report(per_client, clients, seconds, totals.errors, totals.connection_failed);
}

}  // namespace seer::bench
