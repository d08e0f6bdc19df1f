#!/usr/bin/env bash
# Failover benchmark: 1,000 opted-in pods with local claims on one node that fails; time from the
# node counting as failed to every pod force-deleted and every claim recreated. Runs the limits-
# lifted case several times (median) and the shipped default limits once.
#
#   Benchmarks/failover/run.sh [pods] [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
PODS=${1:-1000}
RUNS=${2:-5}
swift build -c release --product failover-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)/failover-bench
echo "$(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do "$BIN" "$PODS" 2>/dev/null | tee -a /tmp/failover-bench.$$; done
python3 - /tmp/failover-bench.$$ <<'PY'
import re, statistics, sys
times = [float(m.group(1)) for m in (re.search(r": ([0-9.]+) s from", line) for line in open(sys.argv[1])) if m]
print(f"limits lifted: median {statistics.median(times):.2f} s over {len(times)} runs (min {min(times):.2f}, max {max(times):.2f})")
PY
rm -f /tmp/failover-bench.$$
"$BIN" "$PODS" --default-limits 2>/dev/null
