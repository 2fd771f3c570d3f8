// Decoders of the services' wire messages (kv_client.hpp, sql_client.hpp): the codec's registry
// starts with them, so a process reached over TCP speaks the simulated services' protocol.
#pragma once

#include "seer/runtime/codec.hpp"

#include <map>
#include <string>

namespace seer::runtime {

std::map<std::string, PayloadDecoder, std::less<>> service_payload_decoders();

}  // namespace seer::runtime
