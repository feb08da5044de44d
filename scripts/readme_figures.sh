#!/usr/bin/env bash
# Regenerates the README's figures: `ldsgd report` on the embedded Himmelblau problem, then copies
# two of its figures to docs/figures/. Run after scripts/setup.sh (it needs build/ldsgd).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
build/ldsgd report --out "$out/report" >/dev/null
mkdir -p docs/figures
cp "$out/report/figures/landscape.png" docs/figures/himmelblau_landscape.png
cp "$out/report/figures/cycle_tree.png" docs/figures/himmelblau_cycle_tree.png
echo "wrote docs/figures/himmelblau_landscape.png and docs/figures/himmelblau_cycle_tree.png"
