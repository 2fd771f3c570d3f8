// A position counted in rows already read (an OFFSET), carried in the reader's next request: the
// next request is the same as the last, but for a number advanced by exactly the count of rows that
// read returned. Another process's delete of a row the reader had already passed, committed after
// that read and before the next request took effect, moves every later row one place toward the
// start: the row that slides across the boundary into what was already read is never read. Only
// the requests' numbers and the answers' row counts tell it, never a field or statement.
#include "causes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace seer::explain {

namespace {

// How many of a reader's later reads are looked at for the next request of the same shape: a page
// is followed by the next within a few requests, and the bound keeps each read's cost constant.
constexpr std::size_t kNextReads = 8;

// The rows (or listed items) an answer returned: for an answer that holds arrays of rows (a SQL
// reply's results, one array per statement), every row of them; else its longest array.
std::int64_t rows_returned(const nlohmann::json& payload) {
  std::int64_t longest = 0;
  if (!payload.is_object()) return 0;
  for (const auto& [field, v] : payload.items()) {
    if (!v.is_array()) continue;
    const bool of_rows =
        !v.empty() && std::all_of(v.begin(), v.end(), [](const auto& s) { return s.is_array(); });
    std::int64_t n = 0;
    if (of_rows) {
      for (const auto& s : v) n += static_cast<std::int64_t>(s.size());
    } else {
      n = static_cast<std::int64_t>(v.size());
    }
    longest = std::max(longest, n);
  }
  return longest;
}

// The request an access answered (its payload, without its request number).
nlohmann::json request_payload(const Trace& t, const Access& a) {
  const auto request = request_of(t, a.served);
  if (request == 0) return nullptr;
  auto payload = t.at(request).line.value("payload", nlohmann::json());
  if (payload.is_object()) payload.erase("req");
  return payload;
}

bool has_digit(const nlohmann::json& s) {
  const auto& text = s.get_ref<const std::string&>();
  return std::any_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// Whether `next` is `last` with one number moved on by `count` (its other numbers and its shape
// the same; a string may differ only where both hold a digit, a label naming the page): a position
// counted in rows read. The number found, else none.
std::optional<std::int64_t> advanced_by(const nlohmann::json& last, const nlohmann::json& next,
                                        std::int64_t count, int depth = 0) {
  if (depth > 16 || last.type() != next.type()) return std::nullopt;
  if (last.is_number_integer()) {
    const auto a = last.get<std::int64_t>();
    const auto b = next.get<std::int64_t>();
    if (b == a + count) return b;
    return std::nullopt;
  }
  if (!last.is_structured() || last.size() != next.size()) return std::nullopt;
  std::optional<std::int64_t> moved;
  auto compare = [&](const nlohmann::json& x, const nlohmann::json& y) {
    if (x.is_number_integer() && y.is_number_integer() && x == y) return true;
    // A string may differ only where both name something numbered (a label naming the page).
    if (x.is_string() && y.is_string()) return x == y || (has_digit(x) && has_digit(y));
    if (!x.is_structured() && !x.is_number_integer()) return x == y;
    const auto found = advanced_by(x, y, count, depth + 1);
    if (!found || moved) return false;  // a second number moved, or a part changed otherwise
    moved = found;
    return true;
  };
  if (last.is_array()) {
    for (std::size_t i = 0; i < last.size(); ++i) {
      if (!compare(last[i], next[i])) return std::nullopt;
    }
  } else {
    for (const auto& [field, v] : last.items()) {
      if (!next.contains(field) || !compare(v, next[field])) return std::nullopt;
    }
  }
  return moved;
}

// The rows that joined `read`'s answer when `x` committed (the oracle re-ran the read: the rows
// after minus the rows before), none of which `next` returned: they slid behind the position. Null
// when the oracle did not record the read again (a redacted trace): nothing says which row.
nlohmann::json rows_slid_behind(const Trace& t, const Access& x, const Access& read,
                                const Access& next) {
  if (!x.facts || !x.facts->contains("overtook") || read.serial == 0) return nullptr;
  const auto next_rows = read_value(t, next).dump();
  for (const auto& o : (*x.facts)["overtook"]) {
    if (o.value("serial", std::uint64_t{0}) != read.serial) continue;
    const auto before = o.value("before", nlohmann::json::array());
    nlohmann::json slid = nlohmann::json::array();
    for (const auto& row : o.value("after", nlohmann::json::array())) {
      if (std::find(before.begin(), before.end(), row) != before.end()) continue;
      if (next_rows.find(row.dump()) != std::string::npos) continue;  // read next: not skipped
      slid.push_back(row);
    }
    return slid;
  }
  return nullptr;
}

}  // namespace

std::vector<Cause> detect_counted_positions(const DetectContext& c) {
  std::vector<Cause> out;
  const auto& t = c.trace;
  const auto& all = c.index.accesses;
  // Each reader's reads, and the deletes by where they took effect.
  std::map<int, std::vector<const Access*>> reads;
  std::multimap<std::uint64_t, const Access*> deletes;
  for (const auto& a : all) {
    if (a.served > c.horizon) continue;
    if (a.read && !a.write && a.delivered) reads[a.client].push_back(&a);
    if (a.write && a.removes) deletes.emplace(a.served, &a);
  }
  if (deletes.empty()) return out;
  for (const auto& [client, own] : reads) {
    for (std::size_t i = 0; i < own.size(); ++i) {
      const Access& read = *own[i];
      const auto count = rows_returned(t.at(read.event).line.value("payload", nlohmann::json()));
      if (count <= 0) continue;
      const auto asked = request_payload(t, read);
      if (asked.is_null()) continue;
      // The reader's next request of the same shape, with a number moved on by the rows read.
      const Access* next = nullptr;
      std::int64_t position = 0;
      for (std::size_t j = i + 1; j < own.size() && j <= i + kNextReads; ++j) {
        const auto moved = advanced_by(asked, request_payload(t, *own[j]), count);
        if (!moved) continue;
        next = own[j];
        position = *moved;
        break;
      }
      if (!next) continue;
      const auto sent = request_sent(t, c.index, *next);
      if (crashed_between(c.index, client, read.event, sent)) continue;
      // Another process's delete that changed what the read returned, committed after it was
      // served and before the next request took effect (while it was computed or in flight).
      for (auto d = deletes.upper_bound(read.served); d != deletes.end() && d->first < next->served;
           ++d) {
        const Access& x = *d->second;
        if (x.client == client || !changed_what_was_read(x, read)) continue;
        if (c.graph.happens_before(x.served, read.event)) continue;
        const auto slid = rows_slid_behind(t, x, read, *next);
        if (slid.is_array() && slid.empty()) continue;  // every row that moved was read next
        Cause cause;
        cause.kind = "outdated_read";
        cause.process = t.lane_name(client);
        cause.events = {read.event, read.served, x.served, sent, next->served};
        cause.facts = {{"how", "counted_position"},    {"read_event", read.event},
                       {"overtaking_event", x.served}, {"decision_event", sent},
                       {"position", position},         {"rows_read", count}};
        if (slid.is_array()) cause.facts["skipped"] = slid;
        cause.summary = fmt::format(
            "{}'s {} returned {} row(s) at #{} ({}), and its next request (#{}, {}) carried the "
            "position {}: the rows it had counted; but {}'s {} removed a row at #{} ({}) before "
            "that request took effect (#{}), so every later row moved one place toward the "
            "start and {} slid behind the position, never read",
            cause.process, access_named(t, read), count, read.served,
            format_time(t.at(read.served).time), sent, format_time(t.at(sent).time), position,
            t.lane_name(x.client), access_named(t, x), x.served, format_time(t.at(x.served).time),
            next->served,
            slid.is_array() ? abbreviated(slid, 80) : std::string("the row past the boundary"));
        out.push_back(std::move(cause));
        break;
      }
    }
  }
  return out;
}

}  // namespace seer::explain
