// A handler's described answer (ops.hpp Outcome): built for a response, or compared in place with
// one. same_data must agree with build_data on every shape: it reads the records' fields as
// records.cpp writes them (promise_record, task_record, value_json).
#include "promises/model/json_compare.hpp"
#include "promises/model/json_fields.hpp"
#include "promises/model/ops.hpp"
#include "promises/model/predicates.hpp"
#include "promises/model/records.hpp"

namespace seer::promises::ops {

namespace {

using json = nlohmann::json;

// The promise as the outcome shows it: view(p, at) only where the view differs from p.
struct Shown {
  const Promise& p;
  PromiseState state;
  std::optional<std::int64_t> settled_at;
};

Shown shown(const Outcome& o) {
  const Promise& p = *o.promise;
  if (o.view_at && p.state == PromiseState::pending && *o.view_at >= p.timeout_at) {
    return {p, timeout_state(p.tags), p.timeout_at};  // view(): timed out at its deadline
  }
  return {p, p.state, p.settled_at};
}

json record_of(const Outcome& o) {
  if (!o.view_at) return promise_record(*o.promise);
  return promise_record(view(*o.promise, *o.view_at));
}

// An object with exactly `count` members, each of which `fits` (found by name).
template <class Fits>
bool same_object(const json& j, std::size_t count, Fits fits) {
  return j.is_object() && j.size() == count && fits([&](const char* name) -> const json* {
           const auto it = j.find(name);
           return it != j.end() ? &*it : nullptr;
         });
}

bool same_record(const json& j, const Shown& s) {  // promise_record
  const Promise& p = s.p;
  return same_object(j, s.settled_at ? 8 : 7, [&](auto member) {
    const json *created = member("createdAt"), *id = member("id"), *param = member("param"),
               *state = member("state"), *tags = member("tags"), *timeout = member("timeoutAt"),
               *value = member("value");
    if (!created || !id || !param || !state || !tags || !timeout || !value) return false;
    if (s.settled_at) {
      const json* settled = member("settledAt");
      if (!settled || !same_int(*settled, *s.settled_at)) return false;
    }
    return same_int(*created, p.created_at) && same_string(*id, p.id) &&
           same_value(*param, p.param) && same_string(*state, state_name(s.state)) &&
           same_strings(*tags, p.tags) && same_int(*timeout, p.timeout_at) &&
           same_value(*value, p.value);
  });
}

bool same_task(const json& j, const Task& t) {  // task_record
  return same_object(j, 4U + (t.pid ? 1U : 0U) + (t.ttl ? 1U : 0U), [&](auto member) {
    const json *id = member("id"), *resumes = member("resumes"), *state = member("state"),
               *version = member("version");
    if (!id || !resumes || !state || !version) return false;
    if (t.pid) {
      const json* pid = member("pid");
      if (!pid || !same_string(*pid, *t.pid)) return false;
    }
    if (t.ttl) {
      const json* ttl = member("ttl");
      if (!ttl || !same_int(*ttl, *t.ttl)) return false;
    }
    if (!resumes->is_array() || resumes->size() != t.resumes.size()) return false;
    std::size_t k = 0;
    for (const std::string& r : t.resumes) {
      if (!same_string((*resumes)[k++], r)) return false;
    }
    return same_string(*id, t.id) && same_string(*state, state_name(t.state)) &&
           same_int(*version, t.version);
  });
}

}  // namespace

json build_data(Outcome&& o) {
  switch (o.form) {
    case Outcome::Form::json:
      return std::move(o.data);
    case Outcome::Form::text:
      return json(o.text);
    case Outcome::Form::empty:
      return json::object();
    case Outcome::Form::promise: {
      JsonFields data;  // json_fields.hpp
      data.add("promise", record_of(o));
      return std::move(data.object);
    }
    case Outcome::Form::task: {
      JsonFields data;
      data.add("task", task_record(*o.task));
      return std::move(data.object);
    }
    case Outcome::Form::task_ok: {
      JsonFields data;  // in key order
      data.add("preload", std::move(o.data));
      data.add("promise", promise_record(*o.promise));
      data.add("task", task_record(*o.task));
      return std::move(data.object);
    }
  }
  return std::move(o.data);
}

bool same_data(const Outcome& o, const json& j) {
  switch (o.form) {
    case Outcome::Form::json:
      return o.data == j;
    case Outcome::Form::text:
      return j.is_string() && j.get_ref<const std::string&>() == o.text;
    case Outcome::Form::empty:
      return j.is_object() && j.empty();
    case Outcome::Form::promise:
      return same_object(j, 1, [&](auto member) {
        const json* record = member("promise");
        return record && same_record(*record, shown(o));
      });
    case Outcome::Form::task:
      return same_object(j, 1, [&](auto member) {
        const json* record = member("task");
        return record && same_task(*record, *o.task);
      });
    case Outcome::Form::task_ok:
      return same_object(j, 3, [&](auto member) {
        const json *preload = member("preload"), *promise = member("promise"),
                   *task = member("task");
        return preload && promise && task && *preload == o.data &&
               same_record(*promise, {*o.promise, o.promise->state, o.promise->settled_at}) &&
               same_task(*task, *o.task);
      });
  }
  return false;
}

}  // namespace seer::promises::ops
