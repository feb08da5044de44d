"""One function per figure; each takes an output folder and returns a matplotlib Figure, or raises
data.Missing saying why there is nothing to draw."""
import math
import textwrap

import matplotlib
import matplotlib.colors

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ldsgd_plot import data  # noqa: E402

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TYPE_STYLE = {
    "minimum": dict(marker="o", color="#0072B2", label="minimum"),
    "saddle": dict(marker="X", color="#E69F00", label="saddle"),
    "maximum": dict(marker="^", color="#D55E00", label="maximum"),
    "degenerate": dict(marker="D", color="#777777", label="degenerate"),
}
PAPER = (6.4, 4.8)  # inches: a single column at 10 pt text is readable at this size


def _style():
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
                         "figure.dpi": 110, "savefig.dpi": 150})


def _type_label(c):
    if c["type"] == "saddle":
        return f"saddle (index {c['index']})"
    return c["type"]


def _project(grid, point):
    """Coordinates of a point in the figure's frame: the box (d <= 2) or the principal plane."""
    if grid["kind"] == "plane":
        o = np.asarray(grid["origin"])
        a, b = (np.asarray(v) for v in grid["axes"])
        r = np.asarray(point) - o
        return float(r @ a), float(r @ b)
    if grid["kind"] == "line":
        return float(point[0]), None
    return float(point[0]), float(point[1])


def landscape(folder):
    """f over the box (d = 1, 2) or the principal plane (d >= 3), components by type, ground states
    ringed, the ground states' optimal-tree paths labelled with B."""
    _style()
    report = data.load(folder, "report.json")
    figdata = data.load(folder, "figures.json")
    grid = figdata["grid"]
    if grid["kind"] == "none":
        raise data.Missing(grid.get("why", "no grid"))
    ground = set(report["ground_states"])
    fig, ax = plt.subplots(figsize=(PAPER[0], PAPER[1] * 1.15))
    variables = report.get("variables") or []
    if grid["kind"] == "line":
        x = np.asarray(grid["x"], float)
        f = np.asarray([np.nan if v is None else v for v in grid["f"]], float)
        ax.plot(x, f, color="#000000", lw=1.2, label="f")
        ax.set_xlabel(variables[0] if variables else "x")
        ax.set_ylabel("f")
    else:
        u = np.asarray(grid["x"] if grid["kind"] == "box" else grid["u"], float)
        v = np.asarray(grid["y"] if grid["kind"] == "box" else grid["v"], float)
        f = np.asarray([[np.nan if z is None else z for z in row] for row in grid["f"]], float)
        # Levels evenly spaced in log(f - min f + delta), delta 2% of the range: finer near
        # the minima and saddles, where the wells and barriers are, coarse over the walls of the box.
        finite = f[np.isfinite(f)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        delta = max(high - low, 1e-300) * 0.02
        levels = low - delta + delta * np.exp(np.linspace(0, np.log((high - low + delta) / delta), 31))
        levels[0], levels[-1] = low, high
        norm = matplotlib.colors.BoundaryNorm(levels, ncolors=256)
        cs = ax.contourf(u, v, f, levels=levels, cmap="cividis", norm=norm)
        ax.contour(u, v, f, levels=levels, colors="white", linewidths=0.3, alpha=0.5)
        bar = fig.colorbar(cs, ax=ax, label="f (levels finer near the minimum)")
        bar.set_ticks(levels[::5])
        bar.ax.set_yticklabels([f"{t:.4g}" for t in levels[::5]])
        if grid["kind"] == "box":
            ax.set_xlabel(variables[0] if len(variables) > 0 else "x1")
            ax.set_ylabel(variables[1] if len(variables) > 1 else "x2")
        else:
            ax.set_xlabel("first principal axis")
            ax.set_ylabel("second principal axis")
        ax.set_aspect("equal", adjustable="box")
    # Paths of the ground states' optimal trees: climbing ones (B > 0) solid and labelled with B at
    # their highest point (the barrier), the zero-cost descents from saddles and maxima dashed.
    labelled = []
    for prof in figdata.get("profiles", []):
        path = next((p for p in report["paths"] if p["from"] == prof["from"] and p["to"] == prof["to"]), None)
        if path is None or not path["nodes"]:
            continue
        pts = [_project(grid, n) for n in path["nodes"]]
        px = [p[0] for p in pts]
        py = [p[1] for p in pts] if grid["kind"] != "line" else prof["f"]
        b = prof["cost"]
        climbing = b is None or b > 0
        ax.plot(px, py, color="#CC79A7", lw=1.8 if climbing else 1.0, ls="-" if climbing else "--",
                label=("optimal-tree path (B > 0)" if climbing else "zero-cost descent") if climbing not in labelled else None)
        if climbing not in labelled:
            labelled.append(climbing)
        if not climbing:
            continue
        top = int(np.nanargmax(np.asarray(prof["f"], float)))
        text = f"B={b:.4g}" if b is not None else "B=inf"
        ax.annotate(text, (px[top], py[top]), textcoords="offset points", xytext=(6, -12), fontsize=7,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    seen = set()
    for c in report["components"]:
        style = TYPE_STYLE.get(c["type"], TYPE_STYLE["degenerate"])
        pts = [c["point"]]
        for s in figdata.get("sets", []):
            if s["id"] == c["id"]:
                pts = s["points"]
        xy = [_project(grid, p) for p in pts]
        xs = [p[0] for p in xy]
        ys = [p[1] for p in xy] if grid["kind"] != "line" else [c["f"]] * len(xy)
        label = _type_label(c)
        if len(pts) > 1:
            ax.plot(xs, ys, ".", color=style["color"], ms=3, label=(label + " (set)") if label not in seen else None)
        else:
            ax.plot(xs, ys, style["marker"], color=style["color"], ms=7, mec="black", mew=0.6,
                    label=label if label not in seen else None, linestyle="none")
        seen.add(label)
        if c["id"] in ground:
            ax.plot(xs[0], ys[0], "o", ms=15, mfc="none", mec="#D55E00", mew=2,
                    label="ground state" if "ground" not in seen else None)
            seen.add("ground")
        ax.annotate(str(c["id"]), (xs[0], ys[0]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_title("\n".join(textwrap.wrap(report["problem"], 52)))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, framealpha=0.9)
    if grid["kind"] == "plane":
        fig.text(0.01, 0.01, f"d = {figdata['dimension']}: the plane of the two principal axes of the components and "
                 f"paths ({100 * grid['explained']:.0f}% of their spread); other coordinates at their mean",
                 fontsize=7)
    fig.tight_layout()
    return fig


def profiles(folder):
    """f and the accumulated action along each optimal-tree path, against arc length."""
    _style()
    figdata = data.load(folder, "figures.json")
    profs = figdata.get("profiles", [])
    if not profs:
        raise data.Missing("no optimal-tree paths (a single component, or no finite costs)")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(PAPER[0], PAPER[1] * 1.2), sharex=False)
    for k, p in enumerate(profs):
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        label = f"{p['from']} -> {p['to']}"
        top.plot(p["s"], p["f"], color=colour, label=label)
        act = [np.nan if a is None else a for a in p["action"]]
        bottom.plot(p["s"], act, color=colour, label=f"{label} (B = {p['cost']:.4g})" if p["cost"] is not None else label)
    top.set_ylabel("f along the path")
    bottom.set_ylabel("accumulated action")
    bottom.set_xlabel("arc length along the path")
    top.legend(loc="best")
    bottom.legend(loc="best")
    top.set_title("Profiles along the ground states' optimal-tree paths")
    fig.tight_layout()
    return fig


def _weights(energies, eta):
    e = np.asarray(energies, float)
    logw = np.where(np.isfinite(e), -e / eta, -np.inf)
    logw -= np.max(logw)
    w = np.exp(logw)
    return w / w.sum()


def weights(folder):
    """Predicted long-run weights exp(-E_i / eta), normalized, stacked against log eta."""
    _style()
    report = data.load(folder, "report.json")
    energies = [data.energy(report, i) for i in range(len(report["components"]))]
    finite = [e for e in energies if math.isfinite(e)]
    if len(finite) < 1:
        raise data.Missing("no finite energies")
    steps = [s["step_size"] for s in report["predictions"].get("step_sizes", [])]
    lo, hi = (min(steps) / 10, max(steps) * 10) if steps else (1e-3, 1.0)
    etas = np.logspace(math.log10(lo), math.log10(hi), 200)
    w = np.array([_weights(energies, eta) for eta in etas]).T
    shown = [i for i in range(len(energies)) if math.isfinite(energies[i]) and w[i].max() > 1e-3]
    fig, ax = plt.subplots(figsize=PAPER)
    ax.stackplot(etas, w[shown], labels=[f"{i} ({report['components'][i]['type']})" for i in shown],
                 colors=[OKABE_ITO[k % len(OKABE_ITO)] for k in range(len(shown))], alpha=0.9)
    for s in steps:
        ax.axvline(s, color="black", lw=0.6, ls=":")
    bound = report["predictions"].get("stability_bound")
    if bound is not None and bound < etas[-1]:
        ax.axvspan(max(bound, etas[0]), etas[-1], color="#999999", alpha=0.45, lw=0,
                   label="eta > stability bound (2 / max curvature)")
    ax.set_xscale("log")
    ax.set_xlim(etas[0], etas[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("step size eta (dotted: the problem's step sizes)")
    ax.set_ylabel("predicted weight exp(-E_i/eta), normalized")
    ax.set_title("Predicted long-run weights (components above 0.1% somewhere)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def cycle_tree(folder):
    """Freidlin's hierarchy of cycles as a dendrogram: leaves at E_i, each cycle where its children
    join; for isotropic Gaussian noise this is the disconnectivity graph of 2 f / sigma^2."""
    _style()
    report = data.load(folder, "report.json")
    tree = report.get("cycle_tree")
    if not tree:
        raise data.Missing("no cycle tree in report.json (no cost matrix)")
    nodes = tree["nodes"]
    comps = report["components"]
    leaves = [i for i in range(len(comps)) if comps[i]["type"] == "minimum" and nodes[i]["height"] is not None]
    if len(leaves) < 2:
        raise data.Missing("fewer than two minima with finite energy: no hierarchy to draw")

    def drawn(k):  # a node is drawn when it holds a minimum
        return any(comps[m]["type"] == "minimum" for m in nodes[k]["members"])

    order = []

    def visit(k):
        kids = [c for c in nodes[k]["children"] if drawn(c)]
        if not kids:  # a drawn node without drawn children is a minimum's leaf
            order.append(k)
            return
        for c in sorted(kids, key=lambda c: nodes[c]["height"] if nodes[c]["height"] is not None else 0):
            visit(c)

    for r in tree["roots"]:
        if drawn(r):
            visit(r)
    xpos = {k: i for i, k in enumerate(order)}
    fig, ax = plt.subplots(figsize=PAPER)
    ground = set(report["ground_states"])

    def place(k):
        kids = [c for c in nodes[k]["children"] if drawn(c)]
        if not kids:
            return xpos.get(k, 0.0)
        xs = [place(c) for c in kids]
        h = nodes[k]["height"]
        # A node that only passes one minimum up (saddles joined at zero cost) is drawn through.
        if len(kids) == 1:
            return xs[0]
        for c, x in zip(kids, xs):
            hc = nodes[c]["height"]
            ax.plot([x, x], [hc, h], color="black", lw=1)
        ax.plot([min(xs), max(xs)], [h, h], color="black", lw=1)
        return sum(xs) / len(xs)

    for r in tree["roots"]:
        if drawn(r):
            place(r)
    for k, x in xpos.items():
        colour = "#D55E00" if k in ground else "#0072B2"
        ax.plot(x, nodes[k]["height"], "o", color=colour, mec="black", mew=0.5)
        ax.annotate(str(k), (x, nodes[k]["height"]), textcoords="offset points", xytext=(0, -12), ha="center", fontsize=8)
    ax.set_xticks([])
    ax.set_ylabel("energy: E of the cycle's bottom + its exit cost")
    ax.set_title("Cycle tree (Freidlin): where groups of minima merge")
    ax.plot([], [], "o", color="#D55E00", label="ground state")
    ax.plot([], [], "o", color="#0072B2", label="minimum")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


# name -> (function, section title, caption: how the figure was made)
FIGURES = {
    "landscape": (landscape, "Landscape", "f evaluated by ldsgd on a grid (161 x 161 over the box in 2-D, 801 points in 1-D, "
                  "or over the principal plane of the components and paths for d >= 3); markers are the "
                  "critical components of `ldsgd critical`; lines are the minimum-action paths of the ground "
                  "states' optimal trees, labelled with their cost B."),
    "profiles": (profiles, "Along the paths", "f and the accumulated discrete action (sum of the segment costs c(midpoint, step)) "
                 "along each optimal-tree path, against arc length; the last action value is the path's B."),
    "cycle_tree": (cycle_tree, "Cycle tree", "Freidlin's hierarchy of cycles built from the cost matrix B: leaves at the "
                   "energies E_i, each cycle drawn where its children join (their exit heights: E of the "
                   "bottom plus the exit cost). For isotropic Gaussian noise this is the disconnectivity "
                   "graph of 2 f / sigma^2."),
    "weights": (weights, "Predicted weights against the step size", "The predicted long-run weights exp(-E_i/eta), normalized over the components, "
                "against the step size (the leading order of Azizian et al. 2024)."),
}


def _verify(folder):
    v = data.load(folder, "verify.json", required=False)
    if v is None:
        raise data.Missing("no verify.json (run ldsgd report --verify)")
    return v


def _occupations(sim):
    return sim.get("basin_occupation") or sim["occupation"]


def _fixed_slope_line(x, y, slope):
    """The line of the given slope through the points' centroid (least squares with the slope fixed)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    c = float(np.mean(y - slope * x))
    xs = np.linspace(x.min(), x.max(), 2)
    return xs, c + slope * xs


def arrhenius(folder):
    """Measured log mass ratios and log exit times against 1/eta, with the predicted slopes."""
    _style()
    v = _verify(folder)
    sims = v.get("simulations", [])
    if len(sims) < 2:
        raise data.Missing("fewer than two simulated step sizes")
    comps = v["components"]
    energies = [float("inf") if e is None else e for e in v["energies"]]
    ground = v["ground_states"][0] if v["ground_states"] else 0
    checks = {c["name"]: c for c in v["checks"]}
    inv = [1 / s["step_size"] for s in sims]
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAPER[0] * 1.6, PAPER[1]))
    drew_left = drew_right = False
    for k, i in enumerate(c["id"] for c in comps if c["type"] == "minimum"):
        if i == ground or not math.isfinite(energies[i]):
            continue
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        pts = [(x, math.log(_occupations(s)[i] / _occupations(s)[ground])) for x, s in zip(inv, sims)
               if _occupations(s)[i] > 0 and _occupations(s)[ground] > 0]
        if len(pts) >= 2:
            xs, ys = zip(*pts)
            left.plot(xs, ys, "o", color=colour, label=f"{i}: measured")
            lx, ly = _fixed_slope_line(xs, ys, -energies[i])
            left.plot(lx, ly, "-", color=colour, lw=1, label=f"{i}: slope -E = {-energies[i]:.4g}")
            drew_left = True
    for k, i in enumerate(c["id"] for c in comps if c["type"] == "minimum"):
        check = checks.get(f"exit[{i}]")
        pts = []
        for x, s in zip(inv, sims):
            e = s["exit_times"][i]
            if e["events"] > 0:
                centre = math.log(s["step_size"] * e["at_risk"] / e["events"])
                half = 1.96 / math.sqrt(e["events"])  # Poisson count of exits over the time at risk
                pts.append((x, centre, half))
        if len(pts) < 2 or check is None or check.get("predicted") is None:
            continue
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        xs, ys, hs = zip(*pts)
        right.errorbar(xs, ys, yerr=hs, fmt="o", color=colour, capsize=3, label=f"{i}: measured (95%)")
        lx, ly = _fixed_slope_line(xs, ys, check["predicted"])
        right.plot(lx, ly, "-", color=colour, lw=1, label=f"{i}: slope B = {check['predicted']:.4g}")
        drew_right = True
    if not drew_left and not drew_right:
        plt.close(fig)
        raise data.Missing("no minimum was visited or left at two step sizes or more")
    left.set_xlabel("1 / eta")
    left.set_ylabel(f"ln(mass_i / mass_{ground})")
    left.set_title("Mass ratios (Arrhenius)")
    right.set_xlabel("1 / eta")
    right.set_ylabel("ln(eta x mean exit time)")
    right.set_title("Exit times (Arrhenius)")
    for ax, drew in ((left, drew_left), (right, drew_right)):
        if drew:
            ax.legend(loc="best")
        else:
            ax.text(0.5, 0.5, "nothing measured at two step sizes", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def masses(folder):
    """Measured basin masses of the minima against the leading-order prediction, per step size."""
    _style()
    v = _verify(folder)
    sims = v.get("simulations", [])
    if not sims:
        raise data.Missing("no simulations")
    minima = [c["id"] for c in v["components"] if c["type"] == "minimum"]
    energies = [float("inf") if e is None else e for e in v["energies"]]
    fig, axes = plt.subplots(1, len(sims), figsize=(min(3.2 * len(sims), 12), PAPER[1] * 0.8), squeeze=False)
    width = 0.38
    for ax, s in zip(axes[0], sims):
        eta = s["step_size"]
        measured = np.array([_occupations(s)[i] for i in minima], float)
        total = measured.sum()
        measured = measured / total if total > 0 else measured
        predicted = _weights([energies[i] for i in minima], eta)
        x = np.arange(len(minima))
        ax.bar(x - width / 2, measured, width, color="#0072B2", label="measured")
        ax.bar(x + width / 2, predicted, width, color="#E69F00", label="exp(-E/eta), normalized")
        ax.set_xticks(x)
        ax.set_xticklabels([str(i) for i in minima])
        ax.set_xlabel("minimum")
        ax.set_title(f"eta = {eta:.4g}")
        ax.set_ylim(0, 1.05)
    axes[0][0].set_ylabel("mass among the minima")
    axes[0][0].legend(loc="best")
    fig.tight_layout()
    return fig


def checks(folder):
    """Every decided check: measured minus predicted with its interval, against the allowance."""
    _style()
    v = _verify(folder)
    decided = [c for c in v["checks"] if c["verdict"] in ("pass", "fail") and c.get("measured") is not None
               and c.get("predicted") is not None and c.get("interval") and None not in c["interval"]]
    if not decided:
        raise data.Missing("no check was decided (all skipped or inconclusive)")
    fig, ax = plt.subplots(figsize=(PAPER[0], max(2.5, 0.32 * len(decided) + 1.2)))
    for y, c in enumerate(decided):
        scale = max(abs(c["predicted"]), 1e-12)
        lo, hi = ((c["interval"][0] - c["predicted"]) / scale, (c["interval"][1] - c["predicted"]) / scale)
        allow = c.get("allowance", 0.0) / scale
        colour = "#009E73" if c["verdict"] == "pass" else "#D55E00"
        ax.fill_betweenx([y - 0.35, y + 0.35], -allow, allow, color="#DDDDDD", lw=0)
        ax.plot([lo, hi], [y, y], color=colour, lw=2)
        ax.plot((c["measured"] - c["predicted"]) / scale, y, "o", color=colour, ms=5)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(decided)))
    ax.set_yticklabels([f"{c['name']} ({c['method']}, {c['verdict']})" for c in decided], fontsize=7)
    ax.set_xlabel("(measured - predicted) / |predicted|; grey: the allowance")
    ax.set_title(f"verify: {v['verdict']}")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


FIGURES.update({
    "arrhenius": (arrhenius, "Arrhenius plots (verify)", "From `verify`: the measured log mass ratios (basin occupations) and log exit times "
                  "(time at risk over exits, 95% Poisson intervals) against 1/eta, each with a line of the "
                  "predicted slope (-E_i, resp. the exit cost) through its points; the checks' slope intervals "
                  "are in the table."),
    "masses": (masses, "Measured against predicted masses (verify)", "From `verify`: the measured masses of the minima (basin occupations, renormalized over "
               "the minima) against the leading-order prediction exp(-E_i/eta), per simulated step size."),
    "checks": (checks, "The checks (verify)", "From `verify`: every decided check, its measured value minus the prediction with its "
               "interval, relative to the prediction; grey bands are the model allowances, green pass, "
               "vermillion fail."),
})


def snapshots(folder):
    """Where SGD's iterates are at the snapshot times, over the landscape (one panel per time)."""
    _style()
    snap = data.load(folder, "snapshots.json", required=False)
    if snap is None:
        raise data.Missing("no snapshots.json (run ldsgd report --snapshots 50,200,500)")
    figdata = data.load(folder, "figures.json", required=False)
    grid = figdata["grid"] if figdata else {"kind": "box"}
    times = snap["times"]
    cols = min(len(times), 3)
    rows = math.ceil(len(times) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.flat[len(times):]:
        ax.axis("off")
    for ax, t, pts, lost in zip(axes.flat, times, snap["points"], snap["diverged"]):
        pts = np.asarray(pts, float).reshape(len(pts), -1)
        if grid["kind"] == "line":
            x = np.asarray(grid["x"], float)
            f = np.asarray([np.nan if v is None else v for v in grid["f"]], float)
            ax.hist(pts[:, 0], bins=60, range=(x[0], x[-1]), density=True, color="#0072B2", alpha=0.8)
            twin = ax.twinx()
            twin.plot(x, f, color="black", lw=0.8)
            twin.set_yticks([])
            ax.set_xlabel("x")
        else:
            if grid["kind"] in ("box", "plane") and figdata and "f" in grid:
                u = np.asarray(grid["x"] if grid["kind"] == "box" else grid["u"], float)
                v = np.asarray(grid["y"] if grid["kind"] == "box" else grid["v"], float)
                f = np.asarray([[np.nan if z is None else z for z in row] for row in grid["f"]], float)
                ax.contour(u, v, f, levels=20, colors="#999999", linewidths=0.4)
            xy = np.array([_project(grid, p) if grid["kind"] == "plane" else (p[0], p[1]) for p in pts]) if len(pts) else np.zeros((0, 2))
            ax.plot(xy[:, 0], xy[:, 1], ".", ms=1.5, color="#0072B2", alpha=0.6)
            if figdata:
                lo, hi = figdata["lower"], figdata["upper"]
                if grid["kind"] == "box":
                    ax.set_xlim(lo[0], hi[0])
                    ax.set_ylim(lo[1], hi[1])
            ax.set_aspect("equal", adjustable="box")
        ax.set_title(f"t = {t}" + (f" ({lost} diverged)" if lost else ""), fontsize=9)
    fig.suptitle(f"SGD iterates, eta = {snap['step_size']:.4g}, {snap['chains']} chains started uniformly over the box",
                 fontsize=10)
    fig.tight_layout()
    return fig


FIGURES["snapshots"] = (snapshots, "SGD's iterates over time", "Where SGD's iterates are after t steps: chains started uniformly over the box "
                        "(Kronecker low-discrepancy points), each simulated by ldsgd's simulator with its own Philox "
                        "stream, over the contours of f.")


def stability(folder):
    """Lam(eta), the Lyapunov exponent of the linearized chain at each component where the noise
    vanishes, with its interval; absorbing windows (Lam < 0: SGD collapses there) shaded."""
    _style()
    s = data.load(folder, "stability.json", required=False)
    if s is None:
        raise data.Missing("no stability.json")
    if not s.get("applies") or not s.get("sweep"):
        raise data.Missing(s.get("message") or "the noise vanishes at no component: SGD cannot collapse anywhere")
    fig, ax = plt.subplots(figsize=PAPER)
    comps = sorted({p["component"] for p in s["sweep"]})
    for k, c in enumerate(comps):
        pts = [p for p in s["sweep"] if p["component"] == c and p.get("exponent") is not None]
        eta = np.array([p["eta"] for p in pts])
        lam = np.array([p["exponent"] for p in pts])
        half = np.array([p.get("half_width") or 0.0 for p in pts])
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        ax.plot(eta, lam, color=colour, label=f"component {c}")
        if half.any():
            ax.fill_between(eta, lam - half, lam + half, color=colour, alpha=0.25, lw=0)
    for k, w in enumerate(s.get("absorbing_windows", [])):
        ax.axvspan(w["lower"], w["upper"], color="#009E73", alpha=0.2, lw=0,
                   label="absorbing window (Lam < 0)" if k == 0 else None)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("step size eta")
    ax.set_ylabel("Lyapunov exponent Lam per step")
    ax.set_title("Stochastic stability where the noise vanishes")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


FIGURES["stability"] = (stability, "Stability where the noise vanishes", "From `ldsgd stability`'s sweep: the Lyapunov exponent Lam(eta) of the "
                        "linearized SGD chain at each component where the noise vanishes, with its 95% interval "
                        "where it is a Monte Carlo estimate; SGD collapses onto the component where Lam < 0 "
                        "(shaded windows), even at a maximum (Ziyin et al.).")
