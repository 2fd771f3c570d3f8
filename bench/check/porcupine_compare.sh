#!/usr/bin/env bash
# seer beside Porcupine on Porcupine's own corpora, whole process against whole process (issue 25:
# "Checker: >= 20x Porcupine, whole process (reading included), on Porcupine's etcd corpus and on its
# kv corpus"). One command:
#
#   bench/check/porcupine_compare.sh [--rounds R] [--seer PATH] [--corpora DIR] [--json]
#
# 1. Fetches Porcupine (github.com/anishathalye/porcupine, the version in
#    bench/check/porcupine/go.mod) with `go mod download`: the module holds its test corpora. Where
#    the Go module proxy cannot be reached, --porcupine DIR names a copy of the module instead (its
#    go.mod, *.go and test_data/).
# 2. Copies the corpora to DIR (default /work/porcupine-corpora): DIR/etcd holds
#    test_data/jepsen/etcd_*.log (102 Jepsen etcd logs), DIR/kv holds test_data/kv/*.txt (6 kv logs).
#    --link-etcd also makes ../porcupine-etcd beside this checkout (where
#    tests/check/jepsen_log_test.cpp looks for the etcd corpus) a link to DIR/etcd, unless it exists.
# 3. Builds bench/check/porcupine (a Go program that checks a corpus with Porcupine as its tests do).
# 4. Runs R rounds (default 7), each in turn: seer on the whole etcd corpus (one process, 102 files),
#    Porcupine on it (one process), seer on the six kv logs (one process), Porcupine on them. For each
#    process: CPU (user + system, from the kernel's rusage of the child) and wall time, start-up and
#    reading included. Every verdict of every run is checked against the ones Porcupine's tests expect
#    (etcd: 23 linearizable of 102; kv: the -ok files linearizable, the -bad ones not); one that
#    differs stops the script (exit 1).
# 5. Prints medians (min to max) and the ratio Porcupine / seer of the medians, for CPU and for wall,
#    per corpus; with --json, one JSON object instead.
#
# Other options: --porcupine DIR (above), --link-etcd (above), --partial (measure whatever part of
# the corpora DIR holds: a corpus with every file of it is still judged against the 20x, a part of
# one is not, and the table says so). Bad arguments: one line, exit 2.
# Needs go (Debian's golang-go 1.19 builds it), python3, and seer (default: build/release/src/cli/seer).
# The machine should be quiet: the script prints the load average before and after.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
usage="usage: bench/check/porcupine_compare.sh [--rounds R] [--seer PATH] [--corpora DIR] [--json] [--porcupine DIR] [--link-etcd] [--partial]"

bad() {
  echo "porcupine_compare.sh: $1; $usage" >&2
  exit 2
}

has_value() { [ "$1" -ge 2 ] && [ -n "$2" ]; }

rounds=7
seer="$root/build/release/src/cli/seer"
corpora=/work/porcupine-corpora
json=0
porcupine_dir=""
link_etcd=0
partial=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds)
      [ $# -ge 2 ] || bad "--rounds needs a number"
      [[ "$2" =~ ^[1-9][0-9]{0,3}$ ]] || bad "--rounds wants a whole number from 1 to 9999, not '$2'"
      rounds="$2"
      shift 2
      ;;
    --seer)
      has_value $# "${2:-}" || bad "--seer needs a path"
      seer="$2"
      shift 2
      ;;
    --corpora)
      has_value $# "${2:-}" || bad "--corpora needs a directory"
      corpora="$2"
      shift 2
      ;;
    --porcupine)
      has_value $# "${2:-}" || bad "--porcupine needs a directory"
      porcupine_dir="$2"
      shift 2
      ;;
    --json) json=1; shift ;;
    --link-etcd) link_etcd=1; shift ;;
    --partial) partial=1; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    *) bad "unknown argument '$1'" ;;
  esac
done

die() {
  echo "porcupine_compare.sh: $*" >&2
  exit 1
}
note() { echo "$*" >&2; }

[ -x "$seer" ] || die "no seer at $seer (build it, or pass --seer PATH)"
command -v go >/dev/null || die "no go (apt-get install -y golang-go)"
command -v python3 >/dev/null || die "no python3"
case "$corpora" in /*) ;; *) corpora="$PWD/$corpora" ;; esac
case "$seer" in /*) ;; *) seer="$PWD/$seer" ;; esac

build="$(mktemp -d "${TMPDIR:-/tmp}/porcupine-compare.XXXXXX")"
trap 'rm -rf "$build"' EXIT
cp "$here/porcupine/go.mod" "$here/porcupine/main.go" "$build/"
module=github.com/anishathalye/porcupine
version="$(sed -n "s|^require $module \(v[^ ]*\)\$|\1|p" "$build/go.mod")"
[ -n "$version" ] || die "bench/check/porcupine/go.mod names no version of $module"

# 1. Porcupine's module: fetched, or the copy --porcupine names.
if [ -n "$porcupine_dir" ]; then
  [ -f "$porcupine_dir/go.mod" ] || die "--porcupine $porcupine_dir: no go.mod there (want a copy of $module)"
  porcupine_dir="$(cd "$porcupine_dir" && pwd)"
  source_note="$module from $porcupine_dir (a local copy; bench/check/porcupine/go.mod asks for $version)"
  (cd "$build" && go mod edit -replace="$module=$porcupine_dir")
else
  note "fetching $module@$version (go mod download) ..."
  download="$(cd "$build" && GOFLAGS=-mod=mod go mod download -json "$module@$version" 2>&1)" || true
  porcupine_dir="$(printf '%s' "$download" | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin).get("Dir", ""))
except ValueError:
    print("")')"
  if [ -z "$porcupine_dir" ] || [ ! -d "$porcupine_dir" ]; then
    reason="$(printf '%s' "$download" | python3 -c '
import json, sys
text = sys.stdin.read()
try:
    print(json.loads(text).get("Error", text.strip()))
except ValueError:
    print(text.strip().splitlines()[-1] if text.strip() else "no answer")')"
    die "could not fetch $module@$version: $reason. Where the Go module proxy cannot be reached, pass --porcupine DIR: a copy of the module (its go.mod, *.go and test_data/)"
  fi
  source_note="$module@$version (module cache: $porcupine_dir)"
fi

# 2. The corpora.
mkdir -p "$corpora/etcd" "$corpora/kv"
copy_corpus() { # from-dir pattern to-dir
  local from="$1" pattern="$2" to="$3" f n=0
  [ -d "$from" ] || return 0
  for f in "$from"/$pattern; do
    [ -f "$f" ] || continue
    cp -f "$f" "$to/"
    chmod u+w "$to/$(basename "$f")"
    n=$((n + 1))
  done
  [ "$n" -eq 0 ] || note "copied $n files from $from to $to"
}
copy_corpus "$porcupine_dir/test_data/jepsen" 'etcd_*.log' "$corpora/etcd"
copy_corpus "$porcupine_dir/test_data/kv" '*.txt' "$corpora/kv"
shopt -s nullglob
etcd_files=("$corpora"/etcd/etcd_*.log)
kv_files=("$corpora"/kv/*.txt)
shopt -u nullglob
if [ "$partial" -eq 0 ]; then
  [ "${#etcd_files[@]}" -eq 102 ] || die "$corpora/etcd holds ${#etcd_files[@]} etcd_*.log, not Porcupine's 102 (pass --partial to measure them anyway)"
  [ "${#kv_files[@]}" -eq 6 ] || die "$corpora/kv holds ${#kv_files[@]} *.txt, not Porcupine's 6 (pass --partial to measure them anyway)"
else
  [ "${#etcd_files[@]}" -gt 0 ] || die "$corpora/etcd holds no etcd_*.log"
  [ "${#kv_files[@]}" -gt 0 ] || die "$corpora/kv holds no *.txt"
fi
if [ "$link_etcd" -eq 1 ]; then
  beside="$(dirname "$root")/porcupine-etcd"
  # The test expects all 102 logs once it finds etcd_000.log: never link part of the corpus there.
  if [ "${#etcd_files[@]}" -ne 102 ]; then
    die "--link-etcd: $corpora/etcd holds ${#etcd_files[@]} logs, not 102; tests/check/jepsen_log_test.cpp would fail on the missing ones"
  elif [ -e "$beside" ] || [ -L "$beside" ]; then
    note "$beside exists already: left as it is"
  else
    ln -s "$corpora/etcd" "$beside"
    note "linked $beside -> $corpora/etcd (tests/check/jepsen_log_test.cpp reads it there)"
  fi
fi

# 3. The Go program.
note "building bench/check/porcupine ..."
(cd "$build" && GOFLAGS=-mod=mod go build -o "$build/porcupine-check" .) ||
  die "could not build bench/check/porcupine against $source_note"

# 4. and 5. The rounds, the checks and the table.
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
seer_version="$("$seer" --version 2>/dev/null | head -1 || echo unknown)"
go_version="$(go version)"
export rounds seer corpora json partial build commit seer_version go_version source_note
python3 - "${etcd_files[@]}" -- "${kv_files[@]}" <<'PY'
import json, os, statistics, subprocess, sys, threading, time

LIMIT_S = 900  # per process; Porcupine needs about 15 s of CPU for the whole kv corpus

args = sys.argv[1:]
cut = args.index("--")
etcd_files, kv_files = args[:cut], args[cut + 1:]
env = os.environ
rounds = int(env["rounds"])
seer, corpora, build = env["seer"], env["corpora"], env["build"]
porcupine = os.path.join(build, "porcupine-check")
as_json = env["json"] == "1"
partial = env["partial"] == "1"

# Porcupine's porcupine_test.go: TestEtcdJepsenNNN expects these linearizable, the rest not (there is
# no etcd_095.log); TestKv*Ok / TestKv*Bad.
ETCD_LINEARIZABLE = {2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100,
                     101, 102}


def expected(corpus, name):
    if corpus == "etcd":
        n = int(name[len("etcd_"):-len(".log")])
        return "linearizable" if n in ETCD_LINEARIZABLE else "not-linearizable"
    stem = name[:-len(".txt")]
    if stem.endswith("-ok"):
        return "linearizable"
    if stem.endswith("-bad"):
        return "not-linearizable"
    return None


def fail(msg):
    print("porcupine_compare.sh: " + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd):
    """Runs cmd; returns (cpu_s, wall_s, exit code, stdout, stderr)."""
    out = os.path.join(build, "out")
    err = os.path.join(build, "err")
    with open(out, "wb") as o, open(err, "wb") as e:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        killer = threading.Timer(LIMIT_S, p.kill)  # a run this long is a fault, not a measurement
        killer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        if wall >= LIMIT_S:
            fail(f"{cmd[0]} ran {LIMIT_S} s and was stopped: " + " ".join(cmd[:6]) + " ...")
    with open(out) as o, open(err) as e:
        return usage.ru_utime + usage.ru_stime, wall, p.returncode, o.read(), e.read()


def verdicts_seer(corpus, code, stdout, stderr, files):
    if code not in (0, 1):
        fail(f"seer on the {corpus} corpus exited {code}: {stderr.strip()[:500]}")
    got = {}
    for line in stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            got[os.path.basename(r["file"])] = r["verdict"]
    return got


def verdicts_porcupine(corpus, code, stdout, stderr, files):
    if code != 0:
        fail(f"Porcupine on the {corpus} corpus exited {code}: {stderr.strip()[:500]}")
    rep = json.loads(stdout)
    verdicts_porcupine.module = rep.get("porcupine_module", "?")
    return {f["file"]: f["verdict"] for f in rep["files"]}


def check(corpus, who, got, files):
    names = sorted(os.path.basename(f) for f in files)
    if sorted(got) != names:
        fail(f"{who} on the {corpus} corpus answered for {len(got)} files, not the {len(names)} given")
    wrong = [f"{n}: {got[n]}, Porcupine's tests expect {expected(corpus, n)}" for n in names
             if got[n] != expected(corpus, n)]
    if wrong:
        fail(f"{who} disagrees with Porcupine's tests on {len(wrong)} {corpus} files: " + "; ".join(wrong[:10]))
    lin = sum(1 for n in names if got[n] == "linearizable")
    return f"{lin} linearizable of {len(names)}"


runs = [
    ("etcd", "seer", [seer, "check", "--model", "cas-register", "--json"] + etcd_files, verdicts_seer, etcd_files),
    ("etcd", "porcupine", [porcupine, "etcd", os.path.join(corpora, "etcd")], verdicts_porcupine, etcd_files),
    ("kv", "seer", [seer, "check", "--model", "kv", "--init", '""', "--json"] + kv_files, verdicts_seer, kv_files),
    ("kv", "porcupine", [porcupine, "kv", os.path.join(corpora, "kv")], verdicts_porcupine, kv_files),
]
times = {(c, w): {"cpu": [], "wall": []} for c, w, *_ in runs}
summary = {}
load_before = os.getloadavg()
start = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
for r in range(rounds):
    for corpus, who, cmd, reader, files in runs:
        cpu, wall, code, out, err = run(cmd)
        summary[(corpus, who)] = check(corpus, who, reader(corpus, code, out, err, files), files)
        times[(corpus, who)]["cpu"].append(cpu)
        times[(corpus, who)]["wall"].append(wall)
    print(f"round {r + 1} of {rounds} done", file=sys.stderr)
load_after = os.getloadavg()
end = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": xs}


result = {
    "commit": env["commit"], "seer": env["seer_version"], "seer_path": seer,
    "porcupine": getattr(verdicts_porcupine, "module", "?"), "porcupine_source": env["source_note"],
    "go": env["go_version"], "rounds": rounds, "start": start, "end": end, "cores": os.cpu_count(),
    "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in load_after],
    "partial": partial, "corpora": {}, "target_ratio": 20,
}
whole = {"etcd": 102, "kv": 6}  # Porcupine's corpora, file by file
for corpus, files in (("etcd", etcd_files), ("kv", kv_files)):
    s, p = times[(corpus, "seer")], times[(corpus, "porcupine")]
    entry = {"files": len(files), "dir": os.path.join(corpora, corpus),
             "seer": {"cpu_s": stats(s["cpu"]), "wall_s": stats(s["wall"]), "verdicts": summary[(corpus, "seer")]},
             "porcupine": {"cpu_s": stats(p["cpu"]), "wall_s": stats(p["wall"]),
                           "verdicts": summary[(corpus, "porcupine")]}}
    for k in ("cpu", "wall"):
        entry[f"ratio_{k}"] = statistics.median(p[k]) / statistics.median(s[k])
    # Issue 25 asks for the whole corpora: a part of one answers nothing about it (each corpus is
    # judged on its own: with --partial, a complete kv corpus still is).
    complete = len(files) == whole[corpus]
    entry["complete"] = complete
    entry["target_met"] = (entry["ratio_cpu"] >= 20 and entry["ratio_wall"] >= 20) if complete else None
    result["corpora"][corpus] = entry

if as_json:
    print(json.dumps(result))
    sys.exit(0)


def ms(st):
    f = lambda x: f"{x * 1000:,.1f}" if x < 10 else f"{x * 1000:,.0f}"
    return f"{f(st['median'])} ms ({f(st['min'])} to {f(st['max'])})"


print(f"seer {result['seer']} ({seer}), commit {result['commit']}")
print(f"Porcupine {result['porcupine']}: {result['porcupine_source']}; {result['go']}")
print(f"{rounds} rounds, {start} to {end}, {result['cores']} cores; load average "
      f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after")
if partial:
    print(f"PARTIAL corpora (--partial): {len(etcd_files)} etcd logs of 102, {len(kv_files)} kv logs of 6: "
          "a corpus not whole answers nothing about issue 25")
print()
print("| corpus | checker (one process) | verdicts (all as Porcupine's tests expect) | CPU, median (min to max) | wall, median (min to max) |")
print("|---|---|---|---|---|")
for corpus in ("etcd", "kv"):
    e = result["corpora"][corpus]
    label = f"{corpus} ({e['files']} files)"
    print(f"| {label} | seer | {e['seer']['verdicts']} | {ms(e['seer']['cpu_s'])} | {ms(e['seer']['wall_s'])} |")
    print(f"| {label} | Porcupine | {e['porcupine']['verdicts']} | {ms(e['porcupine']['cpu_s'])} | {ms(e['porcupine']['wall_s'])} |")
    print(f"| {label} | **Porcupine / seer** | | **{e['ratio_cpu']:.1f}x** | **{e['ratio_wall']:.1f}x** |")
print()
for corpus in ("etcd", "kv"):
    e = result["corpora"][corpus]
    if e["target_met"] is None:
        print(f"{corpus}: Porcupine / seer {e['ratio_cpu']:.1f}x CPU, {e['ratio_wall']:.1f}x wall on "
              f"{e['files']} files: part of the corpus, so no answer to issue 25's 20x")
    else:
        verdict = "holds" if e["target_met"] else "does not hold"
        print(f"{corpus}: issue 25's 20x {verdict} here (CPU {e['ratio_cpu']:.1f}x, wall {e['ratio_wall']:.1f}x)")
PY
