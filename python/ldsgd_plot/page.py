"""report.html: one self-contained page (figures embedded as data URIs, no network)."""
import base64
import html
import math


def _table(header, rows):
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _fmt(v, digits=6):
    if v is None:
        return "inf"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if math.isfinite(v) else "inf"
    return v


def _image(blob, mime):
    return f'<img alt="" src="data:{mime};base64,{base64.b64encode(blob).decode("ascii")}">'


def render(report, sections, command):
    """sections: list of (title, caption, image bytes or None, mime, why-missing)."""
    comps = report["components"]
    rows = []
    for c in comps:
        e = report["energies"][c["id"]]
        rows.append([c["id"], c["type"] + (f" ({c['index']})" if c["type"] == "saddle" else ""),
                     ", ".join(f"{x:.6g}" for x in c["point"]), _fmt(c["f"]), _fmt(e)])
    warnings = [a for a in report.get("assumptions", []) if not a.get("holds", True)]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>ldsgd report: {html.escape(report['problem'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
        "img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.warn{color:#a40}"
        ".missing{color:#666;font-style:italic}code{background:#f4f4f4;padding:1px 4px}</style></head><body>",
        f"<h1>{html.escape(report['problem'])}</h1>",
        f"<p>Reproduce: <code>{html.escape(command)}</code></p>",
        "<h2>Critical components and energies</h2>",
        _table(["id", "type", "point", "f", "E - min E"], rows),
        f"<p>Ground state(s): {', '.join(str(g) for g in report['ground_states']) or 'none'}.</p>",
    ]
    if report.get("predictions", {}).get("reliable") is False:
        parts.append(f"<p class='warn'>Predictions unreliable: "
                     f"{html.escape(report['predictions'].get('unreliable_because', ''))}</p>")
    for a in warnings:
        parts.append(f"<p class='warn'>Assumption {html.escape(a['name'])} fails: {html.escape(a['detail'])}</p>")
    for title, caption, blob, mime, why in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if blob is None:
            parts.append(f"<p class='missing'>Nothing to draw: {html.escape(why)}</p>")
        else:
            parts.append(_image(blob, mime))
        parts.append(f"<p>{html.escape(caption)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
