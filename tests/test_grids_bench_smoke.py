"""benchmarks/grids.py runs end to end in smoke mode (tiny grid, one repeat).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "grids.py"


def test_grids_benchmark_runs():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for key in ("along(lat, lon) regular", "horizontal() curvilinear", "magnitude() curvilinear"):
        line = next(line for line in out.splitlines() if line.startswith(key))
        assert float(line[len(key) :].split()[0]) > 0
    ratio = re.search(r"ratio horizontal/along (\d+\.\d+)", out)
    assert ratio is not None and float(ratio.group(1)) > 0, out
