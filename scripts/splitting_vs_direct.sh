#!/usr/bin/env bash
# Splitting against direct simulation at eta = 0.05 on the tilted double well (THEORY.md case 1):
# the probability that an excursion from A_L reaches U_R before returning, about 8e-8, from about
# 6e8 direct departures (45 transitions, 2.5 minutes on 2 cores) and from splitting, plain and
# importance-sampled. Too long for ctest; run after changing the samplers. Exit 0 when they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
./build/tests/ldsgd_tests --gtest_also_run_disabled_tests --gtest_filter='Splitting.*AgreesWithDirectSimulation*'
