#!/usr/bin/env bash
# Runs one fuzz target for SECONDS on a scratch copy of its seed corpus (libFuzzer adds what it
# finds to the first corpus folder; the seeds in the repository stay as they are). Exit 0 when no
# input crashed; the crash input is kept in the build folder otherwise.
# Usage: run_fuzzer.sh FUZZER SEED_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$seeds"/. "$work/corpus"/
set +e
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$(dirname "$fuzzer")/crash-" \
  -max_len=65536 -rss_limit_mb=4096 -timeout=10 "$work/corpus" > "$work/log" 2>&1
status=$?
set -e
# The summary (executions, executions per second, coverage), and on a crash the report.
grep -E "stat::|Done [0-9]+ runs|ERROR|SUMMARY|Test unit written" "$work/log" || true
if [ "$status" -ne 0 ]; then tail -n 60 "$work/log"; fi
exit "$status"
