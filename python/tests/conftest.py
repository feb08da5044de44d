"""Fixtures: output folders written by the ldsgd binary under test ($LDSGD_BIN, set by ctest)."""
import os
import subprocess

import pytest

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data")
# d = 3 in seconds (data/separable_double_well_3d takes minutes to analyse): a tilted double well in
# x with quadratic y and z, drawn on its principal plane.
DOUBLE_WELL_3D = """{"name": "Tilted double well in x, quadratic in y and z",
  "variables": ["x", "y", "z"], "objective": "x^4/4 - x^2/2 + 0.1*x + y^2/2 + z^2",
  "noise": {"type": "gaussian", "sigma": 1.0}, "domain": {"lower": [-2, -2, -2], "upper": [2, 2, 2]},
  "step_sizes": [0.05, 0.1]}"""


def ldsgd(*args, env=None):
    binary = os.environ.get("LDSGD_BIN", "ldsgd")
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    """problem name -> folder written by `ldsgd report`, made on first use."""
    made = {}

    def get(name):
        if name not in made:
            out = tmp_path_factory.mktemp(name) / "out"
            args = ["report", "--out", str(out)]
            if name == "double_well_3d":
                problem = tmp_path_factory.mktemp("problem") / "double_well_3d.json"
                problem.write_text(DOUBLE_WELL_3D)
                args.insert(1, str(problem))
            elif name == "himmelblau_snapshots":
                args[1:1] = ["--snapshots", "0,50,200", "--snapshot-step-size", "0.001"]
            elif name == "tilted_double_well_verify":
                args[1:1] = [os.path.join(DATA, "tilted_double_well.json"), "--verify", "--budget", "60s"]
            elif name != "himmelblau_embedded":
                args.insert(1, os.path.join(DATA, name + ".json"))
            r = ldsgd(*args)
            assert r.returncode == 0, r.stderr
            made[name] = str(out)
        return made[name]

    return get
