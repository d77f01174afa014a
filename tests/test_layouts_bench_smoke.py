"""benchmarks/layouts.py runs end to end in smoke mode (tiny arrays, one round).

Only that it completes and reports every section and target is checked; speed is never
asserted (docs/performance.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "layouts.py"


def test_layouts_benchmark_runs():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for heading in ("viewed in", "dask from_array", "accessor on", "Fortran order", "transposed"):
        assert heading in out, out
    assert "float32 and float64" in out and "== targets (issue #14) ==" in out
    targets = out.split("== targets (issue #14) ==")[1].strip().splitlines()
    assert len(targets) == 12
    assert all(float(line.split("target")[0].split()[-1]) > 0 for line in targets)
