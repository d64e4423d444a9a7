"""The report pages in headless Chromium, rendered from a real run's results.json."""

import json
from pathlib import Path

from tests.browser import box, open_page  # noqa: F401 - helpers (its fixtures: tests/conftest.py)

# A real run's results.json: the full suite (42 checks, disruptive ones included) on the local target
# of the development machine, 2026-12-01 (run 20261201-080159-c038); one check erred in its cleanup.
REAL_RESULTS = Path(__file__).resolve().parents[1] / "data" / "results-local-full.json"


def real_results():
    return json.loads(REAL_RESULTS.read_text())
