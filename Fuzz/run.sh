#!/usr/bin/env bash
# Builds Rebound's libFuzzer targets (Swift's -sanitize=fuzzer with AddressSanitizer) and runs
# each for SECONDS (default 60) from its seed corpus. A crash leaves its input in
# Fuzz/Crashes/<target>/ and fails the run; turn each one into a regression test.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]      e.g. Fuzz/run.sh 300 quantity admission
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(quantity json jsonpatch admission extender config); fi

echo "== building fuzzers (release, -sanitize=fuzzer,address)"
started=$(date +%s)
# SwiftPM gives each fuzzer its own main, which hands over to libFuzzer (FuzzDriver).
if ! swift build -c release --scratch-path .build -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld > .build.log 2>&1; then
  grep -vE "warning: Cannot export local symbol" .build.log | tail -30
  exit 1
fi
echo "   built in $(( $(date +%s) - started )) s"
bin="$(swift build -c release --scratch-path .build --show-bin-path)"

# AddressSanitizer keeps up to 256 MiB of freed memory in quarantine by default, and that counts in
# the RSS that -rss_limit_mb checks (fuzz-config reached 523 MiB, 370 of them quarantine). A 64 MiB
# quarantine still catches use-after-free of recent frees, and leaves the limit measuring Rebound.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}"

failed=0
for target in "${targets[@]}"; do
  corpus=".corpus/$target"
  crashes="Crashes/$target"
  mkdir -p "$corpus" "$crashes"
  cp -n Seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz-$target for ${seconds}s"
  # -rss_limit_mb: the Deployment's memory limit; -max_len: the webhook's body limit.
  if ! "$bin/fuzz-$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 -timeout=10 \
        -artifact_prefix="$crashes/" -print_final_stats=1 > ".corpus/$target.log" 2>&1; then
    echo "   fuzz-$target FAILED; last lines:"
    tail -30 ".corpus/$target.log"
    failed=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" ".corpus/$target.log" | sed 's/^/   /' || true
  echo "   corpus: $(ls "$corpus" | wc -l) inputs"
done
exit "$failed"
