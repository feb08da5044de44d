#!/usr/bin/env bash
# The exact finite-eta reference against a long direct simulation (issue 14): the tilted double
# well (THEORY.md case 1) at eta = 0.1, 1e10 SGD steps in 16 independent batches (seeds) of
# 64 chains x 9765625 steps, basin masses every 1000 recorded steps; prints the basin mass of R
# with its 95% interval (Student t, 15 degrees of freedom) next to the grid reference's.
# About 6 minutes on the project machine. Usage: scripts/reference_vs_simulation.sh [build/ldsgd]
set -euo pipefail
bin=${1:-build/ldsgd}
data="$(dirname "$0")/../data/tilted_double_well.json"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for s in $(seq 1 16); do
  "$bin" simulate "$data" --step-size 0.1 --steps 9765625 --burn-in 100000 --chains 64 \
    --seed $((1000 + s)) --basin-interval 1000 --json > "$out/seed$s.json"
done
"$bin" verify "$data" --step-sizes 0.1,0.125,0.15 --json > "$out/verify.json" || true
python3 - "$out" <<'PY'
import glob, json, math, sys
d = sys.argv[1]
masses = [json.load(open(f))["basin_occupation"][1] for f in sorted(glob.glob(d + "/seed*.json"))]
n = len(masses)
mean = sum(masses) / n
se = math.sqrt(sum((m - mean) ** 2 for m in masses) / (n - 1) / n)
ref = json.load(open(d + "/verify.json"))["references"][0]
grid = ref["basin_mass"][1]
print(f"simulation: {n} batches, R basin mass {mean:.6f} +- {se:.6f} (95%: [{mean - 2.131 * se:.6f}, {mean + 2.131 * se:.6f}])")
print(f"grid reference: {grid:.6f} on {ref['cells_per_dimension']} cells, last refinement change {ref['change']:.2g}")
print("agree" if abs(grid - mean) <= 2.131 * se else "DISAGREE")
PY
