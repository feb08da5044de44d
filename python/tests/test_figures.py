"""The figures checked against the data they show (ldsgd report's folders), not against pictures."""
import csv
import json
import math
import os

import numpy as np
import pytest

import ldsgd_plot
from ldsgd_plot import data, figures
from conftest import ldsgd


def _report(folder):
    with open(os.path.join(folder, "report.json")) as f:
        return json.load(f)


def _lines(fig):
    return [line for ax in fig.axes for line in ax.get_lines()]


def test_landscape_markers_are_the_components(folders):
    folder = folders("himmelblau_embedded")
    report = _report(folder)
    fig = ldsgd_plot.landscape(folder)
    drawn = [(tuple(l.get_xdata()), tuple(l.get_ydata())) for l in _lines(fig) if len(l.get_xdata()) == 1]
    for c in report["components"]:
        assert ((c["point"][0],), (c["point"][1],)) in drawn, c


def test_a_ring_of_minima_is_drawn_as_its_set(folders):
    folder = folders("ring")
    sets = data.load(folder, "figures.json")["sets"]
    assert len(sets) == 1 and len(sets[0]["points"]) > 50
    fig = ldsgd_plot.landscape(folder)
    pts = np.asarray(sets[0]["points"])
    assert any(len(l.get_xdata()) == len(pts) and np.array_equal(l.get_xdata(), pts[:, 0])
               and np.array_equal(l.get_ydata(), pts[:, 1]) for l in _lines(fig))


def test_landscape_paths_are_the_path_files(folders):
    folder = folders("himmelblau_embedded")
    figdata = data.load(folder, "figures.json")
    fig = ldsgd_plot.landscape(folder)
    lines = [l for l in _lines(fig) if len(l.get_xdata()) > 1]
    assert figdata["profiles"], "the optimal trees have edges"
    for prof in figdata["profiles"]:
        with open(os.path.join(folder, "paths", f"{prof['from']}_to_{prof['to']}.csv")) as f:
            rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))][1:]
        x = np.array([float(r[1]) for r in rows])
        y = np.array([float(r[2]) for r in rows])
        # The CSV's decimal form (17 significant digits) against the JSON's: equal to rounding.
        match = [l for l in lines if len(l.get_xdata()) == len(x) and np.allclose(l.get_xdata(), x, rtol=0, atol=1e-12)
                 and np.allclose(l.get_ydata(), y, rtol=0, atol=1e-12)]
        assert match, f"path {prof['from']} -> {prof['to']} not drawn as in its file"


def test_profile_action_ends_at_the_cost(folders):
    # The accumulated discrete action's last value is the path's B: for a direct path the
    # optimizer's objective, for a closure the sum of its legs; the solver's error estimate is
    # < 1e-2 relative here (0.0074). A zero-cost path (gradient flow from a saddle or maximum) is a
    # polyline of chords of a curved flow line, whose discrete action is small but not 0 (up to
    # 3.8e-3, maximum 8 -> saddle 6, against barriers of 26 to 208): below 1e-4 of the largest.
    figdata = data.load(folders("himmelblau_embedded"), "figures.json")
    largest = max(p["cost"] for p in figdata["profiles"])
    climbing = [p for p in figdata["profiles"] if p["cost"] > 0]
    assert len(climbing) >= 3
    for prof in figdata["profiles"]:
        if prof["cost"] > 0:
            assert prof["action"][-1] == pytest.approx(prof["cost"], rel=1e-2), prof["from"]
        else:
            assert 0 <= prof["action"][-1] < 1e-4 * largest, prof["from"]


def test_weights_equal_the_predictions_at_the_step_sizes(folders):
    report = _report(folders("tilted_double_well"))
    energies = [data.energy(report, i) for i in range(len(report["components"]))]
    for step in report["predictions"]["step_sizes"]:
        w = figures._weights(energies, step["step_size"])
        assert np.allclose(w, step["weights"], rtol=1e-9, atol=1e-15), step["step_size"]


def test_cycle_tree_joins_are_drawn_at_the_node_heights(folders):
    folder = folders("himmelblau_embedded")
    report = _report(folder)
    fig = ldsgd_plot.cycle_tree(folder)
    horizontal = sorted(l.get_ydata()[0] for l in _lines(fig) if len(l.get_ydata()) == 2 and l.get_ydata()[0] == l.get_ydata()[1])
    nodes = report["cycle_tree"]["nodes"]
    comps = report["components"]

    def minima_below(k):
        return sum(1 for c in nodes[k]["children"] if any(comps[m]["type"] == "minimum" for m in nodes[c]["members"]))

    joins = sorted(n["height"] for k, n in enumerate(nodes) if n["children"] and minima_below(k) >= 2)
    assert np.allclose(horizontal, joins, rtol=0, atol=1e-12)
    # Himmelblau's disconnectivity graph, 2 f / sigma^2 with sigma = 1: the barriers 13.3, 67.7, 104.
    assert joins == pytest.approx([26.6239, 135.44, 208.03], rel=1e-3)


def test_arrhenius_lines_have_the_predicted_slopes(folders):
    folder = folders("tilted_double_well_verify")
    with open(os.path.join(folder, "verify.json")) as f:
        v = json.load(f)
    fig = ldsgd_plot.figures.arrhenius(folder)
    left, right = fig.axes[:2]
    inv = [1 / s["step_size"] for s in v["simulations"]]
    # Left: the points are ln(mass_1 / mass_0) of the basin occupations; the line's slope is -E_1.
    occ = [s["basin_occupation"] for s in v["simulations"]]
    points = [l for l in left.get_lines() if l.get_marker() == "o"]
    assert np.allclose(points[0].get_xdata(), inv)
    assert np.allclose(points[0].get_ydata(), [math.log(o[1] / o[0]) for o in occ], rtol=0, atol=1e-12)
    line = [l for l in left.get_lines() if l.get_linestyle() == "-"][0]
    x, y = line.get_xdata(), line.get_ydata()
    assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(-v["energies"][1], rel=1e-12)
    # Right: each exit line's slope is its check's prediction.
    predicted = {c["name"]: c["predicted"] for c in v["checks"]}
    slopes = sorted((l.get_ydata()[1] - l.get_ydata()[0]) / (l.get_xdata()[1] - l.get_xdata()[0])
                    for l in right.get_lines() if len(l.get_xdata()) == 2)
    assert slopes == pytest.approx(sorted([predicted["exit[0]"], predicted["exit[1]"]]), rel=1e-12)


def test_snapshot_panels_show_the_simulated_iterates(folders):
    folder = folders("himmelblau_snapshots")
    with open(os.path.join(folder, "snapshots.json")) as f:
        snap = json.load(f)
    assert snap["times"] == [0, 50, 200]
    fig = ldsgd_plot.figures.snapshots(folder)
    for ax, pts, lost in zip(fig.axes, snap["points"], snap["diverged"]):
        scatter = [l for l in ax.get_lines() if l.get_marker() == "."][0]
        assert np.array_equal(np.column_stack([scatter.get_xdata(), scatter.get_ydata()]), np.asarray(pts))
        assert len(pts) + lost == snap["chains"]
    # t = 0 is the uniform start: spread over the whole box; by t = 200 (eta = 0.001, 0.2 time
    # units, several relaxation times 1 / (eta lambda) of the wells) most chains sit near a minimum.
    start, late = np.asarray(snap["points"][0]), np.asarray(snap["points"][2])
    assert start.min(axis=0) == pytest.approx([-5, -5], abs=0.05) and start.max(axis=0) == pytest.approx([5, 5], abs=0.05)
    with open(os.path.join(folder, "report.json")) as f:
        minima = np.array([c["point"] for c in json.load(f)["components"] if c["type"] == "minimum"])
    near = np.min(np.linalg.norm(late[:, None, :] - minima[None, :, :], axis=2), axis=1) < 0.5
    assert near.mean() > 0.8, near.mean()


def test_stability_curve_is_the_sweep(folders):
    folder = folders("vanishing_noise")
    with open(os.path.join(folder, "stability.json")) as f:
        s = json.load(f)
    fig = ldsgd_plot.figures.stability(folder)
    curve = [l for l in fig.axes[0].get_lines() if len(l.get_xdata()) > 2][0]
    sweep = [p for p in s["sweep"] if p["component"] == 0]
    assert np.array_equal(curve.get_ydata(), [p["exponent"] for p in sweep])
    # THEORY.md case 8 (a = -1): absorbing for 0.5 < eta < (a - sqrt(a^2 - 8a + 8)) / (2 (a - 1)).
    (window,) = s["absorbing_windows"]
    assert window["lower"] == pytest.approx(0.5, abs=1e-6)
    assert window["upper"] == pytest.approx((-1 - math.sqrt(17)) / -4, abs=1e-6)
    with pytest.raises(data.Missing):
        ldsgd_plot.figures.stability(folders("tilted_double_well"))


def test_verify_figures_are_in_the_page(folders):
    with open(os.path.join(folders("tilted_double_well_verify"), "report.html")) as f:
        page = f.read()
    for title in ["Arrhenius plots (verify)", "Measured against predicted masses (verify)", "The checks (verify)"]:
        assert f"<h2>{title}</h2>\n<img" in page, title


@pytest.mark.parametrize("name", ["tilted_double_well", "double_well_3d", "tilted_double_well_finite_sum",
                                  "vanishing_noise", "ring"])
def test_every_kind_of_problem_gets_a_page(folders, name):
    folder = folders(name)
    with open(os.path.join(folder, "report.html")) as f:
        page = f.read()
    for title in ["Landscape", "Along the paths", "Cycle tree", "Predicted weights", "Transition graph"]:
        assert f"<h2>{title}" in page, title
    # Each section has an image or says why not.
    assert page.count("<img") + page.count("Nothing to draw") >= 5


def test_missing_matplotlib_is_one_line_exit_2(tmp_path):
    env = dict(os.environ, LDSGD_PYTHON=str(tmp_path / "no-python"))
    r = ldsgd("report", "--out", str(tmp_path / "out"), env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "python3-matplotlib" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
