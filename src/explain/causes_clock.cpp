// Decisions taken on a clock. Only the oracle knows how wrong each process's clock was (its start
// event's offset and drift), so only it can tell that a timestamp, deadline or lease expiry a
// process wrote disagrees with real time:
//   clock_behind / clock_ahead  two processes stamped the same data from their clocks, and the
//                               stamps order them against the real order of their writes;
//   expired_lease               a process acted after the lease (or deadline) it had written for
//                               itself had expired in real time, while another had taken it over.
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include <map>
#include <optional>
#include <set>

namespace seer::explain {

namespace {

// Numbers a process took from its clock: within a second before its clock reading at the request
// and ten minutes after it (a timestamp, or a deadline such as a lease's expiry), in ns.
constexpr std::int64_t kBefore = 1'000'000'000;
constexpr std::int64_t kAfter = 600'000'000'000;
constexpr std::int64_t kDeadlineMargin = 1'000'000;  // beyond this after the clock: a deadline

// A field named for a length of time ("delay_ns", "timeoutMs", "ttl"): its number is a duration,
// not a clock reading. A simulation starts its clocks near zero, so a 20 ms delay would otherwise
// read as a deadline 20 ms into the run.
bool names_a_duration(const std::string& key) {
  std::string lower;
  for (const char ch : key)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* word :
       {"delay", "timeout", "ttl", "interval", "backoff", "duration", "period"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

void clock_numbers(const nlohmann::json& j, std::int64_t local, std::vector<std::int64_t>& out,
                   int depth = 0) {
  if (depth > 16) return;
  if (j.is_number_integer()) {
    const auto n = j.get<std::int64_t>();
    // Not a small number (a count, an amount): clocks read millions of ns within a millisecond.
    if ((n > 1000 || n < -1000) && n >= local - kBefore && n <= local + kAfter) out.push_back(n);
  } else if (j.is_object()) {
    for (const auto& [key, v] : j.items()) {
      if (!names_a_duration(key)) clock_numbers(v, local, out, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) clock_numbers(v, local, out, depth + 1);
  }
}

}  // namespace

std::optional<std::int64_t> deadline_in(const nlohmann::json& data, std::int64_t local) {
  std::vector<std::int64_t> numbers;
  clock_numbers(data, local, numbers);
  std::optional<std::int64_t> latest;  // a skewed clock's readings may be negative
  for (const auto n : numbers) {
    if (n > local + kDeadlineMargin && (!latest || n > *latest)) latest = n;
  }
  return latest;
}

namespace {

struct Stamped {
  const Access* access;
  std::uint64_t sent;    // the request's send
  std::int64_t local;    // the writer's clock then
  std::int64_t true_ns;  // real time then
  std::int64_t stamp;    // the largest clock-derived number it carried
};

// Where two writes meet: the key or prefix, or for SQL the first table the transaction touched.
std::string place_of(const Access& a) {
  if (!a.rows_written.empty())
    return a.service + ":" + a.rows_written.front().substr(0, a.rows_written.front().find('/'));
  if (!a.tables_read.empty()) return a.service + ":" + a.tables_read.front();
  return a.service + ":" + a.scope;
}

// Requests that carried something taken from the requester's clock. A write with no such number
// in its data still counts, stamped with the clock's reading when it was sent: designs often
// encode their clock in ways no pattern finds (an epoch, other units), and whatever the writer
// took from its clock is then older or newer than the reading says. Not a request to one of the
// design's own servers that carried no clock reading: the server wrote, from its own clock.
std::vector<Stamped> stamped_requests(const DetectContext& c,
                                      const std::map<int, ProcessClock>& clocks, bool data_only) {
  std::vector<Stamped> out;
  const auto& t = c.trace;
  for (const auto& a : c.index.accesses) {
    if (a.served > c.horizon) continue;
    const auto clock = clocks.find(a.client);
    if (clock == clocks.end()) continue;
    const auto sent = request_sent(t, c.index, a);
    const auto true_ns = t.at(sent).time;
    const auto local = clock->second.local(true_ns);
    std::vector<std::int64_t> numbers;
    clock_numbers(written_value(t, a), local, numbers);
    if (!numbers.empty()) {
      out.push_back({&a, sent, local, true_ns, *std::max_element(numbers.begin(), numbers.end())});
    } else if (!data_only && a.write && !a.application) {
      out.push_back({&a, sent, local, true_ns, local});
    }
  }
  return out;
}

std::string ms(std::int64_t ns) {
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

void reads_from_the_future(const DetectContext& c, const std::map<int, ProcessClock>& clocks,
                           const std::vector<Stamped>& writes, std::vector<Cause>& out);
void stamps_judged_by_a_reader_behind(const DetectContext& c,
                                      const std::map<int, ProcessClock>& clocks,
                                      std::vector<Cause>& out);
void deadlines_judged_by_a_skewed_clock(const DetectContext& c,
                                        const std::map<int, ProcessClock>& clocks,
                                        const std::vector<Stamped>& writes,
                                        std::vector<Cause>& out);

}  // namespace

std::vector<Cause> detect_clock_skew(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto clocks = clocks_of(t);
  if (clocks.empty()) {
    // A log (no oracle facts): each event's time is its process's own clock reading, so a stamp
    // its writer took from its clock can still be compared with a later reader's.
    stamps_judged_by_a_reader_behind(c, clocks, out);
    return out;
  }
  if (std::none_of(clocks.begin(), clocks.end(),
                   [](const auto& kv) { return kv.second.skewed(); })) {
    return out;
  }
  std::map<std::string, Stamped> last;  // the latest stamped request on each place
  for (const auto& s : stamped_requests(c, clocks, false)) {
    const auto place = place_of(*s.access);
    const auto prev = last.find(place);
    if (prev != last.end() && prev->second.access->client != s.access->client &&
        s.stamp < prev->second.stamp && s.true_ns >= prev->second.true_ns) {
      const auto& p = prev->second;
      const auto skew_now = s.local - s.true_ns;
      const auto skew_prev = p.local - p.true_ns;
      // The clocks, not the design's arithmetic, explain the inversion.
      if (skew_prev - skew_now > 0) {
        const bool ahead = skew_prev > 0 && skew_prev >= -skew_now;
        const auto& wrong = ahead ? p : s;
        const auto& other = ahead ? s : p;
        Cause cause;
        cause.kind = ahead ? "clock_ahead" : "clock_behind";
        cause.process = t.lane_name(wrong.access->client);
        cause.events = {wrong.access->served, other.access->served, wrong.sent};
        const auto& clock = clocks.at(wrong.access->client);
        cause.facts = {{"writer", cause.process},
                       {"clock_offset_ns", clock.offset_ns},
                       {"clock_drift_ppm", clock.drift_ppm},
                       {"skew_ns", wrong.local - wrong.true_ns},
                       {"stamp", wrong.stamp},
                       {"other_writer", t.lane_name(other.access->client)},
                       {"other_stamp", other.stamp},
                       {"behind_ns", p.stamp - s.stamp}};
        cause.summary = fmt::format(
            "{}'s clock was {} by {} when it stamped {} (#{}, real {}, its clock {}): {} "
            "stamped {} at real {} and {} at real {}, yet {}'s stamp {} is {} {}'s {}: the "
            "clocks order the two writes against real time",
            cause.process, ahead ? "ahead" : "behind", ms(std::abs(wrong.local - wrong.true_ns)),
            access_named(t, *wrong.access), wrong.access->served, format_time(wrong.true_ns),
            ms(wrong.local), t.lane_name(p.access->client), access_named(t, *p.access),
            format_time(p.true_ns), t.lane_name(s.access->client), format_time(s.true_ns),
            t.lane_name(s.access->client), ms(s.stamp), "earlier than",
            t.lane_name(p.access->client), ms(p.stamp));
        out.push_back(std::move(cause));
      }
    }
    if (s.access->write || prev == last.end()) last[place] = s;
  }
  std::vector<Stamped> writes;
  for (const auto& s : stamped_requests(c, clocks, true)) {
    if (s.access->write) writes.push_back(s);
  }
  reads_from_the_future(c, clocks, writes, out);
  stamps_judged_by_a_reader_behind(c, clocks, out);
  deadlines_judged_by_a_skewed_clock(c, clocks, writes, out);
  return out;
}

namespace {

// A read that returned a stamp from its reader's future: the write that carried it came earlier in
// real time, yet the reader's clock had not reached it. Whoever compares such stamps with its own
// clock (last-writer-wins, "is this lease still valid?") orders the two against real time.
void reads_from_the_future(const DetectContext& c, const std::map<int, ProcessClock>& clocks,
                           const std::vector<Stamped>& writes, std::vector<Cause>& out) {
  const auto& t = c.trace;
  for (const auto& r : c.index.accesses) {
    if (!r.read || !r.delivered || r.event > c.horizon) continue;
    const auto clock = clocks.find(r.client);
    if (clock == clocks.end()) continue;
    const auto local = clock->second.local(t.at(r.event).time);
    std::vector<std::int64_t> stamps;
    clock_numbers(read_value(t, r), local, stamps);
    for (const auto stamp : stamps) {
      if (stamp <= local) continue;
      // The write that stored this stamp, by another process, before the read was served.
      const Stamped* w = nullptr;
      for (const auto& s : writes) {
        if (s.stamp == stamp && s.access->served < r.served && s.access->client != r.client) {
          w = &s;
        }
      }
      if (!w || w->stamp > w->local + kDeadlineMargin) continue;  // a deadline is meant to be ahead
      const auto skew_reader = local - t.at(r.event).time;
      const auto skew_writer = w->local - w->true_ns;
      if (skew_writer - skew_reader <= 0) continue;
      const bool ahead = skew_writer > 0 && skew_writer >= -skew_reader;
      Cause cause;
      cause.kind = ahead ? "clock_ahead" : "clock_behind";
      const int wrong_lane = ahead ? w->access->client : r.client;
      cause.process = t.lane_name(wrong_lane);
      cause.events = {ahead ? w->access->served : r.event, ahead ? r.event : w->access->served};
      const auto& wrong = clocks.at(wrong_lane);
      cause.facts = {{"process", cause.process},
                     {"clock_offset_ns", wrong.offset_ns},
                     {"clock_drift_ppm", wrong.drift_ppm},
                     {"stamp", stamp},
                     {"reader", t.lane_name(r.client)},
                     {"reader_clock_ns", local},
                     {"writer", t.lane_name(w->access->client)},
                     {"decision_event", r.event}};
      cause.summary = fmt::format(
          "{}'s clock was {} by {}: {} wrote {} stamped {} at real {} (#{}), and when {} read it "
          "at real {} (#{}) its own clock read only {}: a stamp from the reader's future, so "
          "comparing it with its clock ordered the writes against real time",
          cause.process, ahead ? "ahead" : "behind",
          ms(std::abs(ahead ? skew_writer : skew_reader)), t.lane_name(w->access->client),
          access_named(t, *w->access), ms(stamp), format_time(w->true_ns), w->access->served,
          t.lane_name(r.client), format_time(t.at(r.event).time), r.event, ms(local));
      out.push_back(std::move(cause));
      break;
    }
  }
}

// The numbers in `j` that may be clock readings: its integers, and the runs of digits inside its
// strings (a stamp in a key's name, "config/a/v2@46610916"; a '-' before a run counts when no
// letter or digit precedes it). Small numbers are left out: a clock reads millions within a
// millisecond.
void numbers_anywhere(const nlohmann::json& j, std::vector<std::int64_t>& out, int depth = 0) {
  if (depth > 16) return;
  if (j.is_number_integer()) {
    const auto n = j.get<std::int64_t>();
    if (n > 1000 || n < -1000) out.push_back(n);
  } else if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    for (std::size_t i = 0; i < s.size();) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
      if (end - i >= 4 && end - i <= 18) {
        auto n = std::stoll(s.substr(i, end - i));
        if (i >= 1 && s[i - 1] == '-' &&
            (i == 1 || !std::isalnum(static_cast<unsigned char>(s[i - 2])))) {
          n = -n;
        }
        out.push_back(n);
      }
      i = end;
    }
  } else if (j.is_object()) {
    for (const auto& [key, v] : j.items()) {
      if (!names_a_duration(key)) numbers_anywhere(v, out, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) numbers_anywhere(v, out, depth + 1);
  }
}

// What `lane`'s clock read at event `seq`: from the oracle's clocks, else the event's own time (a
// log's times are each process's own clock).
std::int64_t clock_at(const Trace& t, const std::map<int, ProcessClock>& clocks, int lane,
                      std::uint64_t seq) {
  const auto clock = clocks.find(lane);
  return clock != clocks.end() ? clock->second.local(t.at(seq).time) : t.at(seq).time;
}

// A stamp a process took from its own clock (a number its write carries, in a value or in a key's
// name, that equals its clock's reading when it sent the write, within a millisecond before it),
// read back by another process causally after the write took effect, whose clock then read less
// than the stamp: the reader's clock was behind the writer's (or the writer's ahead), so a reader
// that compares the stamp with its own clock ("is this in effect yet?") judges a past moment to be
// in its future. Real time is past the stamp (the read follows the write), whatever the clocks say.
// The reader's act on the comparison is its next write to a service. Without the oracle's clocks
// (a log) the events' times are each process's clock, and the same comparison holds; which of the
// two clocks was wrong is then unknown, and the reader's is named as behind the writer's.
void stamps_judged_by_a_reader_behind(const DetectContext& c,
                                      const std::map<int, ProcessClock>& clocks,
                                      std::vector<Cause>& out) {
  constexpr std::int64_t kStampWindow = 1'000'000;  // the stamp read this long before the send
  const auto& t = c.trace;
  std::set<std::uint64_t> told;  // reads a clock cause already names
  for (const auto& x : out) {
    if (x.facts.is_object()) told.insert(x.facts.value("decision_event", std::uint64_t{0}));
  }
  // The stamps: number -> the writes that carried it as their writer's clock reading.
  std::map<std::int64_t, std::vector<const Access*>> stamps;
  for (const auto& a : c.index.accesses) {
    if (!a.write || a.application || a.served > c.horizon) continue;
    const auto sent = request_sent(t, c.index, a);
    if (sent == a.served) continue;  // no request found: no clock reading to compare with
    const auto local = clock_at(t, clocks, a.client, sent);
    std::vector<std::int64_t> numbers;
    numbers_anywhere(written_value(t, a), numbers);
    for (const auto n : numbers) {
      if (n <= local && n >= local - kStampWindow) stamps[n].push_back(&a);
    }
  }
  if (stamps.empty()) return;
  for (const auto& r : c.index.accesses) {
    if (!r.read || !r.delivered || r.event > c.horizon || told.count(r.event)) continue;
    const auto local = clock_at(t, clocks, r.client, r.event);
    std::vector<std::int64_t> numbers;
    numbers_anywhere(read_value(t, r), numbers);
    const Access* w = nullptr;
    std::int64_t stamp = 0;
    for (const auto n : numbers) {
      if (n <= local) continue;
      const auto found = stamps.find(n);
      if (found == stamps.end()) continue;
      for (const auto* s : found->second) {
        if (s->client != r.client && s->served < r.event &&
            c.graph.happens_before(s->served, r.event)) {
          w = s;
          stamp = n;
        }
      }
      if (w) break;
    }
    if (!w) continue;
    // The reader's act on the comparison: its next write to a service, in the same life.
    const Access* act = nullptr;
    std::uint64_t act_sent = 0;
    for (const auto& a : c.index.accesses) {
      if (a.client != r.client || !a.write || a.application || a.served > c.horizon) continue;
      const auto sent = request_sent(t, c.index, a);
      if (sent <= r.event || (act && sent >= act_sent)) continue;
      if (crashed_between(c.index, r.client, r.event, sent)) continue;
      act = &a;
      act_sent = sent;
    }
    const auto known = clocks.count(r.client) && clocks.count(w->client);
    const auto wrote = request_sent(t, c.index, *w);
    const auto skew_reader = local - t.at(r.event).time;
    const auto skew_writer = clock_at(t, clocks, w->client, wrote) - t.at(wrote).time;
    const bool ahead = known && skew_writer > 0 && skew_writer >= -skew_reader;
    Cause cause;
    cause.kind = ahead ? "clock_ahead" : "clock_behind";
    const int wrong_lane = ahead ? w->client : r.client;
    cause.process = t.lane_name(wrong_lane);
    if (act) cause.events.push_back(act->served);
    cause.events.push_back(r.event);
    cause.events.push_back(w->served);
    cause.facts = {{"how", "stamp_judged_behind"},
                   {"process", cause.process},
                   {"stamp", stamp},
                   {"reader", t.lane_name(r.client)},
                   {"reader_clock_ns", local},
                   {"writer", t.lane_name(w->client)},
                   {"write_event", w->served},
                   {"read_event", r.event},
                   {"clocks_known", known},
                   {"decision_event", act ? act->served : r.event}};
    if (act) cause.facts["act_event"] = act->served;
    if (known) {
      const auto& wrong = clocks.at(wrong_lane);
      cause.facts["clock_offset_ns"] = wrong.offset_ns;
      cause.facts["clock_drift_ppm"] = wrong.drift_ppm;
    }
    const auto acted =
        act ? fmt::format(", and then it acted ({} at #{})", access_named(t, *act), act->served)
            : std::string();
    cause.summary =
        known ? fmt::format(
                    "{}'s clock was {} by {}: {} wrote {} carrying {}, its own clock's reading "
                    "(#{}), and {} read it at #{} (real {}, after the write) when its own clock "
                    "read only {}: a moment already past in real time lay in its future by its "
                    "clock{}",
                    cause.process, ahead ? "ahead" : "behind",
                    ms(std::abs(ahead ? skew_writer : skew_reader)), t.lane_name(w->client),
                    access_named(t, *w), stamp, w->served, t.lane_name(r.client), r.event,
                    format_time(t.at(r.event).time), ms(local), acted)
              : fmt::format(
                    "{}'s clock was behind {}'s: {} wrote {} carrying {}, its own clock's reading "
                    "(#{}), and {} read it at #{}, after the write, when its own clock read only "
                    "{}: a moment already past lay in its future by its clock{} (which of the "
                    "two clocks was off, a log does not tell)",
                    cause.process, t.lane_name(w->client), t.lane_name(w->client),
                    access_named(t, *w), stamp, w->served, t.lane_name(r.client), r.event,
                    ms(local), acted);
    out.push_back(std::move(cause));
  }
}

// A deadline another process wrote (a session's or a token's expiry), read and then acted on by a
// process whose clock put the deadline on the wrong side of real time: it acted as if the deadline
// had not passed when it had (its clock behind), or as if it had when it had not (ahead).
void deadlines_judged_by_a_skewed_clock(const DetectContext& c,
                                        const std::map<int, ProcessClock>& clocks,
                                        const std::vector<Stamped>& writes,
                                        std::vector<Cause>& out) {
  const auto& t = c.trace;
  for (const auto& r : c.index.accesses) {
    if (!r.read || !r.delivered || r.event > c.horizon) continue;
    const auto clock = clocks.find(r.client);
    if (clock == clocks.end() || !clock->second.skewed()) continue;
    std::vector<std::int64_t> stamps;
    clock_numbers(read_value(t, r), clock->second.local(t.at(r.event).time), stamps);
    for (const auto deadline : stamps) {
      // Written by another process as a deadline (ahead of its own clock when it wrote it).
      const Stamped* w = nullptr;
      for (const auto& s : writes) {
        if (s.stamp == deadline && s.access->client != r.client && s.access->served < r.served &&
            s.stamp > s.local + kDeadlineMargin) {
          w = &s;
        }
      }
      if (!w) continue;
      // The reader's next act: a write it made or an answer it gave.
      const Access* act = nullptr;
      for (const auto& a : c.index.accesses) {
        if (a.served <= r.event || a.served > c.horizon) continue;
        if ((a.client == r.client && a.write && !a.application) ||
            (a.application && a.server == r.client)) {
          act = &a;
          break;
        }
      }
      if (!act) continue;
      const auto real = t.at(act->served).time;
      const auto local = clock->second.local(real);
      // It passes when the clock that wrote it reads it.
      const auto writer_clock =
          clocks.count(w->access->client) ? clocks.at(w->access->client) : ProcessClock{};
      const bool passed = real > writer_clock.real_when(deadline);
      if (passed == (local > deadline)) continue;  // its clock told the truth about it
      Cause cause;
      cause.kind = passed ? "clock_behind" : "clock_ahead";
      cause.process = t.lane_name(r.client);
      cause.events = {act->served, r.event, w->access->served};
      cause.facts = {{"process", cause.process},
                     {"clock_offset_ns", clock->second.offset_ns},
                     {"clock_drift_ppm", clock->second.drift_ppm},
                     {"deadline", deadline},
                     {"deadline_writer", t.lane_name(w->access->client)},
                     {"act_real_ns", real},
                     {"act_local_ns", local},
                     {"decision_event", act->served}};
      cause.summary = fmt::format(
          "{} acted ({} at #{}) on the deadline {} wrote at #{} ({}), which it had read at #{}: "
          "at real {} the deadline had {}passed, but {}'s clock read {}, {} by {}",
          cause.process, access_named(t, *act), act->served, t.lane_name(w->access->client),
          w->access->served, ms(deadline), r.event, format_time(real), passed ? "" : "not ",
          cause.process, ms(local), passed ? "behind" : "ahead", ms(std::abs(local - real)));
      out.push_back(std::move(cause));
      break;
    }
  }
}

// The row a lease is, when it is one row of a SQL table whose id the trace shows (a hold on one
// seat, a claim on one job): the table's other rows are other leases, not this one's successors.
// Empty otherwise (a lease under its own key, or a row the trace does not identify).
std::string leased_row(const Access& l) {
  if (l.rows_written.size() != 1 || l.rows_written.front().ends_with("/?")) return {};
  return l.rows_written.front();
}

// Where a lease lives: its row, or its key, prefix or table (place_of).
std::string lease_place_of(const Access& l) {
  const auto row = leased_row(l);
  return row.empty() ? place_of(l) : l.service + ":" + row;
}

// The next lease on the same place: renewed by the same holder, or taken over by another.
struct LeaseSuccessors {
  const Stamped* next_own = nullptr;
  const Stamped* takeover = nullptr;
};

LeaseSuccessors successors_of(const std::vector<const Stamped*>& leases, const Stamped& lease) {
  const auto& l = *lease.access;
  const auto place = lease_place_of(l);
  LeaseSuccessors out;
  for (const auto* other : leases) {
    if (other->access->served <= l.served || lease_place_of(*other->access) != place) continue;
    if (other->access->client == l.client) {
      if (!out.next_own) out.next_own = other;
    } else if (!out.takeover) {
      out.takeover = other;
    }
  }
  return out;
}

// Whether `act` is the holder acting on the leased row itself (selling the held seat), not
// renewing or releasing the lease: it writes that row and carries no deadline of its own. A lease
// under a key is acted on elsewhere, and a write to its own key is a renewal or a release.
bool acts_on_leased_row(const Access& act, const std::string& row,
                        const std::set<const Access*>& lease_writes) {
  if (row.empty() || lease_writes.count(&act)) return false;
  return std::find(act.rows_written.begin(), act.rows_written.end(), row) != act.rows_written.end();
}

// The holder's acts elsewhere (or on the leased row itself), still on this lease, that took effect
// after the lease had expired in real time or after another process had taken it over: the first
// such act, and the last before the violation (a retry of it, say). An act is a write the holder
// made, or an answer it gave (to a request it served itself: a read served from what the lease let
// it believe).
std::vector<const Access*> acts_after_expiry(const DetectContext& c, const Access& l,
                                             std::int64_t expiry, const LeaseSuccessors& next,
                                             const std::set<const Access*>& lease_writes) {
  const auto& t = c.trace;
  const auto place = place_of(l);
  const auto row = leased_row(l);
  std::vector<const Access*> acts;
  for (const auto& act : c.index.accesses) {
    const bool writes = act.client == l.client && act.write && !act.application;
    const bool answers = act.application && act.server == l.client;
    if ((!writes && !answers) || act.served > c.horizon) continue;
    if (act.served <= l.served) continue;
    if (place_of(act) == place && !acts_on_leased_row(act, row, lease_writes)) continue;
    if (next.next_own && act.served > next.next_own->access->served) break;
    const bool taken_over = next.takeover && act.served > next.takeover->access->served;
    if (!taken_over && t.at(act.served).time <= expiry) continue;
    // With nobody taking the lease over, only an act done under it counts: one carrying what the
    // lease holds (its holder, its token). Otherwise any later write of a process that merely
    // wrote some expiry (a session's, for a user) would be an "act".
    if (!next.takeover) {
      const auto done = act.application ? t.at(act.served).line.value("payload", nlohmann::json())
                                        : written_value(t, act);
      if (!flows_into(written_value(t, l), done)) continue;
    }
    acts.push_back(&act);
  }
  if (acts.size() > 2) acts.erase(acts.begin() + 1, acts.end() - 1);
  return acts;
}

// When the holder acted, by real time and by its clock.
struct ActTiming {
  std::uint64_t sent;  // the event that sent it (an answer's own send, or a write's request)
  std::int64_t real_sent;
  std::int64_t real_effect;
  std::int64_t local_sent;
};

// Why the holder acted late: its clock ran behind, the request was delayed in flight, or it did
// not look at its clock again (a pause, or none found). Fills the cause's `behind`.
std::string why_late(const Trace& t, const Access& l, const Stamped& lease, std::int64_t expiry,
                     const Stamped* takeover, const ActTiming& at, Cause& cause, Cause& behind) {
  // Taken over before it expired: the holder acted within its term, and the taker misjudged the
  // expiry (a clock cause names why), so nothing on the holder's side was late.
  if (takeover && at.real_effect <= expiry) {
    return fmt::format(
        "two processes held the lease at once: it was taken over {} before it expired",
        ms(expiry - t.at(takeover->access->served).time));
  }
  if (at.local_sent < lease.stamp && at.real_sent >= expiry) {
    behind.kind = "clock_behind";
    behind.events = {at.sent};
    behind.summary = fmt::format("{}'s clock ran {} behind real time", cause.process,
                                 ms(at.real_sent - at.local_sent));
    return fmt::format("its clock read {} when it sent the request at real {}, {} behind",
                       ms(at.local_sent), format_time(at.real_sent),
                       ms(at.real_sent - at.local_sent));
  }
  if (at.real_sent < expiry && at.real_effect >= expiry) {
    behind.kind = "message_delayed";
    behind.events = {at.sent, cause.events[1]};
    behind.summary = fmt::format(
        "the request was in flight and queued {} (sent {}, took effect {})",
        ms(at.real_effect - at.real_sent), format_time(at.real_sent), format_time(at.real_effect));
    return fmt::format(
        "it sent the request in time (real {}), but it took effect only at real {}, after the "
        "lease had expired",
        format_time(at.real_sent), format_time(at.real_effect));
  }
  // It did not look at its clock again before acting: what kept it from seeing the expiry between
  // its last look at the lease and the act (a pause, a slow reply).
  const std::uint64_t pause = last_pause(t, l.client, l.served, at.sent);
  if (!pause) return "it acted without checking its clock against the lease again";
  behind.kind = "process_paused";
  behind.events = {pause};
  behind.summary = fmt::format("{} was paused at #{}", cause.process, pause);
  cause.events.push_back(pause);
  return fmt::format("it was paused (#{}) between checking its lease and acting", pause);
}

Cause expired_lease(const DetectContext& c, const ProcessClock& clock, const Stamped& lease,
                    std::int64_t expiry, const Access& act, const Stamped* takeover) {
  const auto& t = c.trace;
  const auto& l = *lease.access;
  ActTiming at;
  at.sent = act.application ? act.served : request_sent(t, c.index, act);
  at.real_sent = t.at(at.sent).time;
  at.real_effect = t.at(act.served).time;
  at.local_sent = clock.local(at.real_sent);
  Cause cause;
  cause.kind = "expired_lease";
  cause.process = t.lane_name(l.client);
  cause.events = {at.sent, act.served, l.served};
  if (takeover) cause.events.push_back(takeover->access->served);
  Cause behind;
  const std::string because = why_late(t, l, lease, expiry, takeover, at, cause, behind);
  cause.facts = {{"lease_event", l.served},
                 {"lease_place", lease_place_of(l)},
                 {"expiry", expiry},      // real time
                 {"stamp", lease.stamp},  // as the holder's clock wrote it
                 {"act_event", act.served},
                 {"act_sent_real_ns", at.real_sent},
                 {"act_sent_local_ns", at.local_sent},
                 {"act_effect_real_ns", at.real_effect},
                 {"decision_event", act.served}};
  if (takeover) cause.facts["takeover_event"] = takeover->access->served;
  const auto taken =
      takeover ? fmt::format("{} took the lease over at #{} ({}{})",
                             t.lane_name(takeover->access->client), takeover->access->served,
                             format_time(t.at(takeover->access->served).time),
                             takeover->access->served < act.served ? ", before the act" : "")
               : std::string("no one had taken it over yet");
  const bool early_takeover = takeover && at.real_effect <= expiry;
  cause.summary =
      early_takeover
          ? fmt::format(
                "{} acted ({} at #{}, real {}) on the lease it wrote at #{} ({}), good until {} in "
                "real time, but {}; {}",
                cause.process, access_named(t, act), act.served, format_time(at.real_effect),
                l.served, access_named(t, l), ms(expiry), taken, because)
          : fmt::format(
                "{} acted ({} at #{}, real {}) after the lease it wrote at #{} ({}) had expired at "
                "{} in real time: {}; {}",
                cause.process, access_named(t, act), act.served, format_time(at.real_effect),
                l.served, access_named(t, l), ms(expiry), taken, because);
  if (!behind.kind.empty()) {
    behind.process = cause.process;
    cause.behind.push_back(std::move(behind));
  }
  return cause;
}

}  // namespace

std::vector<Cause> detect_expired_leases(const DetectContext& c) {
  std::vector<Cause> out;
  const auto clocks = clocks_of(c.trace);
  const auto stamped = stamped_requests(c, clocks, true);
  // Leases: a write that took effect carrying a deadline ahead of its writer's clock.
  std::vector<const Stamped*> leases;
  std::set<const Access*> lease_writes;
  for (const auto& s : stamped) {
    if (s.access->write && s.stamp > s.local + kDeadlineMargin) {
      leases.push_back(&s);
      lease_writes.insert(s.access);
    }
  }
  for (const auto* lease : leases) {
    const auto& l = *lease->access;
    // A deadline is the writer's: it expires when the writer's clock reads it (a lease of 10 ms
    // written by a clock 50 ms behind lasts until 60 ms of real time after its stamp's value).
    const auto clock = clocks.count(l.client) ? clocks.at(l.client) : ProcessClock{};
    const std::int64_t expiry = clock.real_when(lease->stamp);
    const auto next = successors_of(leases, *lease);
    for (const auto* act : acts_after_expiry(c, l, expiry, next, lease_writes)) {
      out.push_back(expired_lease(c, clock, *lease, expiry, *act, next.takeover));
    }
  }
  return out;
}

}  // namespace seer::explain
