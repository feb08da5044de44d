"""report.html in a real browser (headless Chromium, Debian `chromium`, installed by setup.sh): the
page loads, every image decodes, nothing is fetched from the network, and the rendering is not
blank."""
import json
import os
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np

# Written into the page copy: after load, the images' decoded widths and every resource the page
# fetched (data: URIs are not fetches) go into <pre id="probe"> for --dump-dom to print.
PROBE = """<script>
window.addEventListener('load', function () {
  var images = Array.from(document.images).map(function (i) { return i.complete ? i.naturalWidth : -1; });
  var fetched = performance.getEntriesByType('resource').map(function (r) { return r.name; })
      .filter(function (n) { return !n.startsWith('data:'); });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({images: images, fetched: fetched});
  document.body.appendChild(pre);
});
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("headless Chromium not found: install the Debian package chromium (scripts/setup.sh does)")


def _run(browser, *args):
    # No network at all: every host resolves to nothing, so a fetch would fail and show in the probe.
    base = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000", "--window-size=1200,2400"]
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=120)


def test_report_page_loads_offline_with_every_image(folders, tmp_path):
    browser = _chromium()
    folder = folders("himmelblau_embedded")
    with open(os.path.join(folder, "report.html")) as f:
        page = f.read()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    r = _run(browser, "--dump-dom", probed.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert found, "the probe did not run: " + r.stdout[-500:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(result["images"]) >= 5, result
    assert all(w > 0 for w in result["images"]), result
    assert result["fetched"] == [], result
    shot = tmp_path / "shot.png"
    r = _run(browser, f"--screenshot={shot}", (tmp_path / "probed.html").as_uri())
    assert shot.exists(), r.stderr[-2000:]
    pixels = matplotlib.image.imread(str(shot))
    # Not blank: the figures give the page many distinct colours and a wide spread of grey levels.
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 0.05, grey.std()
    assert len(np.unique((pixels[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)) > 100
