"""python3 -m ldsgd_plot DIR [--format png|svg|pdf] [--command CMD]: draws every figure into
DIR/figures/ and writes DIR/report.html."""
import argparse
import io
import os
import shutil
import subprocess
import sys

from ldsgd_plot import data, page
from ldsgd_plot.figures import FIGURES


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ldsgd_plot")
    parser.add_argument("folder")
    parser.add_argument("--format", choices=["png", "svg", "pdf"], default="png")
    parser.add_argument("--command", default=None, help="the command that reproduces the folder")
    args = parser.parse_args(argv)
    report = data.load(args.folder, "report.json")
    out = os.path.join(args.folder, "figures")
    os.makedirs(out, exist_ok=True)
    sections = []
    import matplotlib.pyplot as plt
    for name, (draw, title, caption) in FIGURES.items():
        try:
            fig = draw(args.folder)
        except data.Missing as why:
            sections.append((title, caption, None, None, str(why)))
            continue
        fig.savefig(os.path.join(out, f"{name}.{args.format}"))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        sections.append((title, caption, buffer.getvalue(), "image/png", None))
    graph_caption = ("The transition graph: components as nodes, edges the finite costs B_ij, ground states "
                     "marked; laid out by GraphViz (dot) from graph.dot.")
    dot = shutil.which("dot")
    if dot and os.path.exists(os.path.join(args.folder, "graph.dot")):
        svg = subprocess.run([dot, "-Tsvg", os.path.join(args.folder, "graph.dot")], capture_output=True, check=False)
        if svg.returncode == 0:
            with open(os.path.join(out, "graph.svg"), "wb") as f:
                f.write(svg.stdout)
            sections.append(("Transition graph", graph_caption, svg.stdout, "image/svg+xml", None))
        else:
            sections.append(("Transition graph", graph_caption, None, None, svg.stderr.decode(errors="replace").strip()))
    else:
        sections.append(("Transition graph", graph_caption, None, None, "GraphViz dot not found (Debian: graphviz)"))
    command = args.command or f"ldsgd plot {args.folder}"
    with open(os.path.join(args.folder, "report.html"), "w") as f:
        f.write(page.render(report, sections, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
