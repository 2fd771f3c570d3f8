#include "client_load.hpp"
#include "load_requests.hpp"

#include <httplib.h>

#include <atomic>
#include <iostream>
#include <thread>

namespace seer::bench {

nlohmann::json run_thread_load(int port, int clients, double seconds) {
  std::vector<Latencies> per_client(static_cast<std::size_t>(clients));
  std::atomic<bool> failed{false};
  std::atomic<long> errors{0};
  const auto until = LoadClock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(clients));
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      auto& mine = per_client[static_cast<std::size_t>(c)];
      for (long i = 0; LoadClock::now() < until; ++i) {
        const std::string id = load_promise_id(c, i);
        for (int step = 0; step < 2; ++step) {
          const auto rq = step == 0 ? create_request(id) : settle_request(id);
          const auto start = LoadClock::now();
          const auto res = http.Post("/", rq.dump(), "application/json");
          const double ms =
              std::chrono::duration<double, std::milli>(LoadClock::now() - start).count();
          if (!res || res->status != 200) {
            ++errors;
            if (!res) {
              failed = true;
              if (errors < 4) {
                std::cerr << "resonate_load: " << httplib::to_string(res.error()) << "\n";
              }
            } else if (errors < 4) {
              std::cerr << "resonate_load: " << res->status << " " << res->body << "\n";
            }
            continue;
          }
          (step == 0 ? mine.create_ms : mine.settle_ms).push_back(ms);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return load_report(per_client, clients, seconds, errors.load(), failed.load());
}

}  // namespace seer::bench
