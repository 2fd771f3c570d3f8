#include "seer/view/viewer.hpp"

#include <stdexcept>

namespace seer::view {

extern const char* const kViewerTemplate;  // viewer.html, embedded at build time

namespace {
constexpr std::string_view kPlaceholder = "/*SEER_DATA*/";
}

std::string viewer_html(const explain::Trace& trace, const nlohmann::json& explanation) {
  std::string page = kViewerTemplate;
  const auto at = page.find(kPlaceholder);
  if (at == std::string::npos) throw std::logic_error("viewer template lacks its data placeholder");
  // The events go in as the trace's own lines: no copy and no re-serialisation of a large trace.
  std::string json = R"({"header":)" + trace.header.dump() + R"(,"events":[)";
  for (std::size_t i = 0; i < trace.event_lines.size(); ++i) {
    if (i) json += ',';
    json += trace.event_lines[i];
  }
  json += R"(],"footer":)" + trace.footer.dump() + R"(,"explanation":)" +
          explanation.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}";
  // Inside <script type="application/json"> the HTML parser reacts to "</script" and to "<!--";
  // writing every '<' as \u003c (the same string to JSON.parse) leaves it nothing to react to.
  std::string escaped;
  escaped.reserve(json.size() + json.size() / 32);
  for (const char c : json) {
    if (c == '<') {
      escaped += "\\u003c";
    } else {
      escaped += c;
    }
  }
  page.replace(at, kPlaceholder.size(), escaped);
  return page;
}

}  // namespace seer::view
