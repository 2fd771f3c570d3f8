// spec §6: well-formedness is exactly the SDK's request guards (types.js: isXxxReq), tightened by
// A4 (numbers are integers within ±(2^53−1)) and A5 (tag and header values are strings; JSON arrays
// are not objects). Unknown extra fields are ignored.
#include "promises/model/parse.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <utility>

#include "promises/model/records.hpp"

namespace seer::promises {

namespace {
using json = nlohmann::json;

constexpr std::int64_t kMaxSafe = 9007199254740991;  // 2^53 − 1

constexpr std::array<std::pair<Kind, std::string_view>, 26> kKinds{{
    {Kind::promise_get, "promise.get"},
    {Kind::promise_create, "promise.create"},
    {Kind::promise_settle, "promise.settle"},
    {Kind::promise_register_callback, "promise.register_callback"},
    {Kind::promise_register_listener, "promise.register_listener"},
    {Kind::promise_search, "promise.search"},
    {Kind::task_get, "task.get"},
    {Kind::task_create, "task.create"},
    {Kind::task_acquire, "task.acquire"},
    {Kind::task_release, "task.release"},
    {Kind::task_suspend, "task.suspend"},
    {Kind::task_fulfill, "task.fulfill"},
    {Kind::task_fence, "task.fence"},
    {Kind::task_heartbeat, "task.heartbeat"},
    {Kind::task_halt, "task.halt"},
    {Kind::task_continue, "task.continue"},
    {Kind::task_search, "task.search"},
    {Kind::schedule_get, "schedule.get"},
    {Kind::schedule_create, "schedule.create"},
    {Kind::schedule_delete, "schedule.delete"},
    {Kind::schedule_search, "schedule.search"},
    {Kind::debug_start, "debug.start"},
    {Kind::debug_reset, "debug.reset"},
    {Kind::debug_tick, "debug.tick"},
    {Kind::debug_snap, "debug.snap"},
    {Kind::debug_stop, "debug.stop"},
}};

// Thrown inside this file only; parse_request turns it into a Rejection.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Paths are string_views: a message's path is built only when a field fails (every request the
// servers and the history checker read passes here field by field).
[[noreturn]] void fail(std::string_view path, const char* what) {
  throw Malformed(std::string(path) + " " + what);
}

// In the object's map itself (no JSON iterators), by string_view: each key it passes is compared
// with the name's known length, not measured again.
const json* find(const json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto& map = object.get_ref<const json::object_t&>();
  const auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

const json& require(const json& object, const char* name, std::string_view path) {
  const json* field = find(object, name);
  if (field == nullptr) fail(std::string(path) + "." + name, "is missing");
  return *field;
}

const json& as_object(const json& v, std::string_view path) {
  if (!v.is_object()) fail(path, "must be an object");
  return v;
}

// A4: JSON numbers are doubles to the SDK; accept exactly the safe integers, however spelled.
// The integer, or nullopt if `v` is not one (as_integer says why).
std::optional<std::int64_t> safe_integer(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    const auto i = v.get<std::int64_t>();
    if (i >= -kMaxSafe && i <= kMaxSafe) return i;
  } else if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(kMaxSafe)) return static_cast<std::int64_t>(u);
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= static_cast<double>(kMaxSafe))
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::int64_t as_integer(const json& v, std::string_view path) {
  if (const auto i = safe_integer(v)) return *i;
  if (!v.is_number()) fail(path, "must be a number");
  fail(path, "must be an integer within ±(2^53−1)");
}

// The field's path ("<path>.<name>") is built only for a failure's message: every request the
// servers and the history checker read passes here field by field.
std::string string_field(const json& o, const char* name, std::string_view path) {
  const json& v = require(o, name, path);
  if (!v.is_string()) fail(std::string(path) + "." + name, "must be a string");
  return v.get_ref<const std::string&>();
}

std::int64_t integer_field(const json& o, const char* name, std::string_view path) {
  const json& v = require(o, name, path);
  if (const auto i = safe_integer(v)) return *i;
  return as_integer(v, std::string(path) + "." + name);
}

// A field's path in parts, joined only for a failure's message (a joined path longer than the
// short-string buffer costs an allocation, and every well-formed request passes here).
struct Path {
  std::string_view base, field, sub;
  std::string str() const {
    std::string out(base);
    out += field;
    out += sub;
    return out;
  }
};

// A5: tag (and header) values must be strings.
std::map<std::string, std::string> string_map(const json& v, const Path& path) {
  if (!v.is_object()) fail(path.str(), "must be an object");
  std::map<std::string, std::string> out;
  for (const auto& [key, item] : v.items()) {
    if (!item.is_string()) fail(path.str() + "." + key, "must be a string");
    out.emplace(key, item.get_ref<const std::string&>());
  }
  return out;
}

// The value at `base` + `field` (its path).
Value as_value(const json& v, std::string_view base, std::string_view field) {
  if (!v.is_object()) fail(Path{base, field, {}}.str(), "must be an object");
  Value out;
  if (const json* headers = find(v, "headers"))
    out.headers = string_map(*headers, Path{base, field, ".headers"});
  if (const json* data = find(v, "data")) {
    if (!data->is_string()) fail(Path{base, field, ".data"}.str(), "must be a string");
    out.data = data->get_ref<const std::string&>();
  }
  return out;
}

// Optional search filters: absent is fine, present must have the right type.
void optional_string(const json& o, const char* name, std::string_view path) {
  const json* f = find(o, name);
  if (f != nullptr && !f->is_string()) fail(std::string(path) + "." + name, "must be a string");
}
void optional_integer(const json& o, const char* name, std::string_view path) {
  const json* f = find(o, name);
  if (f != nullptr && !safe_integer(*f)) as_integer(*f, std::string(path) + "." + name);
}
void optional_tags(const json& o, const std::string& path) {
  if (const json* f = find(o, "tags")) string_map(*f, Path{path, ".tags", {}});
}
void optional_state(const json& o, const std::string& path,
                    std::initializer_list<std::string_view> allowed) {
  const json* f = find(o, "state");
  if (f == nullptr) return;
  if (f->is_string())
    for (std::string_view a : allowed)
      if (f->get_ref<const std::string&>() == a) return;
  fail(path + ".state", "is not an allowed state");
}

Head parse_head(const json& head, std::string_view path) {
  as_object(head, path);
  Head out{string_field(head, "corrId", path), string_field(head, "version", path)};
  if (head.size() == 2) return out;  // corrId and version alone: no optional field to check
  optional_string(head, "auth", path);
  optional_integer(head, "resonate:debug_time", path);
  optional_string(head, "resonate:origin", path);
  return out;
}

// An embedded request (task.create/fulfill/fence actions, task.suspend actions) must itself be a
// well-formed request of the given kind, head included.
const json& embedded_data(const json& request, std::string_view kind, const std::string& path,
                          Head* head) {
  as_object(request, path);
  const json& k = require(request, "kind", path);
  if (!k.is_string() || k.get_ref<const std::string&>() != kind)
    fail(path + ".kind", ("must be \"" + std::string(kind) + "\"").c_str());
  Head h = parse_head(require(request, "head", path), path + ".head");
  if (head != nullptr) *head = std::move(h);
  return as_object(require(request, "data", path), path + ".data");
}

PromiseCreateReq parse_create(const json& request, const std::string& path) {
  PromiseCreateReq out;
  const json& d = embedded_data(request, "promise.create", path, &out.head);
  const std::string dp = path + ".data";
  out.id = string_field(d, "id", dp);
  out.timeout_at = integer_field(d, "timeoutAt", dp);
  out.param = as_value(require(d, "param", dp), dp, ".param");
  out.tags = string_map(require(d, "tags", dp), Path{dp, ".tags", {}});
  return out;
}

PromiseSettleReq parse_settle(const json& request, const std::string& path) {
  PromiseSettleReq out;
  const json& d = embedded_data(request, "promise.settle", path, &out.head);
  const std::string dp = path + ".data";
  out.id = string_field(d, "id", dp);
  const std::string state = string_field(d, "state", dp);
  // Only the three client states; "pending" and "rejected_timedout" are malformed (spec §6).
  if (state != "resolved" && state != "rejected" && state != "rejected_canceled")
    fail(dp + ".state", "must be resolved, rejected or rejected_canceled");
  out.state = *promise_state_from_name(state);
  out.value = as_value(require(d, "value", dp), dp, ".value");
  return out;
}

RegisterCallbackReq parse_callback(const json& d, const std::string& dp) {
  return {string_field(d, "awaited", dp), string_field(d, "awaiter", dp)};
}

TaskSuspendReq parse_suspend(const json& d, const std::string& dp) {
  TaskSuspendReq out{string_field(d, "id", dp), integer_field(d, "version", dp), {}};
  const json& actions = require(d, "actions", dp);
  if (!actions.is_array()) fail(dp + ".actions", "must be an array");
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const std::string ap = dp + ".actions[" + std::to_string(i) + "]";
    const json& ad = embedded_data(actions[i], "promise.register_callback", ap, nullptr);
    out.actions.push_back(parse_callback(ad, ap + ".data"));
  }
  return out;
}

TaskFenceReq parse_fence(const json& d, const std::string& dp) {
  TaskFenceReq out{string_field(d, "id", dp), integer_field(d, "version", dp), {}};
  const json& action = as_object(require(d, "action", dp), dp + ".action");
  const json* kind = find(action, "kind");
  if (kind != nullptr && kind->is_string() &&
      kind->get_ref<const std::string&>() == "promise.create") {
    out.action = parse_create(action, dp + ".action");
  } else {
    out.action = parse_settle(action, dp + ".action");
  }
  return out;
}

TaskHeartbeatReq parse_heartbeat(const json& d, const std::string& dp) {
  TaskHeartbeatReq out{string_field(d, "pid", dp), {}};
  const json& tasks = require(d, "tasks", dp);
  if (!tasks.is_array()) fail(dp + ".tasks", "must be an array");
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string tp = dp + ".tasks[" + std::to_string(i) + "]";
    as_object(tasks[i], tp);
    out.tasks.push_back({string_field(tasks[i], "id", tp), integer_field(tasks[i], "version", tp)});
  }
  return out;
}

void check_schedule_create(const json& d, const std::string& dp) {
  string_field(d, "id", dp);
  string_field(d, "cron", dp);
  string_field(d, "promiseId", dp);
  integer_field(d, "promiseTimeout", dp);
  as_value(require(d, "promiseParam", dp), dp, ".promiseParam");
  string_map(require(d, "promiseTags", dp), Path{dp, ".promiseTags", {}});
}

// Reads `data` of a request of kind `kind` (spec §5 request shapes).
RequestData parse_data(Kind kind, const json& request, const json& d) {
  const std::string dp = "data";
  switch (kind) {
    case Kind::promise_get:
    case Kind::task_get:
    case Kind::task_halt:
    case Kind::task_continue:
      return IdReq{string_field(d, "id", dp)};
    case Kind::promise_create:
      return parse_create(request, "request");
    case Kind::promise_settle:
      return parse_settle(request, "request");
    case Kind::promise_register_callback:
      return parse_callback(d, dp);
    case Kind::promise_register_listener:
      return RegisterListenerReq{string_field(d, "awaited", dp), string_field(d, "address", dp)};
    case Kind::promise_search:
      optional_state(d, dp,
                     {"pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"});
      optional_tags(d, dp);
      optional_integer(d, "limit", dp);
      optional_string(d, "cursor", dp);
      return NoData{};
    case Kind::task_create:
      return TaskCreateReq{string_field(d, "pid", dp), integer_field(d, "ttl", dp),
                           parse_create(require(d, "action", dp), dp + ".action")};
    case Kind::task_acquire:
      return TaskAcquireReq{string_field(d, "id", dp), integer_field(d, "version", dp),
                            string_field(d, "pid", dp), integer_field(d, "ttl", dp)};
    case Kind::task_release:
      return TaskReleaseReq{string_field(d, "id", dp), integer_field(d, "version", dp)};
    case Kind::task_suspend:
      return parse_suspend(d, dp);
    case Kind::task_fulfill:
      return TaskFulfillReq{string_field(d, "id", dp), integer_field(d, "version", dp),
                            parse_settle(require(d, "action", dp), dp + ".action")};
    case Kind::task_fence:
      return parse_fence(d, dp);
    case Kind::task_heartbeat:
      return parse_heartbeat(d, dp);
    case Kind::task_search:
      optional_state(d, dp, {"pending", "acquired", "suspended", "halted", "fulfilled"});
      optional_integer(d, "limit", dp);
      optional_string(d, "cursor", dp);
      return NoData{};
    case Kind::schedule_get:
    case Kind::schedule_delete:
      return IdReq{string_field(d, "id", dp)};
    case Kind::schedule_create:
      check_schedule_create(d, dp);
      return NoData{};
    case Kind::schedule_search:
      optional_tags(d, dp);
      optional_integer(d, "limit", dp);
      optional_string(d, "cursor", dp);
      return NoData{};
    case Kind::debug_tick:
      return DebugTickReq{integer_field(d, "time", dp)};
    case Kind::debug_start:
    case Kind::debug_reset:
    case Kind::debug_snap:
    case Kind::debug_stop:
      return NoData{};
  }
  return NoData{};
}

// What a 400 echoes (spec §6): the request's kind, corrId and version when they are strings.
Rejection echo(const json& request, std::string reason) {
  Rejection r{"", {}, std::move(reason)};
  if (!request.is_object()) return r;
  const json* kind = find(request, "kind");
  if (kind != nullptr && kind->is_string()) r.kind = kind->get<std::string>();
  const json* head = find(request, "head");
  if (head == nullptr || !head->is_object()) return r;
  const json* corr = find(*head, "corrId");
  if (corr != nullptr && corr->is_string()) r.head.corr_id = corr->get<std::string>();
  const json* version = find(*head, "version");
  if (version != nullptr && version->is_string()) r.head.version = version->get<std::string>();
  return r;
}
}  // namespace

std::optional<Kind> kind_from_name(std::string_view name) {
  for (const auto& [kind, n] : kKinds)
    if (n == name) return kind;
  return std::nullopt;
}

std::string_view kind_name(Kind kind) {
  for (const auto& [k, n] : kKinds)
    if (k == kind) return n;
  return "";
}

std::variant<Request, Rejection> parse_request(const json& request) {
  try {
    as_object(request, "request");
    // string_field's checks, without copying the name
    const json& name = require(request, "kind", "request");
    if (!name.is_string()) fail("request.kind", "must be a string");
    const std::optional<Kind> kind = kind_from_name(name.get_ref<const std::string&>());
    if (!kind) fail("request.kind", "is not a known kind");
    Request out;
    out.kind = *kind;
    out.head = parse_head(require(request, "head", "request"), "request.head");
    const json& data = as_object(require(request, "data", "request"), "request.data");
    out.data = parse_data(*kind, request, data);
    return out;
  } catch (const Malformed& e) {
    return echo(request, std::string("Malformed request: ") + e.what());
  }
}

}  // namespace seer::promises
