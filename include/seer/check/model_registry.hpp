// The checker models seer knows by name: one table, read by `seer check --model`, `seer check
// --help` and `seer list`. The built-in models are in it from the start; a user's program adds its
// own from the translation unit that defines them:
//   SEER_REGISTER_MODEL("my-counter", "add n / read", Counter);
#pragma once

#include "seer/check/model.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seer::check {

struct ModelEntry {
  std::string name;
  std::string summary;  // one line: the operations it takes
  std::function<std::unique_ptr<AnyModel>()> make;
};

// Every model, built-in first, then in the order they were registered.
std::vector<ModelEntry> registered_models();
// nullptr if no model has that name.
std::unique_ptr<AnyModel> make_model(const std::string& name);
// The names, comma-separated, for error messages.
std::string model_names();
// Adds a model; throws std::invalid_argument if the name is taken.
void register_model(ModelEntry entry);

template <CheckerModel M>
void register_model(const std::string& name, const std::string& summary) {
  register_model(ModelEntry{name, summary, [name] { return erase_model<M>(name); }});
}

struct ModelRegistrar {
  explicit ModelRegistrar(ModelEntry entry) { register_model(std::move(entry)); }
};

}  // namespace seer::check

#define SEER_CHECK_CONCAT_(a, b) a##b
#define SEER_CHECK_CONCAT(a, b) SEER_CHECK_CONCAT_(a, b)
// Registers model type `Type` under `name` when the program starts.
#define SEER_REGISTER_MODEL(name, summary, Type)                                      \
  static const ::seer::check::ModelRegistrar SEER_CHECK_CONCAT(seer_model_registrar_, \
                                                               __COUNTER__) {         \
    ::seer::check::ModelEntry {                                                       \
      name, summary, [] { return ::seer::check::erase_model<Type>(name); }            \
    }                                                                                 \
  }
