// explain_bench: how often `seer explain` names the real root cause, on designs written by someone
// who never read its detectors (docs/explain-benchmark.md).
//
// For each design: sweep seeds from 1 until N seeds fail its invariant (at most --max-seeds),
// record each failing seed's trace, read it back, explain it, and compare with the design's label:
//   top-1   the first cause's kind is accepted and its events include a key event
//   top-3   the same within the first three causes
//   recall  the share of key events in the explanation's slice (mean over seeds), and the share of
//           seeds with every key event in the slice
// The fixed variant must hold on the same seeds (it proves the label names the real cause).
#include "designs/design.hpp"

#include "seer/counterfactual/counterfactual.hpp"
#include "seer/explain/causal_graph.hpp"
#include "seer/explain/explain.hpp"
#include "seer/explain/trace_file.hpp"
#if __has_include("seer/explain/redact.hpp")
#include "seer/explain/redact.hpp"
#define SEER_BENCH_HAS_REDACT 1
#endif

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace seer::bench::explain {

namespace {

struct Options {
  std::string set = "main";
  std::string design;
  int failing = 20;
  int max_seeds = 2000;
  int fixed_seeds = 0;  // 0: as many as the buggy sweep ran
  bool json = false;
  bool redacted = false;
  bool verbose = false;
  bool verify = false;
  std::string trace_dir;
};

struct SeedResult {
  std::uint64_t seed = 0;
  std::vector<std::uint64_t> key_events;
  std::vector<std::uint64_t> scored_keys;  // --redacted: the key events that survive, renumbered
  std::vector<std::string> top_kinds;      // the first three causes' kinds
  std::vector<std::uint64_t> top_events;   // the first cause's evidence
  std::size_t slice_size = 0;
  std::vector<std::uint64_t> missing_from_slice;  // key events (as scored) not in the slice
  bool top1 = false;
  bool top3 = false;
  // A top-1 hit whose remedy names a key event as where the design acted (the decision, or the
  // reply it took effect at): explain points at the right place in the code, not only the kind.
  bool where = false;
  double recall = 0;
  bool all_keys = false;
  bool labeled = false;
  std::string violation;
  std::string verdict;  // --verify: the first cause's (seer/counterfactual/counterfactual.hpp)
  std::vector<std::string> verdicts;  // --verify: the first three causes'
  std::vector<bool> hits;             // which of the first three causes are hits
  int faults_needed = -1;             // --verify: faults the violation needed (-1: not checked)
  bool needed_key = false;            // one of them shows at a key event
};

struct DesignResult {
  std::string name;
  bool held_out = false;
  std::vector<std::string> accepted;
  std::uint64_t swept = 0;
  int other_failures = 0;  // failing a different invariant than the design's (a design bug)
  std::vector<std::string> other_messages;
  std::vector<SeedResult> seeds;
  std::uint64_t fixed_seeds = 0;
  std::vector<std::uint64_t> fixed_failing;
  std::string fixed_first_message;
  std::map<std::string, int> top_kind_tally;
  // --verify: the first cause's verdict, tallied over the top-1 hits and over the misses.
  std::map<std::string, int> verdicts_hit, verdicts_miss;
  int unlabeled = 0;
  double seconds = 0;
};

std::string trace_text(const Design& d, const sim::RunConfig& config, const sim::RunResult& r) {
  std::ostringstream out;
  out << sim::trace_header(*d.system, "buggy", config, r).dump() << '\n';
  for (const auto& line : r.trace_lines) out << line << '\n';
  out << sim::trace_footer(r).dump() << '\n';
  return out.str();
}

#ifdef SEER_BENCH_HAS_REDACT
// Maps each event of `original` to its number in `redacted` (0: removed). Redaction keeps the
// observable events in order and drops the others, so a greedy match on identity fields is exact.
std::map<std::uint64_t, std::uint64_t> redaction_map(const seer::explain::Trace& original,
                                                     const seer::explain::Trace& redacted) {
  std::map<std::uint64_t, std::uint64_t> out;
  std::size_t i = 0;
  for (const auto& r : redacted.events) {
    while (i < original.events.size()) {
      const auto& o = original.events[i++];
      if (o.lane == r.lane && o.kind == r.kind && o.message == r.message && o.type == r.type &&
          o.line.value("payload", nlohmann::json()) == r.line.value("payload", nlohmann::json())) {
        out[o.seq] = r.seq;
        break;
      }
    }
  }
  return out;
}
#endif

SeedResult score(const Design& d, const seer::explain::Trace& trace, bool redacted,
                 const std::string& redacted_path, bool verify) {
  SeedResult s;
  s.violation = trace.violation().value("message", "");
  s.key_events = d.label.key_events(trace);
  s.labeled = !s.key_events.empty();
  const seer::explain::Trace* explained = &trace;
  std::vector<std::uint64_t> keys = s.key_events;
#ifdef SEER_BENCH_HAS_REDACT
  seer::explain::Trace r;
  if (redacted) {
    r = seer::explain::redact(trace);
    const auto map = redaction_map(trace, r);
    keys.clear();
    for (const auto k : s.key_events) {
      const auto it = map.find(k);
      if (it != map.end() && it->second != 0) keys.push_back(it->second);
    }
    explained = &r;
    s.scored_keys = keys;
    if (!redacted_path.empty()) {
      std::ofstream out(redacted_path);
      seer::explain::write_trace(r, out);
    }
  }
#else
  (void)redacted;
  (void)redacted_path;
#endif
  const seer::explain::CausalGraph graph(*explained);
  const auto x = seer::explain::explain_trace(*explained, graph);
  const std::set<std::uint64_t> key_set(keys.begin(), keys.end());
  const auto accepted = d.label.accepted_on(trace);
  auto hit = [&](const seer::explain::Cause& c) {
    if (std::find(accepted.begin(), accepted.end(), c.kind) == accepted.end()) return false;
    return std::any_of(c.events.begin(), c.events.end(),
                       [&](std::uint64_t e) { return key_set.count(e) > 0; });
  };
  if (!x.causes.empty()) s.top_events = x.causes.front().events;
  s.slice_size = x.slice.size();
  for (std::size_t i = 0; i < x.causes.size() && i < 3; ++i) {
    s.top_kinds.push_back(x.causes[i].kind);
    s.hits.push_back(hit(x.causes[i]));
    if (hit(x.causes[i])) {
      if (i == 0) s.top1 = true;
      s.top3 = true;
    }
  }
  if (s.top1) {
    const auto remedy = seer::explain::explanation_json(x, *explained)["causes"][0].value(
        "remedy", nlohmann::json());
    for (const char* place : {"decision", "took_effect"}) {
      const auto seq = remedy.is_object() && remedy.contains(place)
                           ? remedy[place].value("seq", std::uint64_t{0})
                           : std::uint64_t{0};
      if (key_set.count(seq)) s.where = true;
    }
  }
  if (verify && !redacted) {
    seer::counterfactual::VerifyOptions only_first;
    only_first.max_causes = 3;
    sim::RunConfig config = d.config(trace.header.value("seed", std::uint64_t{0}));
    const auto v =
        seer::counterfactual::verify_causes(*d.system, "buggy", config, trace, x, only_first);
    s.verdict = !v.reproduced      ? "not_reproduced"
                : v.causes.empty() ? "no_cause"
                                   : seer::counterfactual::verdict(v.causes[0]);
    for (const auto& c : v.causes) s.verdicts.push_back(seer::counterfactual::verdict(c));
    if (v.reproduced) {
      s.faults_needed = 0;
      for (const auto& f : v.faults) {
        if (!f.needed()) continue;
        ++s.faults_needed;
        s.needed_key |= key_set.count(f.deviation.event) > 0;
      }
    }
  }
  if (!key_set.empty()) {
    const std::set<std::uint64_t> slice(x.slice.begin(), x.slice.end());
    std::size_t in = 0;
    for (const auto k : key_set) {
      if (slice.count(k)) {
        ++in;
      } else {
        s.missing_from_slice.push_back(k);
      }
    }
    s.recall = static_cast<double>(in) / static_cast<double>(key_set.size());
    s.all_keys = in == key_set.size();
  }
  return s;
}

DesignResult run_design(const Design& d, const Options& o) {
  const auto started = std::chrono::steady_clock::now();
  DesignResult out;
  out.name = d.name;
  out.held_out = d.held_out;
  out.accepted = d.label.kinds;
  for (std::uint64_t seed = 1; seed <= static_cast<std::uint64_t>(o.max_seeds) &&
                               static_cast<int>(out.seeds.size()) < o.failing;
       ++seed) {
    out.swept = seed;
    auto config = d.config(seed);
    const auto quick = sim::run_system(*d.system, "buggy", config);
    if (quick.ok()) continue;
    if (quick.violation->invariant != d.invariant) {
      ++out.other_failures;
      if (out.other_messages.size() < 3) {
        out.other_messages.push_back(fmt::format(
            "seed {}: {}: {}", seed, quick.violation->invariant, quick.violation->message));
      }
      continue;
    }
    config.record_trace = true;
    const auto traced = sim::run_system(*d.system, "buggy", config);
    const std::string text = trace_text(d, config, traced);
    if (!o.trace_dir.empty()) {
      std::filesystem::create_directories(o.trace_dir);
      std::ofstream(fmt::format("{}/{}-seed{}.jsonl", o.trace_dir, d.name, seed)) << text;
    }
    std::istringstream in(text);
    const auto trace = seer::explain::parse_trace(in, d.name + " seed " + std::to_string(seed));
    auto s = score(d, trace, o.redacted,
                   o.redacted && !o.trace_dir.empty()
                       ? fmt::format("{}/{}-seed{}.redacted.jsonl", o.trace_dir, d.name, seed)
                       : std::string(),
                   o.verify);
    s.seed = seed;
    if (!s.labeled) ++out.unlabeled;
    if (o.verify) (s.top1 ? out.verdicts_hit : out.verdicts_miss)[s.verdict]++;
    out.top_kind_tally[s.top_kinds.empty() ? "(none)" : s.top_kinds.front()]++;
    if (o.verbose) {
      const std::string redacted_keys =
          o.redacted ? fmt::format(" (redacted [{}])", fmt::join(s.scored_keys, ",")) : "";
      std::cerr << fmt::format("{} seed {}: keys [{}]{} top [{}] top1={} recall={:.2f}  {}\n",
                               d.name, seed, fmt::join(s.key_events, ","), redacted_keys,
                               fmt::join(s.top_kinds, ","), s.top1, s.recall, s.violation);
    }
    out.seeds.push_back(std::move(s));
  }
  out.fixed_seeds = o.fixed_seeds > 0 ? static_cast<std::uint64_t>(o.fixed_seeds) : out.swept;
  for (std::uint64_t seed = 1; seed <= out.fixed_seeds; ++seed) {
    const auto r = sim::run_system(*d.system, "fixed", d.config(seed));
    if (!r.ok()) {
      if (out.fixed_failing.empty()) {
        out.fixed_first_message = r.violation->invariant + ": " + r.violation->message;
      }
      out.fixed_failing.push_back(seed);
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

struct Totals {
  int n = 0, top1 = 0, top3 = 0, all_keys = 0, where = 0;
  double recall = 0;
  void add(const SeedResult& s) {
    ++n;
    top1 += s.top1;
    top3 += s.top3;
    where += s.where;
    all_keys += s.all_keys;
    recall += s.recall;
  }
  double share(int k) const { return n ? static_cast<double>(k) / n : 0; }
  double mean_recall() const { return n ? recall / n : 0; }
  // Of the top-1 hits, those whose remedy says where the design acted at a key event.
  double where_share() const { return top1 ? static_cast<double>(where) / top1 : 0; }
};

nlohmann::json totals_json(const Totals& t) {
  return {{"seeds", t.n},
          {"top1", t.share(t.top1)},
          {"top3", t.share(t.top3)},
          {"recall", t.mean_recall()},
          {"all_keys_in_slice", t.share(t.all_keys)},
          {"where", t.where_share()}};
}

nlohmann::json to_json(const DesignResult& r) {
  Totals t;
  for (const auto& s : r.seeds) t.add(s);
  nlohmann::json seeds = nlohmann::json::array();
  for (const auto& s : r.seeds) {
    seeds.push_back({{"seed", s.seed},
                     {"violation", s.violation},
                     {"key_events", s.key_events},
                     {"top_kinds", s.top_kinds},
                     {"top_events", s.top_events},
                     {"slice_size", s.slice_size},
                     {"missing_from_slice", s.missing_from_slice},
                     {"top1", s.top1},
                     {"top3", s.top3},
                     {"where", s.where},
                     {"recall", s.recall},
                     {"all_keys_in_slice", s.all_keys},
                     {"verdict", s.verdict},
                     {"verdicts", s.verdicts},
                     {"faults_needed", s.faults_needed},
                     {"needed_key", s.needed_key},
                     {"hits", s.hits}});
  }
  return {{"design", r.name},
          {"held_out", r.held_out},
          {"accepted_kinds", r.accepted},
          {"seeds_swept", r.swept},
          {"failing", r.seeds.size()},
          {"failure_rate", r.swept ? static_cast<double>(r.seeds.size()) / r.swept : 0.0},
          {"other_failures", r.other_failures},
          {"unlabeled", r.unlabeled},
          {"fixed", {{"seeds", r.fixed_seeds}, {"failing", r.fixed_failing}}},
          {"top1", t.share(t.top1)},
          {"top3", t.share(t.top3)},
          {"recall", t.mean_recall()},
          {"all_keys_in_slice", t.share(t.all_keys)},
          {"where", t.where_share()},
          {"top_cause_kinds", r.top_kind_tally},
          {"verify", {{"top1_hits", r.verdicts_hit}, {"top1_misses", r.verdicts_miss}}},
          {"seconds", r.seconds},
          {"seeds", seeds}};
}

std::string tally_text(const std::map<std::string, int>& tally) {
  std::vector<std::pair<int, std::string>> v;
  for (const auto& [k, n] : tally) v.emplace_back(-n, k);
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& [n, k] : v) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k, -n);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"explain_bench: the accuracy of `seer explain` on independently written designs"};
  app.add_option("--set", o.set,
                 "Design set: main (default), heldout, fresh, sealed, blind, unseen, seventh, "
                 "eighth, ninth, tenth, eleventh, twelfth, thirteenth, fourteenth, fifteenth, "
                 "sixteenth, seventeenth (the last fourteen not in all) or all")
      ->check(CLI::IsMember(design_sets()));
  app.add_option("--design", o.design, "Only this design");
  app.add_option("--failing", o.failing, "Failing seeds to explain per design (default 20)");
  app.add_option("--max-seeds", o.max_seeds, "Give up on a design after this many seeds (2000)");
  app.add_option("--fixed-seeds", o.fixed_seeds,
                 "Seeds the fixed variant must hold on (default: as many as the buggy sweep ran)");
  app.add_option("--trace-dir", o.trace_dir, "Write each failing seed's trace here");
  app.add_flag("--json", o.json, "Machine-readable result");
  app.add_flag("--redacted", o.redacted,
               "Explain the redacted trace (no forbidden facts; seer/explain/redact.hpp)");
  app.add_flag("--verify", o.verify,
               "Re-run each failing seed without what the first cause shows (seer explain "
               "--verify) and tally the verdicts over top-1 hits and misses");
  app.add_flag("--verbose", o.verbose, "One line per failing seed on stderr");
  CLI11_PARSE(app, argc, argv);
#ifndef SEER_BENCH_HAS_REDACT
  if (o.redacted) {
    std::cerr << "explain_bench: --redacted needs seer/explain/redact.hpp, not in this build\n";
    return 2;
  }
#endif

  auto designs = designs_in_set(o.set);
  std::vector<DesignResult> results;
  bool found = false;
  for (const auto& d : designs) {
    if (!o.design.empty() && d.name != o.design) continue;
    found = true;
    results.push_back(run_design(d, o));
    if (!o.json) {
      const auto& r = results.back();
      std::cerr << fmt::format("{}: {} failing of {} seeds, fixed held on {}/{} ({:.1f} s)\n",
                               r.name, r.seeds.size(), r.swept,
                               r.fixed_seeds - r.fixed_failing.size(), r.fixed_seeds, r.seconds);
    }
  }
  if (!found) {
    std::cerr << "explain_bench: unknown design '" << o.design << "' in set " << o.set << "\n";
    return 2;
  }

  bool complete = true;
  Totals all, tuned, held_out;
  nlohmann::json json_designs = nlohmann::json::array();
  for (const auto& r : results) {
    for (const auto& s : r.seeds) {
      all.add(s);
      (r.held_out ? held_out : tuned).add(s);
    }
    complete = complete && static_cast<int>(r.seeds.size()) >= o.failing &&
               r.fixed_failing.empty() && r.unlabeled == 0 && r.other_failures == 0;
    json_designs.push_back(to_json(r));
  }
  if (o.json) {
    std::cout << nlohmann::json{{"set", o.set},
                                {"redacted", o.redacted},
                                {"failing_per_design", o.failing},
                                {"designs", json_designs},
                                {"overall", totals_json(all)},
                                {"overall_tuned", totals_json(tuned)},
                                {"overall_held_out", totals_json(held_out)},
                                {"complete", complete}}
                     .dump()
              << '\n';
  } else {
    std::cout << fmt::format("{:<16} {:>13} {:>9} {:>6} {:>6} {:>7} {:>6} {:>6}  {}\n", "design",
                             "failing/seeds", "fixed", "top-1", "top-3", "recall", "all-in",
                             "where", "top cause named (count)");
    for (const auto& r : results) {
      Totals t;
      for (const auto& s : r.seeds) t.add(s);
      std::cout << fmt::format(
          "{:<16} {:>13} {:>9} {:>6.2f} {:>6.2f} {:>7.2f} {:>6.2f} {:>6.2f}  {}\n",
          r.held_out ? r.name + " *" : r.name, fmt::format("{}/{}", r.seeds.size(), r.swept),
          r.fixed_failing.empty() ? fmt::format("held {}", r.fixed_seeds)
                                  : fmt::format("FAIL {}", r.fixed_failing.size()),
          t.share(t.top1), t.share(t.top3), t.mean_recall(), t.share(t.all_keys), t.where_share(),
          tally_text(r.top_kind_tally));
      if (r.unlabeled)
        std::cout << fmt::format("  {} seeds the label could not find\n", r.unlabeled);
      if (o.verify) {
        std::cout << fmt::format("  verified: top-1 hits [{}]  misses [{}]\n",
                                 tally_text(r.verdicts_hit), tally_text(r.verdicts_miss));
      }
      for (const auto& m : r.other_messages) std::cout << "  other failure: " << m << '\n';
      if (!r.fixed_failing.empty()) {
        std::cout << fmt::format("  fixed failed on seed {}: {}\n", r.fixed_failing.front(),
                                 r.fixed_first_message);
      }
    }
    auto total_row = [](const std::string& name, const Totals& t) {
      std::cout << fmt::format("{:<16} {:>13} {:>9} {:>6.2f} {:>6.2f} {:>7.2f} {:>6.2f} {:>6.2f}\n",
                               name, t.n, "", t.share(t.top1), t.share(t.top3), t.mean_recall(),
                               t.share(t.all_keys), t.where_share());
    };
    if (tuned.n > 0 && held_out.n > 0) {
      total_row("tuned set", tuned);
      total_row("held out (*)", held_out);
    }
    total_row("overall", all);
    std::cout << "accepted kinds:";
    for (const auto& r : results)
      std::cout << fmt::format(" {}={}", r.name, fmt::join(r.accepted, "|"));
    std::cout << (o.redacted ? "\n(redacted traces)\n" : "\n");
  }
  return complete ? 0 : 1;
}

}  // namespace seer::bench::explain

int main(int argc, char** argv) {
  return seer::bench::explain::main(argc, argv);
}
