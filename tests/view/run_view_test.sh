#!/usr/bin/env bash
# Browser test of `seer view`: run_view_test.sh PATH/TO/seer
#
# Records two runs, writes their viewer pages with `seer view`, computes what each page must show
# from the trace and `seer explain --json` (python3), and checks the pages in headless Chromium with
# view_test.mjs (playwright-core, installed here by `npm ci` when missing).
#   1. register/naive seed 3 with partition,crash,drop,duplicate,pause: every fault drawn (the run holds)
#   2. kv-contract on kv=stale seed 9: a linearizability violation; click its first stale read
#   3. jobs/claim seed 1: a liveness violation; the heal line and why job/2 never ran
# Exit 0 passed, 1 failed, 77 (CTest SKIP_RETURN_CODE) only when Chromium is not installed.
# Screenshots (viewer.png, kv.png) stay in $SEER_VIEW_ARTIFACTS, else in the temporary directory,
# which is then kept and printed.
set -euo pipefail

if [ $# -ne 1 ]; then echo "usage: $0 PATH/TO/seer" >&2; exit 2; fi
SEER=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

if [ ! -x "$CHROMIUM" ]; then
  echo "run_view_test: SKIP: $CHROMIUM is not installed (apt-get install chromium)"
  exit 77
fi
[ -x "$SEER" ] || { echo "run_view_test: $SEER is not executable" >&2; exit 2; }
command -v node >/dev/null || { echo "run_view_test: node is not installed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run_view_test: python3 is not installed" >&2; exit 2; }

if [ ! -d "$HERE/node_modules/playwright-core" ]; then
  echo "run_view_test: installing playwright-core (npm ci)"
  npm ci --prefix "$HERE" --no-audit --no-fund >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seer-view.XXXXXX")
ART=${SEER_VIEW_ARTIFACTS:-$WORK}
mkdir -p "$ART"
cd "$WORK"

# seer run / explain exit 1 when the run records a violation; only 2 and above are errors
tolerate() { local rc=0; "$@" || rc=$?; if [ "$rc" -gt 1 ]; then echo "run_view_test: '$*' exited $rc" >&2; exit 1; fi; }

expect() {  # expect TRACE EXPLAIN_JSON NAME > EXPECT_JSON
  python3 - "$@" <<'PY'
import json, sys
from collections import Counter
trace, explain, name = sys.argv[1:4]
lines = open(trace).read().splitlines()
header, footer = json.loads(lines[0]), json.loads(lines[-1])
events = [json.loads(l) for l in lines[1:-1]]
x = json.load(open(explain))

def oracle(e):
    return e.get('oracle') if isinstance(e.get('oracle'), dict) else {}

def stale(e):
    o = oracle(e)
    return o.get('stale') is True or (isinstance(o.get('service'), dict) and o['service'].get('stale') is True)

def keys_of(e):  # the twin of keysOf() in src/view/viewer.html
    out = []
    def add(v):
        if isinstance(v, str): out.append(v.lower())
    def obj(o):
        if isinstance(o, dict):
            for f in ('key', 'prefix', 'label'): add(o.get(f))
    obj(e); obj(e.get('payload'))
    o = e.get('oracle')
    if isinstance(o, dict):
        obj(o); obj(o.get('service'))
        s = o.get('service')
        if isinstance(s, dict) and isinstance(s.get('missing'), list):
            for m in s['missing']: add(m)
        if isinstance(o.get('lost_unsynced_writes'), list):
            for w in o['lost_unsynced_writes']: obj(w)
    if e['kind'] in ('invoke', 'complete') and isinstance(e.get('value'), list) and e['value']:
        add(e['value'][0])
    return out

kinds = Counter(e['kind'] for e in events)
procs = header['processes']
sl = (x or {}).get('slice') or []
causes = (x or {}).get('causes') or []
viol = footer.get('violation')

click = None
first_stale = next((e for e in events if e['kind'] == 'deliver' and stale(e)), None) or next((e for e in events if stale(e)), None)
vio_ev = next((e for e in events if e['kind'] == 'violation'), None)
crash = next((e for e in events if e['kind'] == 'crash'), None)
if first_stale: click = {'seq': first_stale['seq'], 'texts': ['stale', 'STALE']}
elif vio_ev: click = {'seq': vio_ev['seq'], 'texts': [vio_ev['invariant']]}
elif crash: click = {'seq': crash['seq'], 'texts': ['lost_unsynced_writes']}
else: click = {'seq': events[0]['seq'], 'texts': [events[0]['kind']]}
# The clicked event's code line, when the trace names one (a deliver into a waiting receive does).
clicked = next(e for e in events if e['seq'] == click['seq'])
if 'at' in clicked: click['texts'].append('code: ' + clicked['at'])

key_count = Counter(k for e in events for k in set(keys_of(e)))
fkey = key_count.most_common(1)[0][0] if key_count else None
matches = sum(1 for e in events if fkey and any(fkey in k for k in keys_of(e)))

print(json.dumps({
    'name': name, 'system': header['system'], 'events': len(events), 'processes': procs,
    'lanes': len(procs) + 1,  # + the sim lane (network and nemesis), always drawn
    'deliver': kinds['deliver'], 'drop': kinds['drop'], 'crash': kinds['crash'],
    'duplicate': sum(1 for e in events if e['kind'] == 'deliver' and oracle(e).get('duplicate') is True),
    'stale': sum(1 for e in events if stale(e)),
    'slice': len({s['seq'] for s in sl}), 'slice_lines': len(sl),
    'violation': viol['invariant'] if viol else None,
    'cause_events': len(set(causes[0]['events'])) if causes else None,
    'remedy_decision': ((causes[0].get('remedy') or {}).get('decision') or {}).get('seq') if causes else None,
    'remedy_options': len((causes[0].get('remedy') or {}).get('options', [])) if causes else 0,
    'click': click,
    'filter_process': procs[-1],
    'filter_key': fkey, 'key_matches': matches,
    'heal': sum(1 for e in events if e['kind'] == 'annotation' and e.get('what') == 'heal'),
    'stuck_entity': ((x or {}).get('stuck') or {}).get('entity'),
}, indent=1))
PY
}

rc=0
page() {  # page NAME RUN-ARGS...
  local name=$1; shift
  tolerate "$SEER" run "$@" --trace "$name.jsonl" >/dev/null
  "$SEER" view "$name.jsonl" -o "$name.html"
  tolerate "$SEER" explain "$name.jsonl" --json > "$name.explain.json"
  expect "$name.jsonl" "$name.explain.json" "$name" > "$name.expect.json"
  node "$HERE/view_test.mjs" "$ART" "$name.html" "$name.expect.json" || rc=1
}

page viewer register --variant naive --faults partition,crash,drop,duplicate,pause --seed 3
page kv kv-contract --service kv=stale --seed 9
page stuck jobs --variant claim --seed 1

echo "run_view_test: screenshots in $ART"
if [ "$rc" -ne 0 ]; then echo "run_view_test: FAILED (pages and expectations kept in $WORK)"; exit 1; fi
[ -n "${SEER_VIEW_ARTIFACTS:-}" ] && rm -rf "$WORK"
echo "run_view_test: passed"
