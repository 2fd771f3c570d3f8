// conn_reuse: web servers that keep using their connection to a profile service after a timeout.
//
// Spec. Two web servers (`web1`, `web2`, the design's own processes) render account pages for
// users `u-1` .. `u-8`. Each keeps one connection to a profile service (`profiles`, the design's
// own process): for a page it sends `get_profile {req, user}`, waits 5 ms for the answer, and
// renders the page with the profile it got (it sends `page {user, shown}` to the users' browsers,
// `browsers`); on a timeout it renders an error page ("try again later") and goes on with the next
// page. The profile service answers one request at a time from its cache (0.5-2 ms), but one
// lookup in eight misses the cache and loads the profile from its disk (6-10 ms), and the service
// may stall (a GC pause); requests wait in its inbox meanwhile.
// Invariant `pages-show-own-profile`: no page shows another user's profile ("web1 showed u-7's
// profile on u-3's page").
// Operations (history): `view` per page, by each web server.
//
// Bug (variant `buggy`): the web server takes the next `profile` message on its connection as the
// answer to its current request, like a client library that reads the next response off a pooled
// connection. After a timeout the answer to the abandoned request is still on its way (or still
// being computed); the next page's request takes it for its own, and the page shows the previous
// user's profile (the ChatGPT incident of March 2023, a Redis client's connection reused after a
// cancelled request).
// Fix (variant `fixed`): the answer carries the request number, and the web server drops an answer
// to a request it gave up on.
// Faults: delay, pause (the profile service is pausable; nothing crashes).
//
// Label. `lost_response`: the answer to the abandoned request reached its requester after it had
// given up (its receive timeout), and was then taken for another request's answer. The key events:
// the profile service's answer that was shown (its send), the web server's last receive timeout
// before taking it in (the give-up that left its connection one answer behind), the web server's
// delivery of that answer while it waited for a later request's, and the page it rendered with it
// (the page's send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace conn_reuse {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWebServers = 2;
constexpr int kUsers = 8;
constexpr sim::Duration kProfileTimeout = sim::milliseconds(5);

struct GetProfile : sim::Payload {
  GetProfile(std::uint64_t r, std::string u) : req(r), user(std::move(u)) {}
  std::uint64_t req;
  std::string user;
  std::string_view type() const override { return "get_profile"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"user", user}}; }
};

struct Profile : sim::Payload {
  Profile(std::uint64_t r, std::string u) : req(r), user(std::move(u)) {}
  std::uint64_t req;
  std::string user;
  std::string email() const { return user + "@example.com"; }
  std::string_view type() const override { return "profile"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"user", user}, {"email", email()}};
  }
};

struct Page : sim::Payload {
  Page(std::string u, std::string s) : user(std::move(u)), shown(std::move(s)) {}
  std::string user;   // whose page it is
  std::string shown;  // whose profile it shows
  std::string_view type() const override { return "page"; }
  nlohmann::json to_json() const override { return {{"user", user}, {"shown", shown}}; }
};

// The first page that showed another user's profile (simulation bookkeeping, for the invariant).
using LeakSlot = std::shared_ptr<std::optional<sim::Finding>>;

sim::Task<void> profiles(sim::Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* g = m.as<GetProfile>();
    if (!g) continue;
    const bool cache_miss = env.random() % 8 == 0;
    const sim::Duration work =
        cache_miss ? sim::milliseconds(6) + static_cast<sim::Duration>(env.random() % 4'000'000)
                   : sim::microseconds(500) + static_cast<sim::Duration>(env.random() % 1'500'000);
    co_await env.sleep(work);
    env.send(m.from, sim::make_payload<Profile>(g->req, g->user));
  }
}

sim::Task<void> web(sim::Env& env, sim::HistoryRecorder& history, int index,
                    sim::ProcessId profile_service, sim::ProcessId browsers, int pages, bool fixed,
                    LeakSlot leak) {
  const std::string me = env.name_of(env.self());
  std::uint64_t req = 0;
  for (int n = 1; n <= pages; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string user = "u-" + std::to_string(env.random() % kUsers + 1);
    history.invoke(index, "view", user);
    const std::uint64_t r = ++req;
    env.send(profile_service, sim::make_payload<GetProfile>(r, user));
    const sim::Time deadline = env.now() + kProfileTimeout;
    std::optional<std::string> shown;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;  // timed out: an error page
      const auto* p = m->as<Profile>();
      if (!p) continue;
      if (fixed && p->req != r) continue;  // the answer to a request given up on
      shown = p->user;
      break;
    }
    if (!shown) {
      history.complete(index, sim::OpType::kFail, "view", user, std::string("timed out"));
      continue;
    }
    env.send(browsers, sim::make_payload<Page>(user, *shown));
    if (*shown != user && !*leak) {
      *leak = sim::Finding{me + " showed " + *shown + "'s profile on " + user + "'s page",
                           {user, *shown}};
    }
    history.complete(index, sim::OpType::kOk, "view", user, *shown);
  }
}

sim::Task<void> browsers(sim::Env& env) {
  for (;;) co_await env.receive();
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"conn_reuse",
            "web servers read profiles over one connection each and keep using it after a timeout",
            {"buggy", "fixed"},
            {{"pages-show-own-profile", "no page shows another user's profile"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto profile_service =
        sim.add_process("profiles", [](sim::Env& env) { return profiles(env); },
                        {.crashable = false, .client = false, .pausable = true});
    const auto browser_sink =
        sim.add_process("browsers", [](sim::Env& env) { return browsers(env); },
                        {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int pages = sim.config().ops;
    auto leak = std::make_shared<std::optional<sim::Finding>>();
    for (int w = 1; w <= kWebServers; ++w) {
      sim.add_process(
          "web" + std::to_string(w),
          [&history, w, profile_service, browser_sink, pages, fixed, leak](sim::Env& env) {
            return web(env, history, w - 1, profile_service, browser_sink, pages, fixed, leak);
          },
          {.crashable = false, .client = true});
    }
    sim.add_invariant("pages-show-own-profile",
                      [leak]() -> std::optional<sim::Finding> { return *leak; });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the web server W, the user S whose profile was shown and the user U whose
// page it was. The page's send (W's last `page` for U showing S before the violation); W's last
// delivery of a `profile` of S before it (the late answer taken for U's); that answer's send (the
// profile service's answer to an earlier request); and W's last receive timeout before the
// delivery (where W gave up on a request and its connection fell one answer behind).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const auto sp = msg.find(" showed ");
  const auto pp = msg.find("'s profile on ");
  const auto ep = msg.rfind("'s page");
  if (sp == std::string::npos || pp == std::string::npos || ep == std::string::npos || pp < sp ||
      ep < pp) {
    return {};
  }
  const std::string w = msg.substr(0, sp);
  const std::string shown = msg.substr(sp + 8, pp - sp - 8);
  const std::string user = msg.substr(pp + 14, ep - pp - 14);
  const int lane = lane_of(trace, w);
  if (lane < 0) return {};
  const std::uint64_t until = violation_event(trace);
  const auto* page = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == lane && e.kind == EventKind::kSend && e.type == "page" &&
               payload(e).value("user", "") == user && payload(e).value("shown", "") == shown;
      },
      until + 1);
  if (!page) return {};
  const auto* delivery = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == lane && e.kind == EventKind::kDeliver && e.type == "profile" &&
               payload(e).value("user", "") == shown;
      },
      page->seq);
  if (!delivery) return {};
  const auto* answer = send_of(trace, *delivery);
  if (!answer) return {};
  // The give-up that left the connection one answer behind: W's last receive timeout before the
  // delivery (the shown answer's own request when it timed out; when a same-user mix-up hid the
  // first shift, the earlier request that did).
  const auto* timeout = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == lane && e.kind == EventKind::kTimer &&
               e.line.value("timer", "") == "receive_timeout";
      },
      delivery->seq);
  if (!timeout) return {};
  return {answer->seq, timeout->seq, delivery->seq, page->seq};
}

}  // namespace conn_reuse

Design make_conn_reuse() {
  Design d;
  d.name = "conn_reuse";
  d.bug =
      "a web server keeps using its connection to the profile service after a timeout, and the "
      "next page takes the abandoned request's late answer for its own";
  d.system = std::make_unique<conn_reuse::System>();
  d.invariant = "pages-show-own-profile";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = conn_reuse::key_events;
  return d;
}

}  // namespace seer::bench::explain
