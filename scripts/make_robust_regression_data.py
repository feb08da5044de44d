#!/usr/bin/env python3
"""Writes data/robust_regression.csv: the dataset of data/robust_regression.json.

200 points (x, y) from two lines, y = x + 0.5 (60% of the points) and y = -x - 0.5 (40%), x uniform
on [-1, 1], Gaussian label noise of standard deviation 0.2. Fitting one line a x + b with the
non-convex Welsch loss 1 - exp(-r^2 / (2 * 0.3^2)) gives two minima, one per line, and a saddle
between them: SGD's long-run choice between the lines is the question.

Reproducible: Python's random.random() sequence for a given seed is guaranteed stable across
versions (the other samplers are not, so the normals are made here by Box-Muller).
Usage: python3 scripts/make_robust_regression_data.py > data/robust_regression.csv
"""
import math
import random

N, SEED, MAJORITY, NOISE = 200, 1, 0.6, 0.2


def main():
    rng = random.Random(SEED)

    def normal():
        u = 1.0 - rng.random()  # in (0, 1]
        v = rng.random()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)

    print("# made by scripts/make_robust_regression_data.py (seed %d)" % SEED)
    print("x,y")
    for _ in range(N):
        x = 2.0 * rng.random() - 1.0
        y = x + 0.5 if rng.random() < MAJORITY else -x - 0.5
        y += NOISE * normal()
        print("%.6f,%.6f" % (x, y))


if __name__ == "__main__":
    main()
