#!/bin/bash
# Remakes tests/fixtures/separable_double_well_4d_all_pairs.json: the energies of the 4-D separable
# double well with every ordered pair's cost searched directly (--cost-pairs all, 6480 pairs,
# about 11 minutes on 2 cores), against which Analyze.SeparableDoubleWell4dByAdjacentPairs checks the
# adjacent-pairs run. Usage (from the repository root, after building): scripts/make_all_pairs_fixture.sh
set -euo pipefail
problem=tests/fixtures/separable_double_well_4d.json
out=tests/fixtures/separable_double_well_4d_all_pairs.json
build/ldsgd analyze "$problem" --cost-pairs all --json > "$out.report"
/usr/bin/python3 - "$out.report" "$out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
energies = report["energies"]
fixture = {
    "made_by": "scripts/make_all_pairs_fixture.sh: build/ldsgd analyze " + "tests/fixtures/separable_double_well_4d.json --cost-pairs all",
    "components": [{"point": c["point"], "f": c["f"], "type": c["type"], "energy": energies[c["id"]]}
                   for c in report["components"]],
}
json.dump(fixture, open(sys.argv[2], "w"), indent=1)
PY
rm "$out.report"
