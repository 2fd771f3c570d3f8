#include "seer/runtime/codec.hpp"

#include "service_payloads.hpp"

#include <map>
#include <mutex>

namespace seer::runtime {

namespace {

// Built on first use (not by static initializers in this library, which a static link may drop),
// with the services' payloads in it.
struct Registry {
  std::mutex mutex;
  std::map<std::string, PayloadDecoder, std::less<>> decoders = service_payload_decoders();
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_payload(std::string type, PayloadDecoder decoder) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.decoders[std::move(type)] = std::move(decoder);
}

bool payload_registered(std::string_view type) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.decoders.find(type) != r.decoders.end();
}

sim::PayloadPtr decode_payload(std::string_view type, const nlohmann::json& body) {
  PayloadDecoder decoder;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    const auto it = r.decoders.find(type);
    if (it == r.decoders.end()) {
      throw DecodeError("no decoder registered for payload type \"" + std::string(type) +
                        "\" (SEER_REGISTER_PAYLOAD)");
    }
    decoder = it->second;
  }
  try {
    auto payload = decoder(body);
    if (!payload) throw DecodeError("its decoder returned nothing");
    return payload;
  } catch (const DecodeError& e) {
    throw DecodeError("payload type \"" + std::string(type) + "\": " + e.what());
  } catch (const std::exception& e) {
    throw DecodeError("payload type \"" + std::string(type) +
                      "\" with a malformed body: " + e.what());
  }
}

}  // namespace seer::runtime
