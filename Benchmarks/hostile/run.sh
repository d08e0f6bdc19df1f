#!/usr/bin/env bash
# Rebound under hostile input (see bench.py): 3 MiB reviews of digits, 1,000 idle connections with
# 100 slow clients, an HTTP/2 flood of 2.9 MB reviews, and the API client's latency meanwhile.
# Needs curl and nghttp2-client (h2load). Usage:
#   Benchmarks/hostile/run.sh [--runs 3] [--shared-loops] [--markdown FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product rebound
exec python3 Benchmarks/hostile/bench.py "$@"
