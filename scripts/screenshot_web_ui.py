"""Screenshot one onboarding in the Temporal Web UI: summary, search attributes, history.

The UI shows them on separate tabs, so this takes one headless Chromium shot per tab and
stacks the interesting parts into a single PNG. It needs Debian's `chromium` and a running
stack (`onboarding dev`); it is a documentation tool, not part of the tests.

    python scripts/screenshot_web_ui.py UI_URL WORKFLOW_ID RUN_ID OUT.png
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

WINDOW = (1600, 1200)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--virtual-time-budget=15000",  # the UI is a single-page app: let it fetch and render
]
# (tab, crop box in the 1600x1200 shot): the workflow header, then each tab's panel.
PARTS = [
    ("timeline", (270, 50, 1590, 310)),
    ("user-metadata", (270, 315, 1590, 810)),
    ("metadata", (270, 330, 1590, 880)),
    ("timeline", (270, 680, 1590, 1150)),
]


def shoot(url: str, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        subprocess.run(
            [*command, f"--screenshot={out}", url], check=True, capture_output=True, timeout=120
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ui_url")
    parser.add_argument("workflow_id")
    parser.add_argument("run_id")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    workflows = f"{args.ui_url.rstrip('/')}/namespaces/default/workflows"
    page = f"{workflows}/{args.workflow_id}/{args.run_id}"
    with tempfile.TemporaryDirectory(prefix="shots-") as work:
        shots = {}
        for tab in dict(PARTS):
            shots[tab] = Path(work) / f"{tab}.png"
            shoot(f"{page}/{tab}", shots[tab])
        crops = [Image.open(shots[tab]).convert("RGB").crop(box) for tab, box in PARTS]
    sheet = Image.new("RGB", (crops[0].width, sum(c.height for c in crops)), "white")
    y = 0
    for crop in crops:
        sheet.paste(crop, (0, y))
        y += crop.height
    # A palette keeps the UI's flat colours and the file small.
    sheet.quantize(colors=128).save(args.out, optimize=True)


if __name__ == "__main__":
    main()
