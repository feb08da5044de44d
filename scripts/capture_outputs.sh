#!/usr/bin/env bash
# Runs every command of an ldsgd binary on every problem in data/ and keeps what it prints and
# writes, with wall-clock times masked, so that two builds can be compared with `diff -r`.
# Used to show that a refactoring changed no number (issue 12):
#   scripts/capture_outputs.sh build/ldsgd /tmp/before   # on the old build
#   scripts/capture_outputs.sh build/ldsgd /tmp/after    # on the new one
#   diff -r /tmp/before /tmp/after
set -uo pipefail
bin=$(realpath "$1")
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
# Times and rates are the only output that may differ between two runs of the same build; the
# output folder is named as DIR.
mask() {
  sed -E "s/[0-9.]+(e[-+]?[0-9]+)? s\b/T s/g; s/\"(time_seconds|[a-z_]*_seconds)\": [0-9.e+-]+/\"\1\": T/g;
          s/[0-9.]+(e[-+]?[0-9]+)? steps\/s/R steps\/s/g; s#$out#DIR#g"
}
run() {  # name, then the command line
  local name=$1; shift
  "$@" > "$out/$name.stdout" 2> "$out/$name.stderr"
  echo "exit $?" >> "$out/$name.stdout"
  mask < "$out/$name.stdout" > "$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name.stdout"
}
for f in data/*.json; do
  p=$(basename "$f" .json)
  run "$p.critical" "$bin" critical "$f" --threads 2
  run "$p.actions" "$bin" actions "$f" --json --threads 2
  rm -rf "$out/$p.analyze.d"
  run "$p.analyze" "$bin" analyze "$f" --threads 2 --out "$out/$p.analyze.d"
  run "$p.analyze_verbose" "$bin" analyze "$f" --threads 2 --verbose
  [ -f "$out/$p.analyze.d/report.json" ] && run "$p.energies" "$bin" energies "$out/$p.analyze.d/report.json" --json
  eta=$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1])).get("step_sizes") or [0.01])[0])' "$f")
  run "$p.simulate" "$bin" simulate "$f" --threads 2 --steps 20000 --step-size "$eta"
  run "$p.verify" "$bin" verify "$f" --threads 2 --json
  run "$p.stability" "$bin" stability "$f" --step-sizes 0.1:1.2:12
done
run compare_gaussian "$bin" analyze data/tilted_double_well_finite_sum.json --compare-gaussian --json
for f in "$out"/*.analyze.d/report.json; do mask < "$f" > "$f.tmp" && mv "$f.tmp" "$f"; done
echo "captured into $out"
