#include "seer/check/model_registry.hpp"

#include "builtin_models.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace seer::check {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<ModelEntry> entries = builtin_models();
};

// The built-in models are listed here rather than registered by static objects: a static library's
// object file that nothing references is left out of the link, registrar and all.
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::vector<ModelEntry> registered_models() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.entries;
}

std::unique_ptr<AnyModel> make_model(const std::string& name) {
  auto& r = registry();
  std::function<std::unique_ptr<AnyModel>()> make;
  {
    std::lock_guard lock(r.mutex);
    const auto it = std::find_if(r.entries.begin(), r.entries.end(),
                                 [&](const ModelEntry& e) { return e.name == name; });
    if (it == r.entries.end()) return nullptr;
    make = it->make;
  }
  return make();
}

std::string model_names() {
  std::string names;
  for (const auto& e : registered_models()) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

void register_model(ModelEntry entry) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  const bool taken = std::any_of(r.entries.begin(), r.entries.end(),
                                 [&](const ModelEntry& e) { return e.name == entry.name; });
  if (taken) throw std::invalid_argument("a checker model named '" + entry.name + "' exists");
  r.entries.push_back(std::move(entry));
}

}  // namespace seer::check
