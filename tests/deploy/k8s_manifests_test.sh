#!/usr/bin/env bash
# deploy/k8s/*.yaml checked without a cluster (docs/scale-out.md, "What the manifest test checks"):
# kubectl parses every document and decodes each Job into its compiled-in batch/v1 types (field
# types: a string where an integer belongs fails), a field lost in that decode is a misspelled or
# unknown one, and the sweep's settings agree with each other, with the merge Job and with the
# image's entrypoint. A server's validation (enum values, required fields, admission) is not run.
# Usage: k8s_manifests_test.sh SOURCE_DIR   (kubectl from PATH, or $KUBECTL; exit 77 without one)
set -u
src=$(realpath "$1")
kubectl=${KUBECTL:-$(command -v kubectl)}
if [ -z "$kubectl" ]; then
  echo "SKIP: no kubectl (Debian: apt-get install kubernetes-client; scripts/install-deps.sh --test)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
export KUBECONFIG=/dev/null  # never a real cluster's config, whatever the environment has
echo "kubectl: $("$kubectl" version --client 2>/dev/null | head -1)"

for f in sweep-job merge-job; do
  yaml="$src/deploy/k8s/$f.yaml"
  # Unstructured: YAML syntax, and every document an object with apiVersion, kind and a name.
  "$kubectl" label --local -o json -f "$yaml" seer-check=1 >"$tmp/$f.plain.json" 2>"$tmp/err" ||
    fail "$f.yaml does not parse: $(cat "$tmp/err")"
  # Typed: each Job decoded into batch/v1 (`set env --local` converts to the typed object, adding
  # SEER_CHECK to the env, which the comparison ignores).
  python3 - "$yaml" "$tmp/$f.jobs.yaml" <<'PY' || fail "split $f.yaml"
import sys, re
docs = re.split(r"(?m)^---\s*$", open(sys.argv[1]).read())
open(sys.argv[2], "w").write("\n---\n".join(d for d in docs if re.search(r"(?m)^kind: Job\s*$", d)))
PY
  "$kubectl" set env --local -o json -f "$tmp/$f.jobs.yaml" SEER_CHECK=1 >"$tmp/$f.typed.json" 2>"$tmp/err" ||
    fail "$f.yaml's Jobs do not decode as batch/v1: $(grep -v Warning "$tmp/err")"
done

python3 - "$tmp" "$src" "$("$kubectl" version --client -o json 2>/dev/null)" <<'PY' || fail "the manifests' checks (above)"
import json, re, sys
tmp, src, version = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []

def objects(path):
    # kubectl prints several objects one after another (a List for some versions).
    text, out, dec, i = open(path).read(), [], json.JSONDecoder(), 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        o, i = dec.raw_decode(text, i)
        out.extend(o["items"] if o.get("kind") == "List" else [o])
    return out

try:
    minor = int(re.sub(r"\D.*", "", json.loads(version)["clientVersion"]["minor"]))
except Exception:
    minor = 99
# Fields newer than an old kubectl's types (Debian 12's is 1.20): it drops them in the decode.
newer = {"completionMode": 21, "podFailurePolicy": 26, "backoffLimitPerIndex": 28}

def lost(plain, typed, path=""):
    """The fields of `plain` that the typed decode dropped (misspelled or unknown)."""
    out = []
    if isinstance(plain, dict):
        for k, v in plain.items():
            if k in ("labels", "creationTimestamp") and path.endswith("metadata"):
                continue
            if not isinstance(typed, dict) or k not in typed:
                if v in ("", 0, False, [], {}):
                    continue  # a zero value: the typed encoding omits it
                if k in newer and minor < newer[k]:
                    print(f"note: {path}.{k} is newer than kubectl 1.{minor}'s types: not checked")
                else:
                    out.append(f"{path}.{k}")
            else:
                out += lost(v, typed[k], f"{path}.{k}")
    elif isinstance(plain, list) and isinstance(typed, list):
        for i, (p, t) in enumerate(zip(plain, typed)):
            out += lost(p, t, f"{path}[{i}]")
    return out

docs = {}
for f in ("sweep-job", "merge-job"):
    plain = objects(f"{tmp}/{f}.plain.json")
    typed = {o["metadata"]["name"]: o for o in objects(f"{tmp}/{f}.typed.json")}
    for o in plain:
        docs[(o["kind"], o["metadata"]["name"])] = o
        if o["kind"] == "Job":
            if o["metadata"]["name"] not in typed:
                problems.append(f"{f}.yaml: Job {o['metadata']['name']} missing from the typed decode")
                continue
            for field in lost(o, typed[o["metadata"]["name"]]):
                problems.append(f"{f}.yaml: Job {o['metadata']['name']}: unknown field {field}")

def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}

sweep = docs.get(("Job", "seer-sweep"))
merge = docs.get(("Job", "seer-merge"))
pvc = docs.get(("PersistentVolumeClaim", "seer-results"))
if not (sweep and merge and pvc):
    problems.append(f"expected Job seer-sweep, Job seer-merge and PVC seer-results, got {sorted(docs)}")
else:
    s, pod = sweep["spec"], sweep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    e = env(c)
    if s.get("completionMode") != "Indexed":
        problems.append("seer-sweep: completionMode must be Indexed (JOB_COMPLETION_INDEX)")
    if not (s.get("completions") == s.get("parallelism") == int(e.get("SEER_SHARD_COUNT", -1))):
        problems.append(f"seer-sweep: completions {s.get('completions')}, parallelism "
                        f"{s.get('parallelism')} and SEER_SHARD_COUNT {e.get('SEER_SHARD_COUNT')} differ")
    for name in ("SEER_SYSTEM", "SEER_SEEDS", "SEER_OUT_DIR"):
        if not e.get(name):
            problems.append(f"seer-sweep: no {name}")
    if c.get("args") != ["sweep"] or merge["spec"]["template"]["spec"]["containers"][0].get("args") != ["merge"]:
        problems.append("the Jobs' args must be the entrypoint's modes: [sweep] and [merge]")
    rules = s.get("podFailurePolicy", {}).get("rules", [])
    if not any(r["action"] == "FailJob" and r.get("onExitCodes", {}).get("values") == [2]
               and r["onExitCodes"].get("containerName") == c["name"] for r in rules):
        problems.append("seer-sweep: exit 2 (a usage error) should fail the Job, not be retried")
    if pod.get("restartPolicy") != "Never":
        problems.append("seer-sweep: podFailurePolicy needs restartPolicy Never")
    m = merge["spec"]["template"]["spec"]
    if env(m["containers"][0]).get("SEER_OUT_DIR") != e.get("SEER_OUT_DIR"):
        problems.append("seer-merge reads another SEER_OUT_DIR than seer-sweep writes")
    if m["containers"][0]["image"] != c["image"]:
        problems.append("seer-merge runs another image than seer-sweep (results of another build)")
    claims = {v["persistentVolumeClaim"]["claimName"] for p in (pod, m) for v in p["volumes"]}
    if claims != {"seer-results"}:
        problems.append(f"the Jobs must mount the claim seer-results, not {claims}")
    for p, cont in ((pod, c), (m, m["containers"][0])):
        mounts = {vm.get("mountPath", "") for vm in cont.get("volumeMounts", [])}
        if not any(e["SEER_OUT_DIR"] == mp or e["SEER_OUT_DIR"].startswith(mp.rstrip("/") + "/") for mp in mounts):
            problems.append(f"{cont['name']}: SEER_OUT_DIR {e['SEER_OUT_DIR']} is not on the volume ({mounts})")
    if "ReadWriteMany" not in pvc["spec"]["accessModes"]:
        problems.append("seer-results: every pod writes it at once: ReadWriteMany")
    # The image's entrypoint is the script the entrypoint test runs.
    dockerfile = open(f"{src}/deploy/Dockerfile").read()
    if "COPY seer-shard.sh /usr/local/bin/seer-shard" not in dockerfile or \
       'ENTRYPOINT ["/usr/local/bin/seer-shard"]' not in dockerfile:
        problems.append("deploy/Dockerfile does not install deploy/seer-shard.sh as its entrypoint")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY

# The checks catch what they claim: a misspelled field, a string for an integer, a count that
# disagrees with completions.
sed 's/^  parallelism:/  paralelism:/' "$src/deploy/k8s/sweep-job.yaml" >"$tmp/typo.yaml"
"$kubectl" set env --local -o json -f "$tmp/typo.yaml" X=1 2>/dev/null | grep -q paralelism &&
  fail "a misspelled field survives the typed decode (the unknown-field check relies on its loss)"
sed 's/^  completions: .*/  completions: "twenty"/' "$src/deploy/k8s/sweep-job.yaml" >"$tmp/type.yaml"
"$kubectl" set env --local -o json -f "$tmp/type.yaml" X=1 >/dev/null 2>&1 &&
  fail "a string for completions decodes"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo ok
