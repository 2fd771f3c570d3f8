// The two ways resonate_load drives its clients against a seer-resonate on 127.0.0.1:`port`, each
// client one keep-alive connection creating a promise and settling it, over and over, for
// `seconds`; both return load_report's JSON.
#pragma once

#include <nlohmann/json.hpp>

namespace seer::bench {

// Every client on one event loop (Asio, one thread): the default. A thread per client cost the
// machine it measures about a third of the server's CPU in wakeups and context switches
// (BENCHMARKS.md, "The load generator's share"); remote clients cost the server's machine nothing.
nlohmann::json run_event_load(int port, int clients, double seconds);

// A thread per client, each blocking on cpp-httplib (the generator before 2026-12-05, kept to
// compare with).
nlohmann::json run_thread_load(int port, int clients, double seconds);

}  // namespace seer::bench
