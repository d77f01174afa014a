"""benchmarks/kinematics.py runs end to end in smoke mode (tiny grid, one repeat).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kinematics.py"
METHODS = ("vector_gradient", "deformation", "advection", "frontogenesis")


def test_kinematics_benchmark_runs():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    dask_part, memory_part = out.split("== in memory")
    assert "== dask" in dask_part
    rows = [line.split() for line in dask_part.splitlines() if line.startswith(METHODS)]
    assert [r[0] for r in rows] == list(METHODS)
    assert all(float(r[1]) > 0 and float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    rows = [line.split() for line in memory_part.splitlines() if line.startswith(METHODS)]
    assert [r[0] for r in rows] == list(METHODS) and all(float(r[1]) > 0 for r in rows)
    if importlib.util.find_spec("metpy") is None:
        return
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    # advection has no metric term: MetPy's numbers to rounding, even on the smoke grid
    advection = next(r for r in map(str.split, memory_part.splitlines()) if r[:1] == ["advection"])
    assert float(advection[-1]) < 1e-10
