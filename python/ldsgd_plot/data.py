"""Reading an output folder: report.json, figures.json and the optional verify.json."""
import json
import os


class Missing(Exception):
    """A figure has nothing to draw; the message says why (shown in the page instead)."""


def load(folder, name, required=True):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        if required:
            raise Missing(f"{name} is not in {folder}")
        return None
    with open(path) as f:
        return json.load(f)


def minima(report):
    return [c["id"] for c in report["components"] if c["type"] == "minimum"]


def energy(report, i):
    e = report["energies"][i]
    return float("inf") if e is None else e
