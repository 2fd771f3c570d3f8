// The trace's service accesses in one shape, whatever the service: who asked, which server event
// it took effect at, what version it saw or wrote, and what the oracle knew. Built from the facts
// the simulated services and systems attach (docs/services.md, docs/trace-format.md).
#pragma once

#include "seer/explain/trace_file.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace seer::explain {

// What one SQL statement of a logged request pins down (logged_accesses.cpp): its table, whether
// it changed rows, and the columns its WHERE clause (or an INSERT's column list) fixes to one value
// each (`doc = ?1` with the parameter's value, as JSON text). Empty `equal` when it pins nothing
// (no WHERE, an OR, a subquery, several tables): it may touch any row of the table.
struct SqlRows {
  std::string table;
  bool write = false;
  std::map<std::string, std::string> equal;
};

struct Access {
  std::uint64_t event = 0;   // the requester's deliver of the reply (or the drop / lost-reply note)
  std::uint64_t served = 0;  // the server event where it took effect
  int client = kSimLane;
  int server = kSimLane;
  std::string service;
  std::string op;
  std::string scope;  // key, prefix, or "*" (a whole database)
  bool read = false;
  bool write = false;         // took effect as a write (applied / changed rows)
  bool delivered = true;      // the requester got the reply
  bool stale = false;         // the oracle says the reply missed a write
  std::int64_t seen = -1;     // the version a read observed (or the commit index a txn saw)
  std::int64_t written = -1;  // the version a write created
  std::string lost_how;       // when !delivered: "service", "network_drop", "late"
  const nlohmann::json* facts = nullptr;
  // SQL, from the oracle's row-level tracking: the reply's serial, the tables its statements read,
  // the rows it wrote ("table/rowid"), and the serials of earlier reads whose results it changed.
  std::uint64_t serial = 0;
  std::vector<std::string> tables_read;
  std::vector<std::string> rows_written;
  std::vector<std::uint64_t> overtook;
  bool removes = false;  // it deleted something (a key, an object, a row)
  std::string sql;       // SQL: what its statements did ("SELECT refs; INSERT refs/1")
  // SQL from a log (no oracle rows): what each statement pinned down, to tell a write from rows a
  // read could not have returned (touches_what_was_read). Empty with the oracle's rows.
  std::vector<SqlRows> sql_rows;
  // A request to one of the design's own servers (not a simulated service), answered by a message
  // that carries its request number: a write when the server wrote to a service while handling it.
  bool application = false;
  std::uint64_t effect = 0;  // an application request's write to a service while handling it
};

// Whether `w` (a write by another process) changed what `r` read: for SQL, the oracle re-ran the
// read after w committed and its rows differed; otherwise w wrote the scope r read, on the same
// service.
bool changed_what_was_read(const Access& w, const Access& r);
// Whether a write `w` touches what `r` read (the same scope, or a table the SQL read read; from a
// log, not when every statement of `w` that changed that table pinned a column to a value other
// than the one every statement of `r` reading the table pinned it to: other rows).
bool touches_what_was_read(const Access& w, const Access& r);
bool scopes_overlap(const std::string& a, const std::string& b);

struct TraceIndex {
  std::map<std::uint64_t, std::uint64_t> send_of;     // message id -> its send event
  std::map<std::uint64_t, std::uint64_t> deliver_of;  // message id -> its first delivery
  std::map<std::uint64_t, std::uint64_t> drop_of;     // message id -> its drop
  std::vector<Access> accesses;                       // in event order
  std::map<int, std::vector<std::uint64_t>> crashes;  // lane -> its crash events, in order
  // (service, scope) -> the writes that took effect there (deletes too), positions in
  // `accesses`, in its order: a place's history without scanning every access.
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> writes_at;
};

// Whether `lane` crashed after event `after` and before event `before`: a crash discards the
// process's volatile state, so what it learned before (a read) cannot be what a later life acted
// on; that life's own reads are.
bool crashed_between(const TraceIndex& index, int lane, std::uint64_t after, std::uint64_t before);

TraceIndex index_trace(const Trace& trace);

// The lanes of the simulated services (the servers of accesses with a service's own facts): their
// replies are accesses already, not the design's own messages.
std::set<int> service_lanes(const TraceIndex& index);

// How a dropped reply was lost (Access::lost_how): "receiver_down" when its requester was down
// (crashed, not yet restarted) as it arrived, "network_drop" otherwise.
std::string drop_how(const TraceEvent& drop);
// Whether `e` is a process giving up waiting for an answer (its `receive_timeout` timer).
bool is_receive_timeout(const TraceEvent& e);
// `s` in ASCII upper case (SQL keywords are case-insensitive).
std::string upper_ascii(std::string s);
// Adds the accesses a log could tell: service replies without oracle facts, from their request and
// reply messages alone (logged_accesses.cpp). index_trace calls it.
void add_logged_accesses(const Trace& trace, TraceIndex& index);
// Adds the requests the design's own servers answered (logged_accesses.cpp). index_trace calls it.
void add_application_requests(const Trace& trace, TraceIndex& index);

// When the requester sent the request behind `a` (the server's event if that is unknown).
std::uint64_t request_sent(const Trace& trace, const TraceIndex& index, const Access& a);

// A process's clock as the oracle knows it (its start event's facts): what it read at true time t.
struct ProcessClock {
  std::int64_t offset_ns = 0;
  std::int64_t drift_ppm = 0;
  // The simulator's clock model (Simulator's local time): offset plus drift.
  std::int64_t local(std::int64_t t) const { return t + offset_ns + t * drift_ppm / 1'000'000; }
  bool skewed() const { return offset_ns != 0 || drift_ppm != 0; }
  // The real time at which this clock reads `reading` (the inverse of local()).
  std::int64_t real_when(std::int64_t reading) const {
    const long double rate = 1.0L + static_cast<long double>(drift_ppm) / 1e6L;
    return static_cast<std::int64_t>(static_cast<long double>(reading - offset_ns) / rate);
  }
};
// Each process's clock by lane, from its latest start or restart before `until` (all if 0).
std::map<int, ProcessClock> clocks_of(const Trace& trace);

// What a read returned (its reply's value, rows or listing) and what a write carried (the
// request's value or parameters), for following data from a read into a later write.
nlohmann::json read_value(const Trace& trace, const Access& a);
nlohmann::json written_value(const Trace& trace, const Access& a);
// Whether a non-trivial piece of `from` (a string, or a number other than -1, 0, 1) appears in
// `into`: the write carries something the read returned.
bool flows_into(const nlohmann::json& from, const nlohmann::json& into);
// Whether `after` no longer holds a piece of `from` that `into` carries: a later value that took
// away part of what a copy was made of (a list without an element the copy still names). With
// `names_only`, only strings count: a counter bumped by every write drops its old number.
bool drops_carried_part(const nlohmann::json& from, const nlohmann::json& into,
                        const nlohmann::json& after, bool names_only);

// What request_of does with a reply that carries no request number: nothing ties it to a request
// (kNone), or it answers the latest delivery from its receiver on the same lane, within a short
// walk back (kLatestFromPeer: a reply sent while the request is handled).
enum class Unnumbered { kNone, kLatestFromPeer };

// The server's delivery of the request that `reply_or_note` (a reply's send, or a service's note
// about a request) answers: the latest earlier delivery on the same lane with the same request
// number (and label or key, which tell apart clients that number their requests alike). 0 if none.
std::uint64_t request_of(const Trace& trace, std::uint64_t reply_or_note,
                         Unnumbered unnumbered = Unnumbered::kNone);

}  // namespace seer::explain
