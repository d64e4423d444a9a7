"""The report pages in headless Chromium, rendered from a real run's results.json."""

import json
import shutil
from pathlib import Path

from tests.browser import SHOTS, box, open_page  # noqa: F401 - helpers (its fixtures: tests/conftest.py)

# A real run's results.json: the full suite (42 checks, disruptive ones included) on the local target
# of the development machine, 2026-12-01 (run 20261201-080159-c038); one check erred in its cleanup.
REAL_RESULTS = Path(__file__).resolve().parents[1] / "data" / "results-local-full.json"


def real_results():
    return json.loads(REAL_RESULTS.read_text())


# Every text of a picture and every mark drawn across a row (the throughput chart's dashed baseline
# ticks), as the browser laid them out: [{"text", "x", "y", "w", "h"}] in page pixels.
_LAYOUT = """svg => {
  const box = e => { const b = e.getBoundingClientRect(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
  return {svg: box(svg),
          texts: [...svg.querySelectorAll("text")].filter(t => t.textContent.trim())
                   .map(t => ({text: t.textContent.trim(), ...box(t)})),
          marks: [...svg.querySelectorAll("line.tick")].map(l => ({text: "a dashed baseline tick", ...box(l)}))};
}"""
TOLERANCE = 0.5  # px: boxes that merely touch do not overprint


def _cross(a, b):
    return (a["x"] < b["x"] + b["w"] - TOLERANCE and b["x"] < a["x"] + a["w"] - TOLERANCE
            and a["y"] < b["y"] + b["h"] - TOLERANCE and b["y"] < a["y"] + a["h"] - TOLERANCE)


def overprints(svg):
    """What overprints in an SVG picture (a Playwright locator): two texts whose boxes overlap, a
    text crossed by a mark, a text outside the picture. [] when every text stands clear."""
    layout = svg.evaluate(_LAYOUT)
    texts, frame = layout["texts"], layout["svg"]
    found = [f"{a['text']!r} overlaps {b['text']!r}" for i, a in enumerate(texts) for b in texts[i + 1:]
             if _cross(a, b)]
    found += [f"{mark['text']} crosses {t['text']!r}" for t in texts for mark in layout["marks"] if _cross(t, mark)]
    found += [f"{t['text']!r} lies outside the picture" for t in texts
              if t["x"] < frame["x"] - TOLERANCE or t["x"] + t["w"] > frame["x"] + frame["w"] + TOLERANCE]
    return found


def shoot(locator, shots, name):
    """A screenshot of one part of a page into shots/name.png and SHOTS/name.png, as open_page does
    for the whole page."""
    locator.screenshot(path=str(shots / f"{name}.png"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shots / f"{name}.png", SHOTS / f"{name}.png")
