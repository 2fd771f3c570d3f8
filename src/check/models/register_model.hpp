// Register models: "register" (read, write), "cas-register" (read, write, cas [old new]) and "kv"
// (a map of independent cas-registers, get/read and put/write per key, appends to strings and
// integer lists, checked key by key).
#pragma once

#include "register_value.hpp"
#include "seer/check/model.hpp"

namespace seer::check {

class RegisterModel {
 public:
  enum class Kind { kRead, kWrite, kCas, kAppend, kReadList, kAppendString };
  struct Input {
    Kind kind = Kind::kRead;
    RegisterValue a;  // written, expected (cas), appended
    RegisterValue b;  // cas: the new value
    bool operator==(const Input&) const = default;
  };
  using Output = RegisterValue;
  using State = RegisterValue;

  RegisterModel(bool cas, bool keyed) : cas_(cas), keyed_(keyed) {}

  State init() const { return init_; }
  // --init: an integer, nil, or a string in double quotes (JSON), e.g. --init '""'.
  void set_init(const std::string& text);
  std::size_t hash(const State& s) const { return hash_value(s); }
  std::string describe_state(const State& s) const { return describe_value(s); }

  std::vector<CallOf<RegisterModel>> compile_all(const std::vector<Operation>& ops) const;
  std::optional<State> step(const State& s, const Input& in,
                            const std::optional<Output>& out) const;
  std::vector<bool> prunable(const std::vector<CallOf<RegisterModel>>& calls,
                             const std::vector<Operation>& ops) const;
  std::optional<std::string> explain_failure(const std::vector<Operation>& ops,
                                             const Operation& failing) const;

 private:
  CallOf<RegisterModel> compile_register(const Operation& op) const;
  CallOf<RegisterModel> compile_keyed(const Operation& op) const;
  RegisterValue value(const nlohmann::json& v, const Operation& op) const;
  std::optional<State> step_list(const State& s, const Input& in,
                                 const std::optional<Output>& out) const;

  bool cas_;
  bool keyed_;
  State init_;
};

// The kv model: cas-registers by key. An op's key is its "key" field, or the first of Jepsen's
// independent [key value] tuples.
class KvModel : public RegisterModel {
 public:
  KvModel() : RegisterModel(true, true) {}
  std::pair<nlohmann::json, Operation> partition(const Operation& op) const;
};

}  // namespace seer::check
