// `seer view TRACE -o FILE`: the trace as one self-contained HTML page (space-time diagram, facts,
// explanation). `seer export TRACE --format chrome|shiviz -o FILE`: the trace for Perfetto or
// ShiViz. Exit 0 written, 2 bad input.
#include "command.hpp"
#include "seer/explain/explain.hpp"
#include "seer/export/export.hpp"
#include "seer/view/viewer.hpp"
#include "trace_input.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>

namespace seer::cli {

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  if (!out) throw UsageError("cannot write '" + path + "'");
  out << text;
  if (!out) throw UsageError("failed writing '" + path + "'");
}

}  // namespace

Command add_view_command(CLI::App& root) {
  struct Options {
    std::string trace;
    std::string output;
    bool no_explain = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "view", "Write a self-contained HTML timeline of a trace (open it in any browser)");
  app->add_option("trace", o->trace, "Trace file (seer run ... --trace FILE)")->required();
  app->add_option("-o,--output", o->output, "HTML file to write")->required();
  app->add_flag("--no-explain", o->no_explain, "Leave the explanation out");
  app->add_flag("--json", o->json, "Machine-readable output");
  return {app, [o] {
            const auto trace = load_trace(o->trace);
            nlohmann::json explanation;
            if (!o->no_explain) {
              const explain::CausalGraph graph(trace);
              explanation = explain::explanation_json(explain::explain_trace(trace, graph), trace);
            }
            const auto page = view::viewer_html(trace, explanation);
            write_text(o->output, page);
            if (o->json) {
              std::cout << nlohmann::json{{"output", o->output},
                                          {"events", trace.events.size()},
                                          {"processes", trace.processes},
                                          {"bytes", page.size()}}
                               .dump()
                        << '\n';
            } else {
              std::cout << fmt::format("wrote {} ({} events, {} KB): open it in a browser\n",
                                       o->output, trace.events.size(), page.size() / 1024);
            }
            return 0;
          }};
}

Command add_export_command(CLI::App& root) {
  struct Options {
    std::string trace;
    std::string output;
    std::string format;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "export", "Convert a trace for Perfetto / chrome://tracing (chrome) or ShiViz (shiviz)");
  app->add_option("trace", o->trace, "Trace file")->required();
  app->add_option("--format", o->format, "chrome or shiviz")
      ->required()
      ->check(CLI::IsMember({"chrome", "shiviz"}));
  app->add_option("-o,--output", o->output, "File to write")->required();
  app->add_flag("--json", o->json, "Machine-readable output");
  return {app, [o] {
            const auto trace = load_trace(o->trace);
            if (o->format == "chrome") {
              std::ofstream out(o->output, std::ios::trunc | std::ios::binary);
              if (!out) throw UsageError("cannot write '" + o->output + "'");
              exporter::chrome_trace(trace, out);
              if (!out) throw UsageError("failed writing '" + o->output + "'");
            } else {
              write_text(o->output, exporter::shiviz_log(trace));
            }
            const std::string hint =
                o->format == "chrome" ? "open it at https://ui.perfetto.dev or chrome://tracing"
                                      : std::string("paste it into ShiViz with the parser regex ") +
                                            exporter::kShivizRegex;
            if (o->json) {
              std::cout << nlohmann::json{{"output", o->output},
                                          {"format", o->format},
                                          {"events", trace.events.size()},
                                          {"hint", hint}}
                               .dump()
                        << '\n';
            } else {
              std::cout << fmt::format("wrote {} ({} events): {}\n", o->output, trace.events.size(),
                                       hint);
            }
            return 0;
          }};
}

}  // namespace seer::cli
