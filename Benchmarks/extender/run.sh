#!/usr/bin/env bash
# Builds rebound in release mode and runs the extender benchmark (see bench.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import orjson" 2>/dev/null || python3 -m pip install --quiet orjson
swift build -c release --product rebound
python3 Benchmarks/extender/bench.py --rebound .build/release/rebound "$@"
