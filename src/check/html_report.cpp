#include "seer/check/html_report.hpp"

#include <algorithm>
#include <map>

namespace seer::check {

namespace {

// Each linearized op's state before and after: the states the search chose (a model may allow an
// op several effects), else a replay of the longest prefix. Keyed models keep one state per key.
std::map<int, std::pair<std::string, std::string>> replay_states(const std::vector<Operation>& ops,
                                                                 const CheckResult& result,
                                                                 const AnyModel& model) {
  std::map<int, std::pair<std::string, std::string>> states;
  std::vector<std::string> after = result.witness_states;
  if (after.size() != result.witness.size()) {
    after = model.replay(ops, result.witness).value_or(std::vector<std::string>());
  }
  if (after.size() != result.witness.size()) return states;  // cannot happen; show nothing
  const std::string initial = model.describe_initial();
  std::map<std::string, std::string> per_key;
  for (std::size_t i = 0; i < result.witness.size(); ++i) {
    const int id = result.witness[i];
    const std::string key = model.partitioned()
                                ? to_text(model.partition(ops[static_cast<std::size_t>(id)]).first)
                                : std::string();
    const auto it = per_key.find(key);
    const std::string before = it == per_key.end() ? initial : it->second;
    per_key[key] = after[i];
    const std::string prefix = key.empty() ? "" : key + ": ";
    states[id] = {prefix + before, prefix + after[i]};
  }
  return states;
}

// Escapes text for a <script type="application/json"> block.
std::string script_safe(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

constexpr const char* kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seer check: TITLE</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px;margin:0 0 4px} .verdict{font-weight:600}
.ok{color:#1a7f37} .bad{color:#cf222e} .unknown{color:#9a6700}
#why{margin:6px 0 12px;max-width:1000px}
svg{border:1px solid #ddd;background:#fafafa}
.lane{font:12px monospace;fill:#555}
.op rect{fill:#dbe9ff;stroke:#5b8def}
.op.lin rect{fill:#c9f2d0;stroke:#1a7f37}
.op.fail rect{fill:#ffd3d3;stroke:#cf222e;stroke-width:2}
.op.unknown rect{stroke-dasharray:4 3}
.op text{font:11px monospace;pointer-events:none}
.order{font:10px monospace;fill:#1a7f37}
#tip{position:fixed;background:#fff;border:1px solid #999;padding:6px;font:12px monospace;display:none;white-space:pre}
</style></head><body>
<h1>seer check: TITLE</h1>
<div>model <b id="model"></b>: <span id="verdict" class="verdict"></span> (<span id="count"></span> operations)</div>
<div id="why"></div>
<svg id="chart"></svg><div id="tip"></div>
<script type="application/json" id="data">DATA</script>
<script>
const d = JSON.parse(document.getElementById('data').textContent);
document.getElementById('model').textContent = d.model;
const v = document.getElementById('verdict');
v.textContent = d.verdict;
v.className += d.verdict === 'linearizable' ? ' ok' : d.verdict === 'unknown' ? ' unknown' : ' bad';
document.getElementById('count').textContent = d.ops.length;
document.getElementById('why').textContent = d.explanation || '';
const procs = [...new Set(d.ops.map(o => o.process))].sort((a, b) => a - b);
const finite = d.ops.flatMap(o => o.complete === null ? [o.invoke] : [o.invoke, o.complete]);
const t0 = Math.min(...finite), t1 = Math.max(...finite) + 1;
const W = 1100, L = 90, H = 34, svg = document.getElementById('chart');
svg.setAttribute('width', W + 20); svg.setAttribute('height', procs.length * H + 20);
const x = t => L + (t - t0) / (t1 - t0) * (W - L);
const ns = 'http://www.w3.org/2000/svg';
const el = (n, a, p) => { const e = document.createElementNS(ns, n); for (const k in a) e.setAttribute(k, a[k]); (p || svg).appendChild(e); return e; };
procs.forEach((p, i) => { const t = el('text', {x: 4, y: i * H + 24, class: 'lane'}); t.textContent = 'process ' + p; });
const tip = document.getElementById('tip');
d.ops.forEach(o => {
  const i = procs.indexOf(o.process);
  const end = o.complete === null ? W : x(o.complete);
  const cls = ['op'];
  if (o.order !== null) cls.push('lin');
  if (o.failing) cls.push('fail');
  if (o.complete === null) cls.push('unknown');
  const g = el('g', {class: cls.join(' '), 'data-id': o.id});
  el('rect', {x: x(o.invoke), y: i * H + 8, width: Math.max(3, end - x(o.invoke)), height: 20, rx: 3}, g);
  const width = end - x(o.invoke);
  if (width > o.label.length * 6.8 + 6) {  // draw the label only where it fits; hover shows it anyway
    const label = el('text', {x: x(o.invoke) + 3, y: i * H + 22}, g);
    label.textContent = o.label;
  }
  if (o.order !== null) { const n = el('text', {x: x(o.invoke), y: i * H + 6, class: 'order'}); n.textContent = '#' + o.order; }
  g.addEventListener('mousemove', ev => {
    tip.style.display = 'block'; tip.style.left = ev.clientX + 12 + 'px'; tip.style.top = ev.clientY + 12 + 'px';
    tip.textContent = o.label + '\nprocess ' + o.process + '  [' + o.invoke + ', ' + (o.complete === null ? 'unknown' : o.complete) + ']' +
      (o.order !== null ? '\nlinearized #' + o.order + '\nstate before: ' + o.before + '\nstate after:  ' + o.after : '\nnot linearized') +
      (o.failing ? '\ncannot be linearized' : '');
  });
  g.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
});
</script></body></html>
)HTML";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string render_html_report(const std::string& title, const std::vector<Operation>& ops,
                               const CheckResult& result, const AnyModel& model) {
  const auto states = replay_states(ops, result, model);
  std::map<int, int> order;
  for (std::size_t i = 0; i < result.witness.size(); ++i)
    order[result.witness[i]] = static_cast<int>(i + 1);
  nlohmann::json data = {{"model", model.name()},
                         {"verdict", verdict_name(result.verdict)},
                         {"explanation", result.explanation},
                         {"ops", nlohmann::json::array()}};
  for (const auto& op : ops) {
    std::string label = op.f;
    if (!op.key.is_null()) label += " " + to_text(op.key);
    if (!op.input.is_null()) label += " " + to_text(op.input);
    if (!op.output.is_null() && op.output != op.input) label += " -> " + to_text(op.output);
    nlohmann::json o = {
        {"id", op.id},
        {"process", op.process},
        {"label", label},
        {"invoke", op.invoke},
        {"complete", op.unknown() ? nlohmann::json() : nlohmann::json(op.complete)},
        {"failing", op.id == result.failing_op},
        {"order", order.count(op.id) ? nlohmann::json(order[op.id]) : nlohmann::json()}};
    if (auto it = states.find(op.id); it != states.end()) {
      o["before"] = it->second.first;
      o["after"] = it->second.second;
    }
    data["ops"].push_back(std::move(o));
  }
  std::string page = kPage;
  replace_all(page, "TITLE", html_escape(title));
  replace_all(page, "DATA", script_safe(to_text(data)));
  return page;
}

}  // namespace seer::check
