#!/usr/bin/env bash
# Cache sync benchmark: how long Rebound's caches take to list 5,000 nodes and 50,000 pods from
# ClusterSim, and the resident memory of the process afterwards.
#
#   Benchmarks/cache-sync/run.sh [nodes] [pods] [runs] [storage-classes]
#
# With storage-classes > 0 the cluster also holds that many OpenEBS LVM LocalPV StorageClasses with
# a CSIStorageCapacity object per class and node, and Rebound runs with compat.preset=openebs-lvm,
# so its caches also list and watch those objects (capacity.source csistoragecapacity).
#
# Builds rebound in release mode, starts `rebound sim` with a synthetic cluster (realistic objects:
# managed fields, container statuses, node images), then runs `rebound check` (which starts every
# informer Rebound uses and waits for all of them to sync) several times and prints the median.
# The simulator runs in its own process, so the memory figure is Rebound's alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODES=${1:-5000}
PODS=${2:-50000}
RUNS=${3:-5}
CLASSES=${4:-0}
PRESET=()
[ "$CLASSES" -gt 0 ] && PRESET=(--set compat.preset=openebs-lvm)

swift build -c release --product rebound >/dev/null
BIN=$(swift build -c release --show-bin-path)/rebound
WORK=$(mktemp -d)
trap 'kill $SIM 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" sim --port 0 --synthetic-nodes "$NODES" --synthetic-pods "$PODS" --synthetic-storage-classes "$CLASSES" --kubeconfig-out "$WORK/kubeconfig" --log-level warning > "$WORK/sim.out" 2>&1 &
SIM=$!
for _ in $(seq 1 600); do grep -q "ClusterSim API server" "$WORK/sim.out" 2>/dev/null && break; sleep 0.5; done
grep -q "ClusterSim API server" "$WORK/sim.out" || { cat "$WORK/sim.out"; exit 1; }

echo "cluster: $NODES nodes, $PODS pods, $CLASSES local StorageClasses with a CSIStorageCapacity object per node; $RUNS runs; $(nproc) cores"
for run in $(seq 1 "$RUNS"); do
  "$BIN" check --kubeconfig "$WORK/kubeconfig" --set kube.qps=0 "${PRESET[@]}" --json | tee -a "$WORK/results.jsonl"
done
python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
sync = [r["syncSeconds"] for r in rows]
rss = [r["residentBytes"] / 1048576 for r in rows]
peak = [r["peakResidentBytes"] / 1048576 for r in rows]
print(f"sync seconds: median {statistics.median(sync):.2f} (min {min(sync):.2f}, max {max(sync):.2f})")
print(f"resident MiB after sync: median {statistics.median(rss):.0f} (peak during sync: median {statistics.median(peak):.0f})")
print(f"objects: {rows[0]['nodes']} nodes, {rows[0]['pods']} pods, {rows[0].get('csiStorageCapacities', 0)} CSIStorageCapacity objects")
PY
