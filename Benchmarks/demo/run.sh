#!/usr/bin/env bash
# Demo timeline benchmark: the scale scenario of `rebound demo` (20 nodes, 200 opted-in pods, the
# node holding 50 of them fails), run several times, with the seed story (1 pod) as the reference
# run beside it.
#
#   Benchmarks/demo/run.sh [runs] [nodes] [pods] [failing]
#
# Builds rebound in release mode and runs `rebound demo --json`. Every figure is measured from the
# moment Rebound counts the node as failed (NotReady + failover.notReadyTimeoutSeconds, 3 s in the
# demo): when it first acted, and when every moved pod ran again on a healthy node (scheduled by
# the scheduler through the extender, its volume provisioned). Target: all pods running again
# within 10 s. Prints medians, min and max, and the ratio of the scale median to the reference's.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
NODES=${2:-20}
PODS=${3:-200}
FAILING=${4:-50}

swift build -c release --product rebound >/dev/null
BIN=$(swift build -c release --show-bin-path)/rebound
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "scale: $NODES nodes, $PODS opted-in pods, $FAILING on the failing node; reference: the seed story; $RUNS runs each; $(nproc) cores"
for run in $(seq 1 "$RUNS"); do
  "$BIN" demo --json > "$WORK/seed-$run.json" || { echo "seed story run $run failed"; cat "$WORK/seed-$run.json"; exit 1; }
  "$BIN" demo --json --nodes "$NODES" --pods "$PODS" --failing "$FAILING" > "$WORK/scale-$run.json" || { echo "scale run $run failed"; head -c 2000 "$WORK/scale-$run.json"; exit 1; }
done
python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def load(kind):
    rows = []
    for run in range(1, runs + 1):
        report = json.load(open(f"{work}/{kind}-{run}.json"))
        assert report["success"], report["problems"]
        counted = report["countedFailedAt"]
        rows.append({
            "moved": report["movedPods"],
            "acted": report["reboundActedAt"] - counted,
            "first": min(report["runningAgainAt"].values()) - counted,
            "all": report["recoverySeconds"],
        })
    return rows
def stats(values):
    return f"{statistics.median(values):6.2f} s (min {min(values):.2f}, max {max(values):.2f})"
seed, scale = load("seed"), load("scale")
print(f"{'after the node counted as failed':34} {'seed story (1 pod)':34} scale ({scale[0]['moved']} pods)")
for key, label in [("acted", "Rebound's first action"), ("first", "first pod running again"), ("all", "all pods running again")]:
    print(f"{label:34} {stats([r[key] for r in seed]):34} {stats([r[key] for r in scale])}")
ratio = statistics.median(r["all"] for r in scale) / statistics.median(r["all"] for r in seed)
print(f"all running again, scale / seed story: {ratio:.1f}x (target for scale: under 10 s)")
PY
