#!/usr/bin/env bash
# Admission webhook benchmark: rebound vs nginx over TLS, HTTP/1.1 (wrk) and HTTP/2 (h2load).
# Needs wrk, nghttp2-client (h2load), nginx-light and curl (Debian packages). Usage:
#   Benchmarks/webhook/run.sh [--seconds 5] [--runs 3] [--concurrency 1,16,64] [--markdown FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product rebound
exec python3 Benchmarks/webhook/bench.py "$@"
