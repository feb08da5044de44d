"""Figures of ldsgd's output folders, drawn with matplotlib.

Each figure function takes an output folder (written by `ldsgd report`, or by `ldsgd analyze --out`
plus figures.json) and returns a matplotlib Figure, so the figures can be drawn in a notebook too:

    import ldsgd_plot
    fig = ldsgd_plot.landscape("out")

`python3 -m ldsgd_plot DIR` draws every figure the folder has data for and writes DIR/report.html.
"""
from ldsgd_plot.figures import (  # noqa: F401
    cycle_tree,
    landscape,
    profiles,
    weights,
    FIGURES,
)
